using System.Buffers;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Netlink;

/// <summary>
/// A batch under construction: a chain of pooled 1 MiB segments that is sent as one iovec, never copied
/// into one array. Each message is contiguous inside one segment (a message is at most
/// <see cref="MaxMessageSize"/>). Segments and the message index are kept for reuse, so a connection that
/// commits repeatedly reaches a steady state with no allocation at all.
/// </summary>
internal sealed class BatchBuffer : IDisposable
{
    public const int SegmentSize = 1 << 20;

    /// <summary>Upper bound of one message: 64 KiB of attributes plus names, userdata and headers.</summary>
    public const int MaxMessageSize = 72 * 1024;

    private readonly List<byte[]> _segments = [];
    private readonly List<int> _segmentLengths = [];
    private ReadOnlyMemory<byte>[] _views = [];
    private long[] _messageStarts = new long[64]; // (segment << 32) | offset
    private int _segment;
    private int _used;

    public int MessageCount { get; private set; }

    public long Length { get; private set; }

    /// <summary>Returns a writer over the free space of the current segment for exactly one message.</summary>
    public NetlinkWriter BeginMessage()
    {
        if (_segments.Count == 0 || SegmentSize - _used < MaxMessageSize)
            NextSegment();
        if (MessageCount == _messageStarts.Length)
            Array.Resize(ref _messageStarts, _messageStarts.Length * 2);
        _messageStarts[MessageCount] = ((long)_segment << 32) | (uint)_used;
        return new NetlinkWriter(_segments[_segment].AsSpan(_used, MaxMessageSize));
    }

    /// <summary>Commits the message just written with the writer from <see cref="BeginMessage"/>.</summary>
    public void EndMessage(int written)
    {
        _used += written;
        Length += written;
        MessageCount++;
    }

    /// <summary>The bytes of message <paramref name="index"/> (used to resolve extended-ACK offsets).</summary>
    public ReadOnlySpan<byte> Message(int index)
    {
        long start = _messageStarts[index];
        int segment = (int)(start >> 32), offset = (int)start;
        ReadOnlySpan<byte> tail = _segments[segment].AsSpan(offset);
        int length = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(tail);
        return tail[..length];
    }

    /// <summary>Sets <paramref name="flags"/> in the header of message <paramref name="index"/> (nlmsg_flags, bytes 6..7).</summary>
    public void AddFlags(int index, NetlinkMessageFlags flags)
    {
        long start = _messageStarts[index];
        var header = _segments[(int)(start >> 32)].AsSpan((int)start + 6, 2);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(header,
            (ushort)(System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(header) | (ushort)flags));
    }

    /// <summary>The filled parts of the segments, in order, for one sendmsg.</summary>
    public ReadOnlySpan<ReadOnlyMemory<byte>> Segments()
    {
        int count = _segments.Count == 0 ? 0 : _segment + 1;
        if (_views.Length < count)
            _views = new ReadOnlyMemory<byte>[_segments.Count];
        for (int i = 0; i < count; i++)
            _views[i] = _segments[i].AsMemory(0, i == _segment ? _used : _segmentLengths[i]);
        return _views.AsSpan(0, count);
    }

    public void Reset()
    {
        _segment = 0;
        _used = 0;
        MessageCount = 0;
        Length = 0;
    }

    private void NextSegment()
    {
        if (_segments.Count > 0)
        {
            _segmentLengths[_segment] = _used;
            _segment++;
        }
        if (_segment == _segments.Count)
        {
            _segments.Add(ArrayPool<byte>.Shared.Rent(SegmentSize));
            _segmentLengths.Add(0);
        }
        _used = 0;
    }

    public void Dispose()
    {
        foreach (var segment in _segments)
            ArrayPool<byte>.Shared.Return(segment);
        _segments.Clear();
        _segmentLengths.Clear();
        Reset();
    }
}
