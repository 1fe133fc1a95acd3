using NetlinkFence.Policy;
using static NetlinkFence.Tests.Import.ImportTestSupport;

namespace NetlinkFence.Tests.Import;

/// <summary>What iptables-restore would refuse is bad input: every error located, nothing imported.</summary>
public sealed class IptablesParserTests
{
    private static PolicyDiagnostic Only(PolicyException e, string code)
    {
        var d = Assert.Single(e.Diagnostics);
        Assert.Equal(code, d.Code);
        Assert.False(string.IsNullOrWhiteSpace(d.Fix));
        return d;
    }

    [Fact]
    public void Unexpanded_shell_variables_are_located_errors_naming_each_variable()
    {
        var e = Assert.Throws<PolicyException>(() => ImportFile("seed-egress.rules"));
        Assert.Equal(2, e.Diagnostics.Count);
        Assert.All(e.Diagnostics, d => Assert.Equal("undefined-shell-variable", d.Code));
        string[] lines = File.ReadAllLines(PathOf("seed-egress.rules"));
        int ironclaw = Array.FindIndex(lines, l => l.StartsWith("-A", StringComparison.Ordinal) && l.Contains("$IRONCLAW_IP")) + 1;
        int repo = Array.FindIndex(lines, l => l.StartsWith("-A", StringComparison.Ordinal) && l.Contains("${REPO_IPS}")) + 1;
        Assert.Equal(new SourceLocation("seed-egress.rules", ironclaw, lines[ironclaw - 1].IndexOf('$') + 1), e.Diagnostics[0].Location);
        Assert.Contains("$IRONCLAW_IP", e.Diagnostics[0].Message);
        Assert.Contains("--define IRONCLAW_IP=", e.Diagnostics[0].Fix);
        Assert.Equal(new SourceLocation("seed-egress.rules", repo, lines[repo - 1].IndexOf('$') + 1), e.Diagnostics[1].Location);
        Assert.Contains("$REPO_IPS", e.Diagnostics[1].Message);
    }

    [Fact]
    public void A_defined_variable_that_is_not_an_address_is_an_error_at_its_use()
    {
        var e = Fails(Filter("-A OUTPUT -d $TARGET -p tcp --dport 443 -j ACCEPT"), new Dictionary<string, string> { ["TARGET"] = "not-an-ip!" });
        var d = Only(e, "iptables-bad-value");
        Assert.Equal(new SourceLocation("r.rules", FirstRuleLine, 14), d.Location);
        Assert.Contains("$TARGET", d.Message);
    }

    [Fact]
    public void A_truncated_file_without_commit_is_refused_at_its_last_line()
    {
        var d = Only(Fails("*filter\n:OUTPUT DROP [0:0]\n-A OUTPUT -o lo -j ACCEPT\n"), "iptables-missing-commit");
        Assert.Equal(3, d.Location.Line);
        Assert.Contains("truncated", d.Message);
    }

    [Fact]
    public void An_unknown_table_is_refused_where_it_is_named()
    {
        var d = Only(Fails("*firewall\n:OUTPUT DROP [0:0]\nCOMMIT\n"), "iptables-unknown-table");
        Assert.Equal(new SourceLocation("r.rules", 1, 2), d.Location);
    }

    [Fact]
    public void A_jump_to_a_missing_chain_is_refused_at_the_chain_name()
    {
        var d = Only(Fails(Filter("-A OUTPUT -p tcp -j WEBB")), "iptables-missing-chain");
        Assert.Equal(new SourceLocation("r.rules", FirstRuleLine, 21), d.Location);
        Assert.Contains("WEBB", d.Message);
    }

    [Fact]
    public void A_loop_of_jumps_is_refused()
    {
        string rules = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\n:A - [0:0]\n:B - [0:0]\n-A OUTPUT -j A\n-A A -j B\n-A B -j A\nCOMMIT\n";
        var e = Fails(rules);
        Assert.Contains(e.Diagnostics, d => d.Code == "iptables-jump-loop" && d.Location.Line == 9);
    }

    [Fact]
    public void Values_iptables_refuses_are_errors_with_their_column()
    {
        Assert.Equal(new SourceLocation("r.rules", FirstRuleLine, 26), Only(Fails(Filter("-A OUTPUT -p tcp --dport 443:80 -j ACCEPT")), "iptables-bad-value").Location);
        Assert.Equal(new SourceLocation("r.rules", FirstRuleLine, 14), Only(Fails(Filter("-A OUTPUT -d 300.1.2.3 -j ACCEPT")), "iptables-bad-value").Location);
        Assert.Contains("IPv6", Only(Fails(Filter("-A OUTPUT -d 2001:db8::1 -p tcp --dport 1 -j ACCEPT")), "iptables-bad-value").Message);
        Only(Fails(Filter("-A OUTPUT --dport 443 -j ACCEPT")), "iptables-bad-value");
        Only(Fails(Filter("-A OUTPUT -m state --state NEWISH -j ACCEPT")), "iptables-bad-value");
    }

    [Fact]
    public void An_unclosed_quote_is_an_error_not_a_rule_without_target()
    {
        // iptables-restore itself reads the rest of the line as the comment and loads a rule that accepts nothing.
        var d = Only(Fails(Filter("-A OUTPUT -p tcp --dport 443 -m comment --comment \"web -j ACCEPT")), "iptables-unclosed-quote");
        Assert.Equal(new SourceLocation("r.rules", FirstRuleLine, 51), d.Location);
    }

    [Fact]
    public void Text_that_is_not_iptables_save_is_refused_line_by_line()
    {
        var e = Fails("hello world\nthis is not a ruleset\n");
        Assert.Equal([1, 2], e.Diagnostics.Select(d => d.Location.Line));
        Assert.All(e.Diagnostics, d => Assert.Equal("iptables-syntax", d.Code));
        Only(Fails(""), "iptables-no-table");
        Only(Fails("*filter\n-I OUTPUT 1 -j ACCEPT\nCOMMIT\n"), "iptables-syntax");
    }

    [Fact]
    public void Random_bytes_are_refused_with_a_location_and_without_echoing_them()
    {
        var random = new Random(13);
        var bytes = new byte[64 * 1024];
        random.NextBytes(bytes);
        string file = Path.Combine(Path.GetTempPath(), $"nlf-import-{Guid.NewGuid():N}.rules");
        File.WriteAllBytes(file, bytes);
        try
        {
            var e = Assert.Throws<PolicyException>(() => NetlinkFence.Policy.Import.IptablesImporter.ReadFile(file));
            var d = Assert.Single(e.Diagnostics);
            Assert.Equal("iptables-not-text", d.Code);
            Assert.True(d.Location.Line >= 1);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Every_error_of_a_file_is_listed_at_once()
    {
        var e = Fails(Filter("-A OUTPUT -d $A -j ACCEPT\n-A OUTPUT -p tcp --dport 99999 -j ACCEPT\n-A OUTPUT -j NOWHERE"));
        Assert.Equal(["undefined-shell-variable", "iptables-bad-value", "iptables-missing-chain"], e.Diagnostics.Select(d => d.Code));
    }
}
