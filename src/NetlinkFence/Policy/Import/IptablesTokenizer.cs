using System.Collections.Frozen;
using System.Text;

namespace NetlinkFence.Policy.Import;

/// <summary>
/// Splits a rule line exactly as iptables-restore does (iptables/xshared.c, add_param_to_argv): words are separated
/// by spaces and tabs; a double quote opens a quoted part in which a backslash takes the next character literally;
/// the closing quote ends the word (so <c>"a"b</c> is two words, as iptables reads it). Outside quotes a backslash and
/// a single quote are ordinary characters. iptables-save writes exactly this form (xtables_save_string: quotes around
/// any value with a character other than letters, digits, '_' and '-', and a backslash before <c>" \ '</c>).
/// </summary>
internal static class IptablesTokenizer
{
    /// <summary>
    /// The words iptables-save writes on nearly every line, shared instead of allocated again for each of a large
    /// file's hundred thousand rules.
    /// </summary>
    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> Common = new[]
    {
        "-A", "INPUT", "OUTPUT", "FORWARD", "-p", "tcp", "udp", "icmp", "ipv6-icmp", "-m", "-s", "-d", "-i", "-o", "lo",
        "--dport", "--sport", "--dports", "--sports", "multiport", "state", "--state", "conntrack", "--ctstate",
        "ESTABLISHED", "RELATED,ESTABLISHED", "ESTABLISHED,RELATED", "NEW", "comment", "--comment", "limit", "--limit",
        "--limit-burst", "-j", "ACCEPT", "DROP", "REJECT", "LOG", "RETURN", "--log-prefix", "--reject-with", "53", "80",
        "443", "22", "!",
    }.ToFrozenSet(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>
    /// The words of <paramref name="line"/>, or null with <paramref name="unclosedQuoteColumn"/> set when a quote is
    /// never closed (iptables-restore would then read the rest of the line, target included, as that one word).
    /// </summary>
    public static List<IptablesToken>? Split(string line, out int unclosedQuoteColumn)
    {
        var tokens = new List<IptablesToken>();
        return Split(line, tokens, out unclosedQuoteColumn) ? tokens : null;
    }

    /// <summary>
    /// The words of <paramref name="line"/> into <paramref name="tokens"/> (cleared first: the parser reuses one list
    /// for every line), or false with <paramref name="unclosedQuoteColumn"/> set when a quote is never closed.
    /// </summary>
    public static bool Split(string line, List<IptablesToken> tokens, out int unclosedQuoteColumn)
    {
        unclosedQuoteColumn = 0;
        tokens.Clear();
        var text = line.AsSpan();
        int i = 0;
        // A plain loop: words are a few characters long, too short for a vectorised search to pay for its set-up.
        while (i < text.Length)
        {
            if (IsSeparator(text[i]))
            {
                i++;
                continue;
            }
            int start = i;
            while (i < text.Length && !IsSeparator(text[i]) && text[i] != '"')
                i++;
            if (i == text.Length || text[i] != '"')
            {
                tokens.Add(new IptablesToken(Word(text[start..i]), start + 1, false));
                continue;
            }
            // A quoted part: ends the word at its closing quote; a backslash inside takes the next character as is.
            int quote = i;
            StringBuilder? unescaped = null; // only when a backslash is met: most quoted words (comments) have none
            for (i = quote + 1; ; i++)
            {
                if (i == text.Length || text[i] == '\\' && i + 1 == text.Length)
                {
                    unclosedQuoteColumn = quote + 1;
                    return false;
                }
                if (text[i] == '"')
                    break;
                if (text[i] == '\\')
                {
                    unescaped ??= new StringBuilder().Append(text[start..quote]).Append(text[(quote + 1)..i]);
                    i++;
                }
                unescaped?.Append(text[i]);
            }
            string word = unescaped?.ToString() ?? string.Concat(text[start..quote], text[(quote + 1)..i]);
            tokens.Add(new IptablesToken(word, start + 1, true));
            i++;
        }
        return true;
    }

    private static bool IsSeparator(char c) => c is ' ' or '\t' or '\r' or '\n';

    private static string Word(ReadOnlySpan<char> text) => Common.TryGetValue(text, out string? shared) ? shared : text.ToString();
}
