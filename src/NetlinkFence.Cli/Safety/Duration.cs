using System.Globalization;

namespace NetlinkFence.Cli;

/// <summary>Durations on the command line: <c>60s</c>, <c>500ms</c>, <c>5m</c>, or a number of seconds.</summary>
internal static class Duration
{
    public static TimeSpan Parse(string text)
    {
        string t = text.Trim();
        (string number, double scale) = t.EndsWith("ms", StringComparison.Ordinal) ? (t[..^2], 0.001)
            : t.EndsWith('s') ? (t[..^1], 1.0)
            : t.EndsWith('m') ? (t[..^1], 60.0)
            : t.EndsWith('h') ? (t[..^1], 3600.0)
            : (t, 1.0);
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value <= 0 || value * scale > 24 * 3600)
            throw new UsageException($"'{text}' is not a duration; write 60s, 500ms or 5m (at most 24h)");
        return TimeSpan.FromSeconds(value * scale);
    }
}
