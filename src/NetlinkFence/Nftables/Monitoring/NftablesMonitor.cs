using System.Runtime.CompilerServices;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables.Monitoring;

/// <summary>
/// Watches ruleset changes in a network namespace as they are committed, by anyone (this library, <c>nft</c>,
/// iptables-nft, ...): a member of the nf_tables multicast group (<c>NFNLGRP_NFTABLES</c>) whose notifications are
/// decoded into <see cref="NftablesChange"/>s. Changes committed after <see cref="Open(NftablesConnectionOptions?)"/> returns are all seen, or
/// reported as <see cref="NftablesChangeKind.Lost"/>. Reading needs CAP_NET_ADMIN in the namespace.
/// </summary>
/// <example>
/// <code>
/// await using var monitor = NftablesMonitor.Open(new() { NetworkNamespace = "agent" });
/// await foreach (var change in monitor.ReadChangesAsync(cancellationToken))
///     Console.WriteLine(change); // e.g. "RuleAdded inet demo output handle 4 (gen 7, port 123, nft[4711])"
/// </code>
/// </example>
public sealed class NftablesMonitor : IAsyncDisposable
{
    private readonly NetlinkSubscription _subscription;
    private readonly ChangeDecoder _decoder = new();
    private int _reading;

    private NftablesMonitor(NetlinkSubscription subscription) => _subscription = subscription;

    /// <summary>Opens a monitor in the namespace <paramref name="options"/> names (the caller's when null) and starts listening.</summary>
    public static NftablesMonitor Open(NftablesConnectionOptions? options = null) => Open(options, null);

    /// <summary>Like <see cref="Open(NftablesConnectionOptions?)"/>, without blocking the caller while the socket is made inside the namespace.</summary>
    public static async Task<NftablesMonitor> OpenAsync(NftablesConnectionOptions? options = null)
    {
        options = Checked(options);
        return new(await NetlinkSubscription.OpenAsync(NetlinkProtocol.NETFILTER, [(int)NfnetlinkGroup.NFTABLES],
            options.NamespacePath, options.NamespaceHandle).ConfigureAwait(false));
    }

    internal static NftablesMonitor Open(NftablesConnectionOptions? options, NetlinkSubscriptionLimits? limits)
    {
        options = Checked(options);
        return new(NetlinkSubscription.Open(NetlinkProtocol.NETFILTER, [(int)NfnetlinkGroup.NFTABLES],
            options.NamespacePath, options.NamespaceHandle, limits));
    }

    private static NftablesConnectionOptions Checked(NftablesConnectionOptions? options)
    {
        options ??= new();
        if (options.NamespaceHandle is not null && options.NetworkNamespace is not null)
            throw new ArgumentException("give either NetworkNamespace or NamespaceHandle, not both", nameof(options));
        return options;
    }

    /// <summary>The monitor socket's netlink port id.</summary>
    public uint PortId => _subscription.PortId;

    /// <summary>How many receive queue overflows were reported so far (each one is also a <see cref="NftablesChangeKind.Lost"/> change).</summary>
    public long Overruns => _subscription.Overruns;

    /// <summary>
    /// The changes, in the order they were committed; each change of a commit comes with that commit's
    /// <see cref="NftablesChange.Generation"/> and committer, followed by its <see cref="NftablesChangeKind.Committed"/>
    /// boundary. Never ends by itself; cancelling <paramref name="cancellationToken"/> ends it at once with
    /// <see cref="OperationCanceledException"/>, and disposing the monitor ends it normally. One reader at a time;
    /// a later call continues where the previous one stopped.
    /// </summary>
    public async IAsyncEnumerable<NftablesChange> ReadChangesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _reading, 1) != 0)
            throw new InvalidOperationException("the monitor is already being read; use one reader at a time");
        try
        {
            while (true)
            {
                while (_decoder.TryTake(out var change))
                    yield return change;
                if (!await _subscription.ReceiveAsync(_decoder, cancellationToken).ConfigureAwait(false))
                    yield break;
            }
        }
        finally
        {
            Volatile.Write(ref _reading, 0);
        }
    }

    /// <summary>Leaves the group and closes the socket; a running <see cref="ReadChangesAsync"/> ends.</summary>
    public ValueTask DisposeAsync() => _subscription.DisposeAsync();
}
