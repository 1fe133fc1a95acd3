using System.Buffers;
using System.Runtime.InteropServices;
using NetlinkFence.Interop.Uapi;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace NetlinkFence.Interop;

/// <summary>
/// A raw <c>AF_NETLINK</c> datagram socket. Every system call of the product goes through here.
/// Not thread-safe: callers serialise access (the connection types above do).
/// </summary>
/// <remarks>
/// Waiting is readiness-based: <see cref="WaitReadableAsync"/> registers the descriptor with the runtime's
/// epoll (through a <see cref="System.Net.Sockets.Socket"/> that shares it) and the receive itself stays a non-blocking
/// <c>recvmsg</c> here, so MSG_TRUNC and the sender's port id remain visible. Synchronous waits use <c>poll</c>.
/// </remarks>
public sealed unsafe partial class NetlinkSocket : IDisposable
{
    private const int SolSocket = 1;
    private const int SoSndBuf = 7, SoRcvBuf = 8, SoSndBufForce = 32, SoRcvBufForce = 33;
    private const int SolNetlink = 270;
    private const int MaxIovecs = 1024; // UIO_MAXIOV

    private int _fd;
    private int _sendBufferSize, _receiveBufferSize; // 0 until first read

    private NetlinkSocket(int fd, uint portId)
    {
        _fd = fd;
        PortId = portId;
    }

    /// <summary>The port id the kernel assigned at bind time (0 is the kernel itself).</summary>
    public uint PortId { get; }

    /// <summary>
    /// Opens and binds a socket for <paramref name="protocol"/>. With <paramref name="networkNamespacePath"/>
    /// (<c>/run/netns/NAME</c> or <c>/proc/PID/ns/net</c>) the socket is created by a short-lived thread that
    /// has entered that namespace, so it lives there for good and no caller thread changes namespace.
    /// </summary>
    public static NetlinkSocket Open(NetlinkProtocol protocol, string? networkNamespacePath = null) =>
        networkNamespacePath is null
            ? OpenHere(protocol)
            : NetworkNamespace.Run(networkNamespacePath, () => OpenHere(protocol));

    /// <summary>Like <see cref="Open(NetlinkProtocol, string?)"/>, in the namespace already open in <paramref name="networkNamespace"/>.</summary>
    public static NetlinkSocket Open(NetlinkProtocol protocol, NetworkNamespaceHandle networkNamespace) =>
        NetworkNamespace.Run(networkNamespace, () => OpenHere(protocol));

    /// <summary>
    /// Like <see cref="Open(NetlinkProtocol, string?)"/>, without blocking the caller while the short-lived
    /// thread enters the namespace.
    /// </summary>
    public static Task<NetlinkSocket> OpenAsync(NetlinkProtocol protocol, string? networkNamespacePath = null) =>
        networkNamespacePath is null
            ? Task.FromResult(OpenHere(protocol))
            : NetworkNamespace.RunAsync(networkNamespacePath, () => OpenHere(protocol));

    /// <summary>Like <see cref="OpenAsync(NetlinkProtocol, string?)"/>, in the namespace already open in <paramref name="networkNamespace"/>.</summary>
    public static Task<NetlinkSocket> OpenAsync(NetlinkProtocol protocol, NetworkNamespaceHandle networkNamespace) =>
        NetworkNamespace.RunAsync(networkNamespace, () => OpenHere(protocol));

