using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables.Expressions;

/// <summary>
/// <c>log prefix "EGRESS-DENIED: " group 100</c>: logs the packet to the kernel log, or to an NFLOG group
/// readable over netlink when <see cref="Group"/> is set.
/// </summary>
public sealed record LogExpression : Expression
{
    /// <summary>Longest prefix the kernel accepts (NF_LOG_PREFIXLEN 128 including the NUL).</summary>
    public const int MaxPrefixBytes = 127;

    /// <summary>Creates a log expression; the prefix is checked against the kernel's limit.</summary>
    public LogExpression(string? prefix = null)
    {
        if (prefix is not null && System.Text.Encoding.UTF8.GetByteCount(prefix) > MaxPrefixBytes)
            throw new ArgumentException($"log prefix is longer than {MaxPrefixBytes} bytes, the kernel's limit (NF_LOG_PREFIXLEN)", nameof(prefix));
        Prefix = prefix;
    }

    /// <summary>Text put before every log line.</summary>
    public string? Prefix { get; }

    /// <summary>NFLOG group; null logs to the kernel log.</summary>
    public ushort? Group { get; init; }

    /// <summary>Bytes of the packet copied to NFLOG.</summary>
    public uint? Snaplen { get; init; }

    /// <summary>Packets NFLOG queues before sending.</summary>
    public ushort? QueueThreshold { get; init; }

    /// <summary>
    /// Syslog level (<c>NFT_LOGLEVEL_*</c>: 4 is warn, 8 is audit). Null is the kernel's default, warn; the kernel
    /// reports that default when read back, so equality compares <see cref="EffectiveLevel"/>.
    /// </summary>
    public uint? Level { get; init; }

    /// <summary>Kernel log flags (<c>NF_LOG_*</c>: TCP sequence numbers, options, uid, ...).</summary>
    public uint? Flags { get; init; }

    /// <inheritdoc />
    public override string Name => "log";

    /// <summary>The syslog level the kernel uses: unset means warning (4) for the kernel log; NFLOG has none.</summary>
    public uint? EffectiveLevel => Group is null ? Level ?? 4 : null;

    /// <summary>
    /// Semantic equality: the kernel reports its defaults (level warning, no flags, no snaplen or queue
    /// threshold) when reading back, and those equal an unset value.
    /// </summary>
    public bool Equals(LogExpression? other) =>
        other is not null && Prefix == other.Prefix && Group == other.Group && EffectiveLevel == other.EffectiveLevel
        && (Flags ?? 0) == (other.Flags ?? 0) && (Snaplen ?? 0) == (other.Snaplen ?? 0) && (QueueThreshold ?? 0) == (other.QueueThreshold ?? 0);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Prefix, Group, EffectiveLevel);

    internal override void EncodeData(ref NetlinkWriter writer)
    {
        if (Prefix is not null)
            writer.WriteString((ushort)NftLogAttribute.PREFIX, Prefix);
        if (Group is { } group)
            writer.WriteU16BigEndian((ushort)NftLogAttribute.GROUP, group);
        if (Snaplen is { } snaplen)
            writer.WriteU32BigEndian((ushort)NftLogAttribute.SNAPLEN, snaplen);
        if (QueueThreshold is { } threshold)
            writer.WriteU16BigEndian((ushort)NftLogAttribute.QTHRESHOLD, threshold);
        if (Level is { } level)
            writer.WriteU32BigEndian((ushort)NftLogAttribute.LEVEL, level);
        if (Flags is { } flags)
            writer.WriteU32BigEndian((ushort)NftLogAttribute.FLAGS, flags);
    }

    internal static Expression? TryDecode(ReadOnlySpan<byte> data)
    {
        string? prefix = null;
        ushort? group = null, threshold = null;
        uint? snaplen = null, level = null, flags = null;
        var attributes = new AttributeReader(data);
        while (attributes.TryRead(out var a))
        {
            switch ((NftLogAttribute)a.Type)
            {
                case NftLogAttribute.PREFIX: prefix = a.String(); break;
                case NftLogAttribute.GROUP: group = a.U16BigEndian(); break;
                case NftLogAttribute.SNAPLEN: snaplen = a.U32BigEndian(); break;
                case NftLogAttribute.QTHRESHOLD: threshold = a.U16BigEndian(); break;
                case NftLogAttribute.LEVEL: level = a.U32BigEndian(); break;
                case NftLogAttribute.FLAGS: flags = a.U32BigEndian(); break;
                default: return null;
            }
        }
        if (prefix is not null && System.Text.Encoding.UTF8.GetByteCount(prefix) > MaxPrefixBytes)
            return null;
        return new LogExpression(prefix) { Group = group, Snaplen = snaplen, QueueThreshold = threshold, Level = level, Flags = flags };
    }
}
