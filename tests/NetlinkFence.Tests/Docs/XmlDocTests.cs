using System.Net;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using NetlinkFence.Nftables;

namespace NetlinkFence.Tests.Docs;

/// <summary>
/// The product's XML documentation is generated (so the compiler checks every cref and every public member's
/// comment), and its code examples call only methods and types that exist.
/// </summary>
public sealed partial class XmlDocTests
{
    private static readonly Assembly[] Product = [typeof(RuleBuilder).Assembly, typeof(Interop.NetworkNamespace).Assembly];

    /// <summary>
    /// Without the documentation file the compiler skips every doc-comment check (CS1591, CS1574) without a word:
    /// that happened once, when the switch was set after the SDK had decided there was no documentation file.
    /// </summary>
    [Theory]
    [InlineData("NetlinkFence")]
    [InlineData("NetlinkFence.Interop")]
    [InlineData("NetlinkFence.Cli")]
    public void ProductAssembliesShipTheirDocumentation(string assembly)
    {
        string path = Path.Combine(AppContext.BaseDirectory, assembly + ".xml");
        Assert.True(File.Exists(path), $"{path} is missing: the product project no longer generates its documentation file");
        Assert.Equal(assembly, XDocument.Load(path).Root!.Element("assembly")!.Element("name")!.Value);
    }

    /// <summary>Every <c>.Method(</c> and <c>new Type(</c> in a <c>&lt;code&gt;</c> or <c>&lt;c&gt;</c> example names real API.</summary>
    [Fact]
    public void DocExamplesNameOnlyMethodsAndTypesThatExist()
    {
        var known = Product.Concat([typeof(object).Assembly, typeof(IPAddress).Assembly, typeof(System.Net.Sockets.Socket).Assembly])
            .SelectMany(a => a.GetExportedTypes())
            .SelectMany(t => t.GetMembers().Select(m => m.Name).Append(t.Name))
            .ToHashSet(StringComparer.Ordinal);
        var unknown = new List<string>();
        foreach (var assembly in Product)
        {
            var doc = XDocument.Load(Path.Combine(AppContext.BaseDirectory, assembly.GetName().Name + ".xml"));
            foreach (var member in doc.Descendants("member"))
                foreach (var example in member.Descendants().Where(e => e.Name == "code" || e.Name == "c"))
                    foreach (Match call in Call().Matches(example.Value))
                        if (!known.Contains(call.Groups["name"].Value))
                            unknown.Add($"{member.Attribute("name")!.Value}: {call.Value}");
        }
        Assert.True(unknown.Count == 0, "doc examples name API that does not exist:\n" + string.Join("\n", unknown));
    }

    [GeneratedRegex(@"(?:\.|\bnew\s+)(?<name>[A-Z][A-Za-z0-9]*)\s*\(")]
    private static partial Regex Call();
}
