using System.Text.Json;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// The differences between the live table and a policy as the changes applying the policy makes, the way a diff
/// from the live table to the policy reads: <c>+</c> what it adds (in the policy only), <c>-</c> what it removes (in
/// the live table only), <c>~</c> what it changes. <c>verify</c> shows drift the other way round (<c>+</c>: someone
/// added it to the live table), which is what <see cref="TableDifference"/>'s own text says.
/// </summary>
internal static class AppliedChanges
{
    public const string Legend = "+ added, - removed, ~ changed";

    public static string Text(TableDifference difference) => $"{Sign(difference)} {difference.Subject}: {difference.Detail}";

    /// <summary>Whether applying made the table (it did not exist): its one change is the whole table.</summary>
    public static bool CreatedTable(IReadOnlyList<TableDifference> changes) =>
        changes is [{ Kind: DifferenceKind.Missing } only] && only.Subject.StartsWith("table ", StringComparison.Ordinal);

    /// <summary>
    /// The lines that list what an apply changed, at most <paramref name="limit"/> and a count of the rest; none for
    /// a table it created (every line of it would be an addition).
    /// </summary>
    public static IEnumerable<string> Lines(IReadOnlyList<TableDifference> changes, int limit = 50)
    {
        if (CreatedTable(changes))
            yield break;
        foreach (var change in changes.Take(limit))
            yield return Text(change);
        if (changes.Count > limit)
            yield return $"... and {changes.Count - limit} more";
    }

    /// <summary>A JSON array <paramref name="name"/> of <c>{ "action": "add"|"remove"|"change", "subject", "detail" }</c>.</summary>
    public static void WriteJson(Utf8JsonWriter writer, string name, IEnumerable<TableDifference> differences)
    {
        writer.WriteStartArray(name);
        foreach (var difference in differences)
        {
            writer.WriteStartObject();
            writer.WriteString("action", difference.Kind switch { DifferenceKind.Missing => "add", DifferenceKind.Added => "remove", _ => "change" });
            writer.WriteString("subject", difference.Subject);
            writer.WriteString("detail", difference.Detail);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    private static char Sign(TableDifference difference) =>
        difference.Kind switch { DifferenceKind.Missing => '+', DifferenceKind.Added => '-', _ => '~' };
}
