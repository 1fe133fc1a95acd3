using System.Collections;

namespace NetlinkFence.Nftables;

/// <summary>An immutable byte string compared by value: the data of cmp, bitwise, range and set keys.</summary>
public readonly struct DataValue : IEquatable<DataValue>, IReadOnlyList<byte>
{
    private readonly byte[]? _bytes;

    /// <summary>Wraps a copy of <paramref name="bytes"/>.</summary>
    public DataValue(ReadOnlySpan<byte> bytes) => _bytes = bytes.ToArray();

    private DataValue(byte[] bytes, bool _) => _bytes = bytes;

    internal static DataValue Own(byte[] bytes) => new(bytes, false);

    /// <summary>The bytes.</summary>
    public ReadOnlySpan<byte> Span => _bytes;

    /// <summary>Number of bytes.</summary>
    public int Count => _bytes?.Length ?? 0;

    /// <summary>The byte at <paramref name="index"/>.</summary>
    public byte this[int index] => Span[index];

    /// <summary>A big-endian 16-bit value (ports).</summary>
    public static DataValue BigEndian16(ushort value) => Own([(byte)(value >> 8), (byte)value]);

    /// <summary>A big-endian 32-bit value.</summary>
    public static DataValue BigEndian32(uint value) => Own([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);

    /// <summary>A host-order (little-endian) 32-bit value, as nft stores meta keys and ct state.</summary>
    public static DataValue HostOrder32(uint value) => Own([(byte)value, (byte)(value >> 8), (byte)(value >> 16), (byte)(value >> 24)]);

    /// <inheritdoc />
    public bool Equals(DataValue other) => Span.SequenceEqual(other.Span);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is DataValue other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Span);
        return hash.ToHashCode();
    }

    /// <summary>Value equality.</summary>
    public static bool operator ==(DataValue left, DataValue right) => left.Equals(right);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(DataValue left, DataValue right) => !left.Equals(right);

    /// <summary>Hex, e.g. <c>0x01bb</c>.</summary>
    public override string ToString() => "0x" + Convert.ToHexStringLower(Span);

    /// <inheritdoc />
    public IEnumerator<byte> GetEnumerator() => ((IEnumerable<byte>)(_bytes ?? [])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
