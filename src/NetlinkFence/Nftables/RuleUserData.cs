using System.Text;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Nftables;

/// <summary>
/// nft's userdata TLVs (libnftnl's <c>udata</c>: type u8, length u8, value), which <c>nft list</c>
/// reads to show comments and set key types. These type numbers are nft's, not the kernel's.
/// </summary>
internal static class RuleUserData
{
    /// <summary><c>NFT_USERDATA_MAXLEN</c>.</summary>
    public const int MaxBytes = (int)NftLimits.USERDATA_MAXLEN;

    /// <summary><c>NFTNL_UDATA_RULE_COMMENT</c>.</summary>
    public const byte RuleComment = 0;

    public static int CommentSize(string comment) => 2 + Encoding.UTF8.GetByteCount(comment) + 1;

    /// <summary>Writes a comment TLV (value NUL-terminated) and returns its size.</summary>
    public static int WriteComment(Span<byte> destination, byte type, string comment)
    {
        int length = Encoding.UTF8.GetBytes(comment, destination[2..]);
        destination[2 + length] = 0;
        destination[0] = type;
        destination[1] = (byte)(length + 1);
        return 2 + length + 1;
    }

    /// <summary>Finds the string TLV of <paramref name="type"/>; null if absent or the data is not well-formed TLVs.</summary>
    public static string? ReadString(ReadOnlySpan<byte> userData, byte type, out bool onlyThat)
    {
        string? found = null;
        onlyThat = true;
        while (userData.Length >= 2)
        {
            int length = userData[1];
            if (2 + length > userData.Length)
            {
                onlyThat = false;
                return null;
            }
            ReadOnlySpan<byte> value = userData.Slice(2, length);
            if (userData[0] == type && length > 0 && value[^1] == 0)
                found = Encoding.UTF8.GetString(value[..^1]);
            else
                onlyThat = false;
            userData = userData[(2 + length)..];
        }
        if (!userData.IsEmpty)
            onlyThat = false;
        return found;
    }
}
