using System.Buffers.Binary;
using System.Text;
using NetlinkFence.Nftables;

namespace NetlinkFence.Policy.Layout;

/// <summary>
/// An allow element's userdata (libnftnl udata TLVs: type u8, length u8, value): nft's comment TLV
/// (<c>NFTNL_UDATA_SET_ELEM_COMMENT</c>, what <c>nft list</c> prints) with the first contributing entry, then one
/// TLV of our own per contributor: expiry (u64 big endian, milliseconds since the Unix epoch, 0 = permanent) and the
/// entry's name. nft skips TLV types it does not know (its element udata parser keeps only COMMENT and FLAGS), so
/// the set still lists; <see cref="AllowSetModel.FromKernel"/> reads the contributors back.
/// </summary>
internal static class GrantUserData
{
    /// <summary>Our TLV type: far above nft's element types (0 comment, 1 flags).</summary>
    public const byte ContributorType = 0xA0;

    private const byte CommentType = RuleUserData.RuleComment;

    public static DataValue Encode(AllowBox box)
    {
        int size = RuleUserData.CommentSize(box.Comment);
        foreach (var c in box.Contributors)
            size += 2 + 8 + Encoding.UTF8.GetByteCount(c.Entry);
        if (size > RuleUserData.MaxBytes)
            throw new InvalidOperationException(
                $"{box.Contributors.Length} grants ({string.Join(", ", box.Contributors.Select(c => c.Entry).Distinct())}) overlap in one element; "
                + $"listing them takes {size} bytes of element userdata, the kernel keeps at most {RuleUserData.MaxBytes}");
        var bytes = new byte[size];
        int at = RuleUserData.WriteComment(bytes, CommentType, box.Comment);
        foreach (var c in box.Contributors)
        {
            int length = Encoding.UTF8.GetBytes(c.Entry, bytes.AsSpan(at + 10));
            bytes[at] = ContributorType;
            bytes[at + 1] = (byte)(8 + length);
            BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(at + 2), c.Expires?.ToUnixTimeMilliseconds() ?? 0);
            at += 10 + length;
        }
        return DataValue.Own(bytes);
    }

    /// <summary>The contributors (entry, expiry) in the order written; empty when there is no contributor TLV.</summary>
    public static List<(string Entry, DateTimeOffset? Expires)> Decode(ReadOnlySpan<byte> userData)
    {
        var contributors = new List<(string, DateTimeOffset?)>();
        while (userData.Length >= 2)
        {
            int length = userData[1];
            if (2 + length > userData.Length)
                break;
            var value = userData.Slice(2, length);
            if (userData[0] == ContributorType && length >= 8)
            {
                long ms = BinaryPrimitives.ReadInt64BigEndian(value);
                contributors.Add((Encoding.UTF8.GetString(value[8..]), ms == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(ms)));
            }
            userData = userData[(2 + length)..];
        }
        return contributors;
    }
}
