using System.Net;
using System.Net.Sockets;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;
using Xunit.Abstractions;

namespace NetlinkFence.Tests.Kernel;

/// <summary>
/// Typed elements through a set known only by name (<see cref="NftSet.Reference"/>): added, then deleted, in a
/// fresh namespace, with <c>nft list set</c> as the oracle for what the kernel holds and our reader for the keys.
/// </summary>
public sealed class SetElementReferenceTests(ITestOutputHelper output)
{
    private const NftFamily Inet = NftFamily.Inet;
    private const string T = "t";

    private static IPAddress Ip(string text) => IPAddress.Parse(text);
    private static IPNetwork Net(string text) => IPNetwork.Parse(text);

    [Fact]
    public async Task Elements_added_and_deleted_through_references_are_what_nft_lists()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        // The sets exist already (made by another process, say); the element operations below know only names.
        await nft.CommitAsync(new Transaction()
            .AddTable(new Table(Inet, T))
            .AddSet(new NftSet(Inet, T, "flows", [SetKeyType.Ipv4Address, SetKeyType.InetProto, SetKeyType.InetService]))
            .AddSet(new NftSet(Inet, T, "nets", [SetKeyType.Ipv4Address], SetFlags.Interval))
            .AddSet(new NftSet(Inet, T, "allow", [SetKeyType.Ipv6Address, SetKeyType.InetService], SetFlags.Interval))
            .AddSet(new NftSet(Inet, T, "windows", [SetKeyType.Ipv4Address], SetFlags.Timeout)));

        var flows = NftSet.Reference(Inet, T, "flows");
        var nets = NftSet.Reference(Inet, T, "nets"); // the commit reads its flags: a single value gets its end element
        var allow = NftSet.Reference(Inet, T, "allow");
        var windows = NftSet.Reference(Inet, T, "windows");
        var https = SetElement.Of(Ip("203.0.113.7"), ProtocolType.Tcp, SetKeyField.Port(443));
        var dns = SetElement.Of(Ip("198.51.100.1"), ProtocolType.Udp, SetKeyField.Port(53));
        var tenSlash8 = SetElement.Of(Net("10.0.0.0/8"));
        var top = SetElement.Of(Net("255.255.255.0/24")) with { Comment = "top" };
        var single = SetElement.Of(Ip("192.0.2.1"));
        var v6Range = SetElement.Of(Net("2001:db8::/32"), SetKeyField.Ports(1000, 2000));
        await nft.CommitAsync(new Transaction()
            .AddElements(flows, [https, dns])
            .AddElements(nets, [tenSlash8, single, top])
            .AddElements(allow, [v6Range])
            .AddElements(windows, [SetElement.Of(Ip("192.0.2.9")) with { Timeout = TimeSpan.FromHours(1), Comment = "window" }]));

        string listedFlows = ns.Nft("list set inet t flows");
        string listedNets = ns.Nft("list set inet t nets");
        string listedAllow = ns.Nft("list set inet t allow");
        string listedWindows = ns.Nft("list set inet t windows");
        output.WriteLine(listedFlows + listedNets + listedAllow + listedWindows);
        Assert.Contains("203.0.113.7 . tcp . 443", listedFlows);
        Assert.Contains("198.51.100.1 . udp . 53", listedFlows);
        Assert.Contains("elements = { 10.0.0.0/8, 192.0.2.1,", listedNets); // one address, not "from here up"
        Assert.Contains("255.255.255.0/24 comment \"top\"", listedNets); // open interval printed as a prefix
        Assert.Contains("2001:db8::/32 . 1000-2000", listedAllow);
        Assert.Contains("192.0.2.9 timeout 1h expires", listedWindows);
        Assert.Contains("comment \"window\"", listedWindows);

        // Our reader sees the keys the builder made.
        var contents = await nft.ListTableAsync(Inet, T);
        Assert.NotNull(contents);
        var readFlows = contents.Sets.Single(s => s.Set.Name == "flows").Elements.Select(e => e.Key).ToHashSet();
        Assert.Equal(new HashSet<DataValue> { https.Key, dns.Key }, readFlows);
        var readAllow = Assert.Single(contents.Sets.Single(s => s.Set.Name == "allow").Elements);
        Assert.Equal((v6Range.Key, v6Range.KeyEnd), (readAllow.Key, readAllow.KeyEnd));

