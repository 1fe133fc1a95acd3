using System.CommandLine;
using NetlinkFence.Cli.Daemon;

namespace NetlinkFence.Cli;

/// <summary><c>netlinkfence run POLICY</c>: the daemon (see <see cref="DaemonHost"/>).</summary>
internal static class RunVerb
{
    public const string Name = "run";

    public static Command Create()
    {
        var policyArgument = new Argument<string>("policy") { Description = "the policy file (YAML)" };
        // Tests (and kernels where ownership misbehaves): skip owner|persist and watch instead.
        var noOwner = new Option<bool>("--no-owner") { Description = "do not own the table; watch it and repair foreign changes", Hidden = true };
        var command = new Command(Name, "the daemon: apply the policy, own the table, reload on SIGHUP, serve the control socket") { policyArgument, noOwner };
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, () =>
            DaemonHost.RunAsync(parse.GetValue(policyArgument)!, parse.GetValue(CommonOptions.NetworkNamespace), parse.GetValue(noOwner), cancellationToken)));
        return command;
    }
}
