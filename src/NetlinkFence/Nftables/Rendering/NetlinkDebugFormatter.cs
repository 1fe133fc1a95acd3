using System.Globalization;
using System.Text;
using NetlinkFence.Nftables.Expressions;

namespace NetlinkFence.Nftables.Rendering;

/// <summary>
/// Prints expressions as <c>nft --debug=netlink</c> does (<c>[ meta load nfproto =&gt; reg 1 ]</c>): a view of
/// exactly what the kernel holds, independent of how nft would summarise it as statements.
/// </summary>
internal static class NetlinkDebugFormatter
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private static readonly string[] MetaKeys =
    [
        "len", "protocol", "priority", "mark", "iif", "oif", "iifname", "oifname", "iiftype", "oiftype", "skuid", "skgid",
        "nftrace", "rtclassid", "secmark", "nfproto", "l4proto", "bri_iifname", "bri_oifname", "pkttype", "cpu", "iifgroup",
        "oifgroup", "cgroup", "prandom", "secpath", "iifkind", "oifkind", "bri_iifpvid", "bri_iifvproto", "time", "day", "hour",
        "sdif", "sdifname", "bri_broute",
    ];

    private static readonly string[] CtKeys =
    [
        "state", "direction", "status", "mark", "secmark", "expiration", "helper", "l3protocol", "src", "dst", "protocol",
        "proto_src", "proto_dst", "label", "packets", "bytes", "avgpkt", "zone", "event", "src_ip", "dst_ip", "src_ip6", "dst_ip6", "id",
    ];

    /// <summary>One expression, e.g. <c>[ payload load 4b @ network header + 16 =&gt; reg 1 ]</c>.</summary>
    public static string Format(Expression expression) => "[ " + Body(expression) + " ]";

    private static string Body(Expression expression) => expression switch
    {
        PayloadExpression p => $"payload load {p.Length}b @ {BaseName(p.Base)} header + {p.Offset} => reg {p.DestinationRegister}",
        MetaExpression m => $"meta load {Name(MetaKeys, (uint)m.Key)} => reg {m.DestinationRegister}",
        CtExpression c => $"ct load {Name(CtKeys, (uint)c.Key)} => reg {c.DestinationRegister}"
            + (c.Direction is { } d ? (d == 0 ? " , dir original" : " , dir reply") : ""),
        CmpExpression c => $"cmp {CmpName(c.Op)} reg {c.SourceRegister} {ValueFormatter.DebugWords(c.Data.Span)}",
        BitwiseExpression b => $"bitwise reg {b.DestinationRegister} = ( reg {b.SourceRegister} & {ValueFormatter.DebugWords(b.Mask.Span)} ) ^ {ValueFormatter.DebugWords(b.Xor.Span)}",
        RangeExpression r => $"range {(r.Negate ? "neq" : "eq")} reg {r.SourceRegister} {ValueFormatter.DebugWords(r.From.Span)} {ValueFormatter.DebugWords(r.To.Span)}",
        LookupExpression l => $"lookup reg {l.SourceRegister} set {l.SetName}" + (l.Invert ? " 0x1" : ""),
        ImmediateExpression { Verdict: { } v } i => $"immediate reg {i.DestinationRegister} {VerdictText(v)}",
        ImmediateExpression i => $"immediate reg {i.DestinationRegister} {ValueFormatter.DebugWords(i.Data!.Value.Span)}",
        CounterExpression c => $"counter pkts {c.Packets} bytes {c.Bytes}",
        LimitExpression l => $"limit rate {l.Rate}/{UnitName(l.UnitSeconds)} burst {l.Burst} type {(l.Type == LimitType.Bytes ? "bytes" : "packets")} flags 0x{(l.Invert ? 1 : 0):x}",
        LogExpression l => LogText(l),
        SocketExpression s => $"socket load cgroupv2 => reg {s.DestinationRegister}",
        ExthdrExpression x => $"exthdr load ipv6 {x.Length}b @ {x.HeaderType} + {x.Offset} => reg {x.DestinationRegister}",
        ByteorderExpression b => $"byteorder reg {b.DestinationRegister} = {(b.ToNetworkOrder ? "hton" : "ntoh")}(reg {b.SourceRegister}, {b.Size}, {b.Length})",
        RejectExpression r => $"reject type {(uint)r.Type} code {r.IcmpCode}",
        RawExpression raw => $"{raw.KernelName} unknown 0x{Convert.ToHexStringLower(raw.Data.Span)}",
        _ => $"{expression.Name} unknown",
    };

    private static string LogText(LogExpression l)
    {
        var text = new StringBuilder("log");
        if (l.Prefix is not null)
            text.Append(" prefix ").Append(l.Prefix);
        if (l.Group is { } group)
            text.Append(Invariant, $" group {group} snaplen {l.Snaplen ?? 0} qthreshold {l.QueueThreshold ?? 0}");
        else
            text.Append(Invariant, $" level {l.Level ?? 4}"); // the kernel's effective level, which it always reports
        if (l.Flags is { } flags && flags != 0)
            text.Append(Invariant, $" flags {flags}");
        return text.ToString();
    }

    /// <summary>The verdict as libnftnl prints it: <c>accept</c>, <c>jump -&gt; chain</c>.</summary>
    public static string VerdictText(Verdict verdict) => verdict.Code switch
    {
        VerdictCode.Accept => "accept",
        VerdictCode.Drop => "drop",
        VerdictCode.Queue => "queue",
        VerdictCode.Continue => "continue",
        VerdictCode.Break => "break",
        VerdictCode.Return => "return",
        VerdictCode.Jump => "jump -> " + verdict.Chain,
        VerdictCode.Goto => "goto -> " + verdict.Chain,
        _ => "verdict " + ((int)verdict.Code).ToString(Invariant),
    };

    /// <summary>nft's name of a limit unit; seconds when it is none of them.</summary>
    public static string UnitName(ulong seconds) => seconds switch
    {
        1 => "second",
        60 => "minute",
        3600 => "hour",
        86400 => "day",
        604800 => "week",
        _ => seconds.ToString(Invariant) + "s",
    };

    private static string BaseName(PayloadBase @base) => @base switch
    {
        PayloadBase.LinkLayer => "link",
        PayloadBase.Network => "network",
        PayloadBase.Transport => "transport",
        PayloadBase.Inner => "inner",
        _ => "base " + ((uint)@base).ToString(Invariant),
    };

    private static string CmpName(CmpOp op) => op switch
    {
        CmpOp.Eq => "eq",
        CmpOp.Neq => "neq",
        CmpOp.Lt => "lt",
        CmpOp.Lte => "lte",
        CmpOp.Gt => "gt",
        CmpOp.Gte => "gte",
        _ => "op" + ((uint)op).ToString(Invariant),
    };

    /// <summary>libnftnl's name of a meta key, e.g. <c>l4proto</c>.</summary>
    public static string MetaKeyName(MetaKey key) => Name(MetaKeys, (uint)key);

    /// <summary>libnftnl's name of a conntrack key, e.g. <c>state</c>.</summary>
    public static string CtKeyName(CtKey key) => Name(CtKeys, (uint)key);

    private static string Name(string[] names, uint key) => key < names.Length ? names[key] : "unknown " + key.ToString(Invariant);
}
