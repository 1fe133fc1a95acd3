using System.Diagnostics;
using System.Net;
using System.Text;
using NetlinkFence.Policy;
using Xunit.Abstractions;
using static NetlinkFence.Tests.Policy.PolicyTestSupport;

namespace NetlinkFence.Tests.Policy;

/// <summary>
/// Hostile policy files (issue 5, "Bad input"): truncations, wrong types, huge numbers, deep nesting, invalid
/// UTF-8, alias and variable "billion laughs", 10 MB files. The loader either loads them or throws
/// <see cref="PolicyException"/> with located diagnostics; never another exception, and it allocates a bounded
/// amount per input byte (no exponential or quadratic blow-up). Complements PolicyLoaderFuzzTests (random
/// character edits of the example).
/// </summary>
public sealed class PolicyLoaderHostileInputTests(ITestOutputHelper output)
{
    /// <summary>Allocation allowed per case: a fixed allowance plus this many bytes per input byte.</summary>
    private const long FixedAllowance = 64L << 20, PerInputByte = 300;

    private static string Example => File.ReadAllText(ExamplePath);

    private long _maxAllocated, _maxAllocatedInput;
    private TimeSpan _slowest;

    /// <summary>Loads one hostile input; checks the outcome and the allocation bound. True when it loaded.</summary>
    private bool Check(byte[] utf8, string what)
    {
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        bool loaded;
        try
        {
            var policy = PolicyLoader.Load(utf8, FileName);
            loaded = true;
            // Whatever loads also compiles (or names the host it could not resolve).
            try
            {
                PolicyCompiler.Compile(ResolvedPolicy.ResolveAsync(policy, new FakeDns(new Dictionary<string, IPAddress[]>())).GetAwaiter().GetResult());
            }
            catch (PolicyException e)
            {
                Assert.All(e.Diagnostics, d => Assert.Equal("unresolved-host", d.Code));
            }
        }
        catch (PolicyException e)
        {
            loaded = false;
            int lines = 1 + utf8.Count(b => b == (byte)'\n');
            Assert.NotEmpty(e.Diagnostics);
            Assert.All(e.Diagnostics, d =>
            {
                Assert.Equal(FileName, d.Location.File);
                Assert.True(d.Location.Line >= 1 && d.Location.Line <= lines, $"{what}: line out of range: {d}");
                Assert.True(d.Location.Column >= 1, $"{what}: {d}");
                Assert.False(string.IsNullOrWhiteSpace(d.Fix), $"{what}: {d}");
                Assert.False(string.IsNullOrWhiteSpace(d.Code), $"{what}: {d}");
            });
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"{what}: {e.GetType().Name} instead of PolicyException: {e}");
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        Assert.True(allocated <= FixedAllowance + PerInputByte * utf8.Length,
            $"{what}: {utf8.Length} input bytes allocated {allocated >> 20} MiB");
        if (allocated > _maxAllocated)
            (_maxAllocated, _maxAllocatedInput) = (allocated, utf8.Length);
        if (sw.Elapsed > _slowest)
            _slowest = sw.Elapsed;
        return loaded;
    }

    private bool Check(string text, string what) => Check(Encoding.UTF8.GetBytes(text), what);

    private void Report(string name, int cases, int loaded) =>
        output.WriteLine($"{name}: {cases} cases, {loaded} loaded, {cases - loaded} refused with located diagnostics; "
            + $"most allocated {_maxAllocated >> 10} KiB (for {_maxAllocatedInput} input bytes); slowest {_slowest.TotalMilliseconds:0} ms");

    [Fact]
    public void Every_truncation_of_the_example()
    {
        byte[] bytes = Encoding.UTF8.GetBytes(Example);
        int loaded = 0;
        for (int length = 0; length <= bytes.Length; length++)
            loaded += Check(bytes[..length], $"truncated to {length}") ? 1 : 0;
        Assert.InRange(loaded, 1, bytes.Length);
        Report("truncations", bytes.Length + 1, loaded);
    }

