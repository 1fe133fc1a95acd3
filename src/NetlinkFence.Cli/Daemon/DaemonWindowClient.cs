using NetlinkFence.Policy;

namespace NetlinkFence.Cli.Daemon;

/// <summary>
/// <c>open</c>, <c>close</c> and <c>status</c> from the CLI: through the daemon when its control socket answers (a daemon
/// owns the table, so only it can change it; it logs the caller's uid from SO_PEERCRED), on the kernel directly
/// (<see cref="KernelWindowControl"/>) when no daemon runs for the table.
/// </summary>
internal sealed class DaemonWindowClient(TargetNamespace target, EgressPolicy policy, string table) : IWindowControl
{
    public async Task<LiveWindow> OpenAsync(string entry, TimeSpan duration, CancellationToken cancellationToken)
    {
        var request = new ControlRequest("open", entry, WindowDuration.Format(duration));
        if (await AskAsync(request, cancellationToken) is not { } answer)
            return await Kernel.OpenAsync(entry, duration, cancellationToken);
        return ToWindows(answer).Single(w => w.Entry.Name == entry);
    }

    public async Task<bool> CloseAsync(string entry, CancellationToken cancellationToken) =>
        await AskAsync(new ControlRequest("close", entry), cancellationToken) is { } answer
            ? answer.WasOpen ?? throw new SystemFailureException("the daemon's answer to close does not say whether the window was open: is it an older netlinkfence?")
            : await Kernel.CloseAsync(entry, cancellationToken);

    public async Task<WindowStatus> StatusAsync(CancellationToken cancellationToken) =>
        await AskAsync(new ControlRequest("status"), cancellationToken) is { } answer
            ? new WindowStatus(ToWindows(answer), answer.Audit is { } a ? new AuditState(a.Table, a.RemainingSeconds is { } s ? TimeSpan.FromSeconds(s) : null, a.Ends) : null,
                new RunningDaemon(answer.Pid, answer.Mode, answer.Policy, answer.Forwarding))
            : await Kernel.StatusAsync(cancellationToken);

    private KernelWindowControl Kernel => new(target, policy, table);

    /// <summary>The daemon's answer (null: no daemon); a refusal becomes the exit code the daemon chose, with its message.</summary>
    private async Task<ControlResponse?> AskAsync(ControlRequest request, CancellationToken cancellationToken)
    {
        var answer = await ControlClient.TryRequestAsync(target, table, request, cancellationToken);
        if (answer is null)
            return null;
        if (!answer.Ok)
            throw answer.Exit == ExitCodes.BadInput ? new UsageException($"the daemon refused: {answer.Message}") : new SystemFailureException($"the daemon refused: {answer.Message}");
        return answer;
    }

    /// <summary>The windows the daemon reported, with this policy's entries (the daemon runs the same file).</summary>
    private List<LiveWindow> ToWindows(ControlResponse answer) =>
        (answer.Windows ?? []).Select(w => new LiveWindow(
            policy.Egress.FirstOrDefault(e => e.Name == w.Entry) ?? throw new SystemFailureException($"the daemon reported window '{w.Entry}', which {policy.Source} does not have: is it running another policy file?"),
            w.Open ? TimeSpan.FromSeconds(w.RemainingSeconds) : null) { AlsoAllowedBy = w.AlsoAllowedBy ?? [] }).ToList();
}
