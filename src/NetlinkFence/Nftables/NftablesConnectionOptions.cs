namespace NetlinkFence.Nftables;

/// <summary>Where and how to connect.</summary>
public sealed record NftablesConnectionOptions
{
    /// <summary>
    /// The network namespace to work in: a name (<c>agent</c> means <c>/run/netns/agent</c>, as <c>ip netns</c>
    /// creates) or a path (<c>/proc/1234/ns/net</c>). Null: the caller's namespace.
    /// </summary>
    public string? NetworkNamespace { get; init; }

    /// <summary>
    /// The network namespace to work in, already open (instead of <see cref="NetworkNamespace"/>): the connection is
    /// made in exactly that namespace, even if its name now points elsewhere. The caller keeps and disposes it.
    /// </summary>
    public NetlinkFence.Interop.NetworkNamespaceHandle? NamespaceHandle { get; init; }

    /// <summary>
    /// The namespace file <see cref="NetworkNamespace"/> names, or null for the current namespace; a name with '/'
    /// (or "." / "..") is refused with <see cref="InvalidInputException"/>, so a name cannot walk out of /run/netns.
    /// </summary>
    public string? NamespacePath => NetworkNamespace switch
    {
        null => null,
        "" => throw new InvalidInputException("the network namespace is empty: give a name (/run/netns/NAME) or a path such as /proc/PID/ns/net"),
        var path when path.StartsWith('/') => path,
        var name when name.Contains('/') || name is "." or ".." => throw new InvalidInputException($"network namespace name '{name}' must not contain '/'; give a path starting with '/' instead"),
        var name => "/run/netns/" + name,
    };

    /// <summary>
    /// Checks <see cref="NetworkNamespace"/> before connecting: <see cref="InvalidInputException"/> with a plain message
    /// when it is empty, missing or not a network namespace; true when it is the host's initial namespace (PID 1's).
    /// False when no namespace is named.
    /// </summary>
    public bool CheckNetworkNamespace() => NamespacePath is { } path && Interop.NamespaceFile.CheckNetwork(path);
}
