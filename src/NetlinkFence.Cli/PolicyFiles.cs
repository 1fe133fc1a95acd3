using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>Loading a policy file for a verb: parse, resolve names, compile; hygiene warnings on the way.</summary>
internal static class PolicyFiles
{
    /// <summary>
    /// Names that are not pinned are resolved through the policy's own resolvers (the system's when it names none),
    /// from inside <paramref name="netns"/> when given: the way the agent itself reaches them.
    /// </summary>
    public static async Task<CompiledPolicy> CompileAsync(string path, bool checkOwnership, CancellationToken cancellationToken, string? netns = null)
    {
        var policy = PolicyLoader.LoadFile(path);
        if (checkOwnership)
            WarnIfWritableByOthers(path);
        return PolicyCompiler.Compile(await ResolveAsync(policy, netns, cancellationToken));
    }

    /// <summary>
    /// The one way a verb resolves a loaded policy's names: the policy's resolvers, from inside <paramref name="netns"/>;
    /// and its <c>by:</c> items on this host (cgroups are not per network namespace).
    /// </summary>
    public static Task<ResolvedPolicy> ResolveAsync(EgressPolicy policy, string? netns, CancellationToken cancellationToken) =>
        ResolvedPolicy.ResolveAsync(policy, NeedsDns(policy) ? Runtime.DnsHostResolver.ForPolicy(policy, netns) : null,
            policy.Egress.Any(e => e.By.Count > 0) ? ServiceHosts.Create() : null, cancellationToken);

    /// <summary>True when some name is not pinned (only then is a resolver, and its namespace, needed).</summary>
    private static bool NeedsDns(EgressPolicy policy) =>
        policy.Resolvers.Concat(policy.Egress.SelectMany(e => e.Peers)).Concat(policy.Input.SelectMany(e => e.Peers))
            .Any(d => d.HostName is { } host && !policy.Hosts.ContainsKey(host));

    /// <summary>Whoever can edit the policy owns the host: say so when that is not only root.</summary>
    private static void WarnIfWritableByOthers(string path)
    {
        foreach (string warning in PolicyFileHygiene.Warnings(path))
            Console.Error.WriteLine($"netlinkfence: warning: {warning}");
    }
}
