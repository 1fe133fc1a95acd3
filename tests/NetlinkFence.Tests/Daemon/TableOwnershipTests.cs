using NetlinkFence.Interop.Uapi;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;
using Xunit;

namespace NetlinkFence.Tests.Daemon;

/// <summary>
/// What the daemon relies on, checked on the kernel: owner|persist is read back with the owning socket's port id
/// (NFTA_TABLE_OWNER); the table survives its owner's socket as an orphan (persist, no owner) that a new socket can
/// adopt by setting the owner flag again; a table made without persist cannot be adopted that way (so the daemon
/// adopts by its atomic replace, which re-creates the table).
/// </summary>
public sealed class TableOwnershipTests
{
    private const uint OwnedPersist = Table.OwnerFlag | Table.PersistFlag;

    [Fact]
    public async Task AnOrphanedPersistTableIsAdoptedByANewOwner()
    {
        using var ns = TestNamespace.Create();
        var table = new Table(NftFamily.Inet, "owned") { Flags = OwnedPersist };
        await using var reader = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        await using (var first = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name }))
        {
            await first.CommitAsync(new Transaction().AddTable(table).AddChain(new Chain(NftFamily.Inet, "owned", "c")));
            var owned = (await reader.ListTableAsync(NftFamily.Inet, "owned"))!.Table;
            Assert.Equal(OwnedPersist, owned.Flags);
            Assert.Equal(first.PortId, owned.Owner);
            var refused = await Assert.ThrowsAsync<TransactionRejectedException>(() =>
                reader.CommitAsync(new Transaction().AddChain(new Chain(NftFamily.Inet, "owned", "other"))).AsTask());
            Assert.Contains(refused.Failures, f => f.Error.Errno == (int)Errno.PERM);
        }

        var orphan = await reader.ListTableAsync(NftFamily.Inet, "owned");
        Assert.NotNull(orphan);
        Assert.Equal(Table.PersistFlag, orphan.Table.Flags);
        Assert.Null(orphan.Table.Owner);
        Assert.Single(orphan.Chains);

        await using var second = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        await second.CommitAsync(new Transaction().AddTable(table));
        var adopted = (await reader.ListTableAsync(NftFamily.Inet, "owned"))!;
        Assert.Equal(OwnedPersist, adopted.Table.Flags);
        Assert.Equal(second.PortId, adopted.Table.Owner);
        Assert.Single(adopted.Chains); // adopted in place, contents kept
    }

    [Fact]
    public async Task ATableWithoutPersistCannotBeAdoptedByFlagsAlone()
    {
        using var ns = TestNamespace.Create();
        await using var first = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        await first.CommitAsync(new Transaction().AddTable(new Table(NftFamily.Inet, "plain")));
        await using var second = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        var refused = await Assert.ThrowsAsync<TransactionRejectedException>(() =>
            second.CommitAsync(new Transaction().AddTable(new Table(NftFamily.Inet, "plain") { Flags = OwnedPersist })).AsTask());
        Assert.Contains(refused.Failures, f => f.Error.Errno == (int)Errno.OPNOTSUPP);

        // The daemon's way: one batch that destroys it and creates it owned.
        var owned = new Table(NftFamily.Inet, "plain") { Flags = OwnedPersist };
        await second.CommitAsync(new Transaction().DestroyTable(owned).AddTable(owned));
        Assert.Equal(second.PortId, (await first.ListTableAsync(NftFamily.Inet, "plain"))!.Table.Owner);
    }

    [Fact]
    public void OwnershipBitsAreNotConfiguration()
    {
        var plain = new Table(NftFamily.Inet, "t");
        Assert.True(plain.SameConfiguration(plain with { Flags = OwnedPersist, Owner = 7 }));
        Assert.True(plain.SameConfiguration(plain with { Flags = Table.PersistFlag }));
        Assert.False(plain.SameConfiguration(plain with { Flags = (uint)NftTableFlags.DORMANT })); // dormant filters nothing
    }
}
