using System.Text.RegularExpressions;

namespace NetlinkFence.Tests.TestSupport;

/// <summary>What of <c>nft -j list ruleset</c> a test may compare across a change that must leave the ruleset as it was.</summary>
internal static class NftListing
{
    /// <summary>The table's handle masked (an undo re-creates it), and the counters: stray IPv6 traffic on a test's veth may hit the denied chains meanwhile.</summary>
    public static string Masked(string json) => Regex.Replace(
        Safety.TableSnapshotTests.MaskTableHandles(json), "\"packets\": \\d+, \"bytes\": \\d+", "\"packets\": N, \"bytes\": N");
}
