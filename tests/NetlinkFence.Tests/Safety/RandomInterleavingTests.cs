using System.Globalization;
using NetlinkFence.Tests.TestSupport;
using Xunit.Abstractions;

namespace NetlinkFence.Tests.Safety;

/// <summary>
/// The proof: random sequences of apply, apply --confirm-within 2s, confirm, rollback, SIGTERM and SIGKILL of the
/// waiter, another table added or removed with nft, and pauses (so deadlines pass), 4 × 50 steps, each case in its
/// own namespace, in parallel. A model predicts every command's exit code and what its output says; the one event the
/// model cannot time, the waiter's deadline, is read off the state under the state's own lock (the waiter fires under
/// it too), so "before or after this command" is decided by what the command printed. After every step the namespace
/// must hold exactly the table the model says (one some successful command left there, or none only when a rollback
/// of a first apply asked for it) and the other tool's table exactly as that tool left it.
/// Seed: NETLINKFENCE_PROOF_SEED, else random; printed.
/// </summary>
public sealed class RandomInterleavingTests(ITestOutputHelper output)
{
    private const int Steps = 50;
    private const int NoTable = -1;

    /// <summary>Policies told apart by one port: 0 → none of these, 1 → 8443, 2 → 9443, 3 → 7443.</summary>
    private static readonly string[] Ports = ["", "8443", "9443", "7443"];
    private static readonly string[] Policies = Ports.Select(p => SafetyPolicies.Write(SafetyPolicies.Text(p.Length == 0 ? "[443]" : $"[443, {p}]"))).ToArray();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void EveryInterleavingLeavesATableSomeCommandLeftAndEveryOutputTellsTheTruth(int @case)
    {
        int seed = Environment.GetEnvironmentVariable("NETLINKFENCE_PROOF_SEED") is { Length: > 0 } s ? int.Parse(s, CultureInfo.InvariantCulture) : Random.Shared.Next();
        output.WriteLine($"seed {seed} (case {@case}; replay: NETLINKFENCE_PROOF_SEED={seed} and this case)");
        var random = new Random(unchecked(seed + @case));
        using var ns = TestNamespace.Create();
        var model = new Model();
        var trace = new List<string>();
        try
        {
            for (int step = 0; step < Steps; step++)
            {
                Observe(ns, model); // did the waiter fire since the last look?
                string op = Step(ns, model, random);
                trace.Add(op);
                Check(ns, model, op); // observes too, under the lock it checks under
            }
        }
        catch
        {
            output.WriteLine("steps: " + string.Join(" | ", trace));
            throw;
        }
        finally
        {
            // Leave no waiter behind.
            if (model.Pending is { Alive: true })
                CliRunner.Run($"confirm --netns {ns.Name}");
        }
        output.WriteLine("steps: " + string.Join(" | ", trace));
    }

    private sealed class Model
    {
        public int Live = NoTable;
        public int? Snapshot; // null: no saved table; NoTable: "there was none"
        public PendingModel? Pending;
        public bool Foreign;
    }

    private sealed record PendingModel(bool Alive);

