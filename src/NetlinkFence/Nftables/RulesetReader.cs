using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables;

/// <summary>
/// Reads one table back with several dumps and proves they come from one generation: the generation id is
/// read before and after (the first read only once no commit is running), and every dump message's res_id must
/// carry its low 16 bits; otherwise it starts over. With <c>synchronous</c> every wait blocks the calling
/// thread and the returned task is complete; otherwise waits are asynchronous.
/// </summary>
internal sealed class RulesetReader(NftablesChannel channel, bool synchronous, CancellationToken cancellationToken)
{
    private const int MaxAttempts = 64;

    public async ValueTask<TableContents?> ReadTableAsync(NftFamily family, string name)
    {
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            channel.WaitForCommitInProgress();
            uint generation = await channel.GetGenerationAsync(synchronous, cancellationToken).ConfigureAwait(false);
            var (read, contents) = await TryReadAsync(family, name, generation).ConfigureAwait(false);
            if (read && await channel.GetGenerationAsync(synchronous, cancellationToken).ConfigureAwait(false) == generation)
                return contents;
            // Give a busy writer or the kernel's background hash-table resize a moment before reading again.
            if (attempt > 2)
                await PauseAsync(Math.Min(attempt * 2, 50)).ConfigureAwait(false);
        }
        throw new NetlinkKernelException($"listing table {family.ToNftName()} {name}",
            new KernelError(0, (int)Errno.INTR, $"the ruleset kept changing during {MaxAttempts} attempts to read it", null));
    }

    private async ValueTask PauseAsync(int milliseconds)
    {
        if (!synchronous)
        {
            await Task.Delay(milliseconds, cancellationToken).ConfigureAwait(false);
            return;
        }
        cancellationToken.WaitHandle.WaitOne(milliseconds);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Reads the table; false when the ruleset moved meanwhile (read again), contents null when it does not exist.</summary>
    private async ValueTask<(bool Read, TableContents? Contents)> TryReadAsync(NftFamily family, string name, uint generation)
    {
        ushort resId = (ushort)generation;
        bool consistent = true;
        void Check(in NetlinkMessage m)
        {
            if (m.ResourceId != resId)
                consistent = false;
        }

        Table? table = null;
        await DumpAsync(NftMessageType.GETTABLE, family, null, (in NetlinkMessage m) =>
        {
            Check(m);
            var t = Guard(m, TableCodec.Decode);
            if (t.Name == name && t.Family == family)
                table = t;
        }, () => table = null).ConfigureAwait(false);
        if (!consistent)
            return (false, null);
        if (table is null)
            return (true, null);

        var chains = new List<Chain>();
        await DumpAsync(NftMessageType.GETCHAIN, family, null, (in NetlinkMessage m) =>
        {
            Check(m);
            var c = Guard(m, ChainCodec.Decode);
            if (c.Table == name)
                chains.Add(c);
        }, chains.Clear).ConfigureAwait(false);

        var sets = new List<NftSet>();
        // Sets and rules are dumped for the whole family and filtered here, never with NFTA_*_TABLE in the
        // request: the kernel's filtered rule dump stops after the first table of that name without checking
        // that it is active, and a commit bumps the generation before it unlinks a deleted table. So while
        // a DELTABLE + NEWTABLE of the same name is being committed, a filtered dump can list the old,
        // deleted table's (inactive, skipped) rules, i.e. none, under the new generation id: an empty table
        // that no generation check can detect. The unfiltered dump checks every rule's activity instead.
        await DumpAsync(NftMessageType.GETSET, family, null, (in NetlinkMessage m) =>
        {
            Check(m);
            var s = Guard(m, SetCodec.Decode);
            if (s.Table == name)
                sets.Add(s);
        }, sets.Clear).ConfigureAwait(false);

        if (await ReadRulesAsync(family, name, Check).ConfigureAwait(false) is not { } rules)
            return (false, null);
        // A rule dump that straddles the tail of someone else's commit can end early with every generation
        // check passing (the kernel resumes by position, and the commit already moved the generation before
        // it unlinked what it deleted). A second dump must list exactly the same rules.
        if (await ReadRulesAsync(family, name, Check).ConfigureAwait(false) is not { } again || !again.Select(r => r.Handle).SequenceEqual(rules.Select(r => r.Handle)))
            return (false, null);

        var setContents = new List<SetContents>(sets.Count);
        foreach (var set in sets)
        {
            // Hash sets are walked by skipping the elements already sent; when the kernel grows the hash
            // table between two parts of the dump (it does so in the background after large inserts, with no
            // generation change), the walk misses some elements and repeats others. So an element list counts
            // only when it has no duplicates and a second dump lists exactly the same elements.
            var elements = await ReadElementsAsync(family, name, set.Name, Check).ConfigureAwait(false);
            if (elements is null || await ReadElementsAsync(family, name, set.Name, Check).ConfigureAwait(false) is not { } secondRead
                || secondRead.Count != elements.Count || !new HashSet<SetElement>(secondRead).SetEquals(elements))
                return (false, null);
            setContents.Add(new SetContents(set, elements));
        }
        if (!consistent)
            return (false, null);

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

    private async ValueTask<List<Rule>?> ReadRulesAsync(NftFamily family, string name, DumpMessageHandler check)
    {
        var rules = new List<Rule>();
        var positions = new List<ulong>();
        await DumpAsync(NftMessageType.GETRULE, family, null, (in NetlinkMessage m) =>
        {
            check(m);
            if (TableOfRule(m, out ulong position) != name)
                return; // another table's rule: not decoded at all
            rules.Add(Guard(m, RuleCodec.Decode));
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
