using System.Text;
using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Nftables;

namespace NetlinkFence.Benchmarks;

/// <summary>
/// The rulesets measured, built two ways that describe the same thing: as a <see cref="Transaction"/> for the
/// library, and as an <c>nft -f</c> file for the baseline. Addresses come from 198.18.0.0/15 (RFC 2544
/// benchmarking range): address i = 198.18.0.0 + i, port i = 1024 + i % 50000, as tools/anchor-bench/gen.sh.
/// </summary>
internal static class Workload
{
    public const string TableName = "bench";
    public const string ChainName = "output";
    public const string SetName = "allow";

    public static uint Address(int i) => 0xC6120000u + (uint)i;

    public static ushort Port(int i) => (ushort)(1024 + i % 50_000);

    public static string AddressText(int i)
    {
        uint a = Address(i);
        return $"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}";
    }

    private static Table Table => new(NftFamily.Inet, TableName);

    private static Chain OutputChain => new(NftFamily.Inet, TableName, ChainName, new ChainHook("filter", HookPoint.Output, 0, ChainPolicy.Drop));

    /// <summary>
    /// A typical egress rule, <c>ip daddr A tcp dport P counter accept comment "allow-i"</c>: meta nfproto, cmp,
    /// payload, cmp, meta l4proto, cmp, payload, cmp, counter, immediate accept (what nft 1.0.6 emits for it in an inet table).
    /// </summary>
    public static Rule EgressRule(int i) => new(NftFamily.Inet, TableName, ChainName,
    [
        new MetaExpression(MetaKey.NfProto),
        new CmpExpression(CmpOp.Eq, Registers.R1, new DataValue([2])), // NFPROTO_IPV4
        new PayloadExpression(PayloadBase.Network, 16, 4),
        new CmpExpression(CmpOp.Eq, Registers.R1, DataValue.BigEndian32(Address(i))),
        new MetaExpression(MetaKey.L4Proto),
        new CmpExpression(CmpOp.Eq, Registers.R1, new DataValue([6])), // IPPROTO_TCP
        new PayloadExpression(PayloadBase.Transport, 2, 2),
        new CmpExpression(CmpOp.Eq, Registers.R1, DataValue.BigEndian16(Port(i))),
        new CounterExpression(),
        new ImmediateExpression(Verdict.Accept),
    ], $"allow-{i}");

    public static string EgressRuleText(int i) =>
        $"ip daddr {AddressText(i)} tcp dport {Port(i)} counter accept comment \"allow-{i}\"";

    /// <summary>Atomic full replace: add table (so delete cannot fail), delete table, add table, chain, <paramref name="rules"/> rules.</summary>
    public static Transaction ReplaceWithRules(int rules)
    {
        var tx = new Transaction().AddTable(Table).DeleteTable(Table).AddTable(Table).AddChain(OutputChain);
        for (int i = 0; i < rules; i++)
            tx.AddRule(EgressRule(i));
        return tx;
    }

    public static string ReplaceWithRulesText(int rules)
    {
        var text = new StringBuilder();
        Prelude(text);
        text.Append("\tchain output {\n\t\ttype filter hook output priority filter; policy drop;\n");
        for (int i = 0; i < rules; i++)
            text.Append("\t\t").Append(EgressRuleText(i)).Append('\n');
        text.Append("\t}\n}\n");
        return text.ToString();
    }

    /// <summary>The set key of element i: ipv4_addr . inet_service, each field padded to 4 bytes.</summary>
    public static SetElement Element(int i)
    {
        uint a = Address(i);
        ushort p = Port(i);
        return new SetElement(new DataValue([(byte)(a >> 24), (byte)(a >> 16), (byte)(a >> 8), (byte)a, (byte)(p >> 8), (byte)p, 0, 0]));
    }

    public static SetElement[] Elements(int count)
    {
        var elements = new SetElement[count];
        for (int i = 0; i < count; i++)
            elements[i] = Element(i);
        return elements;
    }

    /// <summary>
    /// Full replace with one rule and a set: <c>set allow { type ipv4_addr . inet_service; elements = {...} }</c>
    /// and <c>ip daddr . tcp dport @allow counter accept</c>.
    /// </summary>
    public static Transaction ReplaceWithSet(int elements)
    {
        var set = new NftSet(NftFamily.Inet, TableName, SetName, [SetKeyType.Ipv4Address, SetKeyType.InetService]);
        var rule = new Rule(NftFamily.Inet, TableName, ChainName,
        [
            new MetaExpression(MetaKey.NfProto),
            new CmpExpression(CmpOp.Eq, Registers.R1, new DataValue([2])),
            new MetaExpression(MetaKey.L4Proto),
            new CmpExpression(CmpOp.Eq, Registers.R1, new DataValue([6])),
            new PayloadExpression(PayloadBase.Network, 16, 4, Registers.R32(0)),
            new PayloadExpression(PayloadBase.Transport, 2, 2, Registers.R32(1)),
            new LookupExpression(SetName, Registers.R32(0), SetId: 1),
            new CounterExpression(),
            new ImmediateExpression(Verdict.Accept),
        ]);
        return new Transaction().AddTable(Table).DeleteTable(Table).AddTable(Table).AddChain(OutputChain)
            .AddSet(set).AddElements(set, Elements(elements)).AddRule(rule);
    }

