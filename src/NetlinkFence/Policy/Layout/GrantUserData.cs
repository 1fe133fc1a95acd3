using System.Buffers.Binary;
using System.Text;
using NetlinkFence.Nftables;

namespace NetlinkFence.Policy.Layout;

/// <summary>
/// An allow element's userdata (libnftnl udata TLVs: type u8, length u8, value): nft's comment TLV
/// (<c>NFTNL_UDATA_SET_ELEM_COMMENT</c>, what <c>nft list</c> prints) with the first contributing entry, then one
/// TLV of our own per contributor: expiry (u64 big endian, milliseconds since the Unix epoch, 0 = permanent,
/// <see cref="WithTheElement"/> = when the element itself expires) and the entry's name. nft skips TLV types it does
/// not know (its element udata parser keeps only COMMENT and FLAGS), so the set still lists;
/// <see cref="AllowSetModel.FromKernel"/> reads the contributors back.
/// The contributors that make the element's timeout (the latest expiry) say "with the element" rather than a time:
/// the kernel (6.10+) moves an element's timeout in place but never its userdata, so a DNS refresh that only pushes
/// the expiry back leaves these bytes true (<see cref="ElementDelta.Refresh"/>).
/// </summary>
internal static class GrantUserData
{
    /// <summary>Our TLV type: far above nft's element types (0 comment, 1 flags).</summary>
    public const byte ContributorType = 0xA0;

    /// <summary>The expiry value of a contributor that expires when the element does.</summary>
    public const long WithTheElement = -1;

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
        var elementExpires = box.Expires;
        foreach (var c in box.Contributors)
        {
            int length = Encoding.UTF8.GetBytes(c.Entry, bytes.AsSpan(at + 10));
            bytes[at] = ContributorType;
            bytes[at + 1] = (byte)(8 + length);
            BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(at + 2), ExpiryValue(c.Expires, elementExpires));
            at += 10 + length;
        }
        return DataValue.Own(bytes);
    }

    /// <summary>
    /// Whether <paramref name="before"/>'s element, with its timeout moved to <paramref name="after"/>'s expiry, is
    /// exactly <paramref name="after"/>'s element: same key, same userdata bytes, both timed.
    /// </summary>
    public static bool OnlyTimeoutDiffers(AllowBox before, AllowBox after)
    {
        if (before.First != after.First || before.Last != after.Last || before.Protocol != after.Protocol || before.FirstPort != after.FirstPort
            || before.LastPort != after.LastPort || before.Contributors.Length != after.Contributors.Length
            || before.Expires is not { } beforeExpires || after.Expires is not { } afterExpires)
            return false;
        for (int i = 0; i < before.Contributors.Length; i++)
        {
            var (b, a) = (before.Contributors[i], after.Contributors[i]);
            if (b.Entry != a.Entry || ExpiryValue(b.Expires, beforeExpires) != ExpiryValue(a.Expires, afterExpires))
                return false;
        }
        return true;
    }

    private static long ExpiryValue(DateTimeOffset? expires, DateTimeOffset? elementExpires) =>
        expires is not { } e ? 0 : e == elementExpires ? WithTheElement : e.ToUnixTimeMilliseconds();

    /// <summary>
    /// The contributors (entry, expiry) in the order written; empty when there is no contributor TLV. A contributor
    /// that expires with the element gets <paramref name="elementExpires"/> (now plus the element's expiration as read).
    /// </summary>
    public static List<(string Entry, DateTimeOffset? Expires)> Decode(ReadOnlySpan<byte> userData, DateTimeOffset? elementExpires)
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
                contributors.Add((Encoding.UTF8.GetString(value[8..]), ms switch
                {
                    0 => null,
                    WithTheElement => elementExpires,
                    _ => DateTimeOffset.FromUnixTimeMilliseconds(ms),
                }));
            }
            userData = userData[(2 + length)..];
        }
        return contributors;
    }
}
