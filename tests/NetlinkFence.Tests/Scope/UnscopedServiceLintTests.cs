using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Scope;

/// <summary>
/// <c>lint</c>'s <c>unscoped-service-entry</c> suggestion: an egress entry without <c>by:</c> named like a service that
/// runs on the host. Pure with a unit list; then the CLI against a systemd-like layout the test builds under cgroup2.
/// </summary>
public sealed class UnscopedServiceLintTests
{
    private const string Yaml = """
        version: 1
        log: { prefix: "EGRESS-DENIED: ", rate: 10/second }
        egress:
          allow:
            - name: chrony
              to: [192.0.2.123]
              udp: [123]
            - name: backup-restic
              to: [192.0.2.20]
              tcp: [443]
            - name: updates
              to: [192.0.2.80]
              tcp: [443]
            - name: scoped-ntp
              to: [192.0.2.124]
              udp: [123]
              by: { unit: ntp.service }
        """;

    private static List<PolicyDiagnostic> Suggestions(params string[] services) =>
        PolicyLinter.Lint(PolicyLoader.Load(Yaml, "svc.yaml"), services).Where(f => f.Code == "unscoped-service-entry").ToList();

    [Fact]
    public void EntryNamedLikeARunningServiceGetsAnInfoSuggestionNamingTheUnit()
    {
        var found = Suggestions("chronyd.service", "restic@daily.service", "apt-daily.service", "ntp.service", "ssh.service");
        Assert.Equal(["chrony", "backup-restic"], found.Select(f => f.Message.Split('\'')[1]));
        Assert.All(found, f => Assert.Equal(Severity.Info, f.Severity));
        var chrony = found[0];
        Assert.Equal(new SourceLocation("svc.yaml", 5, 7), chrony.Location);
        Assert.Contains("chronyd.service runs on this host", chrony.Message, StringComparison.Ordinal);
        Assert.Contains("by: { unit: chronyd.service }", chrony.Fix, StringComparison.Ordinal);
        Assert.Contains("by: { unit: restic@daily.service }", found[1].Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void NoServicesOrUnrelatedServicesOrScopedEntriesGiveNoSuggestion()
    {
        Assert.Empty(Suggestions());
        Assert.Empty(Suggestions("apt-daily.service", "cron.service", "ntp.service", "chrony.socket", "chrony.timer"));
        Assert.Empty(PolicyLinter.Lint(PolicyLoader.Load(Yaml, "svc.yaml")).Where(f => f.Code == "unscoped-service-entry"));
    }

    [Theory]
    [InlineData("chrony", "chrony.service", true)]
    [InlineData("chrony", "chronyd.service", true)]
    [InlineData("Chrony", "chrony.service", true)]
    [InlineData("ntp-chrony", "chrony.service", true)]
    [InlineData("getty", "getty@tty1.service", true)]
    [InlineData("ntp", "chrony.service", false)]
    [InlineData("updates", "apt-daily.service", false)]
    [InlineData("a-db", "db.service", false)] // words shorter than 3 characters are too vague
    [InlineData("chrony", "chrony.socket", false)]
    [InlineData("chrony", "@x.service", false)]
    public void ServiceNamedMatchesOnlyNamesAndWords(string entry, string service, bool expected) =>
        Assert.Equal(expected, PolicyLinter.ServiceNamed(entry, service));

    [Fact]
    public void CliLintSuggestsTheUnitRunningUnderTheUnitRoot()
    {
        using var cgroups = new TestCgroup();
        string unit = $"chrony{Guid.NewGuid().ToString("n")[..6]}.service";
        cgroups.Make("system.slice/" + unit);
        cgroups.Make("system.slice/system-getty.slice/getty@tty1.service");
        var dir = Directory.CreateTempSubdirectory("nlf-lint-svc-");
        try
        {
            string path = Path.Combine(dir.FullName, "policy.yaml");
            File.WriteAllText(path, Yaml.Replace("- name: chrony\n", $"- name: {unit[..^".service".Length]}\n", StringComparison.Ordinal)
                + "\n    - { name: getty, to: [192.0.2.30], tcp: [443] }\n");
            var (exit, stdout, stderr) = TestNamespace.TryRun("env", $"NETLINKFENCE_UNIT_ROOT={cgroups.Root} dotnet {CliRunner.CliPath} lint {path}");
            Assert.True(exit == 0, $"info findings only: exit 0, got {exit}\n{stdout}\n{stderr}");
            Assert.Contains($"add 'by: {{ unit: {unit} }}'", stdout, StringComparison.Ordinal);
            Assert.Contains("add 'by: { unit: getty@tty1.service }'", stdout, StringComparison.Ordinal);
            Assert.Contains("[unscoped-service-entry]", stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("'updates' has no 'by:'", stdout, StringComparison.Ordinal);

            // Without the unit root (no such units on the host's own system.slice) there is nothing to suggest.
            var plain = CliRunner.Run($"lint {path}");
            Assert.DoesNotContain(unit, plain.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
