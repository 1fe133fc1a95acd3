using System.Globalization;
using System.Text;

namespace NetlinkFence.Policy;

/// <summary>
/// Durations as a policy writes them (<c>window: 30m</c>): whole numbers with a unit, <c>h</c>, <c>m</c>, <c>s</c>,
/// largest unit first, each unit at most once (<c>1h30m</c>). The policy library's own parser: the CLI's duration
/// options are a different grammar (fractions, milliseconds) with a different error type.
/// </summary>
public static class WindowDuration
{
    /// <summary>The duration <paramref name="text"/> stands for, or null when it is not one (range is not checked).</summary>
    public static TimeSpan? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > 32)
            return null;
        var span = text.AsSpan().Trim();
        long total = 0;
        int lastRank = int.MaxValue;
        while (span.Length > 0)
        {
            int digits = 0;
            while (digits < span.Length && char.IsAsciiDigit(span[digits]))
                digits++;
            if (digits == 0 || digits > 9 || digits == span.Length)
                return null;
            int rank = span[digits] switch { 'h' => 2, 'm' => 1, 's' => 0, _ => -1 };
            if (rank < 0 || rank >= lastRank)
                return null;
            lastRank = rank;
            long value = long.Parse(span[..digits], NumberStyles.None, CultureInfo.InvariantCulture);
            total += value * (rank switch { 2 => 3600, 1 => 60, _ => 1 });
            span = span[(digits + 1)..];
        }
        return TimeSpan.FromSeconds(total);
    }

    /// <summary>The shortest text <see cref="Parse"/> reads back as <paramref name="duration"/> (whole seconds; e.g. <c>1h30m</c>).</summary>
    public static string Format(TimeSpan duration)
    {
        long seconds = (long)Math.Ceiling(duration.TotalSeconds);
        if (seconds <= 0)
            return "0s";
        var text = new StringBuilder();
        if (seconds >= 3600)
            text.Append(CultureInfo.InvariantCulture, $"{seconds / 3600}h");
        if (seconds % 3600 >= 60)
            text.Append(CultureInfo.InvariantCulture, $"{seconds % 3600 / 60}m");
        if (seconds % 60 > 0)
            text.Append(CultureInfo.InvariantCulture, $"{seconds % 60}s");
        return text.ToString();
    }
}
