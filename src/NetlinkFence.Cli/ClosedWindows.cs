using NetlinkFence.Interop;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// The windows an <c>apply</c> closed. An apply replaces the table and a window entry compiles closed, so every window
/// the replaced table held open is closed by it: said on stderr and recorded in the window log as a <c>close</c> is
/// (the log an auditor reads for when a window let traffic through), with the command that opens it again.
/// </summary>
internal static class ClosedWindows
{
    public static void RecordApply(CompiledPolicy compiled, ApplyResult result, TargetNamespace target, string policyPath)
    {
        if (result.Previous is not { } replaced || compiled.Source.Policy.Egress.All(e => e.Window is null))
            return;
        var control = new KernelWindowControl(target, compiled.Source.Policy, compiled.Table.Name);
        foreach (var window in LivePolicy.Windows(compiled.Source, replaced).Where(w => w.IsOpen))
        {
            string left = WindowDuration.Format(TimeSpan.FromSeconds(Math.Max(1, Math.Round(window.Remaining!.Value.TotalSeconds))));
            control.Record("close", window.Entry.Name,
                $"closed by apply, which replaces the table (it had {left} left); '{SuggestedCommand.OpenWindow(window.Entry.Name, policyPath, target.Netns)}' opens it again");
        }
    }
}
