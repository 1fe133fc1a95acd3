using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// What the CLI says about the build that applied a table (its comment, <see cref="PolicyCompiler.TableComment"/>):
/// after an upgrade, differences may be how two builds compile the same policy rather than changes made to the table.
/// </summary>
internal static class TableBuild
{
    /// <summary>For <c>verify</c>, beside differences: another build (or none named) applied the live table; null when this one did.</summary>
    public static string? OtherThanThis(CompiledPolicy compiled, TableContents? live) =>
        live is null || live.Table.Comment == compiled.Table.Comment ? null
        : $"the table was applied by {Name(live.Table.Comment)} and this is {compiled.Table.Comment}: some differences may be how the two "
            + "compile the same policy (CHANGELOG.md says what changed), not changes made to the table";

    /// <summary>For <c>apply</c> and the daemon: the table a replace removed was another build's; null when it was this one's or there was none.</summary>
    public static string? Replaced(ApplyResult result, CompiledPolicy compiled) =>
        result.Previous is not { } replaced || replaced.Table.Comment == compiled.Table.Comment ? null
        : $"the table it replaced was applied by {Name(replaced.Table.Comment)}; the table now names this build, {compiled.Table.Comment}";

    /// <summary>For <c>status</c>: which build applied the live table (its comment), and whether it is this one (after an upgrade, until an apply or reload).</summary>
    public static string Status(string? appliedBy) => appliedBy == PolicyCompiler.TableComment
        ? $"applied by this build, {appliedBy}"
        : $"applied by {Name(appliedBy)}, not this build ({PolicyCompiler.TableComment}): 'netlinkfence verify' says whether the two filter the same";

    private static string Name(string? comment) => comment ?? "a build that names none (an older release, or another tool)";
}
