using NetlinkFence.Interop;
using NetlinkFence.Netlink;

namespace NetlinkFence.Tests.Monitoring;

/// <summary>
/// The Pipelines receive loop without root, over a scripted socket: datagram boundaries kept whatever the sizes, losses
/// delivered in stream order and counted, a slow consumer bounded, cancellation and failures.
/// </summary>
public sealed class NetlinkSubscriptionTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2); // hang guard only

    [Fact]
    public async Task DatagramsKeepTheirBoundariesAndLossesTheirPlace()
    {
        var source = new ScriptedDatagramSource();
        await using var subscription = new NetlinkSubscription(source, 42);
        // Sizes around the pipe's 4 KiB segments and the 64 KiB flush step, so records span segments.
        int[] sizes = [1, 16, 4088, 4096, 5000, 70_000, 0, 3, 131_072];
        var expected = new List<string>();
        for (int i = 0; i < sizes.Length; i++)
        {
            var bytes = Pattern(sizes[i], i);
            source.Datagram(bytes);
            expected.Add(Convert.ToHexString(bytes));
            if (i == 2)
            {
                source.Overrun();
                expected.Add("lost 1");
            }
            if (i == 5)
            {
                source.Truncated(); // a cut datagram is a loss too
                expected.Add("lost 1");
            }
        }
        source.OverrunWhileWaiting();
        expected.Add("lost 1");
        source.Datagram([0xAA]);
        expected.Add("AA");

        var consumer = new Recorder();
        using var guard = new CancellationTokenSource(Patience);
        while (consumer.Records.Count < expected.Count)
            Assert.True(await subscription.ReceiveAsync(consumer, guard.Token));
        Assert.Equal(expected, consumer.Records);
        Assert.Equal(3, subscription.Overruns);
        Assert.Equal(42u, subscription.PortId);
    }

    [Fact]
    public async Task ASlowConsumerStopsTheReaderAtTheThresholdAndLosesNothingItWasGiven()
    {
        var source = new ScriptedDatagramSource();
        const int Datagrams = 200, Size = 4096, Threshold = 32 << 10;
        await using var subscription = new NetlinkSubscription(source, 1, new NetlinkSubscriptionLimits { PauseWriterThreshold = Threshold });
        for (int i = 0; i < Datagrams; i++)
            source.Datagram(Pattern(Size, i));

        // Nobody consumes: the reader must stop taking from the socket once the pipe holds the threshold.
        int taken = await SettledCount(source);
        Assert.True(taken < Datagrams, $"the reader took all {Datagrams} datagrams into memory");
        // It flushes every 64 KiB or when the socket is empty: at most one flush step past the threshold.
        Assert.True((long)taken * (Size + 8) <= Threshold + (64 << 10) + Size + 8, $"{taken} datagrams buffered");

        var consumer = new Recorder();
        using var guard = new CancellationTokenSource(Patience);
        while (consumer.Records.Count < Datagrams)
            Assert.True(await subscription.ReceiveAsync(consumer, guard.Token));
        Assert.Equal(Enumerable.Range(0, Datagrams).Select(i => Convert.ToHexString(Pattern(Size, i))), consumer.Records);
        Assert.Equal(0, subscription.Overruns);
    }

    [Fact]
    public async Task CancellingAWaitEndsItAndLosesNothing()
    {
        var source = new ScriptedDatagramSource();
        await using var subscription = new NetlinkSubscription(source, 1);
        var consumer = new Recorder();
        using var cancel = new CancellationTokenSource();
        var waiting = subscription.ReceiveAsync(consumer, cancel.Token).AsTask();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Patience));

        source.Datagram([1, 2, 3]);
        using var guard = new CancellationTokenSource(Patience);
        Assert.True(await subscription.ReceiveAsync(consumer, guard.Token));
        Assert.Equal(["010203"], consumer.Records);
    }

    [Fact]
    public async Task DisposingEndsTheStreamAndClosesTheSource()
    {
        var source = new ScriptedDatagramSource();
        var subscription = new NetlinkSubscription(source, 1);
        var waiting = subscription.ReceiveAsync(new Recorder(), CancellationToken.None).AsTask();
        await subscription.DisposeAsync();
        Assert.False(await waiting.WaitAsync(Patience));
        Assert.True(source.Disposed);
        Assert.False(await subscription.ReceiveAsync(new Recorder(), CancellationToken.None));
    }

    [Fact]
    public async Task ASocketFailureReachesTheConsumerAfterWhatCameBefore()
    {
        var source = new ScriptedDatagramSource();
        await using var subscription = new NetlinkSubscription(source, 1);
        source.Datagram([7]);
        source.Fail();
        var consumer = new Recorder();
        using var guard = new CancellationTokenSource(Patience);
        var failure = await Assert.ThrowsAsync<ErrnoException>(async () =>
        {
            while (await subscription.ReceiveAsync(consumer, guard.Token))
            {
            }
        });
        Assert.Equal(9, failure.Errno);
        Assert.Equal(["07"], consumer.Records);
    }

    /// <summary>Waits until the reader stops taking steps (paused, or everything taken) and returns how many it took.</summary>
    private static async Task<int> SettledCount(ScriptedDatagramSource source)
    {
        int last = -1;
        for (int stable = 0; stable < 5;)
        {
            await Task.Delay(100);
            int now = source.Taken;
            stable = now == last ? stable + 1 : 0;
            last = now;
        }
        return last;
    }

    private static byte[] Pattern(int size, int seed)
    {
        var bytes = new byte[size];
        for (int i = 0; i < size; i++)
            bytes[i] = (byte)(i * 31 + seed * 7 + (i >> 8));
        return bytes;
    }

    private sealed class Recorder : INetlinkStreamConsumer
    {
        public List<string> Records { get; } = [];
        public void OnDatagram(ReadOnlySpan<byte> datagram) => Records.Add(Convert.ToHexString(datagram));
        public void OnOverrun(int overruns) => Records.Add($"lost {overruns}");
    }
}
