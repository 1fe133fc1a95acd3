using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables.Codecs;

namespace NetlinkFence.Nftables;

public sealed partial class NftablesConnection
{
    /// <summary>
    /// Reads the sets that <see cref="NftSet.Reference"/>s of <paramref name="transaction"/> name, so their typed
    /// elements are checked and shaped against the set the kernel has (see <see cref="Transaction.AddElements"/>).
    /// A set that does not exist is refused here, before anything is sent, as the kernel would refuse it.
    /// </summary>
    private ValueTask<Transaction> ResolveReferencesAsync(Transaction transaction, bool synchronous, CancellationToken cancellationToken) =>
        // Checked here, not in the lookup: the lookup's lambda captures, and its closure would be allocated on entry.
        transaction.HasUnresolvedReferences ? LookUpReferencesAsync(transaction, synchronous, cancellationToken) : new(transaction);

    private async ValueTask<Transaction> LookUpReferencesAsync(Transaction transaction, bool synchronous, CancellationToken cancellationToken) =>
        await transaction.ResolveReferencesAsync(async reference =>
            await GetOneAsync(NftMessageType.GETSET, reference.Family, SetRequest(reference.Table, reference.Name), SetCodec.Decode,
                synchronous, cancellationToken).ConfigureAwait(false)
            ?? throw new NetlinkKernelException($"adding elements to set {reference.Family.ToNftName()} {reference.Table} {reference.Name}",
                new KernelError(0, (int)Errno.NOENT, "the set does not exist", null))).ConfigureAwait(false);
}
