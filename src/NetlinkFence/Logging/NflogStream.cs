using System.Buffers.Binary;
using System.Threading.Channels;
using NetlinkFence.Netlink;

namespace NetlinkFence.Logging;

/// <summary>
/// What the NFLOG socket delivers, turned into records: each datagram's packet messages decoded, sequence gaps
/// counted as losses, and each record offered to a bounded channel (a full channel drops it, counted). Called by
/// one thread, the reader's pump; the counters are read from any thread.
/// </summary>
internal sealed class NflogStream(DenialRecordFactory factory, ChannelWriter<DenialRecord> records) : INetlinkStreamConsumer
{
    private const int MessageHeaderSize = 16; // struct nlmsghdr
    private uint _nextSequence; // a fresh instance numbers its packets from 0
    private long _received, _lost, _dropped, _overruns;

    public long Received => Interlocked.Read(ref _received);

    public long LostInKernel => Interlocked.Read(ref _lost);

    public long DroppedSlowConsumer => Interlocked.Read(ref _dropped);

    public long Overruns => Interlocked.Read(ref _overruns);

    public void OnDatagram(ReadOnlySpan<byte> datagram)
    {
        var now = DateTimeOffset.UtcNow;
        // Walked here rather than with NetlinkMessageReader: a malformed message must end only itself, never the stream.
        while (datagram.Length >= MessageHeaderSize)
        {
            int length = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(datagram), (uint)datagram.Length);
            if (length < MessageHeaderSize)
                return;
            if (NflogDecoder.IsPacket(BinaryPrimitives.ReadUInt16LittleEndian(datagram[4..])))
                Accept(NflogDecoder.Decode(datagram[MessageHeaderSize..length]), now);
            datagram = datagram[Math.Min((length + 3) & ~3, datagram.Length)..];
        }
    }

    private void Accept(in NflogPacket packet, DateTimeOffset now)
    {
        if (packet.Sequence >= 0)
        {
            uint gap = (uint)packet.Sequence - _nextSequence;
            if (gap is > 0 and < int.MaxValue) // the kernel numbered packets we never got
                Interlocked.Add(ref _lost, gap);
            _nextSequence = (uint)packet.Sequence + 1;
        }
        Interlocked.Increment(ref _received);
        if (!records.TryWrite(factory.Create(packet, now)))
            Interlocked.Increment(ref _dropped);
    }

    public void OnOverrun(int overruns) => Interlocked.Add(ref _overruns, overruns);
}
