using System.Text.Json;

namespace NetlinkFence.Tests.TestSupport;

/// <summary>One sample of a Prometheus text file.</summary>
public sealed record PrometheusSample(string Name, Dictionary<string, string> Labels, double Value);

/// <summary>
/// Reads a Prometheus text file with the Prometheus project's own Python client (Debian's python3-prometheus-client,
/// which .ci/run installs): an independent parser, the oracle for what <c>--prometheus</c> writes.
/// </summary>
public static class PrometheusParser
{
    private const string Script = """
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        with open(sys.argv[1]) as f:
            families = list(text_string_to_metric_families(f.read()))
        print(json.dumps([[s.name, s.labels, s.value] for fam in families for s in fam.samples]))
        """;

    private static readonly Lazy<string> ScriptPath = new(() =>
    {
        string path = TestScratch.PathFor("prometheus-parse", ".py");
        File.WriteAllText(path, Script);
        return path;
    });

    /// <summary>The file's samples; fails the test, with the file, when the parser refuses it.</summary>
    public static List<PrometheusSample> Parse(string file)
    {
        // Debian's python, where the package installs the module (a pyenv shim may come first on PATH).
        var (exit, stdout, stderr) = TestNamespace.TryRun("/usr/bin/python3", $"{ScriptPath.Value} {file}");
        Assert.True(exit == 0, $"the Prometheus parser refused {file}: {stderr}\n{(File.Exists(file) ? File.ReadAllText(file) : "(no file)")}");
        using var json = JsonDocument.Parse(stdout);
        return json.RootElement.EnumerateArray().Select(s => new PrometheusSample(s[0].GetString()!,
            s[1].EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!), s[2].GetDouble())).ToList();
    }

    /// <summary>The value of the one sample named <paramref name="name"/> with these labels (others may be there too).</summary>
    public static double Value(this List<PrometheusSample> samples, string name, params (string Key, string Value)[] labels) =>
        samples.Single(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value)).Value;
}
