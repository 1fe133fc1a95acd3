using System.CommandLine;
using NetlinkFence.Nftables;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>--netns</c> is checked once, before any verb runs: an empty value or a path that is not a network namespace
/// exits 2 with a plain message, and naming the host's initial namespace explicitly draws a warning (a test or a
/// container setup that means a private namespace would otherwise change the host's firewall). Without
/// <c>--netns</c> the host's namespace is the normal target and nothing is said.
/// </summary>
internal static class NamespaceArgument
{
    /// <summary>Null when the verb may run; else the exit code, after the message was printed.</summary>
    public static int? Check(ParseResult parse)
    {
        string? networkNamespace = parse.GetValue(CommonOptions.NetworkNamespace);
        if (networkNamespace is null)
            return null;
        int code = ExitCodes.Run(parse, () =>
        {
            if (networkNamespace.Length == 0)
                throw new UsageException("--netns needs a name (/run/netns/NAME) or a path such as /proc/PID/ns/net");
            if (new NftablesConnectionOptions { NetworkNamespace = networkNamespace }.CheckNetworkNamespace())
                Console.Error.WriteLine($"netlinkfence: warning: --netns {networkNamespace} is the host's initial network namespace (that of PID 1): this changes the host's own firewall");
            return Task.FromResult(ExitCodes.Ok);
        }).GetAwaiter().GetResult();
        return code == ExitCodes.Ok ? null : code;
    }
}
