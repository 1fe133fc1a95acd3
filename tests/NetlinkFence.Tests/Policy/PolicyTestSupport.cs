using System.Net;
using NetlinkFence.Policy;

namespace NetlinkFence.Tests.Policy;

/// <summary>Helpers shared by the policy tests: the repository's example, a resolver that never does DNS, positions.</summary>
internal static class PolicyTestSupport
{
    public const string FileName = "p.yaml";

    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (System.IO.File.Exists(Path.Combine(dir.FullName, "NetlinkFence.sln")))
                    return dir.FullName;
            throw new InvalidOperationException("repository root not found");
        }
    }

    public static string ExamplePath => Path.Combine(RepoRoot, "examples", "ironclaw-agent.yaml");

    /// <summary>Loads <paramref name="yaml"/> and expects failure.</summary>
    public static PolicyException Fails(string yaml) => Assert.Throws<PolicyException>(() => PolicyLoader.Load(yaml, FileName));

    /// <summary>Expects exactly one diagnostic with <paramref name="code"/> at <paramref name="line"/>:<paramref name="column"/>.</summary>
    public static PolicyDiagnostic Only(string yaml, string code, int line, int column)
    {
        var e = Fails(yaml);
        var d = Assert.Single(e.Diagnostics);
        Assert.Equal(code, d.Code);
        Assert.Equal(Severity.Error, d.Severity);
        Assert.Equal(new SourceLocation(FileName, line, column), d.Location);
        Assert.False(string.IsNullOrWhiteSpace(d.Fix), "every error says what would fix it");
        Assert.StartsWith($"{FileName}:{line}:{column}: error: ", d.ToString());
        return d;
    }

    /// <summary>1-based line and column of the first occurrence of <paramref name="token"/> (occurrence <paramref name="nth"/>).</summary>
    public static (int Line, int Column) Pos(string text, string token, int nth = 1)
    {
        int index = -1;
        for (int i = 0; i < nth; i++)
        {
            index = text.IndexOf(token, index + 1, StringComparison.Ordinal);
            Assert.True(index >= 0, $"'{token}' not in the test text");
        }
        int line = 1 + text[..index].Count(c => c == '\n');
        int lineStart = index == 0 ? 0 : text.LastIndexOf('\n', index - 1) + 1;
        int column = index - lineStart + 1;
        return (line, column);
    }

    /// <summary>A resolver that fails the test if anything is looked up in DNS.</summary>
    public sealed class NoDns : IHostResolver
    {
        public Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, CancellationToken cancellationToken) =>
            throw new Xunit.Sdk.XunitException($"DNS lookup of '{host}' attempted: tests never use real DNS");
    }

    /// <summary>A resolver with fixed answers.</summary>
    public sealed class FakeDns(Dictionary<string, IPAddress[]> answers) : IHostResolver
    {
        public List<string> Asked { get; } = [];

        public Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, CancellationToken cancellationToken)
        {
            Asked.Add(host);
            return Task.FromResult<IReadOnlyList<IPAddress>>(answers.TryGetValue(host, out var a) ? a : []);
        }
    }
}
