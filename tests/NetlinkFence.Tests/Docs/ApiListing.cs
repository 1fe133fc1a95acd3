using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace NetlinkFence.Tests.Docs;

/// <summary>
/// The library's public types with their XML summaries, as Markdown: <c>docs/api.md</c> (every type) and the
/// namespace table of README's "Library" section (between marker comments). Made from the built assemblies and
/// their documentation files, so the docs cannot drift from the code (<see cref="ApiListingTests"/>).
/// </summary>
internal static partial class ApiListing
{
    public const string ReadmeBegin = "<!-- library-api:begin (generated: see docs/api.md) -->";
    public const string ReadmeEnd = "<!-- library-api:end -->";
    private const int TypesNamedInReadme = 16;

    public static IReadOnlyList<Assembly> Assemblies { get; } = [typeof(Nftables.RuleBuilder).Assembly, typeof(Interop.NetworkNamespace).Assembly];

    private static IEnumerable<IGrouping<string, Type>> Namespaces() =>
        Assemblies.SelectMany(a => a.GetExportedTypes())
            .OrderBy(t => t.Namespace, StringComparer.Ordinal).ThenBy(Name, StringComparer.Ordinal)
            .GroupBy(t => t.Namespace ?? "");

    public static string ApiMarkdown()
    {
        var summaries = Summaries();
        var text = new StringBuilder();
        text.Append("# NetlinkFence: the public API, type by type\n\n")
            .Append("Generated from the XML documentation of the NetlinkFence and NetlinkFence.Interop packages by\n")
            .Append("`tests/NetlinkFence.Tests/Docs/ApiListing.cs`; `Docs.ApiListingTests` fails when this file differs from the code.\n")
            .Append("Refresh it with `bash scripts/update-public-api.sh` (README \"Library\"). Members and examples: the XML\n")
            .Append("documentation itself (IntelliSense, or the `.xml` beside each assembly in the package).\n");
        foreach (var group in Namespaces())
        {
            text.Append($"\n## {group.Key}\n\n| type | summary |\n|---|---|\n");
            foreach (var type in group)
            {
                summaries.TryGetValue(DocId(type), out string? summary);
                text.Append($"| `{Name(type)}` ({Kind(type)}) | {(summary ?? "").Replace("|", "\\|")} |\n");
            }
        }
        return text.ToString();
    }

    public static string ReadmeTable()
    {
        var text = new StringBuilder("| namespace | public types |\n|---|---|\n");
        foreach (var group in Namespaces())
        {
            var names = group.Select(t => $"`{Name(t)}`").ToList();
            string listed = names.Count <= TypesNamedInReadme ? string.Join(", ", names) : $"{names.Count} types: {string.Join(", ", names.Take(TypesNamedInReadme))}, ...";
            text.Append($"| [`{group.Key}`](docs/api.md#{group.Key.Replace(".", "").ToLowerInvariant()}) | {listed} |\n");
        }
        return text.ToString();
    }

    /// <summary>README with the generated table put between the markers.</summary>
    public static string WithReadmeTable(string readme)
    {
        int begin = readme.IndexOf(ReadmeBegin, StringComparison.Ordinal);
        int end = readme.IndexOf(ReadmeEnd, StringComparison.Ordinal);
        if (begin < 0 || end < begin)
            throw new InvalidOperationException($"README.md has no \"{ReadmeBegin}\" ... \"{ReadmeEnd}\" block");
        return string.Concat(readme.AsSpan(0, begin + ReadmeBegin.Length), "\n", ReadmeTable(), readme.AsSpan(end));
    }

    private static Dictionary<string, string> Summaries()
    {
        var summaries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var assembly in Assemblies)
        {
            var doc = XDocument.Load(Path.Combine(AppContext.BaseDirectory, assembly.GetName().Name + ".xml"));
            foreach (var member in doc.Descendants("member"))
                if (member.Element("summary") is { } summary)
                    summaries[member.Attribute("name")!.Value] = Flatten(summary);
        }
        return summaries;
    }

    /// <summary>One line of Markdown: <c>see cref</c> as the short name, <c>c</c> as code, whitespace collapsed.</summary>
    private static string Flatten(XElement element)
    {
        var text = new StringBuilder();
        foreach (var node in element.Nodes())
            text.Append(node switch
            {
                XText t => t.Value,
                XElement { Name.LocalName: "see" or "seealso" } e when e.Attribute("cref") is { } cref => $"`{ShortName(cref.Value)}`",
                XElement { Name.LocalName: "see" } e when e.Attribute("langword") is { } word => $"`{word.Value}`",
                XElement { Name.LocalName: "paramref" or "typeparamref" } e => $"`{e.Attribute("name")?.Value}`",
                XElement { Name.LocalName: "c" } e => $"`{e.Value}`",
                XElement e => Flatten(e),
                _ => "",
            });
        return Whitespace().Replace(text.ToString(), " ").Trim();
    }

    private static string ShortName(string cref)
    {
        string name = cref.Length > 2 && cref[1] == ':' ? cref[2..] : cref;
        int parameters = name.IndexOf('(');
        if (parameters >= 0)
            name = name[..parameters];
        string[] parts = name.Split('.');
        // A member: Type.Member; a type: its name.
        return cref.StartsWith("T:", StringComparison.Ordinal) || parts.Length < 2 ? Generic().Replace(parts[^1], "") : $"{Generic().Replace(parts[^2], "")}.{parts[^1]}";
    }

    private static string Name(Type type)
    {
        string name = Generic().Replace(type.Name, "");
        if (type.IsGenericTypeDefinition)
            name += "<" + string.Join(", ", type.GetGenericArguments().Select(a => a.Name)) + ">";
        return type.DeclaringType is { } outer ? $"{Name(outer)}.{name}" : name;
    }

    private static string DocId(Type type) => "T:" + (type.FullName ?? type.Name).Replace('+', '.');

    private static string Kind(Type type) => type switch
    {
        { IsEnum: true } => "enum",
        { IsInterface: true } => "interface",
        { IsValueType: true } => "struct",
        _ when typeof(Delegate).IsAssignableFrom(type) => "delegate",
        { IsAbstract: true, IsSealed: true } => "static class",
        _ when type.GetMethod("<Clone>$") is not null => "record",
        { IsAbstract: true } => "abstract class",
        _ => "class",
    };

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"`+\d+$")]
    private static partial Regex Generic();
}
