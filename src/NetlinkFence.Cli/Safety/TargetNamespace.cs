using NetlinkFence.Interop;
using NetlinkFence.Nftables;

namespace NetlinkFence.Cli;

/// <summary>
/// The network namespace a safety verb (apply, confirm, rollback, the waiter) works on, opened once: every read and
/// commit goes through this one handle, so a name re-pointed at another namespace (or a reused PID) in the meantime
/// cannot redirect it, and its device and inode key the rollback state (<see cref="SafetyState"/>).
/// </summary>
internal sealed class TargetNamespace : IDisposable
{
    private TargetNamespace(string? netns, NetworkNamespaceHandle handle)
    {
        Netns = netns;
        Handle = handle;
    }

    /// <summary>The <c>--netns</c> text as the user gave it (null: the caller's own namespace), for messages.</summary>
    public string? Netns { get; }

    public NetworkNamespaceHandle Handle { get; }

    /// <summary>The namespace's identity while it lives: <c>DEVICE:INODE</c> of its nsfs file.</summary>
    public string Id => $"{Handle.Device}:{Handle.Inode}";

    /// <summary>What to call it in messages.</summary>
    public string Description => Netns is null ? "this namespace" : $"namespace {Netns}";

    /// <summary>Opens <c>--netns</c> (a name in /run/netns, or a path), or the caller's own namespace.</summary>
    public static TargetNamespace Open(string? netns) =>
        new(netns, FlowProbe.NamespacePath(netns) is { } path ? NetworkNamespaceHandle.Open(path) : NetworkNamespaceHandle.OpenCurrent());

    /// <summary>Opens <paramref name="path"/> and refuses it unless it is the namespace <paramref name="expectedId"/> (<see cref="Id"/>).</summary>
    public static TargetNamespace OpenExpecting(string? netns, string path, string expectedId)
    {
        var opened = new TargetNamespace(netns, NetworkNamespaceHandle.Open(path));
        if (opened.Id != expectedId)
        {
            opened.Dispose();
            throw new InvalidInputException($"{path} is namespace {opened.Id}, not {expectedId} (it was replaced meanwhile)");
        }
        return opened;
    }

    public ValueTask<NftablesConnection> ConnectAsync(CancellationToken cancellationToken) =>
        NftablesConnection.OpenAsync(new() { NamespaceHandle = Handle }, cancellationToken);

    public void Dispose() => Handle.Dispose();
}
