using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables;

public sealed partial class NftablesConnection
{
    /// <summary>Whether this kernel has NFT_MSG_DESTROY* (6.3+); null until a transaction first needs to know.</summary>
    private bool? _kernelHasDestroy;

    /// <summary>Overrides the probe (tests use it to run the pre-6.3 add-then-delete encoding on a new kernel).</summary>
    internal bool? KernelHasDestroy
    {
        get => _kernelHasDestroy;
        set => _kernelHasDestroy = value;
    }

    /// <summary>
    /// Whether an element addition without NLM_F_EXCL moves the timeout and expiration of an element the set already
    /// holds (kernel 6.10+, "set element timeout update support"). Older kernels accept such an addition and change
    /// nothing, so there is no error to probe for: the release number decides, and a kernel that reports less than
    /// 6.10 (a distribution kernel with the feature backported) just gets the delete-and-add it always had.
    /// </summary>
    internal static bool KernelMovesElementTimeouts { get; } = Environment.OSVersion.Version >= new Version(6, 10);

    private async ValueTask<EncoderFeatures> EncoderFeaturesForAsync(Transaction transaction, CommitOptions? options, bool synchronous, CancellationToken cancellationToken)
    {
        var features = options?.EchoHandles == true ? EncoderFeatures.EchoRuleHandles : EncoderFeatures.None;
        if (transaction.HasDestroy && (_kernelHasDestroy ??= await ProbeDestroyAsync(synchronous, cancellationToken).ConfigureAwait(false) ?? true))
            features |= EncoderFeatures.DestroyMessages;
        return features;
    }

    /// <summary>
    /// Commits a batch holding only NFT_MSG_DESTROYTABLE for table handle 0, which no table has (handles count from
    /// 1): a kernel with DESTROY finds nothing, returns 0 and has nothing to commit (no generation change, no
    /// event); one without it refuses the unknown message type with EINVAL. Null when the answer says neither
    /// (e.g. EPERM without CAP_NET_ADMIN: the real commit then reports it), so it is asked again next time.
    /// </summary>
    private async ValueTask<bool?> ProbeDestroyAsync(bool synchronous, CancellationToken cancellationToken)
    {
        uint first = _channel.Connection.ReserveSequences(3);
        _batch.Reset();
        var writer = _batch.BeginMessage();
        NftablesChannel.WriteBatchMarker(ref writer, NfnetlinkBatchMessage.BATCH_BEGIN, first, null);
        _batch.EndMessage(writer.Length);
        writer = _batch.BeginMessage();
        var message = writer.BeginNfnetlinkMessage(NfnetlinkSubsystem.NFTABLES, (byte)NftDestroyMessage.DESTROYTABLE, NetlinkMessageFlags.REQUEST, first + 1,
            NetfilterFamily.INET);
        // Never NAME-less without HANDLE: a table delete with neither flushes every table of the family.
        writer.WriteU64BigEndian((ushort)NftTableAttribute.HANDLE, 0);
        writer.EndMessage(message);
        _batch.EndMessage(writer.Length);
        _batch.AddFlags(1, NetlinkMessageFlags.ACK); // its ACK ends the replies (see NfnetlinkChannel.SendBatchAsync)
        writer = _batch.BeginMessage();
        NftablesChannel.WriteBatchMarker(ref writer, NfnetlinkBatchMessage.BATCH_END, first + 2, null);
        _batch.EndMessage(writer.Length);

        var outcome = await _channel.SendBatchAsync(_batch, first, 3, null, synchronous, cancellationToken).ConfigureAwait(false);
        if (outcome.Errors.Count == 0 && !outcome.RepliesLost)
            return true;
        if (outcome.Errors.Any(e => e.Errno is (int)Errno.INVAL or (int)Errno.OPNOTSUPP))
            return false;
        return null;
    }
}
