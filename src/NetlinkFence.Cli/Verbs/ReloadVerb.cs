using System.CommandLine;
using NetlinkFence.Cli.Daemon;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>netlinkfence reload</c>: asks the running daemon for the table to re-read its policy file, waits for the outcome
/// and exits with it: 0 when the new policy runs, 2 with the located error when the file does not compile (the running
/// policy stays), 1 when no daemon holds the table. SIGHUP does the same reload but tells the sender nothing, so a
/// typo went unnoticed behind a successful <c>systemctl reload</c>; the unit's ExecReload is this verb.
/// </summary>
internal static class ReloadVerb
{
    public static Command Create()
    {
        var command = new Command("reload", "make the running daemon re-read its policy file, and report whether the new policy runs").WithPolicyTable();
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, async () =>
        {
            string? netns = parse.GetValue(CommonOptions.NetworkNamespace);
            string table = PolicyTable.Resolve(parse);
            using var target = TargetNamespace.Open(netns);
            // The daemon re-reads its own file: 'reload --policy new.yaml' must not look as if it loaded new.yaml.
            if (parse.GetValue(PolicyTable.Policy) is { } given
                && await ControlClient.TryRequestAsync(target, table, new ControlRequest("status"), cancellationToken) is { Ok: true, Policy: { } running }
                && running != Path.GetFullPath(given))
                throw new UsageException($"the daemon holding table inet {table} runs {running}, not {Path.GetFullPath(given)}: reload re-reads the daemon's own file. "
                    + $"Copy the new policy over {running} and reload, or restart the daemon with the other file; nothing was reloaded");
            var answer = await ControlClient.TryRequestAsync(target, table, new ControlRequest("reload"), cancellationToken);
            if (answer is null)
            {
                Console.Error.WriteLine($"netlinkfence: no 'netlinkfence run' holds table inet {table} in {target.Description} "
                    + $"(nothing answers on {DaemonPaths.ControlSocket(target, table)}); nothing was reloaded. Without a daemon, apply the policy instead");
                return ExitCodes.DriftOrFindings;
            }
            if (!answer.Ok)
            {
                Console.Error.WriteLine($"netlinkfence: {answer.Message}"); // e.g. "reload refused, the running policy stays: FILE:LINE:COL: ..."
                return answer.Exit == ExitCodes.Ok ? ExitCodes.SystemFailure : answer.Exit;
            }
            Console.WriteLine(answer.Message);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