    /// <summary>Values of the wrong type, huge or odd numbers and YAML tags in place of every scalar of the example.</summary>
    [Fact]
    public void Every_value_replaced_by_a_wrong_type_or_a_huge_number()
    {
        string[] replacements =
        [
            "[]", "{}", "[[1]]", "{a: b}", "[{a: b}]", "~", "null", "''", "\"\"", "true", "-1", "0", "65536", "1e400", ".inf", "-.nan", "0x1BB",
            "99999999999999999999999999999999", "-99999999999999999999999999999999", "18446744073709551616", "4294967296",
            "!!binary aGVsbG8=", "!!int 443", "!!str 443", "!custom x", "&a 1", "*undefined_alias", "? complex", "|\n  block", ">\n  folded",
            "\"\\u0000\"", "\"\\x7f\"", "$", "$$", "$ironclaw$ironclaw", "1.2.3.4.5", "256.1.1.1", "::::", "1.2.3.4/33", "::/129", "10.0.0.0/-1",
            "443-", "-443", "443-80", "1-99999999999999999999", "10/second/minute", "99999999999999999999/second", "0/second", "1/fortnight",
            new string('a', 70_000), "\"" + new string('\\', 10_000) + "\"",
        ];
        string example = Example;
        // Every "key: value" and "[value]" position of the example.
        var positions = new List<(int Start, int Length)>();
        int lineStart = 0;
        foreach (string line in example.Split('\n'))
        {
            int colon = line.IndexOf(": ", StringComparison.Ordinal);
            if (!line.TrimStart().StartsWith('#') && colon >= 0 && colon + 2 < line.Length)
                positions.Add((lineStart + colon + 2, line.Length - colon - 2));
            lineStart += line.Length + 1;
        }
        int cases = 0, loaded = 0;
        foreach (var (start, length) in positions)
        {
            foreach (string replacement in replacements)
            {
                string mutant = example[..start] + replacement + example[(start + length)..];
                loaded += Check(mutant, $"value at {start} replaced by {replacement[..Math.Min(20, replacement.Length)]}") ? 1 : 0;
                cases++;
            }
        }
        Assert.True(positions.Count >= 10);
        Report("wrong types and huge numbers", cases, loaded);
    }

    [Theory]
    [InlineData("[", "]")]
    [InlineData("{a: ", "}")]
    [InlineData("- ", "")]
    [InlineData("&x [", "]")]
    public void Deep_nesting_is_a_located_error(string open, string close)
    {
        int cases = 0;
        foreach (int depth in new[] { 63, 64, 65, 1000, 100_000 })
        {
            var text = new StringBuilder("version: 1\negress:\n  allow: ");
            for (int i = 0; i < depth; i++)
                text.Append(open);
            text.Append("x");
            for (int i = 0; i < depth; i++)
                text.Append(close);
            text.Append('\n');
            Assert.False(Check(text.ToString(), $"{depth} x '{open}'"));
            cases++;
        }
        // Block-style nesting, one level per line.
        var block = new StringBuilder("version: 1\negress:\n  allow:\n");
        for (int i = 0; i < 5000; i++)
            block.Append(new string(' ', 4 + i % 200)).Append("k").Append(i).Append(":\n");
        Assert.False(Check(block.ToString(), "block nesting"));
        Report($"deep nesting '{open}'", cases + 1, 0);
    }

