using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Nftables;

/// <summary>
/// <c>NFT_MSG_DESTROY*</c> (kernel 6.3+): delete if present, no ENOENT if not. Not in <see cref="NftMessageType"/>
/// because the installed UAPI headers (Debian 12, linux 6.1) do not declare them, and that enum is checked against
/// them; the values follow <c>NFT_MSG_GETRULE_RESET</c> (25) in the kernel's <c>enum nf_tables_msg_types</c>.
/// Kernels without them refuse the message with EINVAL (nfnetlink finds no handler for the type).
/// </summary>
internal static class NftDestroyMessage
{
    public const NftMessageType DESTROYTABLE = (NftMessageType)26;
    public const NftMessageType DESTROYCHAIN = (NftMessageType)27;
    public const NftMessageType DESTROYRULE = (NftMessageType)28;
    public const NftMessageType DESTROYSET = (NftMessageType)29;
    public const NftMessageType DESTROYSETELEM = (NftMessageType)30;
}
