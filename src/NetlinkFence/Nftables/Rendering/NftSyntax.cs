using System.Globalization;
using System.Text;

namespace NetlinkFence.Nftables.Rendering;

/// <summary>
/// The one place that decides how text reaches nft syntax. Strings come from policies but also from the kernel,
/// where anyone with CAP_NET_ADMIN in the namespace may have written them, so none is trusted: a <c>#</c> comment
/// must never end early (a newline in it would make the rest of the line a command for <c>nft -f</c>), and a
/// quoted string or a name must parse as exactly one token.
/// </summary>
/// <remarks>
/// What nft 1.0.6 accepts, checked with <c>nft -c -f</c>: a quoted string has no escapes (a backslash is a literal
/// backslash, <c>"</c> cannot occur in it); in a <c>log prefix</c> a <c>$</c> starts a variable (<c>"a$b"</c> is
/// refused as "unknown identifier 'b'", and <c>\$</c> does not help); table, chain and set names cannot be quoted
/// at all (only <c>[A-Za-z_.][A-Za-z0-9/_.-]*</c>).
/// </remarks>
internal static class NftSyntax
{
    /// <summary>
    /// <paramref name="text"/> as the body of a <c>#</c> comment line: printable ASCII only. Control characters and
    /// everything outside ASCII print as visible escapes (<c>\n</c>, <c>\x1b</c>, <c>\u00e9</c>), so the line ends
    /// where the renderer ends it and nowhere else. A backslash stays as it is: escaping is then idempotent (a line
    /// built from already escaped text is not escaped twice), at the price of <c>\n</c> in the text and a newline
    /// looking alike, which is fine for a comment meant for people.
    /// </summary>
    public static string Comment(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            switch (c)
            {
                case '\n': escaped.Append(@"\n"); break;
                case '\r': escaped.Append(@"\r"); break;
                case '\t': escaped.Append(@"\t"); break;
                case < ' ' or '\x7f': escaped.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"); break;
                case > '\x7f': escaped.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"); break;
                default: escaped.Append(c); break;
            }
        }
        return escaped.ToString();
    }

    /// <summary>
    /// <paramref name="text"/> in nft's double quotes. Throws <see cref="NftSyntaxException"/> for what nft cannot
    /// read back as the same string: a <c>"</c>, control characters, Unicode format characters and line or paragraph
    /// separators (e.g. bidirectional overrides, U+2028: they make the line read differently from what it is), and <c>$</c> where nft expands variables
    /// (<paramref name="expandsVariables"/>, e.g. a log prefix).
    /// </summary>
    public static string Quote(string text, string what, bool expandsVariables = false)
    {
        foreach (char c in text)
        {
            if (!Quotable(c, expandsVariables))
                throw new NftSyntaxException(what, text, $"nft quoted strings have no escape for {Describe(c)}");
        }
        return "\"" + text + "\"";
    }

    /// <summary>True when <see cref="Quote"/> accepts <paramref name="text"/>.</summary>
    public static bool CanQuote(string text, bool expandsVariables = false) => text.All(c => Quotable(c, expandsVariables));

    private static bool Quotable(char c, bool expandsVariables) =>
        c != '"' && !char.IsControl(c) && !(expandsVariables && c == '$')
        && CharUnicodeInfo.GetUnicodeCategory(c) is not (UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator);

    /// <summary>
    /// A table, chain or set name, which nft cannot quote: returned as it is when it is one nft identifier
    /// (<c>[A-Za-z_.][A-Za-z0-9/_.-]*</c>), else <see cref="NftSyntaxException"/>.
    /// </summary>
    public static string Name(string name, string what)
    {
        if (!IsName(name))
            throw new NftSyntaxException($"{what} name", name, "nft names are letters, digits and _ . / -, starting with a letter, _ or .");
        return name;
    }

    /// <summary>True when <paramref name="name"/> is one nft identifier.</summary>
    public static bool IsName(string name) =>
        name.Length > 0
        && (char.IsAsciiLetter(name[0]) || name[0] is '_' or '.')
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '/' or '-');

    private static string Describe(char c) => c switch
    {
        '"' => "'\"'",
        '$' => "'$' (nft would expand it as a variable)",
        _ => $"U+{(int)c:X4}",
    };
}
