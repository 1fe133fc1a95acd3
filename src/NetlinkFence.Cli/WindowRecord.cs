using System.Globalization;
using System.Text.RegularExpressions;

namespace NetlinkFence.Cli;

/// <summary>
/// One line of the window log (<see cref="WindowRecords"/>) as <c>status</c> and <c>history</c> read it back: when, the
/// uid that asked, what happened (open, reopen, shorten, close, expire, permanent), to which entry, and in words.
/// </summary>
internal sealed partial record WindowRecord(DateTimeOffset At, uint Uid, string Verb, string Entry, string Detail)
{
    /// <summary>Whether the change left the window open.</summary>
    public bool LeftOpen => Verb is "open" or "reopen" or "shorten";

    /// <summary>The line as a person reads it (stderr, the journal, <c>history</c>): <c>open mirror (uid 0): for 30m, ...</c>.</summary>
    public string Summary => $"{Verb} {Entry} (uid {Uid}): {Detail}";

    /// <summary>
    /// The window log's line for this record of table <paramref name="table"/> in <paramref name="target"/> (no newline);
    /// <see cref="Read"/> reads it back.
    /// </summary>
    public string LogLine(string table, TargetNamespace target) => $"{Time} uid={Uid} {Verb} {Entry}{Scope(table, target)}{Detail}";

    /// <summary>When, as the log writes it: UTC to the millisecond.</summary>
    public string Time => At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>What stands between a line's entry and its detail: the table and the namespace it is of.</summary>
    private static string Scope(string table, TargetNamespace target) => $" table=inet {table} {target.Description}: ";

    /// <summary>The record as JSON properties (<c>history</c>'s records, <c>status</c>'s <c>last_record</c>).</summary>
    public void WriteJson(System.Text.Json.Utf8JsonWriter w)
    {
        w.WriteString("at", At);
        w.WriteNumber("uid", Uid);
        w.WriteString("verb", Verb);
        w.WriteString("entry", Entry);
        w.WriteString("detail", Detail);
    }

    /// <summary>What happened, who asked and when, as <c>status</c> says it.</summary>
    public string Describe()
    {
        string at = At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        return Verb switch
        {
            "open" => $"opened by uid {Uid} at {at}",
            "reopen" => $"opened again by a rollback or a daemon's start (uid {Uid}) at {at}",
            "shorten" => $"shortened by a reload (uid {Uid}) at {at}",
            "expire" => $"closed by the kernel when its time ran out (recorded at {at})",
            "close" => $"closed by uid {Uid} at {at}",
            _ => $"{Verb} by uid {Uid} at {at}",
        };
    }

    /// <summary>
    /// The last record of each entry (<see cref="Read"/>); empty when the log cannot be read: what it adds to
    /// <c>status</c> is a courtesy, never a reason for it to fail.
    /// </summary>
    public static Dictionary<string, WindowRecord> LastOf(TargetNamespace target, string table)
    {
        var last = new Dictionary<string, WindowRecord>(StringComparer.Ordinal);
        try
        {
            foreach (var record in Read(target, table))
                last[record.Entry] = record;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or StateFileException)
        {
        }
        return last;
    }

    /// <summary>
    /// The window log of table <paramref name="table"/> in <paramref name="target"/>, oldest first: lines of an earlier
    /// namespace that had the same inode (they name it) are left out. Empty when there is no log.
    /// </summary>
    /// <exception cref="StateFileException">The state directory or the log cannot be trusted or read.</exception>
    public static List<WindowRecord> Read(TargetNamespace target, string table)
    {
        var records = new List<WindowRecord>();
        var state = new SafetyState(target, table, createDirectory: false);
        byte[]? bytes;
        try
        {
            using var directory = StateDirectory.Open(SafetyState.Directory, create: false);
            bytes = directory.Read(Path.GetFileName(state.WindowLogPath));
        }
        catch (StateFileException e) when (e.DirectoryGone)
        {
            return records;
        }
        string scope = Scope(table, target);
        foreach (string line in System.Text.Encoding.UTF8.GetString(bytes ?? []).Split('\n'))
        {
            int end = line.IndexOf(scope, StringComparison.Ordinal);
            if (end < 0 || Line().Match(line[..end]) is not { Success: true } match
                || !DateTimeOffset.TryParse(match.Groups["at"].ValueSpan, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
                || !uint.TryParse(match.Groups["uid"].ValueSpan, CultureInfo.InvariantCulture, out uint uid))
                continue;
            records.Add(new WindowRecord(at, uid, match.Groups["verb"].Value, match.Groups["entry"].Value, line[(end + scope.Length)..]));
        }
        return records;
    }

    [GeneratedRegex(@"^(?<at>\S+) uid=(?<uid>\d+) (?<verb>[a-z]+) (?<entry>\S+)$")]
    private static partial Regex Line();
}
