using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables;

/// <summary>
/// Collects the rules the kernel echoes back for a commit (NEWRULE sent with NLM_F_ECHO): each echo carries the
/// sequence number of the message that added the rule, which the encoder's message map turns into the operation,
/// and NFTA_RULE_HANDLE, the handle the kernel gave it.
/// </summary>
internal sealed class RuleHandleEcho
{
    private readonly uint _firstSequence;
    private readonly int[] _messageOperation;
    private readonly int[] _ruleOrdinal; // operation index -> index in Handles, -1 for other operations
    private readonly ulong[] _handles;

    private RuleHandleEcho(Transaction transaction, uint firstSequence, int[] messageOperation)
    {
        _firstSequence = firstSequence;
        _messageOperation = messageOperation;
        _ruleOrdinal = new int[transaction.Count];
        int rules = 0;
        for (int i = 0; i < transaction.Count; i++)
            _ruleOrdinal[i] = transaction.Operations[i].WritesRule ? rules++ : -1;
        _handles = new ulong[rules];
        Receive = OnEcho;
    }

    /// <summary>An echo collector when the encoder asked for echoes, else null (nothing to collect).</summary>
    public static RuleHandleEcho? For(Transaction transaction, EncoderFeatures features, uint firstSequence, int[] messageOperation) =>
        (features & EncoderFeatures.EchoRuleHandles) != 0 ? new RuleHandleEcho(transaction, firstSequence, messageOperation) : null;

    /// <summary>The handler for <see cref="NftablesChannel.SendBatchAsync"/>'s echo replies.</summary>
    public DumpMessageHandler Receive { get; }

    /// <summary>How many rule echoes arrived.</summary>
    public int Received { get; private set; }

    /// <summary>The handles, in the order the transaction adds, inserts or replaces rules (0 where an echo was lost).</summary>
    public IReadOnlyList<ulong> Handles => _handles;

    private void OnEcho(in NetlinkMessage message)
    {
        if (message.Type != NftablesChannel.MessageType(NftMessageType.NEWRULE))
            return;
        int index = (int)(message.Sequence - _firstSequence);
        if (index < 0 || index >= _messageOperation.Length || _messageOperation[index] is var operation && operation < 0
            || operation >= _ruleOrdinal.Length || _ruleOrdinal[operation] < 0)
            return;
        var attributes = message.Attributes;
        while (attributes.TryRead(out var a))
        {
            if (a.Type == (ushort)NftRuleAttribute.HANDLE)
            {
                _handles[_ruleOrdinal[operation]] = a.U64BigEndian();
                Received++;
                return;
            }
        }
        throw new NetlinkDecodeException("echoed NFT_MSG_NEWRULE without NFTA_RULE_HANDLE");
    }
}
