using System.Net;
using System.Text.Json;
using NetlinkFence.Interop;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Live;

/// <summary>
/// Sixteen entries whose names all move to one CDN address, and a window onto it: more grants on one element than its
/// 256 bytes of userdata can name. Refreshing, opening, re-attaching and restoring all work (before, each failed with
/// "grants overlap in one element" from the tenth entry on), the traffic flows, and a running-table check does not
/// report the entries the element holds without naming them as missing. Real kernel and traffic.
/// </summary>
public sealed class SharedCdnAddressTests
{
    private const string Cdn = "198.51.100.9";
    private const int Entries = 16;

    private static string Yaml()
    {
        var yaml = new System.Text.StringBuilder("version: 1\nhosts:\n  mirror.cdn.example: [" + Cdn + "]\negress:\n  allow:\n");
        for (int i = 0; i < Entries; i++)
            yaml.Append($"    - name: cdn-service-{i:00}\n      to: [name{i}.cdn.example]\n      tcp: [443]\n");
        yaml.Append("    - name: updates\n      to: [mirror.cdn.example]\n      tcp: [443]\n      window: 5m\n");
        return yaml.ToString();
    }

    private static List<(string Host, IReadOnlyList<(IPAddress Address, DateTimeOffset Expires)> Addresses)> AllOnTheCdn(int seconds) =>
        Enumerable.Range(0, Entries)
            .Select(i => ($"name{i}.cdn.example", (IReadOnlyList<(IPAddress, DateTimeOffset)>)[(IPAddress.Parse(Cdn), DateTimeOffset.UtcNow.AddSeconds(seconds + i))]))
            .ToList();

    [Fact]
    public async Task Names_and_a_window_on_one_cdn_address_refresh_open_reattach_and_restore()
    {
        using var net = new AgentAndWorld(Cdn);
        net.ListenTcp(Cdn, 443);
        Assert.True(net.TcpReachable(Cdn, 443, AgentAndWorld.ExpectedThroughMs));
        // At apply each name has an address of its own (nothing shared yet).
        var answers = Enumerable.Range(0, Entries).ToDictionary(i => $"name{i}.cdn.example", i => new[] { IPAddress.Parse($"198.51.100.{20 + i}") });
        var resolved = await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(Yaml(), "cdn.yaml"), new FixedResolver(answers));
        var compiled = PolicyCompiler.Compile(resolved);
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        await PolicyApplier.ApplyAsync(nft, compiled);
        Assert.False(net.TcpReachable(Cdn, 443, 700), "nothing allows the CDN address yet");

        var live = await LivePolicy.AttachAsync(nft, resolved);
        await live.RefreshNamesAsync(AllOnTheCdn(120));
        await live.OpenWindowAsync("updates", TimeSpan.FromMinutes(4));
        Assert.True(net.TcpReachable(Cdn, 443, AgentAndWorld.ExpectedThroughMs));
        var element = CdnElement(net);
        Assert.Equal("cdn-service-00", element.GetProperty("comment").GetString()); // nft still lists it
        Assert.InRange(element.GetProperty("timeout").GetInt32(), 230, 240); // the window makes its timeout

        // A second object rebuilds its model from the listing (it sees only the entries named) and changes it again.
        await using var other = await NftablesConnection.OpenAsync(new() { NetworkNamespace = net.Agent.Name });
        var again = await LivePolicy.AttachAsync(other, resolved);
        await again.RefreshNamesAsync(AllOnTheCdn(180));
        Assert.True((await again.WindowsAsync()).Single().IsOpen);

        // One replace that carries the window and every name, as a repair does; what it leaves passes the check.
        await again.RestoreAsync([("updates", DateTimeOffset.UtcNow.AddMinutes(3))], AllOnTheCdn(150));
        Assert.True(net.TcpReachable(Cdn, 443, AgentAndWorld.ExpectedThroughMs));
        var listed = await other.ListTableAsync(NftFamily.Inet, "netlinkfence");
        var differences = TableDiff.CompareRunning(compiled, listed, DateTimeOffset.UtcNow);
        Assert.True(differences.Count == 0, string.Join("\n", differences) + "\n" + net.Agent.Nft("list set inet netlinkfence allow_v4"));
        // The compiled addresses of the followed names are gone: the CDN address is the only element.
        Assert.Equal(Cdn, Assert.Single(AllElements(net)).GetProperty("val").GetProperty("concat")[0].GetString());
    }

    /// <summary>
    /// Permanent grants must all be named (a re-read would lose the others): a tenth permanent one on a full element is
    /// refused before anything is sent, as a library error, and the table is unchanged; the same grant with a timeout is
    /// taken (named or counted).
    /// </summary>
    [Fact]
    public async Task A_permanent_destination_beyond_what_an_element_can_name_is_refused_and_a_timed_one_is_not()
    {
        using var ns = TestNamespace.Create();
        string yaml = Policy.SharedDestinationTests.Yaml(9) + "    - name: extra-service-1\n      to: [203.0.113.77]\n      tcp: [443]\n";
        var resolved = await ResolvedPolicy.ResolveAsync(PolicyLoader.Load(yaml, "cdn.yaml"), new FixedResolver());
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        await PolicyApplier.ApplyAsync(nft, PolicyCompiler.Compile(resolved));
        var live = await LivePolicy.AttachAsync(nft, resolved);
        string before = ns.Nft("list table inet netlinkfence");
        uint generation = await nft.GetGenerationAsync();

        var error = await Assert.ThrowsAnyAsync<NetlinkFenceException>(() => live.AddDestinationAsync("extra-service-1", IPNetwork.Parse(Cdn + "/32")));
        Assert.Contains("10 entries (cdn-service-00,", error.Message);
        Assert.Contains($"({Cdn} . tcp . 443)", error.Message);
        Assert.Equal(generation, await nft.GetGenerationAsync());
        Assert.Equal(before, ns.Nft("list table inet netlinkfence"));

        await live.AddDestinationAsync("extra-service-1", IPNetwork.Parse(Cdn + "/32"), TimeSpan.FromMinutes(2));
        // The nine permanent entries stay named; the timed one does not fit beside them and the count, so it is counted.
        Assert.Equal([(System.Net.Sockets.ProtocolType.Tcp, new PortRange(443, 443))], UnlistedServicesOf(await nft.ListTableAsync(NftFamily.Inet, "netlinkfence")));
    }

    private static List<(System.Net.Sockets.ProtocolType, PortRange)> UnlistedServicesOf(TableContents? contents)
    {
        var set = contents!.Sets.Single(s => s.Set.Name == "allow_v4");
        return NetlinkFence.Policy.Layout.AllowSetModel.UnlistedServices(set.Set, set.Elements);
    }

    /// <summary>The element of allow_v4 for the CDN address, as <c>nft -j</c> lists it.</summary>
    private static JsonElement CdnElement(AgentAndWorld net) => AllElements(net).Single(e => e.ToString().Contains(Cdn));

    private static List<JsonElement> AllElements(AgentAndWorld net)
    {
        using var json = JsonDocument.Parse(net.Agent.Nft("-j list set inet netlinkfence allow_v4"));
        var set = json.RootElement.GetProperty("nftables").EnumerateArray().Single(o => o.TryGetProperty("set", out _)).GetProperty("set");
        return set.GetProperty("elem").EnumerateArray().Select(e => e.GetProperty("elem").Clone()).ToList();
    }
}
