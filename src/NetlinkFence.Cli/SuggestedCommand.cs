using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// A netlinkfence command line that a message tells the user to run. It carries the namespace and the table the verb
/// acted on: copied as printed, it acts there, never on the host's own namespace or on another table.
/// </summary>
internal static class SuggestedCommand
{
    /// <summary><c>netlinkfence VERB ARGUMENTS [--netns NS] [--table TABLE]</c>.</summary>
    public static string Of(string verb, string? netns, string? table, params string[] arguments)
    {
        var line = new List<string> { "netlinkfence", verb };
        line.AddRange(arguments.Select(Quote));
        if (netns is not null)
            line.AddRange(["--netns", Quote(netns)]);
        if (table is not null)
            line.AddRange(["--table", Quote(table)]);
        return string.Join(' ', line);
    }

    /// <summary>
    /// <c>netlinkfence VERB ARGUMENTS [--policy POLICY] [--netns NS] [--table TABLE]</c> on the policy the verb read:
    /// <c>--policy</c> is left out for the default policy file, which the verb would read anyway.
    /// </summary>
    public static string OnPolicy(string verb, string policyPath, string? netns, string? table, params string[] arguments) =>
        Of(verb, netns, table, policyPath == PolicyTable.DefaultPolicyPath ? arguments : [.. arguments, "--policy", policyPath]);

    /// <summary>
    /// A verdict's reason; for a flow that only a closed window entry allows, followed by the <c>open</c> that opens
    /// it on the same policy and namespace (the policy names the table).
    /// </summary>
    public static string ReasonWithOpen(FlowVerdict verdict, string policyPath, string? netns) =>
        verdict is { Allowed: false, Entry: { Window: not null } window } ? $"{verdict.Reason}; to open it: '{OpenWindow(window.Name, policyPath, netns)}'" : verdict.Reason;

    /// <summary><c>open NAME</c> of a window entry of the policy at <paramref name="policyPath"/>, in <paramref name="netns"/>.</summary>
    public static string OpenWindow(string entry, string policyPath, string? netns) => OnPolicy("open", policyPath, netns, table: null, entry);

    /// <summary>
    /// <c>confirm</c> or <c>rollback</c> of the table <paramref name="state"/> keeps the rollback state of, in its namespace.
    /// </summary>
    public static string For(string verb, SafetyState state) => Of(verb, state.Netns, TableUnlessDefault(state.Table));

    /// <summary>
    /// For a verb given neither --policy nor --table: null where it would pick <paramref name="table"/> anyway (the
    /// default table, with no default policy file to name another one), else the table.
    /// </summary>
    public static string? TableUnlessDefault(string table) =>
        table == PolicyTable.DefaultTable && !File.Exists(PolicyTable.DefaultPolicyPath) ? null : table;

    /// <summary>Double quotes (the messages wrap commands in single ones) around what a shell would split or expand.</summary>
    private static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '-' or '_' or ':' or '=' or ',' or '@' or '+')
            ? word
            : "\"" + string.Concat(word.Select(c => c is '"' or '\\' or '$' or '`' ? $"\\{c}" : c.ToString())) + "\"";
}