    private static NetlinkSocket OpenHere(NetlinkProtocol protocol)
    {
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, (int)protocol);
        if (fd < 0)
            throw new ErrnoException($"socket(AF_NETLINK, {protocol})", errno);
        try
        {
            var address = new SockaddrNl { Family = (ushort)AF_NETLINK };
            if (bind(fd, (sockaddr*)&address, sizeof(SockaddrNl)) < 0)
                throw new ErrnoException("bind(AF_NETLINK)", errno);
            socklen_t length = sizeof(SockaddrNl);
            if (getsockname(fd, (sockaddr*)&address, &length) < 0)
                throw new ErrnoException("getsockname(AF_NETLINK)", errno);
            return new NetlinkSocket(fd, address.PortId);
        }
        catch
        {
            close(fd);
            throw;
        }
    }

    /// <summary>Sets an <c>SOL_NETLINK</c> option; returns false when the kernel does not know it.</summary>
    public bool TrySetNetlinkOption(NetlinkSocketOption option, int value) =>
        SetOption(SolNetlink, (int)option, value) == 0;

    /// <summary>
    /// Raises the receive buffer to at least <paramref name="bytes"/>: <c>SO_RCVBUFFORCE</c> when permitted
    /// (CAP_NET_ADMIN ignores <c>rmem_max</c>), else <c>SO_RCVBUF</c>, which the kernel caps. Returns the size in effect.
    /// </summary>
    public int EnsureReceiveBuffer(int bytes) => EnsureBuffer(SoRcvBuf, SoRcvBufForce, bytes, ref _receiveBufferSize);

    /// <summary>Raises the send buffer like <see cref="EnsureReceiveBuffer"/>; a batch must fit in it whole.</summary>
    public int EnsureSendBuffer(int bytes) => EnsureBuffer(SoSndBuf, SoSndBufForce, bytes, ref _sendBufferSize);

    // The size in effect is remembered (only this class changes it), so a commit that fits costs no syscall.
    private int EnsureBuffer(int plain, int force, int bytes, ref int known)
    {
        if (known == 0)
            known = GetSocketOption(plain);
        if (known >= bytes)
            return known;
        // The kernel doubles the value it is given (bookkeeping overhead), so ask for half.
        int request = Math.Max(bytes / 2, 1);
        if (SetOption(SolSocket, force, request) != 0)
            SetOption(SolSocket, plain, request);
        return known = GetSocketOption(plain);
    }

    private int GetSocketOption(int name)
    {
        int value = 0;
        socklen_t length = sizeof(int);
        if (getsockopt(Fd, SolSocket, name, &value, &length) < 0)
            throw new ErrnoException("getsockopt(SOL_SOCKET)", errno);
        return value;
    }

    private int SetOption(int level, int name, int value) =>
        setsockopt(Fd, level, name, &value, sizeof(int)) < 0 ? errno : 0;

    /// <summary>Sends one datagram.</summary>
    public void Send(ReadOnlySpan<byte> datagram)
    {
        fixed (byte* p = datagram)
        {
            var iov = new iovec { iov_base = p, iov_len = datagram.Length };
            SendIovecs(&iov, 1, datagram.Length);
        }
    }

    /// <summary>
    /// Sends <paramref name="segments"/> as ONE datagram with one <c>sendmsg</c> over an iovec, without
    /// copying them into one buffer. nfnetlink only treats BATCH_BEGIN..END as one transaction when they
    /// arrive in a single datagram.
    /// </summary>
    public void Send(ReadOnlySpan<ReadOnlyMemory<byte>> segments)
    {
        if (segments.Length > MaxIovecs)
            throw new ArgumentException($"a datagram can have at most {MaxIovecs} segments, got {segments.Length}", nameof(segments));
        if (segments.Length == 1)
        {
            // Every batch under a megabyte: one pin on the stack, no array of them.
            using var pin = segments[0].Pin();
            iovec one = new() { iov_base = pin.Pointer, iov_len = segments[0].Length };
            SendIovecs(&one, 1, segments[0].Length);
            return;
        }
        var pins = new MemoryHandle[segments.Length];
        iovec* iovs = stackalloc iovec[segments.Length];
        long total = 0;
        try
        {
            for (int i = 0; i < segments.Length; i++)
            {
                pins[i] = segments[i].Pin();
                iovs[i] = new iovec { iov_base = pins[i].Pointer, iov_len = segments[i].Length };
                total += segments[i].Length;
            }
            SendIovecs(iovs, segments.Length, total);
        }
        finally
        {
            foreach (var pin in pins)
                pin.Dispose();
        }
    }

    private void SendIovecs(iovec* iovs, int count, long total)
    {
        var kernel = new SockaddrNl { Family = (ushort)AF_NETLINK };
        var header = new msghdr
        {
            msg_name = &kernel,
            msg_namelen = sizeof(SockaddrNl),
            msg_iov = iovs,
            msg_iovlen = count,
        };
        while (true)
        {
            long sent = sendmsg(Fd, &header, 0);
            if (sent >= 0)
            {
                if (sent != total)
                    throw new ErrnoException("sendmsg", (int)Errno.MSGSIZE, $"sent {sent} of {total} bytes");
                return;
            }
            int error = errno;
            if (error == (int)Errno.INTR)
                continue;
            throw new ErrnoException("sendmsg", error, error == (int)Errno.MSGSIZE
                ? $"the {total}-byte batch does not fit the socket send buffer; raise /proc/sys/net/core/wmem_max to at least {total} or run with CAP_NET_ADMIN"
                : null);
        }
    }

    /// <summary>
    /// Receives one datagram into <paramref name="buffer"/>. Returns its length, or -1 when
    /// <paramref name="wait"/> is false and nothing is queued. <paramref name="truncated"/> is set when the
    /// datagram was larger than the buffer (its tail is lost). Datagrams not sent by the kernel are skipped.
    /// A queue overflow (the kernel dropped datagrams for us) raises <see cref="ErrnoException"/> with ENOBUFS.
    /// </summary>
    public int Receive(Span<byte> buffer, bool wait, out bool truncated)
    {
        while (true)
        {
            int length = TryReceive(buffer, out truncated);
            if (length >= 0 || !wait)
                return length;
            WaitReadable(-1);
        }
    }

    // Always MSG_DONTWAIT: the descriptor turns non-blocking anyway once the runtime's epoll watches it.
    private int TryReceive(Span<byte> buffer, out bool truncated)
    {
        var status = ReceiveDatagram(buffer, out int length);
        truncated = status == NetlinkReceiveStatus.Truncated;
        return status switch
        {
            NetlinkReceiveStatus.WouldBlock => -1,
            NetlinkReceiveStatus.Overrun => throw ReceiveError((int)Errno.NOBUFS),
            _ => length,
        };
    }

    internal static ErrnoException ReceiveError(int error) =>
        new("recvmsg", error, error == (int)Errno.NOBUFS ? "the socket receive queue overflowed and kernel replies were lost" : null);

    /// <summary>
    /// Waits until a datagram is queued or <paramref name="timeoutMilliseconds"/> pass (-1: no limit); true when
    /// readable. Blocks the calling thread in <c>poll</c>.
    /// </summary>
    public bool WaitReadable(int timeoutMilliseconds)
    {
        var fds = new pollfd { fd = Fd, events = (short)POLLIN };
        while (true)
        {
            int ready = poll(&fds, 1, timeoutMilliseconds);
            if (ready >= 0)
                return ready > 0;
            int error = errno;
            if (error != (int)Errno.INTR)
                throw new ErrnoException("poll", error);
        }
    }

    internal int Fd => _fd >= 0 ? _fd : throw new ObjectDisposedException(nameof(NetlinkSocket));

    /// <summary>Closes the socket.</summary>
    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd < 0)
            return;
        DisposeReadiness();
        close(fd);
    }
}
