using System.Text;
using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace NetlinkFence.Policy;

/// <summary>
/// Loads a version-1 policy from YAML. Every problem is reported with file:line:column and a fix, and all of
/// them at once: a typo never silently drops a rule (unknown keys are errors), and an undefined variable
/// never reaches a live ruleset.
/// </summary>
public static class PolicyLoader
{
    /// <summary>Policies larger than this are refused before parsing.</summary>
    public const int MaxFileBytes = 16 << 20;

    /// <summary>
    /// Loads <paramref name="path"/>, which must be a regular file (a directory, FIFO or device is refused before
    /// reading), reading at most <see cref="MaxFileBytes"/> + 1 bytes whatever the file claims its size is; throws
    /// <see cref="PolicyException"/> listing every error.
    /// </summary>
    public static EgressPolicy LoadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var start = new SourceLocation(path, 1, 1);
        byte[] bytes;
        try
        {
            bytes = RegularFile.Read(path, MaxFileBytes);
        }
        catch (ErrnoException e) when (e.Errno == (int)Errno.NOENT)
        {
            throw Single(new SourceLocation(path, 0, 0), "policy file not found", "check the path", "file-not-found");
        }
        catch (ErrnoException e)
        {
            throw Single(new SourceLocation(path, 0, 0), $"cannot read the policy file: {ErrnoException.Describe(e.Errno)} ({e.ErrnoName})",
                e.Errno == (int)Errno.ACCES ? "run as a user that may read it (root for apply)" : "check the path", "unreadable");
        }
        catch (NotARegularFileException e)
        {
            throw Single(new SourceLocation(path, 0, 0), $"the policy path is {e.Kind}: a policy must be a regular file",
                "name the YAML file itself (not a directory, FIFO, device or process substitution)", "not-a-regular-file");
        }
        if (bytes.Length > MaxFileBytes)
            throw Single(start, $"policy file is larger than the {MaxFileBytes >> 20} MiB limit", "split the policy or use CIDRs instead of single addresses", "file-too-large");
        return Load(bytes, path);
    }

    /// <summary>Loads a policy from bytes (UTF-8); <paramref name="fileName"/> is used in messages.</summary>
    public static EgressPolicy Load(ReadOnlySpan<byte> utf8, string fileName)
    {
        if (utf8.Length > MaxFileBytes)
            throw Single(new SourceLocation(fileName, 1, 1), $"policy is {utf8.Length} bytes, more than the {MaxFileBytes >> 20} MiB limit", "split the policy", "file-too-large");
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(utf8);
        }
        catch (DecoderFallbackException e)
        {
            var (line, column) = LineColumnOfByte(utf8, e.Index);
            throw Single(new SourceLocation(fileName, line, column), "the file is not valid UTF-8", "save it as UTF-8", "invalid-utf8");
        }
        return Load(text, fileName);
    }

    /// <summary>Loads a policy from text; <paramref name="fileName"/> is used in messages.</summary>
    public static EgressPolicy Load(string text, string fileName)
    {
        ArgumentNullException.ThrowIfNull(text);
        // A byte-order mark is not part of the first key (YamlDotNet would read it as one).
        if (text.StartsWith('\uFEFF'))
            text = text[1..];
        var reader = new PolicyReader(fileName);
        DuplicateKeyFilter? parser = null;
        YamlNode? root;
        try
        {
            // Duplicate keys are dropped (and reported) on the way in, so the rest of the file is still checked.
            parser = new DuplicateKeyFilter(new Parser(new StringReader(text)), fileName, reader.Error);
            var stream = new YamlStream();
            stream.Load(parser);
            if (stream.Documents.Count > 1)
            {
                var extra = stream.Documents[1].RootNode;
                reader.Error(new SourceLocation(fileName, (int)extra.Start.Line, (int)extra.Start.Column),
                    $"a policy file holds one YAML document; a second one starts here", "remove the extra '---' document (or merge it into the first)", "multiple-documents");
            }
            root = stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
        }
        catch (TooDeepException e)
        {
            throw Single(Within(text, fileName, (int)e.Start.Line, (int)e.Start.Column), YamlMessage(e),
                "a policy is a few levels deep (egress, allow, entry, list); remove the extra brackets", "too-deep");
        }
        catch (UndefinedAliasException e)
        {
            throw Single(Within(text, fileName, (int)e.Start.Line, (int)e.Start.Column), YamlMessage(e),
                $"mark the value to repeat with '&{e.Name}' where it is first written (above this line), or use a 'define:' variable and '${e.Name}'", "undefined-alias");
        }
        catch (YamlException e) when (e.Message.Contains("tab", StringComparison.OrdinalIgnoreCase) && IndentingTab(text, (int)e.Start.Line, int.MaxValue) is { } tab)
        {
            // YamlDotNet places a tab in the indentation at the start of the enclosing mapping (often 1:1); the tab is what to fix.
            throw TabError(fileName, tab);
        }
        catch (YamlException) when (UnclosedBracket(text) is { } open)
        {
            throw UnclosedError(fileName, open);
        }
        catch (YamlException e)
        {
            throw Single(Within(text, fileName, (int)e.Start.Line, (int)e.Start.Column), $"not valid YAML: {YamlMessage(e)}",
                "fix the YAML syntax at this point (indent with spaces, not tabs; quote values containing ': ' or '#')", "yaml-syntax");
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or OverflowException or IndexOutOfRangeException)
        {
            // YamlDotNet 18 throws these, without a location, on some malformed input, e.g. a flow list continued
            // on a line that is not indented ("tcp: [\n6514]") or an empty key ("  : b"). Still a syntax error.
            var mark = parser?.LastStart ?? Mark.Empty;
            // A tab indenting the continuation of a [...] list crashes it too ("to: [a,\n\tb]").
            if (IndentingTab(text, (int)mark.Line, (int)mark.Line + 1) is { } tab)
                throw TabError(fileName, tab);
            if (UnclosedBracket(text) is { } open)
                throw UnclosedError(fileName, open);
            throw Single(Within(text, fileName, (int)mark.Line, (int)mark.Column),
                "not valid YAML: the parser gave up after this point",
                "check the lines that follow: continuation lines of a [...] list must be indented more than their key, and keys cannot be empty", "yaml-syntax");
        }
        if (root is null || root is YamlScalarNode { Value: "" or null, Style: ScalarStyle.Plain })
            throw Single(new SourceLocation(fileName, 1, 1), "the policy file is empty", "start from examples/ironclaw-agent.yaml", "empty");
        return reader.Read(root);
    }

    /// <summary>
    /// The first tab among the leading whitespace of a line from <paramref name="fromLine"/> to <paramref name="toLine"/>
    /// (1-based, blank lines included): YAML indents with spaces only, and YamlDotNet refuses every such line.
    /// </summary>
    private static (int Line, int Column)? IndentingTab(string text, int fromLine, int toLine)
    {
        int line = 1;
        for (int start = 0; start <= text.Length && line <= toLine; line++)
        {
            int end = text.IndexOf('\n', start);
            if (end < 0)
                end = text.Length;
            if (line >= fromLine)
            {
                for (int i = start; i < end && text[i] is ' ' or '\t'; i++)
                {
                    if (text[i] == '\t')
                        return (line, i - start + 1);
                }
            }
            start = end + 1;
        }
        return null;
    }

    /// <summary>
    /// The first '[' or '{' of the text that no ']' or '}' closes (null when they balance): a missing bracket makes
    /// YamlDotNet fail lines later, or crash, where the bracket is what to fix. Only brackets that open a flow
    /// collection count (after ':', '-', ',', '[', '{' or at the start of a value); quoted text and comments are skipped.
    /// </summary>
    private static (int Line, int Column, char Bracket)? UnclosedBracket(string text)
    {
        var open = new Stack<(int Line, int Column, char Bracket)>();
        int line = 1, column = 0;
        char quote = '\0', previous = '\n'; // previous: the last character that was not a space, '\n' at a line's start
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            column++;
            if (c == '\n')
            {
                line++;
                column = 0;
                previous = '\n';
                continue; // a quoted scalar may go on over lines: its quote stays open
            }
            if (quote != '\0')
            {
                if (c == '\\' && quote == '"')
                    i++; // an escaped character, e.g. \"
                else if (c == quote)
                    quote = '\0';
                continue;
            }
            switch (c)
            {
                case '#' when previous == '\n' || text[i - 1] is ' ' or '\t':
                    while (i + 1 < text.Length && text[i + 1] != '\n')
                        i++;
                    continue;
                case '"' or '\'' when previous is '\n' or ':' or '-' or ',' or '[' or '{':
                    quote = c;
                    break;
                case '[' or '{' when previous is '\n' or ':' or '-' or ',' or '[' or '{':
                    open.Push((line, column, c));
                    break;
                case ']' or '}' when open.Count > 0:
                    open.Pop();
                    break;
            }
            if (c is not (' ' or '\t' or '\r'))
                previous = c;
        }
        return open.Count == 0 ? null : open.Last(); // the outermost: the first one opened
    }

    private static PolicyException UnclosedError(string fileName, (int Line, int Column, char Bracket) open) =>
        Single(new SourceLocation(fileName, open.Line, open.Column), $"not valid YAML: this '{open.Bracket}' is never closed",
            $"end the {(open.Bracket == '[' ? "list" : "mapping")} with '{(open.Bracket == '[' ? ']' : '}')}' (a list or mapping written over several lines needs its next lines indented more than its key)",
            "yaml-syntax");

    private static PolicyException TabError(string fileName, (int Line, int Column) tab) =>
        Single(new SourceLocation(fileName, tab.Line, tab.Column), "not valid YAML: a tab in the indentation of this line",
            "indent with spaces only, as many as the lines of the same level (YAML does not allow tabs there, even on a blank line)", "yaml-syntax");

    /// <summary>YamlDotNet's message without its own "(Line: .., Col: ..) - (..): " prefix, which the location already says.</summary>
    private static string YamlMessage(YamlException e)
    {
        string message = e.Message;
        int marker = message.IndexOf("): ", StringComparison.Ordinal);
        if (message.StartsWith("(Line:", StringComparison.Ordinal) && marker > 0)
            message = message[(marker + 3)..];
        return message.Trim();
    }

    /// <summary>
    /// A location inside the text: YamlDotNet places errors at the end of input on the line after the last one
    /// (e.g. line 9 of an 8-line file truncated after "["); that is the end of the last line.
    /// </summary>
    private static SourceLocation Within(string text, string fileName, int line, int column)
    {
        int lines = 1, lastLineStart = 0;
        for (int i = text.IndexOf('\n'); i >= 0; i = text.IndexOf('\n', i + 1))
        {
            lines++;
            lastLineStart = i + 1;
        }
        if (line > lines)
            (line, column) = (lines, text.Length - lastLineStart + 1);
        return new SourceLocation(fileName, Math.Max(1, line), Math.Max(1, column));
    }

    private static PolicyException Single(SourceLocation location, string message, string fix, string code) =>
        new([new PolicyDiagnostic(Severity.Error, location, message, fix, code)]);

    internal static (int Line, int Column) LineColumnOfByte(ReadOnlySpan<byte> bytes, int index)
    {
        int line = 1, column = 1;
        for (int i = 0; i < index && i < bytes.Length; i++)
        {
            if (bytes[i] == '\n')
            {
                line++;
                column = 1;
            }
            else if ((bytes[i] & 0xC0) != 0x80)
            {
                column++;
            }
        }
        return (line, column);
    }
}
