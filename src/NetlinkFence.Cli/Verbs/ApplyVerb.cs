using System.CommandLine;
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
        var expectAllow = new Option<string[]>("--expect-allow") { Description = "self-test: flows (HOST:PORT, udp:HOST:PORT) that must get through, or the previous table is restored", AllowMultipleArgumentsPerToken = true };
        var expectDeny = new Option<string[]>("--expect-deny") { Description = "self-test: flows that must be dropped, or the previous table is restored", AllowMultipleArgumentsPerToken = true };
        var inconclusive = new Option<string>("--selftest-inconclusive") { Description = "whether a self-test probe that proves neither (no egress_denied count, ENETUNREACH, ...) passes", DefaultValueFactory = _ => "fail" };
        inconclusive.AcceptOnlyFromAmong("pass", "fail");
        var command = new Command("apply", "replace the netlinkfence table with the compiled policy in one atomic transaction")
            { policyArgument, retries, confirmWithin, expectAllow, expectDeny, inconclusive };
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(async () =>
        {
            string path = parse.GetValue(policyArgument)!;
            var window = parse.GetValue(confirmWithin) is { } w ? Duration.Parse(w) : (TimeSpan?)null;
            var cliTest = new SelfTest((parse.GetValue(expectAllow) ?? []).Select(ExpectedFlow.Parse).ToList(),
                (parse.GetValue(expectDeny) ?? []).Select(ExpectedFlow.Parse).ToList());
            var compiled = await PolicyFiles.CompileAsync(path, checkOwnership: true, cancellationToken);
            var selfTest = compiled.Source.Policy.SelfTest.Merge(cliTest);
            string? netns = parse.GetValue(CommonOptions.NetworkNamespace);
            bool json = parse.GetValue(CommonOptions.Output) == "json";
            var state = new SafetyState(netns, compiled.Table.Name);
            var guard = window is { } span ? new ConfirmGuard(state, span) : null;

            await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = netns }, cancellationToken);
            ApplyResult result;
            try
            {
                result = await PolicyApplier.ApplyAsync(nft, compiled, parse.GetValue(retries), Rendering.Rule, guard is null ? null : guard.BeforeCommitAsync, cancellationToken);
            }
            catch
            {
                if (guard is not null)
                    await guard.AbandonAsync(CancellationToken.None);
                throw;
            }
            new Output(json).Applied(compiled, result);

            if (!selfTest.IsEmpty && !await SelfTestRunner.RunAsync(nft, compiled.Table.Name, netns, selfTest, parse.GetValue(inconclusive) == "pass", json ? Console.Error : Console.Out, cancellationToken))
            {
                string restored = await Restorer.RestoreAsync(nft, TableSnapshot.Of(compiled.Table.Family, compiled.Table.Name, result.Previous),
                    result.Commit.GenerationAfter, cancellationToken);
                if (guard is not null)
                    await guard.AbandonAsync(cancellationToken);
                Console.Error.WriteLine($"netlinkfence: self-test failed: {restored}");
                return ExitCodes.SelfTestFailed;
            }
            if (guard is null)
                await SavePreviousAsync(state, TableSnapshot.Of(compiled.Table.Family, compiled.Table.Name, result.Previous), cancellationToken);
            else
                (json ? Console.Error : Console.Out).WriteLine($"not confirmed yet: run 'netlinkfence confirm{(netns is null ? "" : " --netns " + netns)}' within {window!.Value.TotalSeconds:0.#}s, "
                    + $"or the previous table comes back at {DateTimeOffset.Now + window:HH:mm:ss}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>Keeps the replaced table for <c>rollback</c>, unless an unconfirmed apply already holds the rollback point.</summary>
    private static async Task SavePreviousAsync(SafetyState state, TableSnapshot previous, CancellationToken cancellationToken)
    {
        try
        {
            using (await state.LockAsync(cancellationToken))
            {
                if (state.ReadPending() is null)
                    state.WriteSnapshot(previous);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or StateFileException)
        {
            Console.Error.WriteLine($"netlinkfence: warning: could not save the previous table for 'rollback' in {SafetyState.Directory}: {e.Message}");
        }
    }
}
