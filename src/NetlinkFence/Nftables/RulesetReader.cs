using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables.Codecs;

namespace NetlinkFence.Nftables;

/// <summary>
/// Reads one table back with several dumps and proves they come from one generation: the generation id is
/// read before (then any commit running is waited for) and after, and every dump message's res_id must carry its
/// low 16 bits; otherwise it starts over.
/// </summary>
/// <remarks>
/// Every read is written once, async; with <c>synchronous</c> its waits block the calling thread instead (the
/// connection's blocking methods), so the two paths cannot drift apart.
/// </remarks>
internal sealed class RulesetReader(NftablesChannel channel, bool synchronous, CancellationToken cancellationToken)
{
    /// <summary>
    /// Dump each set's elements and the rules once instead of twice. A walk disturbed by a hash-table resize or a
    /// foreign commit can then miss objects unnoticed (repeats are still caught), so only a caller that compares
    /// the result with what it expects, and reads again the careful way when they differ, may ask for it.
    /// </summary>
    public bool SingleRead { get; init; }

    private const int MaxAttempts = 64;

    public CancellationToken CancellationToken => cancellationToken;

    public bool Synchronous => synchronous;

    public ValueTask<TableContents?> ReadTableAsync(NftFamily family, string name) =>
        ReadConsistentAsync($"table {family.ToNftName()} {name}", (generation, check) => TryReadAsync(family, name, generation, check));

    /// <summary>
    /// A listing at <paramref name="generation"/>: <c>Complete</c> is false when it saw the ruleset move (then it
    /// is read again).
    /// </summary>
    public delegate ValueTask<(bool Complete, T Result)> PartRead<T>(uint generation, DumpMessageHandler check);