        await nft.CommitAsync(new Transaction()
            .DeleteElements(flows, [https])
            .DeleteElements(nets, [tenSlash8])
            .DeleteElements(allow, [v6Range]));

        listedFlows = ns.Nft("list set inet t flows");
        listedNets = ns.Nft("list set inet t nets");
        listedAllow = ns.Nft("list set inet t allow");
        output.WriteLine(listedFlows + listedNets + listedAllow);
        Assert.DoesNotContain("203.0.113.7", listedFlows);
        Assert.Contains("198.51.100.1 . udp . 53", listedFlows);
        Assert.DoesNotContain("10.0.0.0", listedNets);
        Assert.Contains("255.255.255.0/24", listedNets);
        Assert.DoesNotContain("elements", listedAllow);

        // A reference also names a set to delete.
        await nft.CommitAsync(new Transaction().DeleteSet(allow));
        string table = ns.Nft("list table inet t");
        Assert.DoesNotContain("set allow", table);
        Assert.Contains("set flows", table);
    }

    [Fact]
    public async Task A_key_of_the_wrong_family_never_reaches_the_kernel()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        var set = new NftSet(Inet, T, "dns_v4", [SetKeyType.Ipv4Address]);
        await nft.CommitAsync(new Transaction().AddTable(new Table(Inet, T)).AddSet(set));

        var error = Assert.Throws<ArgumentException>(() => new Transaction().AddElements(set, [SetElement.Of(Ip("2001:db8::53"))]));
        Assert.Contains("ipv6_addr", error.Message);

        // Through a reference the commit reads the set's key types first: refused before anything is sent.
        error = await Assert.ThrowsAsync<ArgumentException>(() => nft.CommitAsync(
            new Transaction().AddElements(NftSet.Reference(Inet, T, "dns_v4"), [SetElement.Of(Ip("2001:db8::53"))])).AsTask());
        Assert.Contains("ipv6_addr", error.Message);
        Assert.DoesNotContain("elements", ns.Nft("list set inet t dns_v4"));
    }

    [Fact]
    public async Task One_address_through_a_reference_to_an_interval_set_is_one_address_not_an_open_interval()
    {
        using var ns = TestNamespace.Create();
        // Another process made the interval set; the reference below says nothing of its flags.
        ns.Nft("add table inet t; add set inet t allow { type ipv4_addr; flags interval; }");
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        await nft.CommitAsync(new Transaction().AddElements(NftSet.Reference(Inet, T, "allow"), [SetElement.Of(Ip("192.0.2.1"))]));

        // Sent as one element, the kernel would hold "192.0.2.1 and every address above" (nft prints 192.0.2.1-255.255.255.255).
        string listed = ns.Nft("list set inet t allow");
        output.WriteLine(listed);
        Assert.Contains("elements = { 192.0.2.1 }", listed);
        Assert.Contains("192.0.2.1", ns.Nft("get element inet t allow { 192.0.2.1 }"));
        Assert.NotEqual(0, TestNamespace.TryRun("ip", $"netns exec {ns.Name} nft get element inet t allow {{ 192.0.2.2 }}").ExitCode);
    }

    [Fact]
    public async Task The_blocking_commit_resolves_references_too()
    {
        using var ns = TestNamespace.Create();
        ns.Nft("add table inet t; add set inet t allow { type ipv4_addr; flags interval; }");
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        nft.Commit(new Transaction().AddElements(NftSet.Reference(Inet, T, "allow"), [SetElement.Of(Ip("192.0.2.1"))]));
        Assert.Contains("elements = { 192.0.2.1 }", ns.Nft("list set inet t allow"));
    }

    [Fact]
    public async Task A_reference_to_a_missing_set_is_not_found_before_anything_is_sent()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        await nft.CommitAsync(new Transaction().AddTable(new Table(Inet, T)));
        uint before = await nft.GetGenerationAsync();
        var error = await Assert.ThrowsAsync<NetlinkFence.Netlink.NetlinkKernelException>(() => nft.CommitAsync(
            new Transaction().AddElements(NftSet.Reference(Inet, T, "nope"), [SetElement.Of(Ip("192.0.2.1"))])).AsTask());
        Assert.True(error.IsNotFound);
        Assert.Equal(before, await nft.GetGenerationAsync());
    }
}
