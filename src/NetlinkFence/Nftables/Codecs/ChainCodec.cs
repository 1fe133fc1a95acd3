using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables.Codecs;

/// <summary>Encodes and decodes chains (<c>NFTA_CHAIN_*</c>, <c>NFTA_HOOK_*</c>).</summary>
internal static class ChainCodec
{
    public static void Encode(ref NetlinkWriter writer, Chain chain)
    {
        writer.WriteString((ushort)NftChainAttribute.TABLE, chain.Table);
        writer.WriteString((ushort)NftChainAttribute.NAME, chain.Name);
        if (chain.Hook is { } hook)
        {
            // nft 1.0.6's order (golden bytes): TYPE, POLICY, then the HOOK nest.
            writer.WriteString((ushort)NftChainAttribute.TYPE, hook.Type);
            writer.WriteU32BigEndian((ushort)NftChainAttribute.POLICY, (uint)hook.Policy);
            var nest = writer.BeginNested((ushort)NftChainAttribute.HOOK);
            writer.WriteU32BigEndian((ushort)NftHookAttribute.HOOKNUM, (uint)hook.Hook);
            writer.WriteU32BigEndian((ushort)NftHookAttribute.PRIORITY, (uint)hook.Priority);
            writer.EndNested(nest);
        }
    }

    /// <summary>Identifies a chain for deletion by table and name.</summary>
    public static void EncodeReference(ref NetlinkWriter writer, Chain chain)
    {
        writer.WriteString((ushort)NftChainAttribute.TABLE, chain.Table);
        writer.WriteString((ushort)NftChainAttribute.NAME, chain.Name);
    }

    public static Chain Decode(in NetlinkMessage message)
    {
        string? table = null, name = null, type = null;
        uint? hookNumber = null, policy = null;
        int priority = 0;
        uint flags = 0;
        ulong handle = 0;
        var attributes = message.Attributes;
        while (attributes.TryRead(out var a))
        {
            switch ((NftChainAttribute)a.Type)
            {
                case NftChainAttribute.TABLE: table = a.String(); break;
                case NftChainAttribute.NAME: name = a.String(); break;
                case NftChainAttribute.TYPE: type = a.String(); break;
                case NftChainAttribute.POLICY: policy = a.U32BigEndian(); break;
                case NftChainAttribute.FLAGS: flags = a.U32BigEndian(); break;
                case NftChainAttribute.HANDLE: handle = a.U64BigEndian(); break;
                case NftChainAttribute.HOOK:
                    var hook = a.Nested();
                    while (hook.TryRead(out var h))
                    {
                        if (h.Type == (ushort)NftHookAttribute.HOOKNUM)
                            hookNumber = h.U32BigEndian();
                        else if (h.Type == (ushort)NftHookAttribute.PRIORITY)
                            priority = (int)h.U32BigEndian();
                    }
                    break;
            }
        }
        ChainHook? chainHook = hookNumber is null
            ? null
            : new ChainHook(type ?? "filter", (HookPoint)hookNumber.Value, priority, (ChainPolicy)(policy ?? (uint)ChainPolicy.Accept));
        return new Chain((NftFamily)message.Family,
            table ?? throw new NetlinkDecodeException("chain without NFTA_CHAIN_TABLE"),
            name ?? throw new NetlinkDecodeException("chain without NFTA_CHAIN_NAME"),
            chainHook)
        {
            Flags = flags,
            Handle = handle,
        };
    }
}
