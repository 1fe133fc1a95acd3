using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Kernel;

/// <summary>
/// The helpers of <see cref="NetlinkFenceException"/> read real kernel replies in a fresh namespace: each failure is
/// caught as the base type, with the errno the kernel gave and exactly one helper true.
/// </summary>
public sealed class ErrorModelTests
{
    private static readonly Table Existing = new(NftFamily.Inet, "existing");
    private static readonly Table Missing = new(NftFamily.Inet, "missing");

    private static async Task<NetlinkFenceException> Refused(NftablesConnection nft, Transaction transaction, CommitOptions? options = null) =>
        await Assert.ThrowsAsync<TransactionRejectedException>(() => nft.CommitAsync(transaction, options).AsTask());

    [Fact]
    public async Task DeletingAMissingTableIsNotFound()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        var e = await Refused(nft, new Transaction().DeleteTable(Missing));
        Assert.True(e.IsNotFound, e.Message);
        Assert.Equal((int)Errno.NOENT, e.Errno);
        Assert.Equal(Errno.NOENT, e.ErrnoCode);
        Assert.Equal("ENOENT", e.ErrnoName);
        Assert.False(e.IsExists || e.IsPermissionDenied || e.IsGenerationConflict);
    }

    [Fact]
    public async Task CreatingAnExistingTableIsExists()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        await nft.CommitAsync(new Transaction().AddTable(Existing));
        var e = await Refused(nft, new Transaction().CreateTable(Existing)); // NLM_F_EXCL
        Assert.True(e.IsExists, e.Message);
        Assert.Equal(Errno.EXIST, e.ErrnoCode);
        Assert.False(e.IsNotFound || e.IsPermissionDenied || e.IsGenerationConflict);
    }

    [Fact]
    public async Task ACommitAgainstAMovedGenerationIsAGenerationConflict()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        uint generation = await nft.GetGenerationAsync();
        ns.Nft("add table inet someone_else"); // another process commits: the generation moves
        var e = await Refused(nft, new Transaction().AddTable(Existing), new CommitOptions { ExpectedGeneration = generation });
        Assert.True(e.IsGenerationConflict, e.Message);
        Assert.Equal(Errno.RESTART, e.ErrnoCode);
        Assert.False(e.IsNotFound || e.IsExists || e.IsPermissionDenied);
        Assert.DoesNotContain("existing", ns.Nft("list tables"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TheErrnoIsThatOfTheFirstRefusedObject(bool createFirst)
    {
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        await nft.CommitAsync(new Transaction().AddTable(Existing));
        var tx = createFirst
            ? new Transaction().CreateTable(Existing).DeleteTable(Missing)
            : new Transaction().DeleteTable(Missing).CreateTable(Existing);
        var e = Assert.IsType<TransactionRejectedException>(await Refused(nft, tx));
        Assert.Equal(2, e.Failures.Count); // the kernel reports both...
        Assert.Equal(0, e.Failures[0].OperationIndex);
        Assert.Equal(createFirst ? Errno.EXIST : Errno.NOENT, e.ErrnoCode); // ...the first one is the cause
        Assert.Equal(createFirst, e.IsExists);
        Assert.Equal(!createFirst, e.IsNotFound);
    }

    [Fact]
    public async Task AMissingNamespaceIsNotFoundThroughTheSameBase()
    {
        var e = await Assert.ThrowsAnyAsync<NetlinkFenceException>(() => NftablesConnection.OpenAsync(new() { NetworkNamespace = "nlf-no-such-namespace" }).AsTask());
        Assert.IsType<ErrnoException>(e);
        Assert.True(e.IsNotFound, e.Message);
        Assert.Equal("ENOENT", e.ErrnoName);
    }

    [Fact]
    public void WithoutCapNetAdminTheBatchIsPermissionDenied()
    {
        using var ns = TestNamespace.Create();
        var (exit, output) = Probe.Run($"ip netns exec {ns.Name} setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all", "commit denied");
        Assert.True(exit == 4, $"exit {exit}: {output}");
        Assert.Contains("BASE errno=EPERM permission=True notfound=False exists=False conflict=False", output);
    }

    [Fact]
    public async Task AnEpermOnOneObjectIsARefusalNotPermissionDenied()
    {
        using var ns = TestNamespace.Create();
        // Another socket owns the table (NFT_TABLE_F_OWNER): the kernel refuses our change to it with EPERM on that
        // object, although we are root. That is not "run as root", so IsPermissionDenied stays false.
        await using var owner = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        await owner.CommitAsync(new Transaction().AddTable(new Table(NftFamily.Inet, "owned") { Flags = (uint)NftTableFlags.OWNER }));
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        var e = await Refused(nft, new Transaction().DeleteTable(new Table(NftFamily.Inet, "owned")));
        Assert.Equal(Errno.PERM, e.ErrnoCode);
        Assert.False(e.IsPermissionDenied, e.Message);
    }
}
