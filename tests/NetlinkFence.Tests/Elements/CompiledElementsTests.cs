using NetlinkFence.Nftables;
using NetlinkFence.Tests.Faults;

namespace NetlinkFence.Tests.Elements;

/// <summary>
/// The compiler builds its concatenated interval elements with the key builder; the elements (and so the bytes
/// sent and the contents compared with the live table) are the raw ranges nft sends: address, protocol and port
/// each in its own register, KEY_END holding the inclusive last address, protocol and port; a network inside
/// another one of the same entry adds nothing.
/// </summary>
public sealed class CompiledElementsTests
{
    private static DataValue Key(string addressHex, ushort port) =>
        new([.. Convert.FromHexString(addressHex), 6, 0, 0, 0, (byte)(port >> 8), (byte)port, 0, 0]);

    private static SetElement Range(string firstHex, ushort firstPort, string lastHex, ushort lastPort) =>
        new(Key(firstHex, firstPort)) { KeyEnd = Key(lastHex, lastPort) };

    [Fact]
    public void Concatenated_elements_are_the_raw_ranges_nft_sends()
    {
        var compiled = FaultPolicies.Compile("""
            version: 1
            table: netlinkfence
            egress:
              allow:
                - name: web
                  to: [203.0.113.7, 10.0.0.0/8, 10.1.2.3, "2001:db8::7", "2001:db8:1::/48"]
                  tcp: [443, 1000-2000, 1500-2500]
            """);
        var v4 = compiled.Sets.Single(s => s.Set.Name == "allow_v4").Elements;
        Assert.All(v4.Concat(compiled.Sets.Single(s => s.Set.Name == "allow_v6").Elements), e => Assert.Equal("web", e.Comment));
        Assert.Equal(
        [
            Range("0a000000", 443, "0affffff", 443), Range("0a000000", 1000, "0affffff", 2500), // 10.1.2.3 lies inside 10/8
            Range("cb007107", 443, "cb007107", 443), Range("cb007107", 1000, "cb007107", 2500),
        ], v4.Select(e => e with { UserData = null }));
        var v6 = compiled.Sets.Single(s => s.Set.Name == "allow_v6").Elements;
        Assert.Equal(
        [
            Range("20010db8000000000000000000000007", 443, "20010db8000000000000000000000007", 443),
            Range("20010db8000000000000000000000007", 1000, "20010db8000000000000000000000007", 2500),
            Range("20010db8000100000000000000000000", 443, "20010db80001ffffffffffffffffffff", 443),
            Range("20010db8000100000000000000000000", 1000, "20010db80001ffffffffffffffffffff", 2500),
        ], v6.Select(e => e with { UserData = null }));
        // Shaped once by the compiler, the transaction sends the same list: nothing is expanded twice.
        var tx = compiled.ToReplaceTransaction();
        Assert.Contains(tx.Operations, o => o.Elements is { } e && e.SequenceEqual(v4));
    }
}
