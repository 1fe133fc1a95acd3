using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>Text or JSON output of the verbs (JSON written by hand: no reflection, AOT-safe).</summary>
internal sealed class Output(bool json)
{
    public void Applied(CompiledPolicy compiled, ApplyResult result)
    {
        var commit = result.Commit;
        if (json)
        {
            WriteJson(w =>
            {
                w.WriteString("table", compiled.Table.Name);
                w.WriteBoolean("committed", true);
                w.WriteNumber("generation", commit.GenerationAfter);
                w.WriteNumber("milliseconds", commit.Elapsed.TotalMilliseconds);
                w.WriteNumber("messages", commit.Messages);
                w.WriteNumber("bytes", commit.Bytes);
                w.WriteNumber("attempts", result.Attempts);
                w.WriteString("applied_by", compiled.Table.Comment);
                if (result.Previous is { } replaced) // null: the replaced table named no build; absent: there was none
                    w.WriteString("replaced_applied_by", replaced.Table.Comment);
                AppliedChanges.WriteJson(w, "changes", result.Changes);
            });
            return;
        }
        Console.WriteLine(AppliedChanges.CreatedTable(result.Changes) ? $"created table inet {compiled.Table.Name} (it did not exist)"
            : result.Changes.Count == 0 ? $"table inet {compiled.Table.Name} already matched the policy; re-applied it atomically"
            : $"table inet {compiled.Table.Name}: {result.Changes.Count} change(s) from the live table to the policy ({AppliedChanges.Legend}):");
        foreach (string line in AppliedChanges.Lines(result.Changes))
            Console.WriteLine("  " + line);
        Console.WriteLine($"committed {Count(compiled.Rules.Count, "rule")} and {Count(compiled.Sets.Sum(s => s.Elements.Count), "set element")} in one transaction "
            + $"({commit.Messages} messages, {commit.Bytes} bytes) in {commit.Elapsed.TotalMilliseconds:0.00} ms; generation {commit.GenerationBefore} -> {commit.GenerationAfter}; verified by reading it back");
    }

    /// <summary><c>1 rule</c>, <c>2 rules</c>: a count with its noun (regular plurals only).</summary>
    public static string Count(int count, string noun) => $"{count} {noun}{(count == 1 ? "" : "s")}";

    /// <summary>A lint finding or a policy error: severity, code, where, what and the fix.</summary>
    public static void WriteDiagnostic(Utf8JsonWriter w, PolicyDiagnostic diagnostic)
    {
        w.WriteStartObject();
        w.WriteString("severity", diagnostic.Severity.ToString().ToLowerInvariant());
        w.WriteString("code", diagnostic.Code);
        w.WriteString("file", diagnostic.Location.File);
        w.WriteNumber("line", diagnostic.Location.Line);
        w.WriteNumber("column", diagnostic.Location.Column);
        w.WriteString("message", diagnostic.Message);
        w.WriteString("fix", diagnostic.Fix);
        w.WriteEndObject();
    }

    /// <summary><c>apply --if-changed</c> on a table that already matched: nothing was committed, and what stays says why it matters.</summary>
    public void Unchanged(CompiledPolicy compiled, TableContents live, AuditState? audit, string path)
    {
        if (json)
        {
            WriteJson(w =>
            {
                w.WriteString("table", compiled.Table.Name);
                w.WriteBoolean("committed", false);
                w.WriteNumber("generation", live.Generation);
                w.WriteString("applied_by", live.Table.Comment); // the table stays, so does the build it names
                AppliedChanges.WriteJson(w, "changes", []);
                if (audit is not null)
                    WriteAudit(w, audit);
            });
            return;
        }
        Console.WriteLine($"table inet {compiled.Table.Name} already matches {path} (generation {live.Generation}); nothing committed (--if-changed): "
            + "its counters and open windows stay");
        if (audit is not null)
            Console.WriteLine($"AUDIT: {audit.Banner}");
    }

    /// <summary>
    /// The <c>audit</c> object of <c>show</c>, <c>status</c> and <c>verify</c>: one shape everywhere (the daemon's
    /// answer has the same keys), so a fleet's tooling reads <c>.audit.remaining_seconds</c> whichever verb it ran.
    /// </summary>
    public static void WriteAudit(Utf8JsonWriter w, AuditState audit)
    {
        w.WriteStartObject("audit");
        w.WriteString("table", audit.Table);
        w.WriteString("banner", audit.Banner);
        if (audit.Remaining is { } remaining)
            w.WriteNumber("remaining_seconds", Math.Round(remaining.TotalSeconds, 3));
        else
            w.WriteNull("remaining_seconds");
        if (audit.Ends is { } ends)
            w.WriteString("ends", ends);
        else
            w.WriteNull("ends");
        w.WriteEndObject();
    }

    public static void WriteJson(Action<Utf8JsonWriter> body) => Console.WriteLine(Json(body));

    /// <summary>One JSON object whose members <paramref name="body"/> writes, indented or on one line.</summary>
    public static string Json(Action<Utf8JsonWriter> body, bool indented = true)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, WriterOptions(indented)))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>One JSON line for a <c>watch</c> record (source-generated, AOT-safe), escaped as <see cref="Json"/> is.</summary>
    public static string JsonLine<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, WriterOptions(indented: false)))
            JsonSerializer.Serialize(writer, value, typeInfo);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    // Only what JSON itself requires is escaped, so a message reads "window entry 'debian'" in the raw line, not
    // \u0027debian\u0027, and names stay searchable with grep. The default encoder's extra escapes guard JSON pasted
    // into HTML, which this output never is.
    private static JsonWriterOptions WriterOptions(bool indented) => new() { Indented = indented, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
