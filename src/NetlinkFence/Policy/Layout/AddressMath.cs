using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace NetlinkFence.Policy.Layout;

/// <summary>Addresses of one family as unsigned integers (IPv4 in the low 32 bits), and back.</summary>
internal static class AddressMath
{
    public static int Bits(AddressFamily family) => family == AddressFamily.InterNetwork ? 32 : 128;

    /// <summary>Whether two networks share an address (one holds the other's base: networks are nested or apart).</summary>
    public static bool Overlap(IPNetwork a, IPNetwork b) =>
        a.BaseAddress.AddressFamily == b.BaseAddress.AddressFamily && (a.Contains(b.BaseAddress) || b.Contains(a.BaseAddress));

    public static UInt128 Max(AddressFamily family) => family == AddressFamily.InterNetwork ? uint.MaxValue : UInt128.MaxValue;

    public static UInt128 ToNumber(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int written);
        return written == 4 ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    public static UInt128 ToNumber(ReadOnlySpan<byte> bytes) =>
        bytes.Length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt128BigEndian(bytes);

    public static IPAddress ToAddress(UInt128 value, AddressFamily family)
    {
        if (family == AddressFamily.InterNetwork)
        {
            Span<byte> v4 = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(v4, (uint)value);
            return new IPAddress(v4);
        }
        Span<byte> v6 = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(v6, value);
        return new IPAddress(v6);
    }

    /// <summary>The first and last address of <paramref name="network"/>.</summary>
    public static (UInt128 First, UInt128 Last) Range(IPNetwork network)
    {
        int bits = Bits(network.BaseAddress.AddressFamily);
        UInt128 first = ToNumber(network.BaseAddress);
        UInt128 hostMask = network.PrefixLength == 0 ? Max(network.BaseAddress.AddressFamily) : ((UInt128)1 << (bits - network.PrefixLength)) - 1;
        return (first, first | hostMask);
    }

    /// <summary>
    /// <paramref name="first"/>..<paramref name="last"/> as one CIDR network when it is exactly one (an aligned block of a
    /// power of two addresses); null when it takes several (<see cref="Networks"/>).
    /// </summary>
    public static IPNetwork? SingleNetwork(UInt128 first, UInt128 last, AddressFamily family)
    {
        if (last < first)
            return null;
        int bits = Bits(family);
        UInt128 span = last - first; // the block size minus one
        if (span == Max(family))
            return first == 0 ? new IPNetwork(ToAddress(0, family), 0) : null;
        UInt128 size = span + 1;
        if ((size & span) != 0 || (first & span) != 0)
            return null; // not a power of two, or not aligned to it
        return new IPNetwork(ToAddress(first, family), bits - (int)UInt128.TrailingZeroCount(size));
    }

    /// <summary>The fewest CIDR networks that cover exactly <paramref name="first"/>..<paramref name="last"/>, in order.</summary>
    public static IEnumerable<IPNetwork> Networks(UInt128 first, UInt128 last, AddressFamily family)
    {
        int bits = Bits(family);
        while (true)
        {
            // The largest aligned block starting at first that does not pass last.
            int size = first == 0 ? bits : Math.Min(bits, (int)UInt128.TrailingZeroCount(first));
            while (size > 0 && (size == bits ? Max(family) : first + (((UInt128)1 << size) - 1)) > last)
                size--;
            yield return new IPNetwork(ToAddress(first, family), bits - size);
            UInt128 blockLast = size == bits ? Max(family) : first + (((UInt128)1 << size) - 1);
            if (blockLast >= last)
                yield break;
            first = blockLast + 1;
        }
    }
}
