using System.CommandLine;
using System.CommandLine.Help;

namespace NetlinkFence.Cli;

/// <summary>Options every verb accepts.</summary>
internal static class CommonOptions
{
    public static readonly Option<string?> NetworkNamespace = new("--netns")
    {
        Description = "work inside the network namespace /run/netns/NAME (or a path such as /proc/PID/ns/net)",
        Recursive = true,
    };

    /// <summary>
    /// <c>--output text|json</c>: on the root and on the verbs that write JSON (<see cref="WithOutput"/>), whose failures
    /// are JSON too (<see cref="FailureJson"/>). Not recursive: the other verbs write text only, and <c>import</c>'s
    /// <c>--output</c> names the policy file to write.
    /// </summary>
    public static readonly Option<string> Output = CreateOutput();

    /// <summary>Adds <see cref="Output"/> to a verb that writes JSON.</summary>
    public static Command WithOutput(this Command command)
    {
        command.Options.Add(Output);
        return command;
    }

    /// <summary>
    /// <c>netlinkfence --output json remove</c>: the root's <c>--output json</c> before a verb that writes text only is
    /// refused (exit 2), as it is after the verb, instead of being ignored while the caller waits for JSON. Null when
    /// the verb may run.
    /// </summary>
    public static int? RefuseJsonForTextVerb(ParseResult parse)
    {
        var verb = parse.CommandResult.Command;
        if (parse.Errors.Count > 0 || parse.Action is HelpAction || verb is RootCommand || verb.Options.Contains(Output)
            || parse.GetValue(Output) != "json")
            return null;
        var json = parse.RootCommandResult.Command.Subcommands.Where(c => c.Options.Contains(Output)).Select(c => c.Name);
        Console.Error.WriteLine($"netlinkfence: {verb.Name} writes text only; --output json applies to {string.Join(", ", json)}");
        return ExitCodes.BadInput;
    }

    public static readonly Option<string> Table = CreateTable();

    private static Option<string> CreateTable()
    {
        var option = new Option<string>("--table")
        {
            Description = "the inet table netlinkfence owns",
            DefaultValueFactory = _ => "netlinkfence",
        };
        ValidateTableName(option);
        return option;
    }

    /// <summary>
    /// A name nf_tables cannot hold (empty, over NFT_NAME_MAXLEN, a NUL) is bad input (exit 2), not a crash in a verb;
    /// the library's Table constructor is the one place that knows the rule.
    /// </summary>
    public static void ValidateTableName(Option option) =>
        option.Validators.Add(result =>
        {
            try
            {
                _ = new Nftables.Table(Nftables.NftFamily.Inet, result.GetValueOrDefault<string>() ?? "");
            }
            catch (ArgumentException e)
            {
                result.AddError($"--table: {e.Message}");
            }
        });

    private static Option<string> CreateOutput()
    {
        var option = new Option<string>("--output")
        {
            Description = "output format",
            DefaultValueFactory = _ => "text",
        };
        option.AcceptOnlyFromAmong("text", "json");
        return option;
    }
}
