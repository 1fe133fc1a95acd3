using NetlinkFence.Nftables;

namespace NetlinkFence.Cli;

/// <summary>Puts a saved table back in one atomic transaction and says what that did.</summary>
internal static class Restorer
{
    public static async Task<string> RestoreAsync(NftablesConnection nft, TableSnapshot snapshot, uint? expectedGeneration, CancellationToken cancellationToken)
    {
        var options = expectedGeneration is { } generation ? new CommitOptions { ExpectedGeneration = generation } : null;
        var result = await nft.CommitAsync(snapshot.ToRestoreTransaction(), options, cancellationToken);
        return snapshot.Contents is { } contents
            ? $"restored table {snapshot.Family.ToNftName()} {snapshot.Name} as it was before ({contents.Rules.Count} rules, {contents.Sets.Sum(s => s.Elements.Count)} set elements) in one transaction; generation {result.GenerationAfter}"
            : $"removed table {snapshot.Family.ToNftName()} {snapshot.Name} (it did not exist before) in one transaction; generation {result.GenerationAfter}";
    }
}
