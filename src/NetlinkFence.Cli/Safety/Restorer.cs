using NetlinkFence.Nftables.Snapshots;
using NetlinkFence.Nftables;

namespace NetlinkFence.Cli;

/// <summary>What a guarded restore did.</summary>
/// <param name="Restored">Whether the saved table is back.</param>
/// <param name="Message">What happened, in words.</param>
/// <param name="HandleAfter">The handle of the table live afterwards (0: none).</param>
/// <param name="Replaced">The table the restore replaced, as listed at the generation it committed against (null: none, or not restored).</param>
internal sealed record RestoreOutcome(bool Restored, string Message, ulong HandleAfter, TableContents? Replaced = null);

/// <summary>Puts a saved table back in one atomic transaction and says what that did.</summary>
internal static class Restorer
{
    private const int MaxAttempts = 50;

    /// <summary>The sentence for "the table is gone now": said plainly, since the host is then open.</summary>
    public const string Unfiltered = "netlinkfence no longer filters this namespace: egress is UNRESTRICTED (unless another table restricts it)";

    public static async Task<string> RestoreAsync(NftablesConnection nft, TableSnapshot snapshot, uint? expectedGeneration, CancellationToken cancellationToken)
    {
        var options = expectedGeneration is { } generation ? new CommitOptions { ExpectedGeneration = generation } : null;
        var result = await nft.CommitAsync(snapshot.ToRestoreTransaction(), options, cancellationToken);
        return snapshot.Contents is { } contents
            ? $"restored table {snapshot.Family.ToNftName()} {snapshot.Name} as it was before ({Output.Count(contents.Rules.Count, "rule")}, {Elements(snapshot)}) in one transaction; generation {result.GenerationAfter}"
            : $"removed table {snapshot.Family.ToNftName()} {snapshot.Name} (it did not exist before) in one transaction; generation {result.GenerationAfter}; {Unfiltered}";
    }

    /// <summary>The set elements a restore puts back, and what became of the timed ones (an open window's, a followed name's).</summary>
    private static string Elements(TableSnapshot snapshot)
    {
        // Timed as the snapshot judges it: a timeout, or only a time left (an element of a set with a default timeout).
        static int Timed(TableContents? contents) => contents?.Sets.Sum(s => s.Elements.Count(e => e.Timeout is not null || e.Expiration is not null)) ?? 0;
        var now = snapshot.ContentsNow();
        int restored = now?.Sets.Sum(s => s.Elements.Count) ?? 0, timedThen = Timed(snapshot.Contents), timedNow = Timed(now);
        string text = Output.Count(restored, "set element");
        if (timedNow > 0)
            text += $", {timedNow} of them timed, with the time {(timedNow == 1 ? "it has" : "they have")} left now";
        if (timedThen > timedNow)
            text += snapshot.ListedAt is null
                ? $"; {Output.Count(timedThen - timedNow, "timed element")} left out: the snapshot does not say when it was taken (an older build wrote it)"
                : $"; {Output.Count(timedThen - timedNow, "timed element")} left out: {(timedThen - timedNow == 1 ? "its" : "their")} time ran out since the snapshot";
        return text;
    }

    /// <summary>
    /// Restores <paramref name="snapshot"/> only over the table <paramref name="isOurs"/> accepts (by its handle, 0: no table),
    /// checked at the generation the restore is committed against. Changes elsewhere in the ruleset (other tools' tables)
    /// only make it read and try again; a different table of that name is left alone and reported.
    /// Throws when it cannot commit (the kernel refused, or the ruleset kept changing for <see cref="MaxAttempts"/> tries).
    /// </summary>
    public static async Task<RestoreOutcome> RestoreOwnAsync(NftablesConnection nft, TableSnapshot snapshot, Func<ulong, bool> isOurs, CancellationToken cancellationToken)
    {
        string name = $"table {snapshot.Family.ToNftName()} {snapshot.Name}";
        for (int attempt = 1; ; attempt++)
        {
            uint generation = await nft.GetGenerationAsync(cancellationToken);
            var live = await nft.ListTableAsync(snapshot.Family, snapshot.Name, cancellationToken);
            if ((live is null ? await nft.GetGenerationAsync(cancellationToken) : live.Generation) != generation && attempt < MaxAttempts)
                continue; // changed while it was read: read again
            ulong handle = live?.Table.Handle ?? 0;
            if (!isOurs(handle))
                return new RestoreOutcome(false, handle == 0
                    ? $"{name} is gone (someone else removed it), nothing restored"
                    : $"{name} is no longer the one that was applied (someone else replaced it, handle {handle}), left it as it is", handle);
            try
            {
                string done = await RestoreAsync(nft, snapshot, generation, cancellationToken);
                var after = await nft.ListTableAsync(snapshot.Family, snapshot.Name, cancellationToken);
                return new RestoreOutcome(true, done, after?.Table.Handle ?? 0, live);
            }
            catch (TransactionRejectedException e) when (e.IsGenerationConflict && attempt < MaxAttempts)
            {
                await Task.Delay(Math.Min(attempt * 5, 100), cancellationToken); // another writer committed meanwhile
            }
        }
    }
}
