using NetlinkFence.Interop;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>Loading a policy file for a verb: parse, resolve names, compile; hygiene warnings on the way.</summary>
internal static class PolicyFiles
{
    public static async Task<CompiledPolicy> CompileAsync(string path, bool checkOwnership, CancellationToken cancellationToken)
    {
        var policy = PolicyLoader.LoadFile(path);
        if (checkOwnership)
            WarnIfWritableByOthers(path);
        var resolved = await ResolvedPolicy.ResolveAsync(policy, cancellationToken: cancellationToken);
        return PolicyCompiler.Compile(resolved);
    }

    /// <summary>Whoever can edit the policy owns the host: say so when that is not only root.</summary>
    private static void WarnIfWritableByOthers(string path)
    {
        var (owner, mode) = FileOwnership.Inspect(path);
        if ((mode & 0x2) != 0)
            Console.Error.WriteLine($"netlinkfence: warning: {path} is world-writable; anyone on the host can rewrite the firewall (chmod o-w {path})");
        if (owner != 0)
            Console.Error.WriteLine($"netlinkfence: warning: {path} is owned by uid {owner}, not root; that user can rewrite the firewall (chown root {path})");
    }
}
