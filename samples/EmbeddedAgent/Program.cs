// An agent that embeds NetlinkFence from its NuGet package: builds its egress policy in code, applies it in one
// atomic transaction inside a network namespace, lets one more destination through at run time and takes it away
// again, printing the table as the kernel lists it after each step.
//
//     dotnet run --project samples/EmbeddedAgent -- NAMESPACE      (as root; NAMESPACE made with `ip netns add`)
using System.Net;
using NetlinkFence;
using NetlinkFence.Nftables;
using NetlinkFence.Nftables.Rendering;
using NetlinkFence.Policy;

if (args.Length != 1)
{
    Console.Error.WriteLine("usage: EmbeddedAgent NETWORK-NAMESPACE   (a name from `ip netns list`, or a path)");
    return 2;
}
string networkNamespace = args[0];
const string Table = "embedded_agent";
var extra = IPNetwork.Parse("198.51.100.7/32");

try
{
    // The policy in code: the same rules, values and error messages as a policy file.
    EgressPolicy policy = new PolicyBuilder()
        .Table(Table)
        .Pin("api.ironclaw.example", "203.0.113.50")   // pinned: never looked up in DNS
        .Resolvers("192.168.1.10")
        .Log("EGRESS-DENIED: ", ratePerSecond: 10)
        .AllowEgress("ironclaw-control", to: ["api.ironclaw.example"], tcp: [443])
        .AllowEgress("syslog-tls", to: ["192.168.1.20"], tcp: [6514])
        .Build();

    ResolvedPolicy resolved = await ResolvedPolicy.ResolveAsync(policy);
    await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = networkNamespace });
    ApplyResult applied = await PolicyApplier.ApplyAsync(nft, PolicyCompiler.Compile(resolved));
    Console.WriteLine($"applied: {applied.Commit.Messages} messages in one transaction, generation {applied.Commit.GenerationAfter}");

    // At run time: element changes in the allow sets, one small transaction each, never a table replace.
    LivePolicy live = await LivePolicy.AttachAsync(nft, resolved);
    await live.AddDestinationAsync("ironclaw-control", extra);
    await PrintTableAsync(nft, $"after adding {extra} to ironclaw-control");
    await live.RemoveDestinationAsync("ironclaw-control", extra);
    await PrintTableAsync(nft, $"after removing {extra} from ironclaw-control");
    return 0;
}
catch (NetlinkFenceException e)
{
    // One exception model: policy mistakes with their location, kernel refusals with errno and message.
    Console.Error.WriteLine($"EmbeddedAgent: {e.Message}");
    return 1;
}

static async Task PrintTableAsync(NftablesConnection nft, string title)
{
    TableContents contents = await nft.ListTableAsync(NftFamily.Inet, Table)
        ?? throw new InvalidOperationException($"table inet {Table} disappeared");
    Console.WriteLine($"# {title}");
    // As `nft list table` prints it; index 1 is lo in every network namespace (other interfaces print as indexes).
    Console.Write(new NftRenderer(index => index == 1 ? "lo" : null).Render(contents));
}
