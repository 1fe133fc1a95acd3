using NetlinkFence.Nftables;
using NetlinkFence.Nftables.Snapshots;

namespace NetlinkFence.Tests.TestSupport;

/// <summary>Tables as another build of netlinkfence would have applied them: the same contents under another table comment.</summary>
public static class OtherBuild
{
    /// <summary>This build's table comment as the CLI's <c>--version</c> gives it: the version and 12 hex digits of the commit.</summary>
    public static string ThisBuild()
    {
        string version = CliRunner.Run("--version").Stdout.Trim();
        return "netlinkfence " + (version.IndexOf('+') is var plus and > 0 ? version[..Math.Min(version.Length, plus + 13)] : version);
    }

    /// <summary>Replaces the table with <paramref name="contents"/> under <paramref name="comment"/>, in one transaction, as another build's apply would.</summary>
    public static async Task ReplaceAsync(NftablesConnection nft, TableContents contents, string? comment) =>
        await nft.CommitAsync(TableSnapshot.Of(contents.Table.Family, contents.Table.Name,
            contents with { Table = contents.Table with { Comment = comment } }).ToRestoreTransaction());

    /// <summary>Rewrites the live table <paramref name="table"/> in <paramref name="ns"/> under <paramref name="comment"/>.</summary>
    public static async Task RelabelAsync(TestNamespace ns, string table, string? comment)
    {
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        await ReplaceAsync(nft, (await nft.ListTableAsync(NftFamily.Inet, table))!, comment);
    }
}
