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
    /// The words of <paramref name="line"/>, or null with <paramref name="unclosedQuoteColumn"/> set when a quote is
    /// never closed (iptables-restore would then read the rest of the line, target included, as that one word).
    /// </summary>
    public static List<IptablesToken>? Split(string line, out int unclosedQuoteColumn)
    {
        unclosedQuoteColumn = 0;
        var tokens = new List<IptablesToken>();
        var word = new StringBuilder();
        int start = -1, quoteColumn = 0;
        bool inQuote = false, escaped = false, quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (inQuote)
            {
                if (escaped)
                {
                    word.Append(c);
                    escaped = false;
                }
                else if (c == '\\')
                {
                    escaped = true;
                }
                else if (c == '"')
                {
                    inQuote = false;
                    End();
                }
                else
                {
                    word.Append(c);
                }
                continue;
            }
            if (c == '"')
            {
                inQuote = quoted = true;
                quoteColumn = i + 1;
                if (start < 0)
                    start = i;
                continue;
            }
            if (c is ' ' or '\t' or '\r' or '\n')
            {
                if (word.Length > 0)
                    End();
                continue;
            }
            if (start < 0)
                start = i;
            word.Append(c);
        }
        if (inQuote)
        {
            unclosedQuoteColumn = quoteColumn;
            return null;
        }
        if (word.Length > 0)
            End();
        return tokens;

        void End()
        {
            tokens.Add(new IptablesToken(word.ToString(), start + 1, quoted));
            word.Clear();
            start = -1;
            quoted = false;
        }
    }
}
