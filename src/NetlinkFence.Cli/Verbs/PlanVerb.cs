using System.CommandLine;
using NetlinkFence.Interop;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables;
using NetlinkFence.Nftables.Rendering;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary><c>netlinkfence plan POLICY</c>: validate, compile, print the ruleset as an annotated nft file (no root needed), plus the diff against the live table when it can be read.</summary>
internal static class PlanVerb
{
    public static Command Create()
    {
        var policyArgument = new Argument<string>("policy") { Description = "the policy file (YAML)" };
        var command = new Command("plan", "print the ruleset the policy compiles to, as a valid nft -f file with comments; no root needed") { policyArgument }.WithOutput();
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(parse, async () =>
        {
            string path = parse.GetValue(policyArgument)!;
            var compiled = await PolicyFiles.CompileAsync(path, checkOwnership: false, cancellationToken, parse.GetValue(CommonOptions.NetworkNamespace));
            string text = Rendering.Plan(compiled, path);
            var (changes, note) = await LiveDifferences(compiled, parse.GetValue(CommonOptions.NetworkNamespace), cancellationToken);
            var selfTest = SelfTestPreview.Of(compiled, compiled.Source.Policy.SelfTest.IsEmpty ? [] : HostAddresses.Of(parse.GetValue(CommonOptions.NetworkNamespace)));
            if (parse.GetValue(CommonOptions.Output) == "json")
            {
                Output.WriteJson(w =>
                {
                    w.WriteString("table", compiled.Table.Name);
                    w.WriteNumber("rules", compiled.Rules.Count);
                    w.WriteNumber("elements", compiled.Sets.Sum(s => s.Elements.Count));
                    w.WriteString("ruleset", text);
                    w.WriteStartArray("names");
                    foreach (var name in compiled.Source.Names.Values.OrderBy(n => n.Host, StringComparer.Ordinal))
                    {
                        w.WriteStartObject();
                        w.WriteString("host", name.Host);
                        w.WriteString("source", name.Source == ResolutionSource.Pin ? "pin" : "resolver");
                        if (name.Resolver is not null)
                            w.WriteString("resolver", name.Resolver);
                        w.WriteStartArray("addresses");
                        foreach (var address in name.Addresses)
                        {
                            w.WriteStartObject();
                            w.WriteString("address", address.ToString());
                            if (name.Answers.FirstOrDefault(a => a.Address.Equals(address)) is { Address: not null } answer)
                            {
                                w.WriteNumber("ttl", (long)answer.Ttl.TotalSeconds);
                                // What the daemon follows it as, when that is another TTL (min_ttl, max_ttl).
                                if (compiled.Source.Policy.Dns.Bound(answer.Ttl) is var followed && followed != answer.Ttl)
                                    w.WriteNumber("followed_ttl", (long)followed.TotalSeconds);
                            }
                            w.WriteEndObject();
                        }
                        w.WriteEndArray();
                        if (name.Refused.Count > 0)
                        {
                            w.WriteStartArray("refused");
                            foreach (var address in name.Refused)
                                w.WriteStringValue(address.ToString());
                            w.WriteEndArray();
                        }
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    SelfTestPreview.WriteJson(w, selfTest);
                    if (changes is null)
                        w.WriteString("live", note);
                    else
                    {
                        AppliedChanges.WriteJson(w, "changes", changes);
                    }
                });
                return ExitCodes.Ok;
            }
            Console.Write(text);
            Console.WriteLine();
            SelfTestPreview.WriteText(Console.Out, selfTest);
            if (changes is null)
                Console.WriteLine($"# {NftRenderer.CommentText(note)}");
            else if (changes.Count == 0)
                Console.WriteLine("# the live table already matches this plan");
            else
            {
                Console.WriteLine($"# applying this plan changes the live table ({changes.Count}; {AppliedChanges.Legend}):");
                foreach (var change in changes)
                    Console.WriteLine("#   " + NftRenderer.CommentText(AppliedChanges.Text(change)));
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static async Task<(IReadOnlyList<TableDifference>? Changes, string Note)> LiveDifferences(CompiledPolicy compiled, string? ns, CancellationToken cancellationToken)
    {
        try
        {
            await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns }, cancellationToken);
            var live = await nft.ListTableAsync(compiled.Table.Family, compiled.Table.Name, cancellationToken);
            return (TableDiff.Compare(compiled.ToExpectedContents(), live, Rendering.Rule), "");
        }
        catch (Exception e) when (e is NetlinkKernelException or ErrnoException)
        {
            return (null, $"live table not compared: {e.Message}");
        }
    }
}
