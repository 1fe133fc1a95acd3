using NetlinkFence.Interop;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Kernel;

/// <summary>Connections open in the named namespace, by name or by path, and what they commit stays there.</summary>
public sealed class NamespaceTests
{
    [Fact]
    public async Task ByNameAndByProcPathBothWorkAndStayInsideTheNamespace()
    {
        using var ns = TestNamespace.Create();
        using var other = TestNamespace.Create();

        // A process living in the namespace gives the /proc/PID/ns/net path.
        var sleeper = System.Diagnostics.Process.Start("ip", $"netns exec {ns.Name} sleep 30")!;
        try
        {
            string path = await ProcNetPath(sleeper.Id, ns);
            await using (var byPath = await NftablesConnection.OpenAsync(new() { NetworkNamespace = path }))
                await byPath.CommitAsync(new Transaction().AddTable(Build.Table("by_path")).AddChain(Build.BaseChain("by_path")));
        }
        finally
        {
            sleeper.Kill(entireProcessTree: true);
            sleeper.WaitForExit();
        }
        await using (var byName = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name }))
        {
            await byName.CommitAsync(new Transaction().AddTable(Build.Table("by_name")));
            var tables = await byName.ListTablesAsync(NftFamily.Inet);
            Assert.Equal(["by_name", "by_path"], tables.Select(t => t.Name).Order());
            Assert.NotNull(await byName.ListTableAsync(NftFamily.Inet, "by_path"));
        }
        // The /run/netns path form names the same namespace.
        await using (var byRunPath = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Path }))
            Assert.Equal(2, (await byRunPath.ListTablesAsync()).Count);

        Assert.Contains("table inet by_path", ns.Nft("list tables"));
        Assert.Contains("table inet by_name", ns.Nft("list tables"));
        Assert.Equal("", other.Nft("list tables").Trim());
        await using var elsewhere = await NftablesConnection.OpenAsync(new() { NetworkNamespace = other.Name });
        Assert.Empty(await elsewhere.ListTablesAsync());
        Assert.Null(await elsewhere.ListTableAsync(NftFamily.Inet, "by_name"));
    }

    private static async Task<string> ProcNetPath(int ipPid, TestNamespace ns)
    {
        // `ip netns exec` execs sleep in place, so the pid is the sleeper's; wait until it has switched namespaces.
        string target = File.ResolveLinkTarget(ns.Path, false)?.ToString() ?? "";
        string wanted = new FileInfo(ns.Path).Exists ? Inode(ns.Path) : "";
        string path = $"/proc/{ipPid}/ns/net";
        for (int i = 0; i < 100; i++)
        {
            if (Inode(path) == wanted && System.IO.File.ReadAllText($"/proc/{ipPid}/comm").Trim() == "sleep")
                return path;
            await Task.Delay(20);
        }
        throw new InvalidOperationException($"process {ipPid} never entered {ns.Path} ({target})");
    }

    private static string Inode(string path) => TestNamespace.Run("stat", $"-L -c %i {path}").Trim();

    [Fact]
    public async Task AMissingNamespaceNamesThePath()
    {
        var e1 = await Assert.ThrowsAsync<ErrnoException>(() => NftablesConnection.OpenAsync(new() { NetworkNamespace = "nlf-does-not-exist" }).AsTask());
        Assert.Contains("/run/netns/nlf-does-not-exist", e1.Message);
        Assert.Equal("ENOENT", e1.ErrnoName);
        var e2 = await Assert.ThrowsAsync<ErrnoException>(() => NftablesConnection.OpenAsync(new() { NetworkNamespace = "/proc/999999999/ns/net" }).AsTask());
        Assert.Contains("/proc/999999999/ns/net", e2.Message);
        var e3 = Assert.Throws<InvalidInputException>(() => NftablesConnection.Open(new() { NetworkNamespace = "a/b" }));
        Assert.Contains("a/b", e3.Message);
        // Not a namespace file at all: said plainly (NS_GET_NSTYPE), not as setns's EINVAL.
        var e4 = await Assert.ThrowsAsync<InvalidInputException>(() => NftablesConnection.OpenAsync(new() { NetworkNamespace = "/etc/hostname" }).AsTask());
        Assert.Contains("/etc/hostname is not a network namespace", e4.Message);
    }
}
