using System.CommandLine;
using NetlinkFence.Cli;

// netlinkfence: the command-line front end. Each verb lives in its own file under Verbs/.
var root = new RootCommand("netlinkfence: a default-deny egress firewall that speaks nf_tables over netlink")
{
    CommonOptions.NetworkNamespace,
    CommonOptions.Output,
};
root.Subcommands.Add(PlanVerb.Create());
root.Subcommands.Add(ApplyVerb.Create());
root.Subcommands.Add(ShowVerb.Create());
root.Subcommands.Add(VerifyVerb.Create());
root.Subcommands.Add(DemoVerb.Create());
root.Subcommands.Add(ProbeVerb.Create());
root.Subcommands.Add(RemoveVerb.Create());
root.Subcommands.Add(LintVerb.Create());
root.Subcommands.Add(HostsVerb.Create());
root.Subcommands.Add(ConfirmVerb.Create());
root.Subcommands.Add(RollbackVerb.Create());
root.Subcommands.Add(RollbackWaiterVerb.Create());
root.Subcommands.Add(WindowVerbs.Open());
root.Subcommands.Add(WindowVerbs.Close());
root.Subcommands.Add(WindowVerbs.Status());
root.Subcommands.Add(HistoryVerb.Create());
root.Subcommands.Add(StatsVerb.Create());
root.Subcommands.Add(RunVerb.Create());
root.Subcommands.Add(ReloadVerb.Create());
root.Subcommands.Add(WatchVerb.Create());
root.Subcommands.Add(CollectorsVerb.Create());
root.Subcommands.Add(LearnVerb.Create());
root.Subcommands.Add(ImportVerb.Create());
var parsed = root.Parse(args);
bool isWaiter = parsed.CommandResult.Command.Name == RollbackWaiterVerb.Name;
// The daemon handles SIGTERM/SIGINT (stop, table left in place) and SIGHUP (reload) itself.
bool ownSignals = isWaiter || parsed.CommandResult.Command.Name == RunVerb.Name;
// The rollback waiter handles SIGTERM/SIGINT/SIGHUP itself (it rolls back); System.CommandLine's handler would end it.
// Its --netns is the apply's own, already checked, descriptor.
if ((isWaiter ? null : NamespaceArgument.Check(parsed) ?? CommonOptions.RefuseJsonForTextVerb(parsed)) is { } refused)
    return refused;
int code = await parsed.InvokeAsync(ownSignals ? new InvocationConfiguration { ProcessTerminationTimeout = null } : null);
// A command line that does not parse (an unknown option, a bad --table) is bad input: System.CommandLine prints the
// errors and the help, but exits 1, which means drift. Failures inside a verb are mapped by ExitCodes.Run.
return parsed.Errors.Count > 0 ? ExitCodes.BadInput : code;
