using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables.Expressions;

/// <summary>Packet metadata keys (<c>NFT_META_*</c>); any kernel value round-trips even when unnamed here.</summary>
public enum MetaKey : uint
{
    /// <summary><c>meta length</c>.</summary>
    Length = NftMetaKey.LEN,
    /// <summary><c>meta protocol</c> (ethertype).</summary>
    Protocol = NftMetaKey.PROTOCOL,
    /// <summary><c>meta mark</c>.</summary>
    Mark = NftMetaKey.MARK,
    /// <summary><c>iif</c> (interface index).</summary>
    InputInterface = NftMetaKey.IIF,
    /// <summary><c>oif</c> (interface index).</summary>
    OutputInterface = NftMetaKey.OIF,
    /// <summary><c>iifname</c>.</summary>
    InputInterfaceName = NftMetaKey.IIFNAME,
    /// <summary><c>oifname</c>.</summary>
    OutputInterfaceName = NftMetaKey.OIFNAME,
    /// <summary><c>meta iiftype</c>.</summary>
    InputInterfaceType = NftMetaKey.IFTYPE,
    /// <summary><c>meta oiftype</c>.</summary>
    OutputInterfaceType = NftMetaKey.OIFTYPE,
    /// <summary><c>meta skuid</c>.</summary>
    SocketUid = NftMetaKey.SKUID,
    /// <summary><c>meta skgid</c>.</summary>
    SocketGid = NftMetaKey.SKGID,
    /// <summary><c>meta nfproto</c> (IPv4 or IPv6 in an inet table).</summary>
    NfProto = NftMetaKey.NFPROTO,
    /// <summary><c>meta l4proto</c> (transport protocol).</summary>
    L4Proto = NftMetaKey.L4PROTO,
    /// <summary><c>meta pkttype</c>.</summary>
    PacketType = NftMetaKey.PKTTYPE,
    /// <summary><c>meta cgroup</c>.</summary>
    Cgroup = NftMetaKey.CGROUP,
}

/// <summary><c>[ meta load l4proto =&gt; reg 1 ]</c>: loads packet metadata into a register.</summary>
/// <param name="Key">The metadata to load.</param>
/// <param name="DestinationRegister">The register to load into.</param>
public sealed record MetaExpression(MetaKey Key, uint DestinationRegister = Registers.R1) : Expression
{
    /// <inheritdoc />
    public override string Name => "meta";

    internal override void EncodeData(ref NetlinkWriter writer)
    {
        writer.WriteU32BigEndian((ushort)NftMetaAttribute.KEY, (uint)Key);
        writer.WriteU32BigEndian((ushort)NftMetaAttribute.DREG, DestinationRegister);
    }

    internal static Expression? TryDecode(ReadOnlySpan<byte> data)
    {
        uint? key = null, dreg = null;
        var attributes = new AttributeReader(data);
        while (attributes.TryRead(out var a))
        {
            switch ((NftMetaAttribute)a.Type)
            {
                case NftMetaAttribute.KEY: key = a.U32BigEndian(); break;
                case NftMetaAttribute.DREG: dreg = a.U32BigEndian(); break;
                default: return null; // meta set (sreg) is kept raw
            }
        }
        return key is null || dreg is null ? null : new MetaExpression((MetaKey)key, dreg.Value);
    }
}