    public static string ReplaceWithSetText(int elements)
    {
        var text = new StringBuilder();
        Prelude(text);
        text.Append("\tset allow {\n\t\ttype ipv4_addr . inet_service\n\t\telements = { ");
        for (int i = 0; i < elements; i++)
            text.Append(i == 0 ? "" : ",\n\t\t\t").Append(AddressText(i)).Append(" . ").Append(Port(i));
        text.Append(" }\n\t}\n");
        text.Append("\tchain output {\n\t\ttype filter hook output priority filter; policy drop;\n");
        text.Append("\t\tip daddr . tcp dport @allow counter accept\n\t}\n}\n");
        return text.ToString();
    }

    private static void Prelude(StringBuilder text) =>
        text.Append($"table inet {TableName}\ndelete table inet {TableName}\ntable inet {TableName} {{\n");

    // ---- one element added to a preloaded set (hash: ipv4_addr . inet_service; interval: ipv4_addr, flags interval)

    public const string IntervalSetName = "allow4";

    public static NftSet ConcatHashSet => new(NftFamily.Inet, TableName, SetName, [SetKeyType.Ipv4Address, SetKeyType.InetService]);

    public static NftSet IntervalSet => new(NftFamily.Inet, TableName, IntervalSetName, [SetKeyType.Ipv4Address], SetFlags.Interval);

    /// <summary>Interval element i is the single address 10.0.0.0 + 2i: [a, a+1), so no two elements touch (nft would merge them).</summary>
    public static uint IntervalAddress(int i) => 0x0A000000u + 2u * (uint)i;

    private static string Text(uint a) => $"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}";

    /// <summary>The two elements of the one-address interval [a, a+1): start, then the end flagged <c>IntervalEnd</c>.</summary>
    public static IEnumerable<SetElement> IntervalElements(uint a)
    {
        yield return new SetElement(DataValue.BigEndian32(a));
        yield return new SetElement(DataValue.BigEndian32(a + 1)) { IntervalEnd = true };
    }

    /// <summary>Full replace with one rule <c>ip daddr @allow4 counter accept</c> and an interval set of N single addresses.</summary>
    public static Transaction ReplaceWithIntervalSet(int elements)
    {
        var set = IntervalSet;
        var rule = new Rule(NftFamily.Inet, TableName, ChainName,
        [
            new MetaExpression(MetaKey.NfProto),
            new CmpExpression(CmpOp.Eq, Registers.R1, new DataValue([2])),
            new PayloadExpression(PayloadBase.Network, 16, 4),
            new LookupExpression(IntervalSetName, Registers.R1, SetId: 1),
            new CounterExpression(),
            new ImmediateExpression(Verdict.Accept),
        ]);
        var list = new List<SetElement>(2 * elements);
        for (int i = 0; i < elements; i++)
            list.AddRange(IntervalElements(IntervalAddress(i)));
        return new Transaction().AddTable(Table).DeleteTable(Table).AddTable(Table).AddChain(OutputChain)
            .AddSet(set).AddElements(set, list).AddRule(rule);
    }

    public static string ReplaceWithIntervalSetText(int elements)
    {
        var text = new StringBuilder();
        Prelude(text);
        text.Append("\tset allow4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { ");
        for (int i = 0; i < elements; i++)
            text.Append(i == 0 ? "" : ",\n\t\t\t").Append(Text(IntervalAddress(i)));
        text.Append(" }\n\t}\n");
        text.Append("\tchain output {\n\t\ttype filter hook output priority filter; policy drop;\n");
        text.Append("\t\tip daddr @allow4 counter accept\n\t}\n}\n");
        return text.ToString();
    }

    /// <summary>The element added to the hash set: 198.19.200.1 . 8443 (outside the preloaded 100k).</summary>
    public static SetElement NewHashElement => new(new DataValue([198, 19, 200, 1, 8443 >> 8, 8443 & 255, 0, 0]));

    public const string NewHashElementText = "198.19.200.1 . 8443";

    /// <summary>The address added to the interval set: 10.200.0.1 (outside the preloaded 100k).</summary>
    public const uint NewIntervalAddress = 0x0AC80001u;

    public const string NewIntervalElementText = "10.200.0.1";

    public static Transaction AddOneHashElement() => new Transaction().AddElements(ConcatHashSet, [NewHashElement]);

    public static Transaction AddOneIntervalElement() => new Transaction().AddElements(IntervalSet, IntervalElements(NewIntervalAddress).ToList());
}
