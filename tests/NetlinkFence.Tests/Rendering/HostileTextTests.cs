using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Nftables.Rendering;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Rendering;

/// <summary>
/// Strings that reach nft syntax (comments, log prefixes, names, annotation lines) come from whoever wrote them into
/// the kernel. Whatever they hold, the rendered text run by the real <c>nft -f</c> does exactly what the renderer
/// meant, or rendering refuses: it never adds a command.
/// </summary>
public sealed class HostileTextTests
{
    public static TheoryData<string> Hostile =>
    [
        "x\nflush ruleset\n",
        "x\r\ndelete table inet sentinel\n#",
        "x\" ; flush ruleset ; #",
        "a$b",
        "$",
        "a\\",
        "x\n}\n}\ntable inet evil {\n",
        "\u2028flush ruleset",
        "\u0085flush ruleset",
        "\u202eaccept",
        "tab\there",
        "caf\u00e9 ; #",
        "\x1b[2Jhidden",
    ];

    private static Rule AcceptRule(string? comment) =>
        new(NftFamily.Inet, "t", "c", [new ImmediateExpression(Verdict.Accept)], comment);

    private static Rule LogRule(string prefix) =>
        new(NftFamily.Inet, "t", "c", [new LogExpression(prefix), new ImmediateExpression(Verdict.Drop)]);

    private static TableContents Table(IReadOnlyList<Rule> rules, string chain = "c", string? setComment = null, string? tableComment = null) =>
        new(new Table(NftFamily.Inet, "t") { Comment = tableComment },
            [new Chain(NftFamily.Inet, "t", chain)],
            [new SetContents(new NftSet(NftFamily.Inet, "t", "s", [SetKeyType.Ipv4Address]) { Comment = setComment }, [])],
            rules, 1);

    [Theory]
    [MemberData(nameof(Hostile))]
    public void RuleCommentsLogPrefixesAndAnnotationsNeverAddACommand(string text)
    {
        var contents = Table([AcceptRule(text), LogRule(text), AcceptRule("plain")]);
        var annotations = new RenderAnnotations { BeforeRule = _ => [text], BeforeSet = _ => [text] };
        string rendered = new NftRenderer().RenderReplacement(contents, annotations);

        Assert.All(rendered.Split('\n'), line => Assert.True(line.All(c => c is '\t' || (c >= ' ' && c < '\x7f')) || NftSyntax.CanQuote(text),
            $"a line outside a quoted string holds a control or non-ASCII character: {line}"));
        using var ns = TestNamespace.Create();
        ns.Nft("add table inet sentinel");
        var result = TestNamespace.TryRun("ip", $"netns exec {ns.Name} nft -f /dev/stdin", rendered);
        Assert.True(result.ExitCode == 0, rendered + result.Stderr);
        Assert.Equal("table inet sentinel\ntable inet t\n", ns.Nft("list tables"));
        // The set, and only the rules the renderer printed as statements (a refused one is a comment line).
        int statements = rendered.Split('\n').Count(l => l.StartsWith("\t\t", StringComparison.Ordinal) && !l.TrimStart().StartsWith('#'));
        Assert.Equal(statements, ns.Nft("-a list chain inet t c").Split('\n').Count(l => l.Contains("# handle", StringComparison.Ordinal)));
        Assert.Contains("set s", ns.Nft("list table inet t"));
    }

    // Anyone with CAP_NET_ADMIN may have written a table's or a set's comment over netlink: show prints it or refuses, never runs it.
    [Theory]
    [MemberData(nameof(Hostile))]
    public void ATableCommentIsWrittenQuotedOrRefused(string text) =>
        WrittenQuotedOrRefused(Table([], tableComment: text), text, "comment of the table",
            ns => Assert.Equal(1, ns.Nft("list table inet t").Split('\n').Count(l => l.StartsWith("\tcomment ", StringComparison.Ordinal))));

    [Theory]
    [MemberData(nameof(Hostile))]
    public void ASetCommentIsWrittenQuotedOrRefused(string text) =>
        WrittenQuotedOrRefused(Table([], setComment: text), text, "comment of set");

    /// <summary>
    /// The renderer refuses <paramref name="text"/> (naming <paramref name="what"/>, on one line) when nft cannot read it
    /// back; otherwise nft loads the rendering as exactly one table, and <paramref name="then"/> checks more in that namespace.
    /// </summary>
    private static void WrittenQuotedOrRefused(TableContents contents, string text, string what, Action<TestNamespace>? then = null)
    {
        if (!NftSyntax.CanQuote(text))
        {
            var e = Assert.Throws<NftSyntaxException>(() => new NftRenderer().Render(contents));
            Assert.Contains(what, e.Message);
            Assert.DoesNotContain('\n', e.Message);
            return;
        }
        using var ns = TestNamespace.Create();
        var result = TestNamespace.TryRun("ip", $"netns exec {ns.Name} nft -f /dev/stdin", new NftRenderer().Render(contents));
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("table inet t\n", ns.Nft("list tables"));
        then?.Invoke(ns);
    }

    [Theory]
    [InlineData("a b")]
    [InlineData("x {\n}\nflush ruleset\nchain y")]
    [InlineData("\"quoted\"")]
    [InlineData("1abc")]
    [InlineData("jump;accept")]
    public void ANameNftCannotReadIsRefusedWithAMessageOnOneLine(string name)
    {
        var chain = Assert.Throws<NftSyntaxException>(() => new NftRenderer().Render(Table([], chain: name)));
        Assert.StartsWith("chain name \"", chain.Message);
        Assert.DoesNotContain('\n', chain.Message);
        var jump = new Rule(NftFamily.Inet, "t", "c", [new ImmediateExpression(Verdict.JumpTo(name))]);
        Assert.StartsWith("# ", new NftRenderer().RenderRule(jump));
        Assert.DoesNotContain('\n', new NftRenderer().RenderRule(jump));
    }

    [Fact]
    public void CommentTextShowsEveryControlCharacterAsAnEscape()
    {
        Assert.Equal(@"a\nflush ruleset\n\r\t\x1b\x7f\u0085\u2028\u00e9\", NftRenderer.CommentText("a\nflush ruleset\n\r\t\x1b\x7f\u0085\u2028\u00e9\\"));
    }

    [Fact]
    public void ADollarInALogPrefixIsRefusedButNotInAComment()
    {
        Assert.Equal("drop comment \"a$b\"", new NftRenderer().RenderRule(new Rule(NftFamily.Inet, "t", "c", [new ImmediateExpression(Verdict.Drop)], "a$b")));
        string log = new NftRenderer().RenderRule(LogRule("a$b"));
        Assert.Equal("# [ log prefix a$b level 4 ] [ immediate reg 0 drop ] (not nft syntax: log prefix: nft quoted strings have no escape for '$' (nft would expand it as a variable))", log);
    }
}
