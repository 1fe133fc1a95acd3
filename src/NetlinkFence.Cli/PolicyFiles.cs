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
        foreach (string warning in PolicyFileHygiene.Warnings(path))
            Console.Error.WriteLine($"netlinkfence: warning: {warning}");
    }
}
