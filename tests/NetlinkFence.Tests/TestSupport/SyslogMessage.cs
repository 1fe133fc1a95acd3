using System.Globalization;
using System.Text;

namespace NetlinkFence.Tests.TestSupport;

/// <summary>An RFC 5424 line as rsyslog wrote it: header fields, structured data (SD-ID to params), message.</summary>
public sealed record SyslogMessage(int Priority, int Version, string Timestamp, string HostName, string AppName, string ProcId, string MessageId,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Data, string Text)
{
    /// <summary>The denied packets that the <c>UNLOGGED</c> reports among <paramref name="messages"/> count, summed.</summary>
    public static ulong UnloggedCount(IEnumerable<SyslogMessage> messages) => messages.Where(m => m.MessageId == "UNLOGGED")
        .Aggregate(0UL, (sum, m) => sum + ulong.Parse(m.Data["unlogged@32473"]["count"], CultureInfo.InvariantCulture));

    public static SyslogMessage Parse(string line)
    {
        int i = 0;
        if (line[i++] != '<')
            throw new FormatException("no PRI: " + line);
        int close = line.IndexOf('>', i);
        int priority = int.Parse(line.AsSpan(i, close - i), CultureInfo.InvariantCulture);
        i = close + 1;
        string Field()
        {
            int end = line.IndexOf(' ', i);
            if (end < 0)
                throw new FormatException("short header: " + line);
            string value = line[i..end];
            i = end + 1;
            return value;
        }
        int version = int.Parse(Field(), CultureInfo.InvariantCulture);
        string timestamp = Field(), host = Field(), app = Field(), proc = Field(), msgid = Field();
        var data = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        if (line[i] == '-')
        {
            i++;
        }
        else
        {
            while (i < line.Length && line[i] == '[')
            {
                i++;
                int idEnd = line.IndexOfAny([' ', ']'], i);
                string id = line[i..idEnd];
                i = idEnd;
                var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
                while (line[i] == ' ')
                {
                    i++;
                    int eq = line.IndexOf('=', i);
                    string name = line[i..eq];
                    i = eq + 2; // ="
                    var value = new StringBuilder();
                    while (line[i] != '"')
                    {
                        if (line[i] == '\\' && line[i + 1] is '"' or '\\' or ']')
                            i++;
                        value.Append(line[i++]);
                    }
                    i++;
                    parameters[name] = value.ToString();
                }
                if (line[i++] != ']')
                    throw new FormatException("bad SD: " + line);
                data[id] = parameters;
            }
        }
        string text = i < line.Length ? line[(i + (line[i] == ' ' ? 1 : 0))..] : "";
        return new SyslogMessage(priority, version, timestamp, host, app, proc, msgid, data, text.TrimStart('\uFEFF'));
    }
}
