using System.Runtime.CompilerServices;
using System.Threading.Channels;
using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables;
using NetlinkFence.Runtime;

namespace NetlinkFence.Logging;

/// <summary>
/// Reads the denials a policy sends to an NFLOG group (<c>log group 100</c>; see <c>log.group</c>) in a network
/// namespace: nfnetlink_log over this library's netlink layer, each packet decoded into a <see cref="DenialRecord"/>.
/// NFLOG works in any namespace with no sysctl (kernel log lines from a non-initial namespace need
/// <c>nf_log_all_netns</c>). Needs CAP_NET_ADMIN in the namespace. One reader per group and namespace: the kernel
/// refuses a second (EPERM). An egress TCP/UDP denial carries the cgroup and unit of its sending socket
/// (<see cref="DenialRecord.Cgroup"/>, looked up over sock_diag as it arrives; see <see cref="NflogReaderOptions.SocketCgroups"/>).
/// </summary>
/// <remarks>
/// Losses are counted, never thrown: <see cref="LostInKernel"/> counts the packets the kernel numbered but this
/// reader never got (its receive queue overflowed, ENOBUFS), <see cref="DroppedSlowConsumer"/> the records dropped
/// because <see cref="ReadAsync"/>'s consumer fell <see cref="NflogReaderOptions.BufferCapacity"/> records behind
/// (or, with <see cref="NflogReaderOptions.DropWhenFull"/> false, such a consumer stops the socket being read and the
/// kernel's losses show in <see cref="LostInKernel"/>).
/// </remarks>
/// <example>
/// <code>
/// await using var reader = await NflogReader.OpenAsync(100, "agent");
/// await foreach (var denial in reader.ReadAsync(cancellationToken))
///     Console.WriteLine($"{denial.Protocol} {denial.Destination}:{denial.DestinationPort} uid={denial.Uid}");
/// </code>
/// </example>
public sealed class NflogReader : IAsyncDisposable
{
    private readonly NetlinkSubscription _subscription;
    private readonly InterfaceNames _interfaces;
    private readonly SocketCgroupLookup? _sockets;
    private readonly NflogStream _stream;
    private readonly Channel<DenialRecord> _records;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;
    private int _reading, _disposed;

