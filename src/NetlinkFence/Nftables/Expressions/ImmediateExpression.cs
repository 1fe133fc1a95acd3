using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables.Expressions;

/// <summary>
/// <c>[ immediate reg 0 accept ]</c> or <c>[ immediate reg 1 0x... ]</c>: puts a verdict into the verdict
/// register, or a constant into a data register. Exactly one of <see cref="Verdict"/> and <see cref="Data"/> is set.
/// </summary>
public sealed record ImmediateExpression : Expression
{
    /// <summary>A verdict: <c>accept</c>, <c>drop</c>, <c>jump CHAIN</c>, ...</summary>
    public ImmediateExpression(Verdict verdict)
    {
        Verdict = verdict;
        DestinationRegister = Registers.Verdict;
    }

    /// <summary>A constant loaded into <paramref name="destinationRegister"/>.</summary>
    public ImmediateExpression(uint destinationRegister, DataValue data)
    {
        DestinationRegister = destinationRegister;
        Data = data;
    }

    /// <summary>The destination register (<see cref="Registers.Verdict"/> for verdicts).</summary>
    public uint DestinationRegister { get; }

    /// <summary>The verdict, when this is a verdict.</summary>
    public Verdict? Verdict { get; }

    /// <summary>The constant, when this loads data.</summary>
    public DataValue? Data { get; }

    /// <inheritdoc />
    public override string Name => "immediate";

    internal override void EncodeData(ref NetlinkWriter writer)
    {
        writer.WriteU32BigEndian((ushort)NftImmediateAttribute.DREG, DestinationRegister);
        if (Verdict is { } verdict)
        {
            var data = writer.BeginNested((ushort)NftImmediateAttribute.DATA);
            var nest = writer.BeginNested((ushort)NftDataAttribute.VERDICT);
            writer.WriteU32BigEndian((ushort)NftVerdictAttribute.CODE, (uint)verdict.Code);
            if (verdict.Chain is { } chain)
                writer.WriteString((ushort)NftVerdictAttribute.CHAIN, chain);
            writer.EndNested(nest);
            writer.EndNested(data);
        }
        else
        {
            ExpressionCodec.WriteData(ref writer, (ushort)NftImmediateAttribute.DATA, Data!.Value);
        }
    }

    internal static Expression? TryDecode(ReadOnlySpan<byte> data)
    {
        uint? dreg = null;
        Verdict? verdict = null;
        DataValue? value = null;
        var attributes = new AttributeReader(data);
        while (attributes.TryRead(out var a))
        {
            switch ((NftImmediateAttribute)a.Type)
            {
                case NftImmediateAttribute.DREG:
                    dreg = a.U32BigEndian();
                    break;
                case NftImmediateAttribute.DATA:
                    var inner = a.Nested();
                    while (inner.TryRead(out var d))
                    {
                        if (d.Type == (ushort)NftDataAttribute.VALUE)
                            value = new DataValue(d.Payload);
                        else if (d.Type == (ushort)NftDataAttribute.VERDICT)
                            verdict = DecodeVerdict(d.Nested());
                        else
                            return null;
                    }
                    break;
                default:
                    return null;
            }
        }
        if (dreg is null)
            return null;
        if (verdict is not null && value is null)
            return dreg == Registers.Verdict ? new ImmediateExpression(verdict) : null;
        return value is not null && verdict is null ? new ImmediateExpression(dreg.Value, value.Value) : null;
    }

    private static Verdict? DecodeVerdict(AttributeReader attributes)
    {
        int? code = null;
        string? chain = null;
        while (attributes.TryRead(out var a))
        {
            switch ((NftVerdictAttribute)a.Type)
            {
                case NftVerdictAttribute.CODE: code = (int)a.U32BigEndian(); break;
                case NftVerdictAttribute.CHAIN: chain = a.String(); break;
                default: return null;
            }
        }
        return code is null ? null : new Verdict((VerdictCode)code.Value, chain);
    }
}
