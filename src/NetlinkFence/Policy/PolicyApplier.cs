using NetlinkFence.Nftables;

namespace NetlinkFence.Policy;

/// <summary>What an apply did.</summary>
/// <param name="Commit">The commit's figures (messages, bytes, time, generations).</param>
/// <param name="Changes">How the live table differed from the policy before the commit (empty: it already matched).</param>
/// <param name="Attempts">How many commits it took (more than one after generation conflicts with <c>retries</c>).</param>
public sealed record ApplyResult(CommitResult Commit, IReadOnlyList<TableDifference> Changes, int Attempts)
{
    /// <summary>The table the commit replaced, as read at the generation the commit was checked against (null: there was none).</summary>
    public TableContents? Previous { get; init; }

    /// <summary>
    /// The table as read back right after the commit when it matched the policy (its <see cref="Table.Handle"/> identifies the
    /// table this commit created: a later re-creation gets a new handle); null when another writer had already changed it.
    /// </summary>
    public TableContents? Committed { get; init; }
}

/// <summary>
/// Applies a compiled policy: one atomic replace of the tool's table carrying the generation id read at the
/// start (a concurrent change makes the kernel refuse instead of mixing two rulesets), then reads the table
/// back and checks it matches (a firewall never reports success on an unverified state).
/// </summary>
public static class PolicyApplier
{
    /// <summary>Applies <paramref name="compiled"/>; on a generation conflict re-reads and retries up to <paramref name="retries"/> times.</summary>
    public static Task<ApplyResult> ApplyAsync(NftablesConnection connection, CompiledPolicy compiled, int retries = 0, Func<Rule, string>? describeRule = null, CancellationToken cancellationToken = default) =>
        ApplyAsync(connection, compiled, retries, describeRule, beforeCommit: null, cancellationToken);

    /// <summary>
    /// Applies <paramref name="compiled"/> like the other overload, calling <paramref name="beforeCommit"/> with the table about
    /// to be replaced (null: none) right before each commit attempt, e.g. to save it for a rollback first.
    /// </summary>
    public static async Task<ApplyResult> ApplyAsync(NftablesConnection connection, CompiledPolicy compiled, int retries, Func<Rule, string>? describeRule,
        Func<TableContents?, CancellationToken, Task>? beforeCommit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(compiled);
        var expected = compiled.ToExpectedContents();
        int rereads = 0;
        for (int attempt = 1; ; attempt++)
        {
            uint generation = await connection.GetGenerationAsync(cancellationToken).ConfigureAwait(false);
            var before = await connection.ListTableAsync(compiled.Table.Family, compiled.Table.Name, cancellationToken).ConfigureAwait(false);
            if (before is not null && before.Generation != generation && ++rereads < 16)
            {
                attempt--; // moved between the two reads: read again (not a retry)
                continue;
            }
            var changes = TableDiff.Compare(expected, before, describeRule);
            CommitResult result;
            if (beforeCommit is not null)
                await beforeCommit(before, cancellationToken).ConfigureAwait(false);
            try
            {
                result = await connection.CommitAsync(compiled.ToReplaceTransaction(tableExists: before is not null), new CommitOptions { ExpectedGeneration = generation }, cancellationToken).ConfigureAwait(false);
            }
            catch (TransactionRejectedException e) when (e.IsGenerationConflict && attempt <= retries)
            {
                continue;
            }
            // One quick listing proves the commit when it matches; only a difference is worth the careful read
            // (every dump twice), which tells a dump walk that missed objects from a real mismatch.
            var after = await connection.ListTableForComparisonAsync(compiled.Table.Family, compiled.Table.Name, cancellationToken).ConfigureAwait(false);
            var drift = TableDiff.Compare(expected, after, describeRule);
            if (drift.Count > 0)
            {
                after = await connection.ListTableAsync(compiled.Table.Family, compiled.Table.Name, cancellationToken).ConfigureAwait(false);
                drift = TableDiff.Compare(expected, after, describeRule);
            }
            // Our commit made exactly generation + 1 (the kernel skips 0 on wrap), as result.GenerationAfter (the
            // commit's own echoed NEWGEN) says; a listing of a later generation legitimately holds another writer's
            // table (one that committed after us), not a bad read-back.
            uint ours = unchecked(generation + 1) is 0 ? 1 : unchecked(generation + 1);
            if (drift.Count > 0 && after?.Generation == ours)
                throw new ReadBackMismatchException(drift);
            return new ApplyResult(result, changes, attempt) { Previous = before, Committed = drift.Count == 0 ? after : null };
        }
    }
}