    private NflogReader(ushort group, NetlinkSubscription subscription, InterfaceNames interfaces, SocketCgroupLookup? sockets, NflogReaderOptions options)
    {
        Group = group;
        _subscription = subscription;
        _interfaces = interfaces;
        _sockets = sockets;
        _records = Channel.CreateBounded<DenialRecord>(new BoundedChannelOptions(options.BufferCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full, so a drop is counted (or waited out)
            SingleReader = true,
            SingleWriter = true,
        });
        _stream = new NflogStream(new DenialRecordFactory(interfaces, new UserNames(), sockets, sockets is null ? null : CgroupHierarchy.Find()),
            _records.Writer, options.DropWhenFull);
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>
    /// Binds NFLOG <paramref name="group"/> in <paramref name="networkNamespace"/> and starts reading: denials logged
    /// after this returns are all delivered or counted as lost.
    /// </summary>
    /// <param name="group">The NFLOG group (the policy's <c>log.group</c>, 100 by default).</param>
    /// <param name="networkNamespace">A name (<c>agent</c> is <c>/run/netns/agent</c>) or a path
    /// (<c>/proc/PID/ns/net</c>); null: the caller's namespace.</param>
    /// <param name="options">Copy range, batching and buffer sizes; null: the defaults.</param>
    /// <param name="cancellationToken">Cancels the setup.</param>
    /// <exception cref="NetlinkKernelException">The kernel refused the group: EPERM when another socket already reads it
    /// in this namespace, or without CAP_NET_ADMIN there.</exception>
    /// <exception cref="InvalidInputException">The namespace name is not usable.</exception>
    public static async Task<NflogReader> OpenAsync(ushort group, string? networkNamespace = null, NflogReaderOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new();
        options.Validate();
        string? path = new NftablesConnectionOptions { NetworkNamespace = networkNamespace }.NamespacePath;
        var socket = await NetlinkSocket.OpenAsync(NetlinkProtocol.NETFILTER, path).ConfigureAwait(false);
        InterfaceNames? interfaces = null;
        SocketCgroupLookup? sockets = null;
        try
        {
            socket.EnsureReceiveBuffer(options.SocketReceiveBuffer);
            // The instance belongs to the port that sends BIND: configure on the very socket the stream then reads.
            using (var config = new NetlinkConnection(new SocketTransport(socket), ownsTransport: false))
                await config.RequestAsync(NflogConfig.Bind(group, options), $"binding NFLOG group {group} (EPERM also when another socket, e.g. another watch, already reads this group in this namespace)", null, synchronous: false, cancellationToken)
                    .ConfigureAwait(false);
            interfaces = await InterfaceNames.OpenAsync(path).ConfigureAwait(false);
            if (options.SocketCgroups)
                sockets = await SocketCgroupLookup.OpenAsync(path).ConfigureAwait(false); // sockets are looked up where they live
            var limits = NetlinkSubscriptionLimits.Default with { SocketReceiveBuffer = options.SocketReceiveBuffer };
            return new NflogReader(group, NetlinkSubscription.Start(socket, [], limits), interfaces, sockets, options);
        }
        catch
        {
            interfaces?.Dispose();
            sockets?.Dispose();
            socket.Dispose(); // closing the socket also destroys the kernel's instance (NETLINK_URELEASE)
            throw;
        }
    }

    /// <summary>The NFLOG group this reader is bound to.</summary>
    public ushort Group { get; }

    /// <summary>Denials received from the kernel so far (including those later dropped for a slow consumer).</summary>
    public long Received => _stream.Received;

    /// <summary>
    /// Denials the kernel logged for this reader but could not deliver (its receive queue overflowed, ENOBUFS), counted
    /// from the gaps in the instance's sequence numbers. A gap is seen when the next denial after it arrives.
    /// </summary>
    public long LostInKernel => _stream.LostInKernel;

    /// <summary>How many times the socket reported ENOBUFS (each time one or more denials were lost in the kernel).</summary>
    public long Overruns => _stream.Overruns;

    /// <summary>Denials dropped because the consumer of <see cref="ReadAsync"/> fell too far behind.</summary>
    public long DroppedSlowConsumer => _stream.DroppedSlowConsumer;

    /// <summary>
    /// The denials, in the order the kernel logged them. Never ends by itself; cancelling
    /// <paramref name="cancellationToken"/> ends it with <see cref="OperationCanceledException"/>, disposing the reader
    /// ends it normally. One consumer at a time.
    /// </summary>
    public async IAsyncEnumerable<DenialRecord> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _reading, 1) != 0)
            throw new InvalidOperationException("the NFLOG reader is already being read; use one consumer at a time");
        try
        {
            var reader = _records.Reader;
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                while (reader.TryRead(out var record))
                    yield return record;
        }
        finally
        {
            Volatile.Write(ref _reading, 0);
        }
    }

    private async Task PumpAsync()
    {
        try
        {
            while (await _subscription.ReceiveAsync(_stream, _stop.Token).ConfigureAwait(false))
                await _stream.ForwardAsync(_stop.Token).ConfigureAwait(false);
            _records.Writer.TryComplete();
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            _records.Writer.TryComplete();
        }
        catch (Exception e)
        {
            _records.Writer.TryComplete(e); // the socket failed: ReadAsync throws it after the records before it
        }
    }

    /// <summary>Stops reading and closes the socket (the kernel then frees the group); a running <see cref="ReadAsync"/> ends.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _stop.Cancel();
        await _pump.ConfigureAwait(false);
        await _subscription.DisposeAsync().ConfigureAwait(false);
        _interfaces.Dispose();
        _sockets?.Dispose();
        _stop.Dispose();
    }
}
