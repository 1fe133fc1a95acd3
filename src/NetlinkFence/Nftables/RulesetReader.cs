using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables;

/// <summary>
/// Reads one table back with several dumps and proves they come from one generation: the generation id is
/// read before and after, and every dump message's res_id must carry its low 16 bits; otherwise it starts over.
/// </summary>
internal sealed class RulesetReader(NfnetlinkChannel channel, CancellationToken cancellationToken)
{
    private const int MaxAttempts = 16;

    public TableContents? ReadTable(NftFamily family, string name)
    {
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            uint generation = channel.GetGeneration(cancellationToken);
            if (TryRead(family, name, generation, out var contents) && channel.GetGeneration(cancellationToken) == generation)
                return contents;
        }
        throw new NetlinkKernelException($"listing table {family.ToNftName()} {name}",
            new KernelError(0, (int)Errno.INTR, $"the ruleset kept changing during {MaxAttempts} attempts to read it", null));
    }

    private bool TryRead(NftFamily family, string name, uint generation, out TableContents? contents)
    {
        contents = null;
        ushort resId = (ushort)generation;
        bool consistent = true;
        void Check(in NetlinkMessage m)
        {
            if (m.ResourceId != resId)
                consistent = false;
        }

        Table? table = null;
        Dump(NftMessageType.GETTABLE, family, null, (in NetlinkMessage m) =>
        {
            Check(m);
            var t = Guard(m, TableCodec.Decode);
            if (t.Name == name && t.Family == family)
                table = t;
        }, () => table = null);
        if (!consistent)
            return false;
        if (table is null)
            return true;

        var chains = new List<Chain>();
        Dump(NftMessageType.GETCHAIN, family, null, (in NetlinkMessage m) =>
        {
            Check(m);
            var c = Guard(m, ChainCodec.Decode);
            if (c.Table == name)
                chains.Add(c);
        }, chains.Clear);

        var sets = new List<NftSet>();
        // Sets and rules are dumped for the whole family and filtered here, never with NFTA_*_TABLE in the
        // request: the kernel's filtered rule dump stops after the first table of that name without checking
        // that it is active, and a commit bumps the generation before it unlinks a deleted table. So while
        // a DELTABLE + NEWTABLE of the same name is being committed, a filtered dump can list the old,
        // deleted table's (inactive, skipped) rules, i.e. none, under the new generation id: an empty table
        // that no generation check can detect. The unfiltered dump checks every rule's activity instead.
        Dump(NftMessageType.GETSET, family, null, (in NetlinkMessage m) =>
        {
            Check(m);
            var s = Guard(m, SetCodec.Decode);
            if (s.Table == name)
                sets.Add(s);
        }, sets.Clear);

        var rules = new List<Rule>();
        var positions = new List<ulong>();
        Dump(NftMessageType.GETRULE, family, null, (in NetlinkMessage m) =>
        {
            Check(m);
            if (TableOfRule(m, out ulong position) != name)
                return; // another table's rule: not decoded at all
            rules.Add(Guard(m, RuleCodec.Decode));
            positions.Add(position);
        }, () => { rules.Clear(); positions.Clear(); });
        if (!RulesAreContiguous(rules, positions))
            return false;

        var setContents = new List<SetContents>(sets.Count);
        foreach (var set in sets)
        {
            var elements = new List<SetElement>();
            Dump(NftMessageType.GETSETELEM, family, (ref NetlinkWriter w) =>
            {
                w.WriteString((ushort)NftSetElementListAttribute.TABLE, name);
                w.WriteString((ushort)NftSetElementListAttribute.SET, set.Name);
            }, (in NetlinkMessage m) =>
            {
                Check(m);
                Guard(m, (in NetlinkMessage msg) => { SetElementCodec.Decode(msg, elements); return 0; });
            }, elements.Clear);
            setContents.Add(new SetContents(set, elements));
        }
        if (!consistent)
            return false;

        // The rule dump lists chain by chain in the table's chain order; keep that grouping explicit.
        var ordered = new List<Rule>(rules.Count);
        foreach (var chain in chains)
            ordered.AddRange(rules.Where(r => r.Chain == chain.Name));
        contents = new TableContents(table, chains, setContents, ordered, generation);
        return true;
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

    private void Dump(NftMessageType type, NftFamily family, DumpRequestWriter? request, DumpMessageHandler handler, Action restart) =>
        channel.Dump(type, (NetfilterFamily)family, request, handler, restart, cancellationToken);

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
