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
/// The kernel keeps at most 256 bytes, about ten contributors with 14-character names: an element shared by more (a
/// dozen entries whose names resolve to one CDN address) lists every permanent contributor, then the timed ones that
/// expire last, and counts the rest in one more TLV (<see cref="UnlistedType"/>); see <see cref="Encode"/>.
/// </summary>
internal static class GrantUserData
{
    /// <summary>Our TLV type: far above nft's element types (0 comment, 1 flags).</summary>
    public const byte ContributorType = 0xA0;

    /// <summary>The expiry value of a contributor that expires when the element does.</summary>
    public const long WithTheElement = -1;

    /// <summary>Our TLV type for the number of contributors the element has beyond those listed (one byte, at most 255).</summary>
    public const byte UnlistedType = 0xA1;

    private const byte CommentType = RuleUserData.RuleComment;
    private const int UnlistedSize = 3;

    /// <summary>
    /// The userdata of <paramref name="box"/>'s element. When its contributors do not all fit in the kernel's 256 bytes,
    /// every permanent one is listed, then the timed ones that expire last (so the listed ones still make the element's
    /// timeout, and a model rebuilt from a listing never keeps the element longer than the kernel does), and the others
    /// are counted. The kernel still holds the element for all of them: only a model rebuilt from a listing (attach, or
    /// another writer's commit in between) misses an unlisted one until its grant is renewed (the name's next refresh,
    /// the window opened again). Throws <see cref="ElementUserDataOverflowException"/> when the permanent ones alone do
    /// not fit: a policy's own destinations must all be listed, or a re-read would lose them.
    /// </summary>
    public static DataValue Encode(AllowBox box)
    {
        int commentSize = RuleUserData.CommentSize(box.Comment);
        int size = commentSize;
        foreach (var c in box.Contributors)
            size += ContributorSize(c);
        if (size <= RuleUserData.MaxBytes)
            return Write(box, box.Contributors, size, unlisted: 0);
        var listed = Listed(box.Contributors, RuleUserData.MaxBytes - commentSize - UnlistedSize, size);
        size = commentSize + UnlistedSize;
        foreach (var c in listed)
            size += ContributorSize(c);
        return Write(box, listed, size, box.Contributors.Length - listed.Length);
    }

    private static int ContributorSize(Contributor c) => 2 + 8 + Encoding.UTF8.GetByteCount(c.Entry);

    /// <summary>Every permanent contributor, then timed ones by latest expiry while they fit in <paramref name="budget"/>; in their own order.</summary>
    private static Contributor[] Listed(Contributor[] contributors, int budget, int wholeSize)
    {
        var chosen = new bool[contributors.Length];
        for (int i = 0; i < contributors.Length; i++)
        {
            if (contributors[i].Expires is null)
            {
                budget -= ContributorSize(contributors[i]);
                chosen[i] = true;
            }
        }
        if (budget < 0)
            throw new ElementUserDataOverflowException(contributors.Where(c => c.Expires is null).Select(c => c.Entry).Distinct().ToList(), wholeSize);
        foreach (int i in Enumerable.Range(0, contributors.Length).Where(i => !chosen[i]).OrderByDescending(i => contributors[i].Expires).ThenBy(i => i))
        {
            int size = ContributorSize(contributors[i]);
            if (size <= budget)
            {
                budget -= size;
                chosen[i] = true;
            }
        }
        return contributors.Where((_, i) => chosen[i]).ToArray();
    }

    private static DataValue Write(AllowBox box, Contributor[] listed, int size, int unlisted)
    {
        var bytes = new byte[size];
        int at = RuleUserData.WriteComment(bytes, CommentType, box.Comment);
        var elementExpires = box.Expires;
        foreach (var c in listed)
        {
            int length = Encoding.UTF8.GetBytes(c.Entry, bytes.AsSpan(at + 10));
            bytes[at] = ContributorType;
            bytes[at + 1] = (byte)(8 + length);
            BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(at + 2), ExpiryValue(c.Expires, elementExpires));
            at += 10 + length;
        }
        if (unlisted > 0)
        {
            bytes[at] = UnlistedType;
            bytes[at + 1] = 1;
            bytes[at + 2] = (byte)Math.Min(unlisted, byte.MaxValue);
        }
        return DataValue.Own(bytes);
    }

    /// <summary>How many contributors <paramref name="userData"/> counts without listing them (0 when all are listed).</summary>
    public static int Unlisted(ReadOnlySpan<byte> userData)
    {
        while (userData.Length >= 2)
        {
            int length = userData[1];
            if (2 + length > userData.Length)
                break;
            if (userData[0] == UnlistedType && length == 1)
                return userData[2];
            userData = userData[(2 + length)..];
        }
        return 0;
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
