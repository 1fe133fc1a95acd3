using System.CommandLine;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// The one way every verb that acts on a live table names it: <c>--policy POLICY</c> (default
/// <see cref="DefaultPolicyPath"/> when that file exists) and uses the policy's <c>table:</c>; <c>--table</c> overrides;
/// with neither, the default table <c>netlinkfence</c>. Verbs that need the policy's entries (open, close, status,
/// stats) use <see cref="LoadPolicy"/>.
/// </summary>
internal static class PolicyTable
{
    /// <summary>The policy a verb uses when <c>--policy</c> is not given (when it exists).</summary>
    public const string DefaultPolicyPath = "/etc/netlinkfence/policy.yaml";

    public const string DefaultTable = "netlinkfence";

    public static readonly Option<string?> Policy = new("--policy")
    {
        Description = $"the policy file whose table to act on (default {DefaultPolicyPath} when it exists)",
    };

    /// <summary>Overrides the policy's table. No default value: null means "ask the policy".</summary>
    public static readonly Option<string?> Table = CreateTable();

    /// <summary>Adds both options to <paramref name="command"/>.</summary>
    public static Command WithPolicyTable(this Command command)
    {
        command.Options.Add(Policy);
        command.Options.Add(Table);
        return command;
    }

    /// <summary>The table name: <c>--table</c>, else the policy's (given or default file), else <c>netlinkfence</c>.</summary>
    public static string Resolve(ParseResult parse)
    {
        if (parse.GetValue(Table) is { } table)
            return table;
        return PolicyPath(parse, required: false) is { } path ? PolicyLoader.LoadFile(path).Table : DefaultTable;
    }

    /// <summary>
    /// The policy (<c>--policy</c>, else the default file; when none exists, a usage error), and the table to act on
    /// (<c>--table</c> when given, else the policy's).
    /// </summary>
    public static (EgressPolicy Policy, string Path, string Table) LoadPolicy(ParseResult parse)
    {
        string path = PolicyPath(parse, required: true)!;
        var policy = PolicyLoader.LoadFile(path);
        return (policy, path, parse.GetValue(Table) ?? policy.Table);
    }

    private static string? PolicyPath(ParseResult parse, bool required)
    {
        if (parse.GetValue(Policy) is { } given)
            return given; // a missing file is the loader's located error (exit 2), never a silent fallback
        if (File.Exists(DefaultPolicyPath))
            return DefaultPolicyPath;
        if (required)
            throw new UsageException($"no policy: {DefaultPolicyPath} does not exist; name one with --policy POLICY");
        return null;
    }

    private static Option<string?> CreateTable()
    {
        var option = new Option<string?>("--table") { Description = "the inet table to act on (overrides the policy's 'table:')" };
        CommonOptions.ValidateTableName(option);
        return option;
    }
}
