using System.CommandLine;
using System.Diagnostics;
using NetlinkFence.Nftables.Snapshots;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>netlinkfence apply POLICY</c>: one atomic commit of the compiled policy, verified by reading it back; then the
/// self-test (<c>selftest:</c>, <c>--expect-allow</c>, <c>--expect-deny</c>), which restores the previous table when
/// it fails; with <c>--confirm-within</c>, a detached waiter restores it unless <c>confirm</c> arrives in time.
/// </summary>
internal static class ApplyVerb
{
    public static Command Create()
    {
        var policyArgument = new Argument<string>("policy") { Description = "the policy file (YAML)" };
        var retries = new Option<int>("--retry") { Description = "re-read and re-apply up to N times when another writer changed the ruleset meanwhile", DefaultValueFactory = _ => 0 };
        var confirmWithin = new Option<string?>("--confirm-within") { Description = "restore the previous table unless 'netlinkfence confirm' arrives within this time (60s, 5m)" };
        var expectAllow = new Option<string[]>("--expect-allow") { Description = "self-test: flows (ADDRESS:PORT, udp:ADDRESS:PORT; a name of the policy stands for each of its addresses) that must get through, or the previous table is restored", AllowMultipleArgumentsPerToken = true };
        var expectDeny = new Option<string[]>("--expect-deny") { Description = "self-test: flows that must be dropped, or the previous table is restored", AllowMultipleArgumentsPerToken = true };
        var inconclusive = new Option<string>("--selftest-inconclusive") { Description = "whether a self-test probe that proves neither (no egress_denied count, ENETUNREACH, ...) passes", DefaultValueFactory = _ => "fail" };
        inconclusive.AcceptOnlyFromAmong("pass", "fail");
        var ifChanged = new Option<bool>("--if-changed") { Description = "commit nothing when the live table already matches the policy (as verify judges it): its counters, open windows and audit stay" };
        var command = new Command("apply", "replace the netlinkfence table with the compiled policy in one atomic transaction")
            { policyArgument, retries, confirmWithin, expectAllow, expectDeny, inconclusive, ifChanged };
        command.WithOutput();
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, async () =>
        {
            string path = parse.GetValue(policyArgument)!;
            var window = parse.GetValue(confirmWithin) is { } w ? Duration.Parse(w) : (TimeSpan?)null;
            if (window is not null && parse.GetValue(ifChanged))
                throw new UsageException("--if-changed and --confirm-within: an apply that changes nothing leaves nothing to confirm; use one of them");
            var compiled = await PolicyFiles.CompileAsync(path, checkOwnership: true, cancellationToken, parse.GetValue(CommonOptions.NetworkNamespace));
            // After compiling: a flow may name a host of the policy, tried at each of its addresses. Nothing is changed yet.
            var cliTest = new SelfTest(Flows(expectAllow), Flows(expectDeny));
            var selfTest = compiled.Source.Policy.SelfTest.ForAddresses(compiled.Source).Merge(cliTest);
            // A deny flow the plan itself lets through fails the self-test for certain (its probe gets through, or proves
            // nothing, which fails it unless --selftest-inconclusive pass): refused before the commit, so a leaking table
            // is never live, not even for the seconds the probes take. A flow to the namespace's own address leaves
            // through lo, which every policy accepts. Allow flows are left to the probes.
            if (parse.GetValue(inconclusive) == "fail" && !selfTest.IsEmpty
                && SelfTestPreview.Of(compiled, selfTest, HostAddresses.Of(parse.GetValue(CommonOptions.NetworkNamespace))).Where(f => f.Leaks).ToList() is { Count: > 0 } leaks)
                throw RefuseLeaks(leaks);
            string? netns = parse.GetValue(CommonOptions.NetworkNamespace);
            bool json = parse.GetValue(CommonOptions.Output) == "json";
            var notes = json ? Console.Error : Console.Out;
            using var target = TargetNamespace.Open(netns);
            var state = new SafetyState(target, compiled.Table.Name);
            StateCleanup.RemoveVanished(state);
            await using var nft = await target.ConnectAsync(cancellationToken);
            await nft.GetGenerationAsync(cancellationToken); // no CAP_NET_ADMIN: says so before anything else
            // Held until the apply, its self-test and any undo are done: no other netlinkfence (confirm, rollback,
            // a waiter) changes this table or its rollback state meanwhile.
            using var held = await state.LockAsync(cancellationToken);
            state.Claim();
            var earlier = state.ReadPending();
            if (earlier is not null && window is null)
                throw new UsageException(PendingReport.RefuseApply(state, earlier));
            var output = new Output(json);
            if (parse.GetValue(ifChanged) && await nft.ListTableAsync(compiled.Table.Family, compiled.Table.Name, cancellationToken) is { } live
                && LiveComparison.Of(compiled, live) is { Matches: true } same)
            {
                // Nothing to commit: a replace would only zero the counters, close open windows and end an audit.
                if (!json)
                    output.Unchanged(compiled, live, same.Audit, path);
                if (!selfTest.IsEmpty && !await SelfTestRunner.RunAsync(nft, compiled.Table.Name, netns, selfTest, parse.GetValue(inconclusive) == "pass", notes, cancellationToken))
                    throw new SelfTestFailedException([$"self-test failed on table inet {compiled.Table.Name}, which already matched the policy: nothing was changed"]);
                if (json)
                    output.Unchanged(compiled, live, same.Audit, path);
                return ExitCodes.Ok;
            }
            // A change to a table a daemon holds is refused (after --if-changed: a table that already matches is no change).
            await Daemon.HeldByDaemonException.ThrowIfHeldAsync(target, compiled.Table.Name, "apply", cancellationToken);
            // Before the apply lists the table it replaces: a rollback counts the time its timed elements (open windows)
            // had left from here, so it never gives them more than they had.
            long listedAt = Stopwatch.GetTimestamp();
            var guard = window is { } span ? new ConfirmGuard(state, span, earlier, listedAt) : null;
            ApplyResult result;
            try
            {
                result = await PolicyApplier.ApplyAsync(nft, compiled, parse.GetValue(retries), Rendering.Rule, guard is null ? null : guard.BeforeCommitAsync, cancellationToken);
            }
            catch (Exception e)
            {
                guard?.Abandon(liveHandle: null);
                if (e is TransactionRejectedException rejected && OwnedByAnother(rejected)) // a daemon that started meanwhile
                    await Daemon.HeldByDaemonException.ThrowIfHeldAsync(target, compiled.Table.Name, "apply", cancellationToken, rejected);
                throw;
            }
            guard?.Committed(result.Committed?.Table.Handle ?? 0);
            // Text reports the commit now, before the self-test's lines. JSON is one document, written once the self-test
            // passed: a self-test that fails undoes this commit, and its error is the document.
            if (!json)
                output.Applied(compiled, result);
            if (TableBuild.Replaced(result, compiled) is { } replacedBuild)
                notes.WriteLine(replacedBuild);
            if (compiled.Source.Names.Values.Count(n => n.Source == ResolutionSource.Dns) is > 0 and int dnsNames)
                notes.WriteLine($"{dnsNames} DNS name(s) were resolved once, now; they are not refreshed without the daemon ('netlinkfence run'): "
                    + "their addresses stay allowed until the next apply, and new ones are not");
            if (IPv6Housekeeping.Note(compiled, target) is { } ipv6)
                notes.WriteLine(ipv6);
            if (compiled.Source.Scopes.Keys.Count(s => s.IsCgroup) is > 0 and int cgroupScopes)
                notes.WriteLine($"{cgroupScopes} by: unit/cgroup item(s) are bound to the cgroup ids their services have now; a restarted unit gets a new "
                    + "cgroup id that these elements do not match (its traffic is denied) until 'netlinkfence run' re-binds it: run the daemon to keep them working across restarts");
            if (earlier is not null)
                notes.WriteLine($"took over the pending rollback of the earlier unconfirmed apply (due at {PendingReport.Due(earlier)}"
                    + (PendingReport.WaiterAlive(earlier) ? "" : ", its waiter was gone") + "): the rollback point stays the table before it");

            var previous = TableSnapshot.Of(compiled.Table.Family, compiled.Table.Name, result.Previous, listedAt);
            if (!selfTest.IsEmpty && !await SelfTestRunner.RunAsync(nft, compiled.Table.Name, netns, selfTest, parse.GetValue(inconclusive) == "pass", notes, cancellationToken))
                throw await UndoFailedAsync(nft, state, guard, result, previous, cancellationToken);
            if (json)
                output.Applied(compiled, result);
            WindowRecords.RecordApply(compiled, result, target, path);
            if (guard is null)
                SavePrevious(state, previous);
            else
                notes.WriteLine($"not confirmed yet: run '{SuggestedCommand.For("confirm", state)}' within {window!.Value.TotalSeconds:0.#}s, "
                    + $"or the previous table comes back at {PendingReport.Due(guard.Pending!)}");
            return ExitCodes.Ok;

            List<ExpectedFlow> Flows(Option<string[]> option) => (parse.GetValue(option) ?? []).SelectMany(text => ExpectedFlow.Parse(text, compiled.Source)).ToList();
        }));
        return command;
    }

    private static SelfTestFailedException RefuseLeaks(List<SelfTestPreview.Flow> leaks) => new(
    [
        .. leaks.Select(leak => $"selftest: {leak.Tried} must be denied, but the policy allows it: {leak.Verdict.Reason}"),
        $"self-test failed before the commit: the policy lets {(leaks.Count == 1 ? "a flow" : $"{leaks.Count} flows")} through that the test says must be denied; "
            + "nothing was changed. Narrow the entry that allows it, or drop the flow from the test ('netlinkfence plan' shows each flow's verdict)",
    ]);

    /// <summary>
    /// The self-test failed: puts the replaced table back, but only over the table this apply committed (other writers'
    /// changes elsewhere in the ruleset just mean another try). Says loudly when the failed policy stays live.
    /// </summary>
    private static async Task<SelfTestFailedException> UndoFailedAsync(NftablesConnection nft, SafetyState state, ConfirmGuard? guard, ApplyResult result, TableSnapshot previous, CancellationToken cancellationToken)
    {
        ulong committed = result.Committed?.Table.Handle ?? 0, replaced = result.Previous?.Table.Handle ?? 0;
        RestoreOutcome outcome;
        try
        {
            outcome = await Restorer.RestoreOwnAsync(nft, previous, live => committed != 0 ? live == committed : live != replaced, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            string rollback = SuggestedCommand.For("rollback", state);
            string retry = guard is null
                ? SavePrevious(state, previous) ? $"run '{rollback}' to try again" : "restore it by hand"
                : $"the pending rollback tries again at {PendingReport.Due(guard.Pending!)}, or run '{rollback}' now";
            return new(
            [
                $"self-test failed, and putting the previous table back failed too: {e.Message}",
                $"THE FAILED POLICY IS STILL LIVE in {state.Target.Description}; {retry}",
            ], policyStillLive: true);
        }
        if (outcome.Restored)
            guard?.Abandon(outcome.HandleAfter);
        return new([outcome.Restored ? $"self-test failed: {outcome.Message}" : $"self-test failed, but {outcome.Message}"]);
    }

    /// <summary>EPERM on the table's own objects (not on the batch): another socket owns the table, e.g. a running daemon.</summary>
    internal static bool OwnedByAnother(TransactionRejectedException e) =>
        !e.IsPermissionDenied && e.Failures.Any(f => f.Error.Errno == (int)NetlinkFence.Interop.Uapi.Errno.PERM);

    /// <summary>Keeps the replaced (or removed) table for <c>rollback</c> (the caller holds the lock and no confirmation is pending).</summary>
    internal static bool SavePrevious(SafetyState state, TableSnapshot previous)
    {
        try
        {
            state.WriteSnapshot(previous);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or StateFileException)
        {
            Console.Error.WriteLine($"netlinkfence: warning: could not save the previous table for 'rollback' in {SafetyState.Directory}: {e.Message}");
            return false;
        }
    }
}
