using System.Buffers.Binary;

namespace NetlinkFence.Netlink;

/// <summary>
/// Iterates a run of attributes with strict bounds checks: <c>while (reader.TryRead(out var a)) switch (a.Type) ...</c>.
/// A length that is too small, or larger than what is left, raises <see cref="NetlinkDecodeException"/>.
/// </summary>
public ref struct AttributeReader
{
    private readonly ReadOnlySpan<byte> _all;
    private int _position;

    /// <summary>Creates a reader over a run of attributes (a message's tail, or a nest's payload).</summary>
    public AttributeReader(ReadOnlySpan<byte> attributes)
    {
        _all = attributes;
        _position = 0;
    }

    /// <summary>Reads the next attribute; false when the run is exhausted.</summary>
    /// <exception cref="NetlinkDecodeException">The next attribute is truncated or its length lies.</exception>
    public bool TryRead(out NetlinkAttribute attribute)
    {
        int left = _all.Length - _position;
        if (left == 0)
        {
            attribute = default;
            return false;
        }
        if (left < NetlinkAlignment.AttributeHeaderSize)
            throw new NetlinkDecodeException($"truncated attribute at offset {_position}: {left} bytes left, a header needs 4");
        ReadOnlySpan<byte> header = _all[_position..];
        int length = BinaryPrimitives.ReadUInt16LittleEndian(header);
        if (length < NetlinkAlignment.AttributeHeaderSize || length > left)
            throw new NetlinkDecodeException($"attribute at offset {_position} claims {length} bytes; {left} are left and a header needs 4");
        attribute = new NetlinkAttribute(
            BinaryPrimitives.ReadUInt16LittleEndian(header[2..]),
            _all.Slice(_position + NetlinkAlignment.AttributeHeaderSize, length - NetlinkAlignment.AttributeHeaderSize),
            _position);
        _position += Math.Min(NetlinkAlignment.Align(length), left);
        return true;
    }
}
