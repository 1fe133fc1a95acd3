using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables;

/// <summary>
/// The nf_tables protocol over an <see cref="NfnetlinkChannel"/>: message types, generation ids
/// (GETGEN/NEWGEN), batches (ended by the ACK of their last message, a GETGEN marker when that cannot work), and dumps. Not thread-safe; the public connection
/// serialises callers. Each operation has an async form with a <c>synchronous</c> flag and a blocking form.
/// </summary>
internal sealed class NftablesChannel : IDisposable
{
    private const string GenerationOperation = "reading the ruleset generation (NFT_MSG_GETGEN)";
    private static readonly EndMarkerReader ReadGenerationMarker = TryReadGeneration;

    private NftablesChannel(NfnetlinkChannel nfnetlink) => Nfnetlink = nfnetlink;

    public NfnetlinkChannel Nfnetlink { get; }

    public NetlinkConnection Connection => Nfnetlink.Connection;

    public static NftablesChannel Open(string? networkNamespacePath, NetworkNamespaceHandle? networkNamespace = null, uint? firstSequence = null) =>
        new(NfnetlinkChannel.Open(networkNamespacePath, networkNamespace, firstSequence));

    public static async Task<NftablesChannel> OpenAsync(string? networkNamespacePath, NetworkNamespaceHandle? networkNamespace = null, uint? firstSequence = null) =>
        new(await NfnetlinkChannel.OpenAsync(networkNamespacePath, networkNamespace, firstSequence).ConfigureAwait(false));

    /// <summary>A channel over any transport (tests script one).</summary>
    public static NftablesChannel Over(INetlinkTransport transport, uint? firstSequence = null) =>
        new(NfnetlinkChannel.Over(transport, firstSequence));

    public static ushort MessageType(NftMessageType type) => NetlinkFence.Netlink.Nfnetlink.MessageType(NfnetlinkSubsystem.NFTABLES, (byte)type);

    /// <summary>Writes NFNL_MSG_BATCH_BEGIN or _END for the nf_tables subsystem (see <see cref="NfnetlinkChannel.WriteBatchMarker"/>).</summary>
    public static void WriteBatchMarker(ref NetlinkWriter writer, NfnetlinkBatchMessage type, uint sequence, uint? generation) =>
        NfnetlinkChannel.WriteBatchMarker(ref writer, NfnetlinkSubsystem.NFTABLES, type, sequence, generation);

    /// <summary>Reads the ruleset generation id (NFT_MSG_GETGEN).</summary>
    public uint GetGeneration(CancellationToken cancellationToken) =>
        NfnetlinkChannel.Completed(GetGenerationAsync(synchronous: true, cancellationToken));

    /// <inheritdoc cref="GetGeneration"/>
    public async ValueTask<uint> GetGenerationAsync(bool synchronous, CancellationToken cancellationToken)
    {
        uint generation = 0;
        await Nfnetlink.RequestAsync(MessageType(NftMessageType.GETGEN), NetfilterFamily.UNSPEC, null, GenerationOperation,
            (in NetlinkMessage m) => TryReadGeneration(m, out generation), synchronous, cancellationToken).ConfigureAwait(false);
        return generation;
    }

    /// <summary>
    /// Returns once any commit another socket is running has finished. The generation id moves at the start of
    /// a commit, before its objects are activated and before a new base chain gets its drop policy, so a dump
    /// that starts mid-commit sees half of it under the new generation id. An empty batch (BEGIN, END, no
    /// ACK requested, so no reply) takes the kernel's commit mutex and therefore waits for that commit.
    /// </summary>
    public void WaitForCommitInProgress() => Nfnetlink.SendEmptyBatch(NfnetlinkSubsystem.NFTABLES);

    /// <summary>
    /// Sends a batch encoded with sequence numbers <paramref name="firstSequence"/>.. (<paramref name="count"/>
    /// messages) and collects its errors and the NEWGEN a commit that applied echoes (the generation after it); the
    /// fallback end marker is GETGEN. Other non-error replies inside the batch (NLM_F_ECHO) go to <paramref name="onEcho"/>.
    /// </summary>
    public ValueTask<BatchOutcome> SendBatchAsync(BatchBuffer batch, uint firstSequence, uint count, DumpMessageHandler? onEcho, bool synchronous, CancellationToken cancellationToken) =>
        Nfnetlink.SendBatchAsync(batch, firstSequence, count, MessageType(NftMessageType.GETGEN), ReadGenerationMarker,
            GenerationOperation, onEcho, synchronous, cancellationToken);

    /// <summary>Like <see cref="SendBatchAsync"/>, blocking the calling thread.</summary>
    public BatchOutcome SendBatch(BatchBuffer batch, uint firstSequence, uint count, CancellationToken cancellationToken) =>
        NfnetlinkChannel.Completed(SendBatchAsync(batch, firstSequence, count, null, synchronous: true, cancellationToken));

    /// <summary>
    /// Sends one non-dump GET (e.g. NFT_MSG_GETCHAIN naming table and chain) and hands the kernel's single reply
    /// to <paramref name="handler"/>. Returns false when the kernel answers ENOENT (no such object); any other
    /// error is thrown. No NLM_F_ACK: the reply itself, or the error, is the answer.
    /// </summary>
    public async ValueTask<bool> GetAsync(NftMessageType type, NetfilterFamily family, DumpRequestWriter writeRequest, DumpMessageHandler handler,
        bool synchronous, CancellationToken cancellationToken)
    {
        try
        {
            await Nfnetlink.RequestAsync(MessageType(type), family, writeRequest, $"getting one object ({type})",
                (in NetlinkMessage m) => { handler(m); return true; }, synchronous, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (NetlinkKernelException e) when (e.Error.Errno == (int)Errno.NOENT)
        {
            return false;
        }
    }

    /// <inheritdoc cref="GetAsync"/>
    public bool Get(NftMessageType type, NetfilterFamily family, DumpRequestWriter writeRequest, DumpMessageHandler handler, CancellationToken cancellationToken) =>
        NfnetlinkChannel.Completed(GetAsync(type, family, writeRequest, handler, synchronous: true, cancellationToken));

    /// <summary>Runs a dump (<c>NLM_F_DUMP</c>), restarted from scratch when the ruleset changes meanwhile.</summary>
    public ValueTask DumpAsync(NftMessageType type, NetfilterFamily family, DumpRequestWriter? writeRequest, DumpMessageHandler handler, Action restart, bool synchronous, CancellationToken cancellationToken) =>
        Nfnetlink.DumpAsync(MessageType(type), family, writeRequest, $"dumping ({type})", handler, restart, synchronous, cancellationToken);

    /// <inheritdoc cref="DumpAsync"/>
    public void Dump(NftMessageType type, NetfilterFamily family, DumpRequestWriter? writeRequest, DumpMessageHandler handler, Action restart, CancellationToken cancellationToken) =>
        NfnetlinkChannel.Completed(DumpAsync(type, family, writeRequest, handler, restart, synchronous: true, cancellationToken));

    private static bool TryReadGeneration(in NetlinkMessage message, out uint generation)
    {
        generation = 0;
        if (message.Type != MessageType(NftMessageType.NEWGEN))
            return false;
        var attributes = message.Attributes;
        while (attributes.TryRead(out var attribute))
        {
            if (attribute.Type == (ushort)NftGenAttribute.ID)
            {
                generation = attribute.U32BigEndian();
                return true;
            }
        }
        throw new NetlinkDecodeException("NFT_MSG_NEWGEN without NFTA_GEN_ID");
    }

    public void Dispose() => Nfnetlink.Dispose();
}