    [Fact]
    public void Invalid_utf8_anywhere_is_located()
    {
        byte[] example = Encoding.UTF8.GetBytes(Example);
        byte[][] bad = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80], [0xfe, 0xfe, 0xff]];
        var rng = new Random(5);
        int cases = 0;
        for (int i = 0; i < 2000; i++)
        {
            int at = rng.Next(example.Length + 1);
            byte[] insert = bad[rng.Next(bad.Length)];
            byte[] mutant = [.. example[..at], .. insert, .. example[at..]];
            Assert.False(Check(mutant, $"invalid UTF-8 at byte {at}"));
            cases++;
        }
        Report("invalid UTF-8", cases, 0);
    }

    /// <summary>
    /// "Billion laughs": YAML aliases that would expand exponentially if the loader copied them, and variables
    /// referenced many times over (a variable of N values referenced M times is N*M destinations).
    /// </summary>
    [Fact]
    public void Alias_and_variable_bombs_are_bounded()
    {
        int cases = 0, loaded = 0;

        // Classic alias bomb: 9 levels of 10 aliases each (10^9 leaves if expanded), used where a list is read.
        var bomb = new StringBuilder("version: 1\ndefine:\n  l0: &l0 [203.0.113.1, 203.0.113.2, 203.0.113.3, 203.0.113.4, 203.0.113.5, 203.0.113.6, 203.0.113.7, 203.0.113.8, 203.0.113.9, 203.0.113.10]\n");
        for (int level = 1; level < 9; level++)
            bomb.Append($"  l{level}: &l{level} [{string.Join(", ", Enumerable.Repeat($"*l{level - 1}", 10))}]\n");
        foreach (string use in new[] { "[*l8]", "*l8", "*l1", "[*l0, *l0]" })
        {
            string text = bomb + $"egress:\n  allow:\n    - name: a\n      to: {use}\n      tcp: [443]\n";
            loaded += Check(text, $"alias bomb used as {use}") ? 1 : 0;
            cases++;
        }

        // Aliases of one big scalar, many times: the same string, not copies of it.
        string big = new('x', 100_000);
        string scalarBomb = $"version: 1\nlog:\n  prefix: &p \"{big}\"\ndefine:\n  v: [{string.Join(", ", Enumerable.Repeat("*p", 10_000))}]\n";
        loaded += Check(scalarBomb, "alias of a 100 kB scalar 10,000 times") ? 1 : 0;
        cases++;

        // Variable bomb: 20,000 addresses referenced 20,000 times would be 400 million destinations.
        foreach (int n in new[] { 1000, 20_000 })
        {
            var text = new StringBuilder("version: 1\ndefine:\n  many: [");
            text.AppendJoin(", ", Enumerable.Range(0, n).Select(i => $"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"));
            text.Append("]\negress:\n  allow:\n    - name: a\n      to: [");
            text.AppendJoin(", ", Enumerable.Repeat("$many", n));
            text.Append("]\n      tcp: [443]\n    - name: b\n      to: $many\n      tcp: [");
            text.AppendJoin(", ", Enumerable.Repeat("$many", n));
            text.Append("]\nhosts:\n  h.example: [");
            text.AppendJoin(", ", Enumerable.Repeat("$many", n));
            text.Append("]\n");
            loaded += Check(text.ToString(), $"variable of {n} values referenced {n} times") ? 1 : 0;
            cases++;
        }
        Report("alias and variable bombs", cases, loaded);
    }

    [Fact]
    public void Ten_megabyte_files()
    {
        int cases = 0, loaded = 0;

        // A valid 10 MB policy: 600,000 destinations in one entry.
        var valid = new StringBuilder("version: 1\negress:\n  allow:\n    - name: many\n      tcp: [443]\n      to:\n");
        for (int i = 0; valid.Length < 10 << 20; i++)
            valid.Append("        - 10.").Append(i >> 16 & 255).Append('.').Append(i >> 8 & 255).Append('.').Append(i & 255).Append('\n');
        var sw = Stopwatch.StartNew();
        loaded += Check(valid.ToString(), "10 MB of destinations") ? 1 : 0;
        output.WriteLine($"10 MB valid policy: {sw.ElapsedMilliseconds} ms");
        cases++;

        // 10 MB of errors: every line a bad address (the report stays bounded).
        string bad = valid.ToString().Replace("- 10.", "- 300.");
        loaded += Check(bad, "10 MB of bad addresses") ? 1 : 0;
        cases++;

        // 10 MB of random bytes, of random YAML punctuation, one 10 MB line, one 10 MB scalar.
        var rng = new Random(10);
        byte[] noise = new byte[10 << 20];
        rng.NextBytes(noise);
        loaded += Check(noise, "10 MB of random bytes") ? 1 : 0;
        const string punctuation = "[]{}:-,&*!|>'\"\n #?@`\\abc0123456789 ";
        var yamlish = new StringBuilder(10 << 20);
        while (yamlish.Length < 10 << 20)
            yamlish.Append(punctuation[rng.Next(punctuation.Length)]);
        loaded += Check(yamlish.ToString(), "10 MB of YAML punctuation") ? 1 : 0;
        loaded += Check("version: 1\ntable: " + new string('t', 10 << 20) + "\n", "a 10 MB scalar") ? 1 : 0;
        loaded += Check("version: 1\ndefine:\n  v: [" + string.Concat(Enumerable.Repeat("1,", 5 << 20)) + "]\n", "a 10 MB flow list") ? 1 : 0;
        cases += 4;

        // Over the limit: refused before parsing.
        var huge = new byte[PolicyLoader.MaxFileBytes + 1];
        huge.AsSpan().Fill((byte)' ');
        Assert.False(Check(huge, "over the size limit"));
        cases++;
        Report("10 MB files", cases, loaded);
    }
}
