using System.CommandLine;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>netlinkfence hosts POLICY [--check] [--file FILE]</c>: the policy's <c>hosts:</c> pins as /etc/hosts lines, or,
/// with <c>--check</c>, whether the hosts file holds every pin at its pinned addresses (exit 1 when it does not).
/// Reads no kernel state and needs no privilege.
/// </summary>
internal static class HostsVerb
{
    public static Command Create()
    {
        var policyArgument = new Argument<string>("policy") { Description = "the policy file (YAML)" };
        var check = new Option<bool>("--check")
        {
            Description = "compare the hosts file with the pins instead of printing them: exit 1 when a pinned name is not there or has an address its pin does not hold",
        };
        var file = new Option<string>("--file") { Description = "the hosts file --check reads", DefaultValueFactory = _ => "/etc/hosts" };
        var command = new Command("hosts", "print the policy's hosts: pins as /etc/hosts lines, or --check that the hosts file agrees with them")
        {
            policyArgument, check, file,
        }.WithOutput();
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, () =>
        {
            string path = parse.GetValue(policyArgument)!;
            var pins = PolicyLoader.LoadFile(path).Hosts;
            bool json = parse.GetValue(CommonOptions.Output) == "json";
            return Task.FromResult(parse.GetValue(check) ? Check(path, pins, parse.GetValue(file)!, json) : Print(path, pins, json));
        }));
        return command;
    }

    private static int Print(string path, IReadOnlyDictionary<string, IReadOnlyList<System.Net.IPAddress>> pins, bool json)
    {
        if (json)
        {
            Output.WriteJson(w =>
            {
                w.WriteString("policy", path);
                w.WriteStartArray("hosts");
                foreach (var (name, addresses) in pins)
                {
                    w.WriteStartObject();
                    w.WriteString("name", name);
                    w.WriteStartArray("addresses");
                    foreach (var address in addresses)
                        w.WriteStringValue(address.ToString());
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            });
            return ExitCodes.Ok;
        }
        if (pins.Count == 0)
        {
            Console.WriteLine($"# {path} pins no name under 'hosts:': nothing for /etc/hosts");
            return ExitCodes.Ok;
        }
        Console.WriteLine($"# The 'hosts:' pins of {path} (netlinkfence hosts): with these lines in /etc/hosts the host asks no DNS");
        Console.WriteLine("# server for these names, and connects to exactly the addresses the policy allows.");
        foreach (string line in HostsFile.Lines(pins))
            Console.WriteLine(line);
        return ExitCodes.Ok;
    }

    private static int Check(string path, IReadOnlyDictionary<string, IReadOnlyList<System.Net.IPAddress>> pins, string hostsPath, bool json)
    {
        if (!File.Exists(hostsPath))
            throw new UsageException($"{hostsPath} does not exist; give the hosts file with --file");
        var differences = HostsFile.Compare(pins, HostsFile.Parse(File.ReadAllText(hostsPath)));
        if (json)
        {
            Output.WriteJson(w =>
            {
                w.WriteString("policy", path);
                w.WriteString("file", hostsPath);
                w.WriteBoolean("matches", differences.Count == 0);
                w.WriteNumber("pins", pins.Count);
                w.WriteStartArray("differences");
                foreach (var difference in differences)
                {
                    w.WriteStartObject();
                    w.WriteString("kind", difference.Kind);
                    w.WriteString("name", difference.Name);
                    if (difference.Line is { } line)
                        w.WriteNumber("line", line);
                    else
                        w.WriteNull("line");
                    w.WriteString("address", difference.Address?.ToString());
                    w.WriteStartArray("pinned");
                    foreach (var address in pins[difference.Name])
                        w.WriteStringValue(address.ToString());
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            });
        }
        else
        {
            foreach (var difference in differences)
                Console.WriteLine(Describe(difference, pins[difference.Name], path, hostsPath));
            Console.WriteLine(differences.Count == 0
                ? $"{path}: {hostsPath} holds every pin of the policy ({Output.Count(pins.Count, "name")}) at its pinned addresses"
                : $"{path}: {hostsPath} disagrees with the policy's pins ({Output.Count(differences.Count, "difference")}); `netlinkfence hosts {path}` prints the lines to write");
        }
        return differences.Count == 0 ? ExitCodes.Ok : ExitCodes.DriftOrFindings;
    }

    private static string Describe(HostsFileDifference difference, IReadOnlyList<System.Net.IPAddress> pinned, string path, string hostsPath)
    {
        string pin = string.Join(", ", pinned);
        return difference.Kind == "missing"
            ? $"{hostsPath}: {difference.Name} is pinned in {path} ({pin}) but not here: the host asks DNS for it, and may be told an address the policy denies"
            : $"{hostsPath}:{difference.Line}: {difference.Name} is {difference.Address} here, which its pin in {path} does not hold ({pin}): the host connects there, and the policy denies it";
    }
}
