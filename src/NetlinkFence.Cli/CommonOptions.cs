using System.CommandLine;

namespace NetlinkFence.Cli;

/// <summary>Options every verb accepts.</summary>
internal static class CommonOptions
{
    public static readonly Option<string?> NetworkNamespace = new("--netns")
    {
        Description = "work inside the network namespace /run/netns/NAME (or a path such as /proc/PID/ns/net)",
        Recursive = true,
    };

    public static readonly Option<string> Output = CreateOutput();

    public static readonly Option<string> Table = new("--table")
    {
        Description = "the inet table netlinkfence owns",
        DefaultValueFactory = _ => "netlinkfence",
    };

    private static Option<string> CreateOutput()
    {
        var option = new Option<string>("--output")
        {
            Description = "output format",
            DefaultValueFactory = _ => "text",
            Recursive = true,
        };
        option.AcceptOnlyFromAmong("text", "json");
        return option;
    }
}
