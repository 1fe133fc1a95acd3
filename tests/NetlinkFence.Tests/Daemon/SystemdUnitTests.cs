using NetlinkFence.Tests.TestSupport;
using Xunit;

namespace NetlinkFence.Tests.Daemon;

/// <summary>
/// packaging/systemd/netlinkfence.service passes <c>systemd-analyze verify</c> (which needs no running systemd) in a
/// private root holding the unit, an executable /usr/sbin/netlinkfence, so ExecStart and ExecReload resolve
/// as on an installed host. verify exits 0 on unknown keys and values it ignores, so any line it prints is a failure.
/// <c>--man=no</c>: the unit's <c>Documentation=man:netlinkfence(8)</c> exists only where the Debian package is installed
/// (tests/packaging/deb-test.sh verifies the installed unit with its man page).
/// </summary>
public sealed class SystemdUnitTests
{
    private static readonly string Units = Path.Combine(Kernel.ApplyPolicyTests.RepositoryRoot(), "packaging", "systemd");
    private static readonly string Unit = Path.Combine(Units, "netlinkfence.service");

    [Fact]
    public void TheUnitPassesSystemdAnalyzeVerify()
    {
        var (exit, output) = Verify(File.ReadAllText(Unit));
        Assert.True(exit == 0 && output.Length == 0, $"systemd-analyze verify exited {exit}:\n{output}");
    }

    [Fact]
    public void TheReadmesMetricsDropInPassesVerifyWithTheUnit()
    {
        // README's "Metrics for a fleet" block, as a user pastes it into systemctl edit.
        string readme = File.ReadAllText(Path.Combine(Kernel.ApplyPolicyTests.RepositoryRoot(), "README.md"));
        const string header = "# /etc/systemd/system/netlinkfence.service.d/metrics.conf\n";
        int start = readme.IndexOf(header, StringComparison.Ordinal);
        Assert.True(start >= 0, "README lost the metrics drop-in");
        string dropIn = readme[(start + header.Length)..readme.IndexOf("```", start, StringComparison.Ordinal)];
        Assert.Contains("--prometheus /var/lib/prometheus/node-exporter/netlinkfence.prom", dropIn);

        var (exit, output) = Verify(File.ReadAllText(Unit), dropIn);
        Assert.True(exit == 0 && output.Length == 0, $"systemd-analyze verify exited {exit}:\n{output}");
        (_, output) = Verify(File.ReadAllText(Unit), dropIn.Replace("ReadWritePaths", "ReadWritePath", StringComparison.Ordinal));
        Assert.Contains("Unknown key 'ReadWritePath'", output); // the drop-in is read, not ignored
    }

    [Fact]
    public void TheMetricsTimerAndItsServicePassVerifyAndWriteWhereNodeExporterReads()
    {
        string timer = File.ReadAllText(Path.Combine(Units, "netlinkfence-metrics.timer")), service = File.ReadAllText(Path.Combine(Units, "netlinkfence-metrics.service"));
        var (exit, output) = VerifyUnits(WithSystemTargets(new() { ["netlinkfence-metrics.timer"] = timer, ["netlinkfence-metrics.service"] = service }));
        Assert.True(exit == 0 && output.Length == 0, $"systemd-analyze verify exited {exit}:\n{output}");
        (_, output) = VerifyUnits(WithSystemTargets(new() { ["netlinkfence-metrics.timer"] = timer.Replace("OnUnitActiveSec", "OnUnitActivSec", StringComparison.Ordinal), ["netlinkfence-metrics.service"] = service }));
        Assert.Contains("Unknown key 'OnUnitActivSec'", output); // the timer is read, not ignored

        // The README's path, writable under ProtectSystem=strict, and only started where node_exporter's directory is.
        var lines = service.Split('\n').Select(l => l.Trim()).ToHashSet();
        foreach (string required in new[]
        {
            "Type=oneshot", "ExecStart=/usr/sbin/netlinkfence stats --prometheus /var/lib/prometheus/node-exporter/netlinkfence.prom",
            "ReadWritePaths=/var/lib/prometheus/node-exporter", "ConditionPathIsDirectory=/var/lib/prometheus/node-exporter",
            "ProtectSystem=strict", "CapabilityBoundingSet=CAP_NET_ADMIN", "NoNewPrivileges=yes",
        })
            Assert.Contains(required, lines);
        Assert.Contains("OnUnitActiveSec=30s", timer.Split('\n').Select(l => l.Trim()));
        Assert.DoesNotContain("[Install]", service); // started by its timer, never on its own
    }

