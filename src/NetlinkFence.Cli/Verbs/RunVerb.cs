using System.CommandLine;
using NetlinkFence.Cli.Daemon;
using NetlinkFence.Policy;

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
        var prometheus = new Option<string?>("--prometheus")
        {
            Description = "write what 'stats --prometheus' writes to FILE, replaced atomically, at start and every --prometheus-every (for node_exporter's textfile collector)",
            HelpName = "FILE",
        };
        var every = new Option<string>("--prometheus-every") { Description = "how often to write --prometheus's file (1s to 1h)", DefaultValueFactory = _ => "15s", HelpName = "DURATION" };
        var command = new Command(Name, "the daemon: apply the policy, own the table, reload on SIGHUP, serve the control socket") { policyArgument, noOwner, prometheus, every };
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, () =>
            DaemonHost.RunAsync(parse.GetValue(policyArgument)!, parse.GetValue(CommonOptions.NetworkNamespace), parse.GetValue(noOwner),
                Metrics(parse.GetValue(prometheus), parse.GetValue(every)!), cancellationToken)));
        return command;
    }

    /// <summary>The metrics file and its interval, checked before anything touches the kernel (bad input is exit 2).</summary>
    private static DaemonMetrics? Metrics(string? file, string every)
    {
        if (WindowDuration.Parse(every) is not { } interval || interval < TimeSpan.FromSeconds(1) || interval > TimeSpan.FromHours(1))
            throw new UsageException($"--prometheus-every '{every}' is not a duration from 1s to 1h (e.g. 15s, 1m)");
        if (file is null)
            return null;
        if (file == "-")
            throw new UsageException("--prometheus names the file the daemon writes; '-' (standard output) is for 'stats --prometheus -'");
        string full = Path.GetFullPath(file);
        if (!Directory.Exists(Path.GetDirectoryName(full)))
            throw new UsageException($"--prometheus {file}: the directory {Path.GetDirectoryName(full)} does not exist (node_exporter's is usually /var/lib/prometheus/node-exporter)");
        return new DaemonMetrics(full, interval);
    }
}

