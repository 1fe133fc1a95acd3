using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using NetlinkFence.Nftables.Expressions;

namespace NetlinkFence.Nftables.Rendering;

/// <summary>
/// Turns a rule's expressions back into the statements nft prints: loads are paired with the cmp, bitwise,
/// range or lookup that consumes them; <c>meta nfproto</c> and <c>meta l4proto</c> matches that only exist as
/// the dependency of a later header field (<c>ip daddr</c>, <c>tcp dport</c>) are elided as nft elides them.
/// A rule with anything not recognised is printed whole as a <c>#</c> comment of its netlink debug form,
/// never partly and never dropped.
/// </summary>
internal sealed class RuleRenderer
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private readonly Func<uint, string?>? _interfaceName;
    private readonly Func<string, SetContents?>? _findSet;

    public RuleRenderer(Func<uint, string?>? interfaceName, Func<string, SetContents?>? findSet)
    {
        _interfaceName = interfaceName;
        _findSet = findSet;
    }

    /// <summary>The rule as nft prints it inside a chain (without indentation or newline).</summary>
    public string Render(Rule rule)
    {
        string? refused = null;
        try
        {
            string comment = rule.Comment is null ? "" : " comment " + NftSyntax.Quote(rule.Comment, "rule comment");
            if (TryRender(rule) is { } statements)
                return statements + comment;
        }
        catch (NftSyntaxException e)
        {
            refused = $" (not nft syntax: {e.What}: {e.Reason})";
        }
        // Never printed partly or dropped: the whole rule as one comment line, escaped so that it stays one line.
        string debug = string.Join(' ', rule.Expressions.Select(NetlinkDebugFormatter.Format));
        return "# " + NftSyntax.Comment(debug + (rule.Comment is null ? "" : " comment \"" + rule.Comment + "\"") + refused);
    }

    /// <summary>A register's pending value: which field or key was loaded, and an optional bitwise mask.</summary>
    private sealed record Load(string Left, ValueKind Kind, PayloadBase? Base, MetaKey? Meta, CtKey? Ct, DataValue? Mask = null)
    {
        /// <summary>Length of the whole address when only its first bytes were loaded (a CIDR match), else 0.</summary>
        public int PrefixOf { get; init; }

        /// <summary>For ICMP fields: the network protocol a pending <c>meta nfproto</c> must name to be implied.</summary>
        public byte? AlsoNetwork { get; init; }

        /// <summary>A host-order key converted to network order in place (nft's byteorder before an interval concatenation lookup).</summary>
        public bool NetworkOrder { get; init; }

        /// <summary>A load nft prints in a concatenation lookup: a header field, ct, or one of the meta and socket keys our sets use.</summary>
        public bool IsConcatenable => Mask is null && (Base is not null || Ct is not null || IsSocket
            || Meta is MetaKey.L4Proto or MetaKey.NfProto or MetaKey.Mark || (Meta is MetaKey.SocketUid && NetworkOrder));

        /// <summary><c>socket cgroupv2 level N</c>.</summary>
        public bool IsSocket { get; init; }
    }

    private sealed class State
    {
        public readonly List<string?> Parts = [];
        public readonly List<(uint Register, Load Load)> Loads = [];
        public byte? NetworkProto;
        public byte? TransportProto;
        public int NetworkDependency = -1;
        public int TransportDependency = -1;

        public Load? Take(uint register)
        {
            int index = Loads.FindIndex(l => l.Register == register);
            if (index < 0)
                return null;
            var load = Loads[index].Load;
            Loads.RemoveAt(index);
            return load;
        }

        public void Set(uint register, Load load)
        {
            Loads.RemoveAll(l => l.Register == register);
            Loads.Add((register, load));
        }

        /// <summary>A header field was matched: the dependency that made its protocol known is implied.</summary>
        public void Consume(Load load)
        {
            if (load.Base == PayloadBase.Network && NetworkDependency >= 0)
            {
                Parts[NetworkDependency] = null;
                NetworkDependency = -1;
            }
            else if (load.Base == PayloadBase.Transport && TransportDependency >= 0)
            {
                Parts[TransportDependency] = null;
                TransportDependency = -1;
                if (load.AlsoNetwork is { } network && network == NetworkProto)
                    ConsumeNetwork();
            }
        }

        /// <summary>A statement that itself depends on the network protocol (reject with icmp) implies the nfproto match.</summary>
        public void ConsumeNetwork()
        {
            if (NetworkDependency >= 0)
            {
                Parts[NetworkDependency] = null;
                NetworkDependency = -1;
            }
        }
    }

    private string? TryRender(Rule rule)
    {
        var state = new State
        {
            NetworkProto = rule.Family switch
            {
                NftFamily.Ip => PayloadFields.NfprotoIpv4,
                NftFamily.Ip6 => PayloadFields.NfprotoIpv6,
                _ => null,
            },
        };
        var expressions = rule.Expressions;
        for (int i = 0; i < expressions.Count; i++)
        {
            switch (expressions[i])
            {
                case MetaExpression m:
                    state.Set(m.DestinationRegister, new Load(MetaName(m.Key), ValueKind.Integer, null, m.Key, null));
                    break;
                case SocketExpression so:
                    state.Set(so.DestinationRegister, new Load($"socket cgroupv2 level {so.Level}", ValueKind.Integer, null, null, null) { IsSocket = true });
                    break;
                case ExthdrExpression { HeaderType: ExthdrExpression.RoutingHeader, Offset: 2, Length: 1 } x when state.NetworkProto is null or PayloadFields.NfprotoIpv6:
                    // rt type: an IPv6 header field for the dependency nft elides (meta nfproto ipv6).
                    state.Set(x.DestinationRegister, new Load("rt type", ValueKind.Integer, PayloadBase.Network, null, null));
                    break;
                case ByteorderExpression bo when bo.ToNetworkOrder && bo.SourceRegister == bo.DestinationRegister && bo.Length == bo.Size:
                {
                    // Only in front of a lookup (checked there): a host-order meta or socket key stored in network order.
                    var load = state.Take(bo.SourceRegister);
                    if (load is null || !(load.IsSocket && bo.Size == 8 || load.Meta == MetaKey.SocketUid && bo.Size == 4))
                        return null;
                    state.Set(bo.DestinationRegister, load with { NetworkOrder = true });
                    break;
                }
                case CtExpression c when c.Direction is null:
                    state.Set(c.DestinationRegister, new Load("ct " + NetlinkDebugFormatter.CtKeyName(c.Key), ValueKind.Integer, null, null, c.Key));
                    break;
                case PayloadExpression p:
                {
                    PayloadField? field = p.Base switch
                    {
                        PayloadBase.Network when state.NetworkProto is { } np => PayloadFields.Network(np, p.Offset, p.Length),
                        PayloadBase.Transport when state.TransportProto is { } tp => PayloadFields.Transport(tp, p.Offset, p.Length),
                        PayloadBase.Transport => PayloadFields.AnyTransport(p.Offset, p.Length),
                        _ => null,
                    };
                    int prefixOf = 0;
                    if (field is null && p.Base == PayloadBase.Network && state.NetworkProto is { } proto
                        && PayloadFields.AddressPrefix(proto, p.Offset, p.Length, out int addressLength) is { } partial)
                    {
                        field = partial;
                        prefixOf = addressLength;
                    }
                    if (field is null)
                        return null;
                    // ICMP fields in an inet table also depend on the network protocol: nft elides both matches.
                    bool needsNetwork = field.Protocol is "icmp" or "icmpv6";
                    state.Set(p.DestinationRegister, new Load(field.ToString(), field.Kind, p.Base, null, null)
                    {
                        PrefixOf = prefixOf,
                        AlsoNetwork = needsNetwork ? (field.Protocol == "icmp" ? PayloadFields.NfprotoIpv4 : PayloadFields.NfprotoIpv6) : null,
                    });
                    break;
                }
                case BitwiseExpression b:
                {
                    var load = state.Take(b.SourceRegister);
                    if (load is null || load.Mask is not null || b.Xor.Span.ContainsAnyExcept((byte)0) || b.Mask.Count != b.Xor.Count)
                        return null;
                    state.Set(b.DestinationRegister, load with { Mask = b.Mask });
                    break;
                }
                case CmpExpression c:
                {
                    var load = state.Take(c.SourceRegister);
                    if (load is null)
                        return null;
                    string? text;
                    if (c.Op == CmpOp.Gte && i + 1 < expressions.Count && expressions[i + 1] is CmpExpression { Op: CmpOp.Lte } upper
                        && upper.SourceRegister == c.SourceRegister && load.Mask is null)
                    {
                        text = RangeText(load, negate: false, c.Data, upper.Data);
                        i++;
                    }
                    else
                    {
                        text = Match(state, load, c.Op, c.Data);
                    }
                    if (text is null)
                        return null;
                    state.Consume(load);
                    // Match may have added the part itself (dependencies); it returns "" then.
                    if (text.Length > 0)
                        state.Parts.Add(text);
                    break;
                }
                case RangeExpression r:
                {
                    var load = state.Take(r.SourceRegister);
                    if (load is null || load.Mask is not null)
                        return null;
                    string? text = RangeText(load, r.Negate, r.From, r.To);
                    if (text is null)
                        return null;
                    state.Consume(load);
                    state.Parts.Add(text);
                    break;
                }
                case LookupExpression l:
                {
                    if (state.Loads.Count == 0 || state.Loads[0].Register != l.SourceRegister || state.Loads.Any(x => !x.Load.IsConcatenable))
                        return null;
                    var loads = state.Loads.Select(x => x.Load).ToList();
                    state.Loads.Clear();
                    foreach (var load in loads)
                        state.Consume(load);
                    string target = "@" + NftSyntax.Name(l.SetName, "set");
                    if (l.SetName.StartsWith("__set", StringComparison.Ordinal) && _findSet?.Invoke(l.SetName) is { } anonymous
                        && SetElementFormatter.Format(anonymous.Set, anonymous.Elements, singleLine: true) is { } inline)
                        target = "{ " + inline + " }";
                    state.Parts.Add(string.Join(" . ", loads.Select(x => x.Left)) + " " + (l.Invert ? "!= " : "") + target);
                    break;
                }
                case ImmediateExpression { Verdict: { } verdict } when VerdictText(verdict) is { } text:
                    state.Parts.Add(text);
                    break;
                case CounterExpression c:
                    state.Parts.Add($"counter packets {c.Packets} bytes {c.Bytes}");
                    break;
                case LimitExpression l:
                    state.Parts.Add(LimitText(l));
                    break;
                case LogExpression l:
                    state.Parts.Add(LogText(l));
                    break;
                case RejectExpression r when RejectText(rule.Family, state.NetworkProto, r) is { } text:
                    if (r.Type == RejectType.IcmpUnreachable)
                        state.ConsumeNetwork();
                    state.Parts.Add(text);
                    break;
                default:
                    return null;
            }
        }
        if (state.Loads.Count != 0)
            return null;
        return string.Join(' ', state.Parts.Where(p => p is not null));
    }

    /// <summary>A cmp on a loaded value; null when nft would print it differently than we know how to.</summary>
    private string? Match(State state, Load load, CmpOp op, DataValue data)
    {
        string prefix = OpPrefix(op);
        if (load.Meta is { } meta)
        {
            switch (meta)
            {
                case MetaKey.NfProto when data.Count == 1:
                {
                    string? name = data[0] switch { PayloadFields.NfprotoIpv4 => "ipv4", PayloadFields.NfprotoIpv6 => "ipv6", _ => null };
                    if (name is null)
                        return null;
                    if (op == CmpOp.Eq)
                    {
                        state.NetworkProto = data[0];
                        state.NetworkDependency = state.Parts.Count;
                        state.Parts.Add("meta nfproto " + name);
                        return "";
                    }
                    return "meta nfproto " + prefix + name;
                }
                case MetaKey.L4Proto when data.Count == 1:
                    if (op == CmpOp.Eq)
                    {
                        state.TransportProto = data[0];
                        state.TransportDependency = state.Parts.Count;
                        state.Parts.Add("meta l4proto " + ValueFormatter.ProtocolName(data[0]));
                        return "";
                    }
                    return "meta l4proto " + prefix + ValueFormatter.ProtocolName(data[0]);
                case MetaKey.InputInterface or MetaKey.OutputInterface when data.Count == 4 && load.Mask is null:
                {
                    uint index = BinaryPrimitives.ReadUInt32LittleEndian(data.Span);
                    string keyword = meta == MetaKey.InputInterface ? "iif" : "oif";
                    string device = _interfaceName?.Invoke(index) is { } name ? NftSyntax.Quote(name, "interface name") : index.ToString(Invariant);
                    return keyword + " " + prefix + device;
                }
                case MetaKey.InputInterfaceName or MetaKey.OutputInterfaceName when data.Count == 16 && load.Mask is null:
                {
                    int end = data.Span.IndexOf((byte)0);
                    if (end < 0 || data.Span[end..].ContainsAnyExcept((byte)0))
                        return null;
                    string keyword = meta == MetaKey.InputInterfaceName ? "iifname" : "oifname";
                    return keyword + " " + prefix + NftSyntax.Quote(Encoding.UTF8.GetString(data.Span[..end]), "interface name");
                }
                case MetaKey.SocketUid or MetaKey.SocketGid when data.Count == 4 && load.Mask is null:
                    return $"{load.Left} {prefix}{ValueFormatter.Format(data.Span, ValueKind.HostDecimal)}";
                case MetaKey.Mark when data.Count == 4 && load.Mask is null:
                    return "meta mark " + prefix + "0x" + BinaryPrimitives.ReadUInt32LittleEndian(data.Span).ToString("x8", Invariant);
                default:
                    return null;
            }
        }
        if (load.Ct is CtKey.Mark && load.Mask is null && data.Count == 4)
            return "ct mark " + prefix + ValueFormatter.Format(data.Span, ValueKind.HostInteger);
        if (load.Ct is CtKey.State)
        {
            // ct state a,b is "(state & mask) != 0".
            if (load.Mask is { } mask && op == CmpOp.Neq && data.Count == 4 && !data.Span.ContainsAnyExcept((byte)0) && mask.Count == 4)
            {
                string? names = CtStateNames(BinaryPrimitives.ReadUInt32LittleEndian(mask.Span));
                return names is null ? null : "ct state " + names;
            }
            return null;
        }
        if (load.Base is null)
            return null;
        if (load.PrefixOf > 0)
        {
            if (op is not (CmpOp.Eq or CmpOp.Neq) || load.Mask is not null || data.Count >= load.PrefixOf)
                return null;
            var address = new byte[load.PrefixOf];
            data.Span.CopyTo(address);
            return $"{load.Left} {prefix}{ValueFormatter.Format(address, load.Kind)}/{data.Count * 8}";
        }
        if (load.Kind == ValueKind.TcpFlags && load.Mask is { } flagMask)
        {
            // tcp flags syn is "(flags & syn) != 0".
            if (op != CmpOp.Neq || flagMask.Count != 1 || data.Count != 1 || data[0] != 0)
                return null;
            string? flags = ValueFormatter.TcpFlagNames(flagMask[0]);
            return flags is null || flags.Contains('|') ? null : $"{load.Left} {flags}";
        }
        if (load.Mask is { } prefixMask)
        {
            if (op is not (CmpOp.Eq or CmpOp.Neq) || load.Kind is not (ValueKind.Ipv4 or ValueKind.Ipv6))
                return null;
            int length = ValueFormatter.PrefixLength(prefixMask.Span);
            string? network = ValueFormatter.Format(data.Span, load.Kind);
            return length < 0 || network is null ? null : $"{load.Left} {prefix}{network}/{length}";
        }
        string? value = ValueFormatter.Format(data.Span, load.Kind);
        if (value is null)
            return null;
        if (load.Left is "ip protocol" or "ip6 nexthdr" && op == CmpOp.Eq)
        {
            // Like meta l4proto: a dependency of a later transport field, elided when one follows.
            state.Consume(load);
            state.TransportProto = data[0];
            state.TransportDependency = state.Parts.Count;
            state.Parts.Add($"{load.Left} {value}");
            return "";
        }
        return $"{load.Left} {prefix}{value}";
    }

    private static string? RangeText(Load load, bool negate, DataValue from, DataValue to)
    {
        if (load.Base is null)
            return null;
        string? low = ValueFormatter.Format(from.Span, load.Kind), high = ValueFormatter.Format(to.Span, load.Kind);
        return low is null || high is null ? null : $"{load.Left} {(negate ? "!= " : "")}{low}-{high}";
    }

    private static string OpPrefix(CmpOp op) => op switch
    {
        CmpOp.Eq => "",
        CmpOp.Neq => "!= ",
        CmpOp.Lt => "< ",
        CmpOp.Lte => "<= ",
        CmpOp.Gt => "> ",
        CmpOp.Gte => ">= ",
        _ => "?? ",
    };

    private static string MetaName(MetaKey key) => key switch
    {
        MetaKey.InputInterface => "iif",
        MetaKey.OutputInterface => "oif",
        MetaKey.InputInterfaceName => "iifname",
        MetaKey.OutputInterfaceName => "oifname",
        MetaKey.NfProto => "meta nfproto",
        MetaKey.L4Proto => "meta l4proto",
        MetaKey.Mark => "meta mark",
        MetaKey.SocketUid => "meta skuid",
        MetaKey.SocketGid => "meta skgid",
        _ => "meta " + NetlinkDebugFormatter.MetaKeyName(key),
    };

    /// <summary>Conntrack state bits in nft's order (lowest bit first), or null for bits nft has no name for.</summary>
    internal static string? CtStateNames(uint mask)
    {
        var names = new List<string>();
        foreach (var (bit, name) in new[]
        {
            (CtState.Invalid, "invalid"), (CtState.Established, "established"), (CtState.Related, "related"),
            (CtState.New, "new"), (CtState.Untracked, "untracked"),
        })
        {
            if ((mask & (uint)bit) != 0)
            {
                names.Add(name);
                mask &= ~(uint)bit;
            }
        }
        return mask != 0 || names.Count == 0 ? null : string.Join(',', names);
    }

    /// <summary>The verdict as a statement: <c>accept</c>, <c>jump chain</c>.</summary>
    public static string? VerdictText(Verdict verdict) => verdict.Code switch
    {
        VerdictCode.Accept => "accept",
        VerdictCode.Drop => "drop",
        VerdictCode.Queue => "queue",
        VerdictCode.Continue => "continue",
        VerdictCode.Return => "return",
        VerdictCode.Jump when verdict.Chain is not null => "jump " + NftSyntax.Name(verdict.Chain, "chain"),
        VerdictCode.Goto when verdict.Chain is not null => "goto " + NftSyntax.Name(verdict.Chain, "chain"),
        _ => null,
    };

    private static string LimitText(LimitExpression l)
    {
        string over = l.Invert ? "over " : "";
        string unit = NetlinkDebugFormatter.UnitName(l.UnitSeconds);
        if (l.Type == LimitType.Packets)
            return $"limit rate {over}{l.Rate}/{unit}" + (l.Burst is 0 or 5 ? "" : $" burst {l.Burst} packets");
        var (rate, rateUnit) = ByteUnits(l.Rate);
        string text = $"limit rate {over}{rate} {rateUnit}/{unit}";
        if (l.Burst != 0)
        {
            var (burst, burstUnit) = ByteUnits(l.Burst);
            text += $" burst {burst} {burstUnit}";
        }
        return text;
    }

    private static (ulong Value, string Unit) ByteUnits(ulong bytes)
    {
        string[] units = ["bytes", "kbytes", "mbytes"];
        int index = 0;
        while (bytes != 0 && bytes % 1024 == 0 && index < units.Length - 1)
        {
            bytes /= 1024;
            index++;
        }
        return (bytes, units[index]);
    }

    private static readonly string[] LogLevels = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug", "audit"];

    private static string LogText(LogExpression l)
    {
        var text = new StringBuilder("log");
        if (l.Prefix is not null)
            text.Append(" prefix ").Append(NftSyntax.Quote(l.Prefix, "log prefix", expandsVariables: true));
        if (l.Group is { } group)
            text.Append(Invariant, $" group {group}");
        if (l.Snaplen is { } snaplen && snaplen != 0)
            text.Append(Invariant, $" snaplen {snaplen}");
        if (l.QueueThreshold is { } threshold && threshold != 0)
            text.Append(Invariant, $" queue-threshold {threshold}");
        // The kernel reports the level of every kernel-log rule; nft omits the default, warn.
        if (l.Group is null && l.Level is { } level && level != 4)
            text.Append(" level ").Append(level < LogLevels.Length ? LogLevels[level] : level.ToString(Invariant));
        if (l.Flags is { } flags && flags != 0)
        {
            const uint TcpSequence = 0x01, TcpOptions = 0x02, IpOptions = 0x04, Uid = 0x08, MacDecode = 0x20, All = 0x2f;
            if (flags == All)
                text.Append(" flags all");
            else
            {
                if ((flags & (TcpSequence | TcpOptions)) == (TcpSequence | TcpOptions))
                    text.Append(" flags tcp sequence,options");
                else if ((flags & TcpSequence) != 0)
                    text.Append(" flags tcp sequence");
                else if ((flags & TcpOptions) != 0)
                    text.Append(" flags tcp options");
                if ((flags & IpOptions) != 0)
                    text.Append(" flags ip options");
                if ((flags & Uid) != 0)
                    text.Append(" flags skuid");
                if ((flags & MacDecode) != 0)
                    text.Append(" flags ether");
            }
        }
        return text.ToString();
    }

    private static readonly string[] IcmpCodes = ["net-unreachable", "host-unreachable", "prot-unreachable", "port-unreachable"];

    private static string? RejectText(NftFamily family, byte? networkProto, RejectExpression r)
    {
        switch (r.Type)
        {
            case RejectType.TcpReset:
                return "reject with tcp reset";
            case RejectType.IcmpxUnreachable:
            {
                string? code = r.IcmpCode switch { 0 => "no-route", 1 => "port-unreachable", 2 => "host-unreachable", 3 => "admin-prohibited", _ => null };
                return code is null ? null : r.IcmpCode == 1 ? "reject" : "reject with icmpx " + code;
            }
            case RejectType.IcmpUnreachable:
            {
                bool v6 = family == NftFamily.Ip6 || (family != NftFamily.Ip && networkProto == PayloadFields.NfprotoIpv6);
                if (v6)
                {
                    string? code = r.IcmpCode switch
                    {
                        0 => "no-route", 1 => "admin-prohibited", 3 => "addr-unreachable", 4 => "port-unreachable",
                        5 => "policy-fail", 6 => "reject-route", _ => null,
                    };
                    if (code is null)
                        return null;
                    return family == NftFamily.Ip6 && r.IcmpCode == 4 ? "reject" : "reject with icmpv6 " + code;
                }
                string? v4 = r.IcmpCode switch
                {
                    < 4 => IcmpCodes[r.IcmpCode], 9 => "net-prohibited", 10 => "host-prohibited", 13 => "admin-prohibited", _ => null,
                };
                if (v4 is null)
                    return null;
                return family == NftFamily.Ip && r.IcmpCode == 3 ? "reject" : "reject with icmp " + v4;
            }
            default:
                return null;
        }
    }
}