    /// <summary>
    /// Runs <paramref name="read"/> until it reads one generation: no commit running after the first GETGEN, the same
    /// generation id before and after, and every dump message's res_id carrying its low 16 bits.
    /// </summary>
    public async ValueTask<T> ReadConsistentAsync<T>(string what, PartRead<T> read)
    {
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            // The generation first, then wait for a running commit: one that had already moved the id is over before
            // the dumps start (they see all of it), and one that starts later moves the id again (read again).
            // Waiting first left a gap: a commit starting between the wait and GETGEN was read half done.
            uint generation = await channel.GetGenerationAsync(synchronous, cancellationToken).ConfigureAwait(false);
            channel.WaitForCommitInProgress();
            var consistency = new GenerationCheck(generation);
            var (complete, result) = await read(generation, consistency.Check).ConfigureAwait(false);
            if (complete && consistency.Consistent
                && await channel.GetGenerationAsync(synchronous, cancellationToken).ConfigureAwait(false) == generation)
                return result;
            // Give a busy writer or the kernel's background hash-table resize a moment before reading again.
            if (attempt > 2)
                await PauseAsync(Math.Min(attempt * 2, 50)).ConfigureAwait(false);
        }
        throw new NetlinkKernelException($"listing {what}",
            new KernelError(0, (int)Errno.INTR, $"the ruleset kept changing during {MaxAttempts} attempts to read it", null));
    }

    /// <summary>The chains of <paramref name="table"/> (every table when null) in <paramref name="family"/> (0: all).</summary>
    public async ValueTask<List<Chain>> ReadChainsAsync(NftFamily family, string? table, DumpMessageHandler check)
    {
        var chains = new List<Chain>();
        await DumpAsync(NftMessageType.GETCHAIN, family, null, (in NetlinkMessage m) =>
        {
            check(m);
            var c = Guard(m, ChainCodec.Decode);
            if (table is null || c.Table == table)
                chains.Add(c);
        }, chains.Clear).ConfigureAwait(false);
        return chains;
    }

    /// <summary>The named sets of <paramref name="table"/> (family-wide dump, filtered here: see <see cref="TryReadAsync"/>).</summary>
    public async ValueTask<List<NftSet>> ReadSetsAsync(NftFamily family, string table, DumpMessageHandler check)
    {
        var sets = new List<NftSet>();
        await DumpAsync(NftMessageType.GETSET, family, null, (in NetlinkMessage m) =>
        {
            check(m);
            var s = Guard(m, SetCodec.Decode);
            if (s.Table == table)
                sets.Add(s);
        }, sets.Clear).ConfigureAwait(false);
        return sets;
    }

    /// <summary>One set's elements, read twice and compared (see <see cref="TryReadAsync"/>); null when the reads disagree or the set went away.</summary>
    public async ValueTask<List<SetElement>?> ReadElementsTwiceAsync(NftFamily family, string table, string set, DumpMessageHandler check)
    {
        var elements = await ReadElementsAsync(family, table, set, check).ConfigureAwait(false);
        if (SingleRead)
            return elements;
        if (elements is null || await ReadElementsAsync(family, table, set, check).ConfigureAwait(false) is not { } secondRead
            || secondRead.Count != elements.Count || !new HashSet<SetElement>(secondRead).SetEquals(elements))
            return null;
        return elements;
    }

    /// <summary>
    /// The rules of <paramref name="table"/> (only of <paramref name="chain"/> when given) from a family-wide rule
    /// dump, in order; null when a dump skipped rules. A rule dump that straddles the tail of someone else's commit
    /// can end early with every generation check passing (the kernel resumes by position, and the commit already
    /// moved the generation before it unlinked what it deleted): a second dump must list exactly the same rules.
    /// </summary>
    public async ValueTask<List<Rule>?> ReadRulesTwiceAsync(NftFamily family, string table, DumpMessageHandler check, string? chain = null)
    {
        if (await ReadRulesAsync(family, table, check, chain).ConfigureAwait(false) is not { } rules)
            return null;
        if (SingleRead)
            return rules;
        return await ReadRulesAsync(family, table, check, chain).ConfigureAwait(false) is { } again && again.Select(r => r.Handle).SequenceEqual(rules.Select(r => r.Handle)) ? rules : null;
    }

    private async ValueTask<(bool Complete, TableContents? Contents)> TryReadAsync(NftFamily family, string name, uint generation, DumpMessageHandler check)
    {
        Table? table = null;
        await DumpAsync(NftMessageType.GETTABLE, family, null, (in NetlinkMessage m) =>
        {
            check(m);
            var t = Guard(m, TableCodec.Decode);
            if (t.Name == name && t.Family == family)
                table = t;
        }, () => table = null).ConfigureAwait(false);
        if (table is null)
            return (true, null);

        var chains = await ReadChainsAsync(family, name, check).ConfigureAwait(false);

        // Sets and rules are dumped for the whole family and filtered here, never with NFTA_*_TABLE in the
        // request: the kernel's filtered rule dump stops after the first table of that name without checking
        // that it is active, and a commit bumps the generation before it unlinks a deleted table. So while
        // a DELTABLE + NEWTABLE of the same name is being committed, a filtered dump can list the old,
        // deleted table's (inactive, skipped) rules, i.e. none, under the new generation id: an empty table
        // that no generation check can detect. The unfiltered dump checks every rule's activity instead.
        var sets = await ReadSetsAsync(family, name, check).ConfigureAwait(false);

        if (await ReadRulesTwiceAsync(family, name, check).ConfigureAwait(false) is not { } rules)
            return (false, null);

        var setContents = new List<SetContents>(sets.Count);
        foreach (var set in sets)
        {
            // Hash sets are walked by skipping the elements already sent; when the kernel grows the hash
            // table between two parts of the dump (it does so in the background after large inserts, with no
            // generation change), the walk misses some elements and repeats others. So an element list counts
            // only when it has no duplicates and a second dump lists exactly the same elements.
            if (await ReadElementsTwiceAsync(family, name, set.Name, check).ConfigureAwait(false) is not { } elements)
                return (false, null);
            setContents.Add(new SetContents(set, elements));
        }

        // The rule dump lists chain by chain in the table's chain order; keep that grouping explicit.
        var ordered = new List<Rule>(rules.Count);
        foreach (var chain in chains)
            ordered.AddRange(rules.Where(r => r.Chain == chain.Name));
        return (true, new TableContents(table, chains, setContents, ordered, generation));
    }

    private async ValueTask<List<SetElement>?> ReadElementsAsync(NftFamily family, string table, string set, DumpMessageHandler check)
    {
        var elements = new List<SetElement>();
        try
        {
            await DumpAsync(NftMessageType.GETSETELEM, family, (ref NetlinkWriter w) =>
            {
                w.WriteString((ushort)NftSetElementListAttribute.TABLE, table);
                w.WriteString((ushort)NftSetElementListAttribute.SET, set);
            }, (in NetlinkMessage m) =>
            {
                check(m);
                Guard(m, (in NetlinkMessage msg) => { SetElementCodec.Decode(msg, elements); return 0; });
            }, elements.Clear).ConfigureAwait(false);
        }
        catch (NetlinkKernelException e) when (e.Error.Errno == (int)Errno.NOENT)
        {
            // The set (or its table) was deleted by a commit after the set dump listed it, e.g. another
            // process replacing the table: the ruleset moved, so the whole listing is read again.
            return null;
        }
        return new HashSet<SetElement>(elements).Count == elements.Count ? elements : null;
    }

    private async ValueTask<List<Rule>?> ReadRulesAsync(NftFamily family, string name, DumpMessageHandler check, string? chain = null)
    {
        var rules = new List<Rule>();
        var positions = new List<ulong>();
        await DumpAsync(NftMessageType.GETRULE, family, null, (in NetlinkMessage m) =>
        {
            check(m);
            if (TableOfRule(m, out ulong position) != name)
                return; // another table's rule: not decoded at all
            var rule = Guard(m, RuleCodec.Decode);
            if (chain is not null && rule.Chain != chain)
                return;
            rules.Add(rule);
            positions.Add(position);
        }, () => { rules.Clear(); positions.Clear(); }).ConfigureAwait(false);
        return RulesAreContiguous(rules, positions) ? rules : null;
    }

    /// <summary>The NFTA_RULE_TABLE of a rule message, and its NFTA_RULE_POSITION (0 if none), without decoding the rule.</summary>
    private static string? TableOfRule(in NetlinkMessage message, out ulong position)
    {
        string? table = null;
        position = 0;
        var attributes = message.Attributes;
        while (attributes.TryRead(out var a))
        {
            if (a.Type == (ushort)NftRuleAttribute.TABLE)
                table = a.String();
            else if (a.Type == (ushort)NftRuleAttribute.POSITION)
                position = a.U64BigEndian();
        }
        return table;
    }

    /// <summary>
    /// The kernel resumes a multi-part rule dump by counting rules, inactive ones included, so when a commit
    /// unlinks deleted rules between two parts (after it already moved the generation id) the next part skips
    /// rules, and no generation check notices. Every dumped rule carries the handle of the rule before it in
    /// its chain (NFTA_RULE_POSITION; none for a chain's first rule): a gap breaks that chain of handles.
    /// </summary>
    private static bool RulesAreContiguous(List<Rule> rules, List<ulong> positions)
    {
        for (int i = 0; i < rules.Count; i++)
        {
            bool sameChain = i > 0 && rules[i - 1].Chain == rules[i].Chain;
            if (positions[i] != (sameChain ? rules[i - 1].Handle : 0))
                return false;
        }
        return true;
    }

    private ValueTask DumpAsync(NftMessageType type, NftFamily family, DumpRequestWriter? request, DumpMessageHandler handler, Action restart) =>
        channel.DumpAsync(type, (NetfilterFamily)family, request, handler, restart, synchronous, cancellationToken);

    private async ValueTask PauseAsync(int milliseconds)
    {
        if (synchronous)
            cancellationToken.WaitHandle.WaitOne(milliseconds);
        else
            await Task.Delay(milliseconds, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Whether every dump message of one attempt carried the generation it started at (res_id: its low 16 bits).</summary>
    private sealed class GenerationCheck(uint generation)
    {
        public bool Consistent { get; private set; } = true;

        public void Check(in NetlinkMessage message)
        {
            if (message.ResourceId != (ushort)generation)
                Consistent = false;
        }
    }

    internal delegate T Decoder<T>(in NetlinkMessage message);

    /// <summary>Runs a decoder so malformed data can only surface as <see cref="NetlinkDecodeException"/>.</summary>
    internal static T Guard<T>(in NetlinkMessage message, Decoder<T> decode)
    {
        try
        {
            return decode(message);
        }
        catch (ArgumentException e)
        {
            throw new NetlinkDecodeException($"kernel sent an object this library cannot represent: {e.Message}");
        }
    }
}
