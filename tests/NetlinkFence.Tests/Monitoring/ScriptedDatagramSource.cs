using System.Collections.Concurrent;
using NetlinkFence.Interop;
using NetlinkFence.Netlink;

namespace NetlinkFence.Tests.Monitoring;

/// <summary>
/// A scripted socket for rootless tests of <see cref="NetlinkSubscription"/>: what the kernel would queue (datagrams,
/// overflows, cut datagrams, a failure) is enqueued by the test and handed out in that order.
/// </summary>
internal sealed class ScriptedDatagramSource : INetlinkDatagramSource
{
    private readonly ConcurrentQueue<Step> _steps = new();
    private readonly SemaphoreSlim _queued = new(0);
    private int _taken;

    private enum Kind { Datagram, Overrun, Truncated, OverrunWhileWaiting, Fail }

    private sealed record Step(Kind Kind, byte[]? Bytes = null);

    /// <summary>How many steps the subscription has taken so far.</summary>
    public int Taken => Volatile.Read(ref _taken);

    public bool Disposed { get; private set; }

    public void Datagram(byte[] bytes) => Add(new Step(Kind.Datagram, bytes));
    public void Overrun() => Add(new Step(Kind.Overrun));
    public void Truncated() => Add(new Step(Kind.Truncated));
    /// <summary>ENOBUFS reported to the readiness wait (the zero-byte peek), not to recvmsg.</summary>
    public void OverrunWhileWaiting() => Add(new Step(Kind.OverrunWhileWaiting));
    public void Fail() => Add(new Step(Kind.Fail));

    private void Add(Step step)
    {
        _steps.Enqueue(step);
        _queued.Release();
    }

    public NetlinkReceiveStatus TryReceive(Span<byte> buffer, out int length)
    {
        length = 0;
        if (!_steps.TryPeek(out var step) || step.Kind == Kind.OverrunWhileWaiting)
            return NetlinkReceiveStatus.WouldBlock;
        _steps.TryDequeue(out _);
        Interlocked.Increment(ref _taken);
        switch (step.Kind)
        {
            case Kind.Datagram:
                step.Bytes!.CopyTo(buffer);
                length = step.Bytes!.Length;
                return NetlinkReceiveStatus.Datagram;
            case Kind.Truncated:
                return NetlinkReceiveStatus.Truncated;
            case Kind.Overrun:
                return NetlinkReceiveStatus.Overrun;
            default:
                throw new ErrnoException("recvmsg", 9 /* EBADF */);
        }
    }

    public async ValueTask<bool> WaitAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_steps.TryPeek(out var step))
            {
                if (step.Kind != Kind.OverrunWhileWaiting)
                    return false;
                _steps.TryDequeue(out _);
                Interlocked.Increment(ref _taken);
                return true;
            }
            await _queued.WaitAsync(cancellationToken);
        }
    }

    public void Dispose() => Disposed = true;
}
