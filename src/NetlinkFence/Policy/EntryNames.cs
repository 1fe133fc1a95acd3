using System.Text;

namespace NetlinkFence.Policy;

/// <summary>
/// What an allow entry may be called (its name is the comment of its rule and set elements, and the label of its
/// counters), and how other text becomes such a name: a suggestion in the loader's error, the names `learn` and
/// `import` give their entries.
/// </summary>
internal static class EntryNames
{
    public const int MaxLength = 32;

    public const string Rule = "1-32 lower-case letters, digits, '_' or '-', starting with a letter or digit";

    public static bool IsValid(string name) =>
        name.Length is > 0 and <= MaxLength && name[0] is not ('-' or '_') && name.All(IsNameCharacter);

    /// <summary>What keeps <paramref name="name"/> from being valid, for the loader's message ("it has a space").</summary>
    public static string Problem(string name) =>
        name.Length > MaxLength ? $"it is {name.Length} characters long"
        : name.Any(char.IsUpper) ? "it has upper-case letters"
        : name.FirstOrDefault(c => !IsNameCharacter(c)) is var other and not '\0' ? (other == ' ' ? "it has a space" : $"it has '{other}'")
        : name.Length == 0 ? "it is empty"
        : "it starts with '-' or '_'";

    private static bool IsNameCharacter(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-';

    /// <summary>
    /// The name <paramref name="text"/> most likely means: lower case, every other character a '-', no '-' or '_' at
    /// either end, cut to <see cref="MaxLength"/>; null when nothing of it can be kept.
    /// </summary>
    public static string? From(string text)
    {
        var name = new StringBuilder(text.Length);
        foreach (char c in text.ToLowerInvariant())
            name.Append(IsNameCharacter(c) ? c : '-');
        string result = name.ToString().Trim('-', '_');
        if (result.Length > MaxLength)
            result = result[..MaxLength].TrimEnd('-', '_');
        return result.Length == 0 ? null : result;
    }

    /// <summary>
    /// <see cref="From"/> of <paramref name="text"/> (or <paramref name="fallback"/>), made unique among
    /// <paramref name="taken"/> with a "-2", "-3", ... suffix, and added to it.
    /// </summary>
    public static string Unique(string text, HashSet<string> taken, string fallback)
    {
        string baseName = From(text) ?? fallback;
        string candidate = baseName;
        for (int i = 2; !taken.Add(candidate); i++)
        {
            string suffix = $"-{i}";
            candidate = (baseName.Length + suffix.Length > MaxLength ? baseName[..(MaxLength - suffix.Length)] : baseName) + suffix;
        }
        return candidate;
    }
}
