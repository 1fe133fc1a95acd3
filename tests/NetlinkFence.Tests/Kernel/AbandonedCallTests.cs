using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Kernel;

/// <summary>
/// A call abandoned half-way (a handler that throws, a cancellation) leaves replies queued and, for a dump, the
/// kernel's dump still running on the socket: the next call must drain them first, or a new dump is refused
/// (EBUSY) and old replies could be read as new ones.
/// </summary>
public sealed class AbandonedCallTests
{
    [Fact]
    public async Task AnAbandonedDumpDoesNotDisturbTheNextCalls()
    {
        using var ns = TestNamespace.Create();
        using var channel = NftablesChannel.Open(ns.Path);
        await using (var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name }))
        {
            var tx = new Transaction().AddTable(Build.Table("t")).AddChain(Build.BaseChain("t"));
            for (int i = 0; i < 3000; i++)
                tx.AddRule(Build.AcceptTo("t", "output", i, $"rule {i}"));
            await nft.CommitAsync(tx);
        }

        int seen = 0;
        Assert.Throws<InvalidOperationException>(() => channel.Dump(NftMessageType.GETRULE, NetfilterFamily.INET, null,
            (in NetlinkMessage _) => { if (++seen == 10) throw new InvalidOperationException("abandon"); }, () => { }, CancellationToken.None));

        // The next dump sees every rule (it would get EBUSY if the abandoned dump were still running).
        int rules = 0;
        channel.Dump(NftMessageType.GETRULE, NetfilterFamily.INET, null, (in NetlinkMessage _) => rules++, () => rules = 0, CancellationToken.None);
        Assert.Equal(3000, rules);
        uint generation = channel.GetGeneration(CancellationToken.None);
        Assert.Equal(generation, channel.GetGeneration(CancellationToken.None));
    }
}
