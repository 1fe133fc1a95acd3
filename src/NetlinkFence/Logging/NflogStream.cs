using System.Threading.Channels;
using NetlinkFence.Netlink;

namespace NetlinkFence.Logging;

/// <summary>
/// What the NFLOG socket delivers, turned into records: each datagram's packet messages decoded, sequence gaps
/// counted as losses, and the records staged until <see cref="ForwardAsync"/> hands them to the bounded channel
/// (a full channel drops them, counted, or, with backpressure, waits: then the socket is not read and the kernel
/// drops, counted as sequence gaps). Called by one thread, the reader's pump; the counters are read from any thread.
/// </summary>
internal sealed class NflogStream(DenialRecordFactory factory, ChannelWriter<DenialRecord> records, bool dropWhenFull) : INetlinkStreamConsumer
{
    private readonly List<DenialRecord> _staged = [];
    private uint _nextSequence; // a fresh instance numbers its packets from 0
    private long _received, _lost, _dropped, _overruns;

    public long Received => Interlocked.Read(ref _received);

    public long LostInKernel => Interlocked.Read(ref _lost);

    public long DroppedSlowConsumer => Interlocked.Read(ref _dropped);

    public long Overruns => Interlocked.Read(ref _overruns);

    public void OnDatagram(ReadOnlySpan<byte> datagram)
    {
        var now = DateTimeOffset.UtcNow;
        var reader = new NflogDatagramReader(datagram);
        factory.BeginBatch();
        while (reader.TryRead(out var packet))
            Accept(packet, now);
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
        _staged.Add(factory.Create(packet, now));
    }

    /// <summary>Hands the records staged by the last <see cref="OnDatagram"/> calls to the channel.</summary>
    public async ValueTask ForwardAsync(CancellationToken cancellationToken)
    {
        foreach (var record in _staged)
        {
            if (records.TryWrite(record))
                continue;
            if (dropWhenFull)
                Interlocked.Increment(ref _dropped);
            else
                await records.WriteAsync(record, cancellationToken).ConfigureAwait(false);
        }
        _staged.Clear();
    }

    public void OnOverrun(int overruns) => Interlocked.Add(ref _overruns, overruns);
}
