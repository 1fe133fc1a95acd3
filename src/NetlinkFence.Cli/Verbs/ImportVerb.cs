using System.CommandLine;
using NetlinkFence.Policy;
using NetlinkFence.Policy.Import;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>netlinkfence import iptables FILE [--ip6 FILE6] [--ipset IPSETS] [--output POLICY.yaml] [--define NAME=VALUE]... [--partial]</c>:
/// an iptables-save file as a policy, or every reason it cannot be one (exit 2, nothing written).
/// </summary>
internal static class ImportVerb
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "the output of iptables-save (IPv4)" };
        var ip6 = new Option<string?>("--ip6") { Description = "the output of ip6tables-save (IPv6); without it the policy denies IPv6" };
        var ipset = new Option<string?>("--ipset") { Description = "the output of `ipset save` on the same host: the members of the sets -m set --match-set names" };
        // Here --output names the policy file to write (import writes no JSON: no CommonOptions.Output).
        var output = new Option<string?>("--output") { Description = "write the policy to this file (replaced only when the import succeeds); default: standard output" };
        var define = new Option<string[]>("--define") { Description = "NAME=VALUE for a shell variable left in the ruleset ($NAME, ${NAME}); VALUE may be a comma list", AllowMultipleArgumentsPerToken = false };
        var partial = new Option<bool>("--partial") { Description = "import what a policy can express and leave the other lines as comments, instead of failing" };
        var iptables = new Command("iptables", "turn an iptables-save file into a policy that allows and denies the same traffic") { file, ip6, ipset, output, define, partial };
        iptables.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, () =>
        {
            string path = parse.GetValue(file)!;
            string? target = parse.GetValue(output);
            var defines = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string d in parse.GetValue(define) ?? [])
            {
                int equals = d.IndexOf('=');
                if (equals <= 0)
                    throw new UsageException($"--define '{d}': write NAME=VALUE, e.g. --define IRONCLAW_IP=203.0.113.50");
                if (!defines.TryAdd(d[..equals], d[(equals + 1)..]))
                    throw new UsageException($"--define {d[..equals]} is given twice");
            }
            var request = new IptablesImportRequest
            {
                IPv4 = IptablesImporter.ReadFile(path),
                IPv6 = parse.GetValue(ip6) is { } v6 ? IptablesImporter.ReadFile(v6, "ip6tables-save") : null,
                Ipsets = parse.GetValue(ipset) is { } sets ? IptablesImporter.ReadFile(sets, "ipset save") : null,
                Defines = defines,
                Partial = parse.GetValue(partial),
                PolicyName = target ?? "(standard output)",
            };
            var result = IptablesImporter.Import(request);
            if (target is null)
            {
                Console.Out.Write(result.Yaml);
            }
            else
            {
                AtomicFile.Write(target, result.Yaml); // a failed import never leaves a half policy where the old one was
            }
            var error = Console.Error;
            foreach (var d in result.NotImported)
                error.WriteLine($"{d} [not imported]");
            error.WriteLine($"netlinkfence: imported {result.Policy.Egress.Count} egress and {result.Policy.Input.Count} input entries"
                + (result.Policy.Resolvers.Count > 0 ? $", {result.Policy.Resolvers.Count} DNS resolver(s)" : "")
                + $" from {path}{(request.IPv6 is null ? "" : " and " + request.IPv6.Name)}{(request.Ipsets is null ? "" : " with the sets of " + request.Ipsets.Name)}"
                + (target is null ? "" : $" into {target}")
                + (result.NotImported.Count > 0 ? $"; {result.NotImported.Count} line(s) NOT imported (--partial)" : "")
                + $"; {result.Notes.Count} note(s) and {result.Lint.Count} lint finding(s) at the end of the policy");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return new Command("import", "bring an existing ruleset in as a policy") { iptables };
    }
}
