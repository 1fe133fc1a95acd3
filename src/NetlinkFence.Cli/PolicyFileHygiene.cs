using NetlinkFence.Interop;

namespace NetlinkFence.Cli;

/// <summary>
/// Whoever can change the policy file owns the firewall: the file, and every directory on the way to it (whose
/// writers can rename or replace the file), should be writable by root only.
/// </summary>
/// <remarks>
/// A world-writable directory with the sticky bit (<c>/tmp</c>) is accepted when the file is root's: others can
/// neither rename nor delete it there, and a file someone else planted first would be theirs, which is reported.
/// A symlink is followed: the directories of its final target are checked too.
/// </remarks>
internal static class PolicyFileHygiene
{
    private const uint GroupWrite = 0x10, OtherWrite = 0x2, Sticky = 0x200;

    /// <summary>One warning per problem, each saying who could rewrite the firewall and how to fix it.</summary>
    public static IReadOnlyList<string> Warnings(string path)
    {
        var warnings = new List<string>();
        string full = Path.GetFullPath(path);
        var (owner, mode) = FileOwnership.Inspect(full);
        if ((mode & OtherWrite) != 0)
            warnings.Add($"{path} is world-writable; anyone on the host can rewrite the firewall (chmod o-w {path})");
        if ((mode & GroupWrite) != 0)
            warnings.Add($"{path} is group-writable; every member of its group can rewrite the firewall (chmod g-w {path})");
        if (owner != 0)
            warnings.Add($"{path} is owned by uid {owner}, not root; that user can rewrite the firewall (chown root {path})");

        var directories = Parents(full).ToList();
        if (new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true) is { } target)
            directories.AddRange(Parents(Path.GetFullPath(target.FullName)).Where(d => !directories.Contains(d)));
        foreach (string directory in directories)
        {
            var (dirOwner, dirMode) = FileOwnership.Inspect(directory);
            if (dirOwner != 0)
                warnings.Add($"directory {directory} is owned by uid {dirOwner}, not root; that user can replace {path} and rewrite the firewall (chown root {directory}, or keep the policy elsewhere)");
            if ((dirMode & OtherWrite) != 0 && ((dirMode & Sticky) == 0 || owner != 0))
                warnings.Add($"directory {directory} is world-writable; anyone can replace {path} and rewrite the firewall (chmod o-w {directory}, or keep the policy elsewhere)");
            if ((dirMode & GroupWrite) != 0 && ((dirMode & Sticky) == 0 || owner != 0))
                warnings.Add($"directory {directory} is group-writable; every member of its group can replace {path} (chmod g-w {directory})");
        }
        return warnings;
    }

    /// <summary>The directories containing <paramref name="fullPath"/>, nearest first, up to <c>/</c>.</summary>
    private static IEnumerable<string> Parents(string fullPath)
    {
        for (string? directory = Path.GetDirectoryName(fullPath); directory is not null; directory = Path.GetDirectoryName(directory))
            yield return directory;
    }
}
