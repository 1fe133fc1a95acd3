using System.CommandLine;
using System.Globalization;
using NetlinkFence.Logging.Syslog;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>netlinkfence collectors [--policy POLICY] [--netns NS] [--output text|json]</c>: checks each collector of the
/// policy's <c>log.remote</c>, the first then every fallback, from the namespace the policy guards (so through its own
/// rules): a verified TLS connection, one test message (msgid <c>TEST</c>), and the collector's confirmation that it
/// read it. Exit 0 when every collector was reached, 1 when one was not, 2 without <c>log.remote</c>.
/// </summary>
internal static class CollectorsVerb
{
    public static Command Create()
    {
        var command = new Command("collectors", "check that each log.remote collector answers: TLS verified, a test message written and its reading confirmed")
        {
            PolicyTable.Policy,
        };
        command.WithOutput();
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, async () =>
        {
            var (policy, path, _) = PolicyTable.LoadPolicy(parse);
            var remote = policy.Log.Remote ?? throw new UsageException($"{path} has no log.remote: there is no collector to check");
            string? netns = parse.GetValue(CommonOptions.NetworkNamespace);
            bool json = parse.GetValue(CommonOptions.Output) == "json";
            if (!json)
                Console.Error.WriteLine($"netlinkfence: checking the log.remote collectors of {path}" + (netns is null ? "" : $" from namespace {netns}"));
            var checks = await SyslogTlsForwarder.CheckCollectorsAsync(SyslogTlsOptions.FromPolicy(remote) with { NetworkNamespace = netns }, cancellationToken);
            if (json)
                Output.WriteJson(w =>
                {
                    w.WriteString("policy", path);
                    w.WriteStartArray("collectors");
                    foreach (var check in checks)
                        WriteJson(w, check);
                    w.WriteEndArray();
                });
            else
            {
                foreach (var check in checks)
                    Console.WriteLine(Describe(check));
                if (checks.Any(c => !c.Reached))
                    Console.Error.WriteLine("netlinkfence: a collector the policy blocks looks like one that does not answer: 'netlinkfence lint' says whether an egress entry lets the forwarder out (remote-log-blocked)");
            }
            return checks.All(c => c.Reached) ? ExitCodes.Ok : ExitCodes.DriftOrFindings;
        }));
        return command;
    }

    private static string Role(CollectorCheck check) => check.IsFallback ? "fallback" : "first";

    /// <summary>One line per collector: OK (confirmed), UNCONFIRMED (written, no confirmation) or FAILED, with why.</summary>
    private static string Describe(CollectorCheck check)
    {
        string took = $"{check.Took.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms";
        if (!check.Reached)
            return $"{check.Collector} ({Role(check)}): FAILED: {check.Error}";
        string validity = (check.CollectorCertificateExpires is { } until ? $"; its certificate is valid until {until:yyyy-MM-ddTHH:mm:ssZ}" : "")
            + (check.ClientCertificateExpires is { } client ? $", the client certificate until {client:yyyy-MM-ddTHH:mm:ssZ}" : "");
        return check.Confirmed
            ? $"{check.Collector} ({Role(check)}): OK: TLS verified, a TEST message written, and the collector confirmed reading it ({took}){validity}"
            : $"{check.Collector} ({Role(check)}): UNCONFIRMED: TLS verified and a TEST message written, but the collector did not confirm reading it within 5 s (it did not close its side after close_notify){validity}";
    }

    private static void WriteJson(System.Text.Json.Utf8JsonWriter w, CollectorCheck check)
    {
        w.WriteStartObject();
        w.WriteString("collector", check.Collector);
        w.WriteString("role", Role(check));
        w.WriteBoolean("reached", check.Reached);
        w.WriteBoolean("confirmed", check.Confirmed);
        if (check.CollectorCertificateExpires is { } collector)
            w.WriteString("collector_certificate_expires", collector);
        if (check.ClientCertificateExpires is { } client)
            w.WriteString("client_certificate_expires", client);
        if (check.Error is { } error)
            w.WriteString("error", error);
        w.WriteNumber("milliseconds", Math.Round(check.Took.TotalMilliseconds, 1));
        w.WriteEndObject();
    }
}
