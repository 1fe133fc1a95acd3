using System.Net;
using System.Net.Sockets;
using NetlinkFence.Nftables;

namespace NetlinkFence.Policy;

public sealed partial class LivePolicy
{
    /// <summary>
    /// Puts the table back to the policy after another writer changed it, in ONE atomic replace that also holds what
    /// runs on it: each of <paramref name="openWindows"/> stays open until its time (at most its entry's <c>window:</c>
    /// from now), and each of <paramref name="names"/> is allowed exactly the addresses given, each until its expiry
    /// (the addresses the policy was compiled with for that name are left out: they may have expired long ago). No
    /// flow the running policy allows is cut, not even between a replace and a re-grant. Destinations this object added
    /// with <see cref="AddDestinationAsync"/> (and has not removed) stay too, each until its timeout; a destination another
    /// writer added, or one added before this object attached, does not: nothing else survives.
    /// Generation-checked (retried twice on a conflict) and read back; throws <see cref="ReadBackMismatchException"/>
    /// when the kernel holds something else after our commit.
    /// </summary>
    /// <param name="openWindows">Window entries to keep open, each with when it closes.</param>
    /// <param name="names">The followed DNS names (every one the caller keeps fresh, even with no address left) and their current addresses.</param>
    /// <param name="cancellationToken">Cancels the wait; a commit already sent is not undone.</param>
    public async Task<CommitResult> RestoreAsync(IReadOnlyList<(string Entry, DateTimeOffset Until)> openWindows,
        IReadOnlyList<(string Host, IReadOnlyList<(IPAddress Address, DateTimeOffset Expires)> Addresses)> names, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(openWindows);
        ArgumentNullException.ThrowIfNull(names);
        var windows = openWindows.Select(w => (Entry: WindowEntry(w.Entry), w.Until)).ToList(); // an unknown entry: refused before anything
        var restored = new List<(string Entry, DateTimeOffset Until)>();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Compiled now, not at attach: a re-bound unit's elements carry its current cgroup id.
            return await ReplaceAsync(PolicyCompiler.Compile(_policy), Fill, onCommitted: () =>
            {
                lock (_opened)
                {
                    _opened.Clear(); // the windows open now are exactly the restored ones
                    foreach (var (entry, until) in restored)
                        _opened[entry] = until;
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }

        IEnumerable<IEnumerable<SetChange>> Fill(DateTimeOffset now)
        {
            restored.Clear(); // a retry plans again
            foreach (var (entry, until) in windows)
            {
                var end = WindowEnd(entry, until, now);
                if (end <= now)
                    continue;
                restored.Add((entry.Name, end));
                yield return OpenPlan(entry, end, now);
            }
            yield return AddedPlan(now);
            yield return Families.Select(f => new SetChange(f, [], CompiledAddressesOf(names, f)));
            yield return RefreshPlan(names, now, moveInPlace: false);
        }
    }

    /// <summary>
    /// ONE generation-checked atomic replace of the table with <paramref name="compiled"/> (the attached table's
    /// ownership flags kept), whose allow sets hold what the policy compiles to plus what <paramref name="fill"/> plans
    /// on top of it, each plan applied to the models before the next is made (so a name's addresses see the windows
    /// opened before them). Read back and compared with what was sent. Called with the gate held.
    /// </summary>
    private async Task<CommitResult> ReplaceAsync(CompiledPolicy compiled, Func<DateTimeOffset, IEnumerable<IEnumerable<SetChange>>> fill, Action? onCommitted,
        CancellationToken cancellationToken)
    {
        var policy = compiled.WithTableFlags(compiled.Table.Flags | _ownership);
        int rereads = 0;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                uint generation = await _nft.GetGenerationAsync(cancellationToken).ConfigureAwait(false);
                var before = await _nft.ListTableAsync(NftFamily.Inet, compiled.Table.Name, cancellationToken).ConfigureAwait(false);
                if (before is not null && before.Generation != generation && ++rereads < 16)
                {
                    attempt--; // moved between the two reads: read again (not a retry)
                    continue;
                }
                var now = _time.GetUtcNow();
                LoadModels(policy.ToExpectedContents(), now); // the allow sets as the policy alone fills them
                foreach (var plan in fill(now))
                    ChangeModels(plan, now);
                var sent = policy.Sets.Where(s => IsEgressAllowSet(s.Set.Name)).ToDictionary(s => s.Set.Name, s => ElementsOf(s.Set.Name, now), StringComparer.Ordinal);
                var tx = policy.ToReplaceTransaction(tableExists: before is not null, set => sent.TryGetValue(set.Set.Name, out var elements) ? elements : set.Elements);
                var result = await _nft.CommitAsync(tx, new CommitOptions { ExpectedGeneration = generation }, cancellationToken).ConfigureAwait(false);
                _compiled = compiled;
                onCommitted?.Invoke();
                var after = await ReadAsync(checkStructure: false, cancellationToken).ConfigureAwait(false);
                var drift = ReadBackDifferences(policy, sent, now, after);
                // A later generation is another writer's table, committed after ours: not a bad read-back.
                if (drift.Count > 0 && after.Generation == (unchecked(generation + 1) is 0 ? 1 : unchecked(generation + 1)))
                    throw new ReadBackMismatchException(drift);
                return result;
            }
            catch (TransactionRejectedException e) when (e.IsGenerationConflict && attempt < 3)
            {
            }
            catch
            {
                await RecoverModelsAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>
    /// How the table read back after a restore differs from what it sent: the structure as the policy has it, and the
    /// allow sets' elements exactly as sent (keys, contributors, whether timed; a timeout runs down, so not its value).
    /// An element due to expire by the time of the read is not missed.
    /// </summary>
    private List<TableDifference> ReadBackDifferences(CompiledPolicy policy, Dictionary<string, List<SetElement>> sent, DateTimeOffset sentAt, TableContents after)
    {
        var differences = TableDiff.Compare(WithoutLiveElements(policy.ToExpectedContents()), WithoutLiveElements(after)).ToList();
        var readAt = _time.GetUtcNow();
        foreach (var (name, elements) in sent)
        {
            if (after.Sets.FirstOrDefault(s => s.Set.Name == name) is not { } set)
                continue; // the structural comparison reported it
            var held = set.Elements.Select(Untimed).ToHashSet();
            var wanted = elements.Select(Untimed).ToHashSet();
            foreach (var element in set.Elements.Where(e => !wanted.Contains(Untimed(e))))
                differences.Add(new(DifferenceKind.Added, $"set {name}", $"element {TableDiff.Describe(set.Set, element)}"));
            foreach (var element in elements.Where(e => !held.Contains(Untimed(e)) && (e.Timeout is null || sentAt + e.Timeout > readAt + TimeSpan.FromSeconds(1))))
                differences.Add(new(DifferenceKind.Missing, $"set {name}", $"element {TableDiff.Describe(set.Set, element)}"));
        }
        return differences;

        static SetElement Untimed(SetElement e) => e.Timeout is null ? e : e with { Timeout = TimeSpan.Zero };
    }

    /// <summary>
    /// The permanent grants the compile gave the followed <paramref name="names"/> in <paramref name="family"/>: their
    /// addresses as resolved then, in plain entries, unless the entry's own literal destinations or pinned names give them too.
    /// </summary>
    private List<AllowGrant> CompiledAddressesOf(IReadOnlyList<(string Host, IReadOnlyList<(IPAddress Address, DateTimeOffset Expires)> Addresses)> names, AddressFamily family)
    {
        var followed = names.Select(n => n.Host).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var found = new List<AllowGrant>();
        var held = new List<AllowGrant>();
        foreach (string host in followed)
        {
            if (!_entriesByHost.TryGetValue(host, out var entries) || !_policy.Names.TryGetValue(host, out var resolution))
                continue;
            foreach (var address in resolution.Addresses.Where(a => a.AddressFamily == family))
            {
                var network = new IPNetwork(address, family == AddressFamily.InterNetwork ? 32 : 128);
                foreach (var entry in entries.Where(e => e.Window is null && !GivenOtherwise(e, address, followed)))
                {
                    held.Clear();
                    found.AddRange(Overlapping(entry.Name, network, family, held).Where(g => g.Network == network && g.Expires is null));
                }
            }
        }
        return found;
    }

    /// <summary>Whether a peer of <paramref name="entry"/> other than a followed name gives <paramref name="address"/> (a literal network, a pinned name).</summary>
    private bool GivenOtherwise(AllowEntry entry, IPAddress address, HashSet<string> followed) =>
        entry.Peers.Any(p => p.Network is { } n ? n.Contains(address)
            : !followed.Contains(p.HostName!) && _policy.Names.TryGetValue(p.HostName!, out var r) && r.Addresses.Contains(address));

    /// <summary>The elements the models of set <paramref name="name"/> hold at <paramref name="now"/> (a scoped set: every scope value's).</summary>
    private List<SetElement> ElementsOf(string name, DateTimeOffset now) =>
        _models.Values.Where(m => m.Set.Name == name).OrderBy(m => m.Scope?.Id ?? 0).SelectMany(m => m.Elements(now)).ToList();
}
