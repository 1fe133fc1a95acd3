using System.Net;
using NetlinkFence.Policy;
using static NetlinkFence.Tests.Policy.PolicyTestSupport;

namespace NetlinkFence.Tests.Policy;

/// <summary>
/// Random edits of the example: the loader either loads or throws <see cref="PolicyException"/> with located,
/// fixable diagnostics; never another exception (YamlDotNet throws InvalidOperationException and
/// ArgumentException on some malformed input), and whatever loads never holds an entry that matches nothing or
/// everything, and compiles.
/// </summary>
public sealed class PolicyLoaderFuzzTests
{
    private const string Alphabet = "[]{}:-,$#&*!|>'\"\n \t/.0123456789abcxyz%?@`\\\u00e9\uFEFF\0";

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Mutated_example_fails_only_with_located_diagnostics(int seed)
    {
        string text = File.ReadAllText(ExamplePath);
        var rng = new Random(seed);
        var dns = new FakeDns(new Dictionary<string, IPAddress[]>());
        int loaded = 0;
        for (int i = 0; i < 5000; i++)
        {
            var chars = text.ToList();
            for (int edits = rng.Next(1, 6); edits > 0; edits--)
            {
                int pos = rng.Next(chars.Count);
                switch (rng.Next(3))
                {
                    case 0: chars.RemoveAt(pos); break;
                    case 1: chars.Insert(pos, Alphabet[rng.Next(Alphabet.Length)]); break;
                    default: chars[pos] = Alphabet[rng.Next(Alphabet.Length)]; break;
                }
            }
            string mutant = new(chars.ToArray());
            EgressPolicy policy;
            try
            {
                policy = PolicyLoader.Load(mutant, FileName);
            }
            catch (PolicyException e)
            {
                int lines = mutant.Split('\n').Length;
                Assert.NotEmpty(e.Diagnostics);
                Assert.All(e.Diagnostics, d =>
                {
                    Assert.InRange(d.Location.Line, 1, lines);
                    Assert.True(d.Location.Column >= 1, d.ToString());
                    Assert.NotEmpty(d.Fix);
                    Assert.NotEmpty(d.Code);
                });
                continue;
            }
            loaded++;
            Assert.All(policy.Egress, entry =>
            {
                Assert.NotEmpty(entry.Peers);
                Assert.True(entry.Tcp.Count + entry.Udp.Count > 0);
            });
            Assert.All(policy.Input, entry => Assert.True(entry.Tcp.Count + entry.Udp.Count > 0));
            try
            {
                PolicyCompiler.Compile(ResolvedPolicy.ResolveAsync(policy, dns).GetAwaiter().GetResult());
            }
            catch (PolicyException e)
            {
                Assert.All(e.Diagnostics, d => Assert.Equal("unresolved-host", d.Code));
            }
            PolicyLinter.Lint(policy);
        }
        Assert.InRange(loaded, 1, 4999);
    }

    [Theory]
    [InlineData("version: 1\nlog:\n  rate: [\n10/second]\n", 3, 9)]   // a flow list continued without indentation
    [InlineData("version: 1\nhosts:\n  : 203.0.113.7\n", 3, 4)]        // an empty key (YamlDotNet places it after the indent)
    public void Inputs_that_crash_yamldotnet_are_syntax_errors(string yaml, int line, int column)
    {
        var d = Only(yaml, "yaml-syntax", line, column);
        Assert.Contains("not valid YAML", d.Message);
    }
}