    private static string Step(TestNamespace ns, Model model, Random random)
    {
        int roll = random.Next(100);
        int policy = random.Next(Policies.Length);
        string at = $"--netns {ns.Name}";
        switch (roll)
        {
            case < 16:
            {
                var r = CliRunner.Run($"apply {Policies[policy]} {at}");
                if (model.Pending is { } pending && r.ExitCode == 2)
                {
                    Assert.Contains("nothing was changed", r.Stderr);
                    Assert.Contains(pending.Alive ? "waiting for confirmation" : "is gone", r.Stderr);
                    return $"apply {policy}: refused";
                }
                Assert.True(r.ExitCode == 0, $"apply {policy}: exit {r.ExitCode}: {r.Stdout}{r.Stderr}");
                Fired(model, before: model.Pending is { Alive: true }, "");
                Assert.True(model.Pending is null, "a plain apply succeeded while an unconfirmed apply (waiter gone) was pending");
                model.Snapshot = model.Live;
                model.Live = policy;
                return $"apply {policy}";
            }
            case < 36:
            {
                var r = CliRunner.Run($"apply {Policies[policy]} {at} --confirm-within 2s");
                Assert.True(r.ExitCode == 0, $"apply {policy} --confirm-within: exit {r.ExitCode}: {r.Stdout}{r.Stderr}");
                Assert.Contains("not confirmed yet", r.Stdout);
                bool tookOver = r.Stdout.Contains("took over the pending rollback", StringComparison.Ordinal);
                if (!tookOver)
                    Fired(model, before: model.Pending is { Alive: true }, "no takeover though a confirmation was pending");
                Assert.Equal(model.Pending is not null, tookOver);
                if (!tookOver)
                    model.Snapshot = model.Live;
                model.Live = policy;
                model.Pending = new PendingModel(Alive: true);
                return $"apply {policy} --confirm-within 2s{(tookOver ? " (took over)" : "")}";
            }
            case < 46:
            {
                var r = CliRunner.Run($"confirm {at}");
                if (r.ExitCode == 0)
                {
                    Assert.True(model.Pending is { Alive: true }, $"confirm claimed to cancel a rollback: {r.Stdout}");
                    Assert.Contains("is cancelled", r.Stdout);
                    model.Pending = null;
                    return "confirm";
                }
                Assert.True(r.ExitCode == 1, $"confirm: exit {r.ExitCode}: {r.Stdout}{r.Stderr}");
                if (r.Stderr.Contains("no rollback left to cancel", StringComparison.Ordinal))
                {
                    Assert.True(model.Pending is { Alive: false }, "confirm said the waiter was gone");
                    model.Pending = null;
                    return "confirm: waiter was gone";
                }
                Assert.Contains("nothing to confirm", r.Stderr);
                Fired(model, before: model.Pending is { Alive: true }, "confirm found nothing though a confirmation was pending");
                Assert.Null(model.Pending);
                return "confirm: nothing";
            }
            case < 56:
            {
                var r = CliRunner.Run($"rollback {at}");
                if (r.ExitCode == 1)
                {
                    Assert.Contains("nothing to roll back", r.Stderr);
                    Fired(model, before: model.Pending is { Alive: true }, "rollback found nothing though a confirmation was pending");
                    Assert.Null(model.Snapshot);
                    return "rollback: nothing";
                }
                Assert.True(r.ExitCode == 0, $"rollback: exit {r.ExitCode}: {r.Stdout}{r.Stderr}");
                Assert.NotNull(model.Snapshot);
                Assert.Contains(model.Snapshot == NoTable ? "removed table" : "restored table", r.Stdout);
                Assert.Equal(model.Pending is { Alive: true }, r.Stdout.Contains("is cancelled", StringComparison.Ordinal));
                Assert.Equal(model.Pending is { Alive: false }, r.Stdout.Contains("never did", StringComparison.Ordinal));
                model.Live = model.Snapshot.Value;
                model.Snapshot = null;
                model.Pending = null;
                return "rollback";
            }
            case < 66 when model.Pending is { Alive: true }:
            {
                bool kill = roll >= 61;
                if (WaiterPid(ns) is { } pid)
                {
                    TestNamespace.TryRun("kill", $"-{(kill ? "KILL" : "TERM")} {pid}");
                    Assert.True(WaiterProcess.Ended(pid), $"waiter {pid} did not end after SIG{(kill ? "KILL" : "TERM")}");
                }
                if (kill && PendingExists(ns))
                {
                    model.Pending = new PendingModel(Alive: false);
                    return "SIGKILL waiter";
                }
                Fired(model, before: true, "");
                return kill ? "SIGKILL waiter (it had fired)" : "SIGTERM waiter";
            }
            case < 80:
                ns.Nft(model.Foreign ? "delete table inet foreign" : "add table inet foreign");
                model.Foreign = !model.Foreign;
                return model.Foreign ? "nft add foreign" : "nft delete foreign";
            default:
                Thread.Sleep(random.Next(300, 1500));
                return "pause";
        }
    }

    /// <summary>The waiter fired (before the command, when <paramref name="before"/>): the saved table is back, nothing pending or saved.</summary>
    private static void Fired(Model model, bool before, string otherwise)
    {
        if (!before)
        {
            Assert.True(model.Pending is not { Alive: true }, otherwise);
            return;
        }
        model.Live = model.Snapshot ?? throw new InvalidOperationException("a pending rollback without a saved table");
        model.Snapshot = null;
        model.Pending = null;
    }

    /// <summary>Under the state's lock (the waiter fires under it): a live waiter's pending file gone means it fired.</summary>
    private static void Observe(TestNamespace ns, Model model)
    {
        if (model.Pending is { Alive: true } && !PendingExists(ns))
            Fired(model, before: true, "");
    }

    private static void Check(TestNamespace ns, Model model, string op)
    {
        using (Lock(ns))
        {
            // Observe again under this same lock: the waiter fires under it, so it cannot fire between look and check.
            if (model.Pending is { Alive: true } && !File.Exists(ConfirmWaiterTests.Stem(ns) + ".pending"))
                Fired(model, before: true, "");
            string tables = ns.Nft("list tables");
            Assert.Equal(model.Foreign, tables.Contains("table inet foreign", StringComparison.Ordinal));
            if (model.Live == NoTable)
            {
                Assert.True(!tables.Contains("table inet netlinkfence", StringComparison.Ordinal), $"after {op}: expected no table: {tables}");
                return;
            }
            string table = ns.Nft("list table inet netlinkfence");
            int live = Ports.Select((p, i) => (p, i)).Where(x => x.p.Length > 0 && table.Contains(x.p, StringComparison.Ordinal)).Select(x => x.i).DefaultIfEmpty(0).Single();
            Assert.True(live == model.Live, $"after {op}: expected policy {model.Live}, live is {live}");
        }
    }

    private static bool PendingExists(TestNamespace ns)
    {
        using (Lock(ns))
            return File.Exists(ConfirmWaiterTests.Stem(ns) + ".pending");
    }

    private static int? WaiterPid(TestNamespace ns)
    {
        using (Lock(ns))
        {
            string path = ConfirmWaiterTests.Stem(ns) + ".pending";
            if (!File.Exists(path))
                return null;
            string? line = File.ReadAllLines(path).FirstOrDefault(l => l.StartsWith("waiter=", StringComparison.Ordinal));
            return line is null ? null : int.Parse(line["waiter=".Length..line.IndexOf('@')], CultureInfo.InvariantCulture);
        }
    }

    /// <summary>The state's lock, as the CLI takes it (an exclusive flock).</summary>
    private static FileStream Lock(TestNamespace ns)
    {
        Directory.CreateDirectory(WaiterProcess.StateDirectory);
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(ConfirmWaiterTests.Stem(ns) + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 3000)
            {
                Thread.Sleep(10);
            }
        }
    }
}
