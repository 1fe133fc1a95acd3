using NetlinkFence.Policy.Import;

namespace NetlinkFence.Tests.Import;

/// <summary>The tokenizer reads words the way iptables-restore does (iptables/xshared.c add_param_to_argv).</summary>
public sealed class IptablesTokenizerTests
{
    private static List<string> Words(string line) => IptablesTokenizer.Split(line, out _)!.Select(t => t.Text).ToList();

    [Fact]
    public void Escapes_inside_quotes_are_taken_literally()
    {
        // Exactly what iptables-nft-save 1.8.9 printed for the comment: ssh "mgmt" it's \ back
        Assert.Equal(["--comment", "ssh \"mgmt\" it's \\ back", "-j"], Words("--comment \"ssh \\\"mgmt\\\" it\\'s \\\\ back\" -j"));
    }

    [Fact]
    public void A_closing_quote_ends_the_word_and_an_empty_quote_is_an_empty_word()
    {
        Assert.Equal(["a", "b"], Words("\"a\"b"));
        Assert.Equal(["x", "", "y"], Words("x \"\" y"));
        Assert.Equal(["abcdef"], Words("abc\"def\""));
    }

    [Fact]
    public void Outside_quotes_backslash_and_single_quote_are_ordinary_and_tabs_separate()
    {
        Assert.Equal(["a\\b", "'c", "d'"], Words("a\\b\t 'c   d'"));
        Assert.Equal([1, 5, 12], IptablesTokenizer.Split("-A  OUTPUT \"x y\"", out _)!.Select(t => t.Column).ToList());
    }

    [Fact]
    public void An_unclosed_quote_is_reported_at_its_column()
    {
        Assert.Null(IptablesTokenizer.Split("-A OUTPUT -m comment --comment \"abc -j ACCEPT", out int column));
        Assert.Equal(32, column);
    }

    [Fact]
    public void Comments_with_every_escaped_character_come_back_from_real_iptables_save_unchanged()
    {
        // iptables-nft-restore and iptables-nft-save (Debian's iptables package) in a throwaway namespace: the
        // tokenizer must read back what iptables itself wrote.
        string comment = "a \"quoted\" it's back\\slash $NOT_A_VAR tab\there";
        string escaped = comment.Replace("\\", "\\\\").Replace("\"", "\\\"");
        string rules = $"*filter\n:OUTPUT DROP [0:0]\n-A OUTPUT -d 203.0.113.50/32 -p tcp -m tcp --dport 443 -m comment --comment \"{escaped}\" -j ACCEPT\nCOMMIT\n";
        string file = Path.Combine(Path.GetTempPath(), $"nlf-import-{Guid.NewGuid():N}.rules");
        File.WriteAllText(file, rules);
        try
        {
            var (code, stdout, stderr) = TestSupport.TestNamespace.TryRun("unshare", $"-n sh -c \"iptables-nft-restore < {file} && iptables-nft-save\"");
            Assert.True(code == 0, stderr);
            string saved = stdout.Split('\n').Single(l => l.StartsWith("-A OUTPUT", StringComparison.Ordinal));
            var tokens = Words(saved);
            Assert.Equal(comment, tokens[tokens.IndexOf("--comment") + 1]);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
