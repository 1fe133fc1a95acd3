using System.Text;

namespace NetlinkFence.Tests.TestSupport;

/// <summary>Renders bytes for assertion messages.</summary>
public static class Hex
{
    /// <summary>
    /// A hexdump, 16 bytes per row: an 8-digit hex offset, the bytes in two groups of eight, then the
    /// printable ASCII ('.' for anything else). Rows end with '\n'; an empty span gives "(0 bytes)\n".
    /// <code>
    /// 00000000  14 00 00 00 10 00 05 00  01 00 00 00 00 00 00 00  |................|
    /// </code>
    /// </summary>
    public static string Dump(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
            return "(0 bytes)\n";
        var text = new StringBuilder((bytes.Length / 16 + 1) * 78);
        for (int row = 0; row < bytes.Length; row += 16)
        {
            ReadOnlySpan<byte> line = bytes.Slice(row, Math.Min(16, bytes.Length - row));
            text.Append(row.ToString("x8")).Append("  ");
            for (int i = 0; i < 16; i++)
            {
                if (i < line.Length)
                    text.Append(line[i].ToString("x2")).Append(' ');
                else
                    text.Append("   ");
                if (i == 7)
                    text.Append(' ');
            }
            text.Append(" |");
            foreach (byte b in line)
                text.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
            text.Append("|\n");
        }
        return text.ToString();
    }

    /// <summary>The bytes as one lowercase hex string with no separators (compact, for one-line messages).</summary>
    public static string Compact(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>
    /// Parses hex written for humans: whitespace, newlines, '_' and ':' are ignored, so expected bytes can be
    /// laid out field by field in a test.
    /// </summary>
    public static byte[] Parse(string hex)
    {
        var digits = new StringBuilder(hex.Length);
        foreach (char c in hex)
        {
            if (char.IsWhiteSpace(c) || c is '_' or ':')
                continue;
            digits.Append(c);
        }
        return Convert.FromHexString(digits.ToString());
    }

    /// <summary>
    /// A message for a byte mismatch: the first differing offset, then both dumps.
    /// </summary>
    public static string Diff(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual)
    {
        int common = Math.Min(expected.Length, actual.Length);
        int first = expected[..common].CommonPrefixLength(actual[..common]);
        string where = first < common
            ? $"first difference at offset {first} (0x{first:x}): expected 0x{expected[first]:x2}, actual 0x{actual[first]:x2}"
            : expected.Length != actual.Length
                ? $"lengths differ: expected {expected.Length} bytes, actual {actual.Length}"
                : "no difference";
        return $"{where}\nexpected ({expected.Length} bytes):\n{Dump(expected)}actual ({actual.Length} bytes):\n{Dump(actual)}";
    }

    /// <summary>Asserts two byte strings are equal; on failure the message is <see cref="Diff"/>.</summary>
    public static void AssertEqual(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual)
    {
        if (!expected.SequenceEqual(actual))
            Assert.Fail(Diff(expected, actual));
    }
}