    [Fact]
    public void VerifyCatchesAMisspeltKey()
    {
        // The check above would pass a unit whose hardening systemd silently ignores, were it not for the output check.
        var (_, output) = Verify(File.ReadAllText(Unit).Replace("ProtectSystem=strict", "ProtectSytem=strict"));
        Assert.Contains("Unknown key 'ProtectSytem'", output);
    }

    [Fact]
    public void TheUnitStartsBeforeTheNetworkAndIsHardened()
    {
        var lines = File.ReadAllLines(Unit).Select(l => l.Trim()).ToHashSet();
        foreach (string required in new[]
        {
            "Type=notify", "ExecStart=/usr/sbin/netlinkfence run /etc/netlinkfence/policy.yaml", "ExecReload=/usr/sbin/netlinkfence reload --policy /etc/netlinkfence/policy.yaml",
            "DefaultDependencies=no", "Before=network-pre.target shutdown.target", "Wants=network-pre.target",
            "CapabilityBoundingSet=CAP_NET_ADMIN", "AmbientCapabilities=CAP_NET_ADMIN", "NoNewPrivileges=yes", "ProtectSystem=strict",
            "ProtectHome=yes", "PrivateTmp=yes", "RestrictAddressFamilies=AF_NETLINK AF_UNIX AF_INET AF_INET6",
            "RuntimeDirectory=netlinkfence", "RuntimeDirectoryMode=0700",
        })
            Assert.Contains(required, lines);
    }

    /// <summary>verify's exit code and output; systemd-analyze (package systemd) is installed by .ci/run.</summary>
    private static (int Exit, string Output) Verify(string unitText, string? dropIn = null) =>
        VerifyUnits(new() { ["netlinkfence.service"] = unitText }, dropIn);

    /// <summary>
    /// <paramref name="units"/> and stand-ins for the targets a unit with default dependencies requires or orders
    /// itself against (systemd's own, which the private root lacks; verify fails on a required unit it cannot find).
    /// </summary>
    private static Dictionary<string, string> WithSystemTargets(Dictionary<string, string> units)
    {
        foreach (string target in new[] { "sysinit.target", "basic.target", "shutdown.target", "timers.target" })
            units[target] = "[Unit]\nDescription=stand-in for systemd's own " + target + "\n";
        return units;
    }

    /// <summary>verify of <paramref name="units"/> (file name to text), installed together under one root.</summary>
    private static (int Exit, string Output) VerifyUnits(Dictionary<string, string> units, string? dropIn = null)
    {
        Assert.True(TestNamespace.TryRun("sh", "-c \"command -v systemd-analyze\"").ExitCode == 0,
            "systemd-analyze is not installed (package systemd; .ci/run installs it): the unit cannot be verified");
        var root = Directory.CreateTempSubdirectory("nlf-unit-");
        try
        {
            string directory = Path.Combine(root.FullName, "etc", "systemd", "system");
            Directory.CreateDirectory(directory);
            Directory.CreateDirectory(Path.Combine(root.FullName, "usr", "sbin"));
            string binary = Path.Combine(root.FullName, "usr", "sbin", "netlinkfence");
            File.WriteAllText(binary, "#!/bin/sh\n");
            File.SetUnixFileMode(binary, (UnixFileMode)0x1ED); // 0755
            foreach (var (name, text) in units)
                File.WriteAllText(Path.Combine(directory, name), text);
            if (dropIn is not null)
            {
                Directory.CreateDirectory(Path.Combine(directory, "netlinkfence.service.d"));
                File.WriteAllText(Path.Combine(directory, "netlinkfence.service.d", "metrics.conf"), dropIn);
            }
            var (exit, stdout, stderr) = TestNamespace.TryRun("systemd-analyze", $"verify --man=no --root={root.FullName} {string.Join(' ', units.Keys)}");
            return (exit, (stdout + stderr).Trim());
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }
}
