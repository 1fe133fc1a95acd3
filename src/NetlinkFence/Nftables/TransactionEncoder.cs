using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables.Codecs;

namespace NetlinkFence.Nftables;

/// <summary>
/// Encodes a <see cref="Transaction"/> into one nfnetlink batch:
/// <code>
///  BATCH_BEGIN(seq n, res_id NFNL_SUBSYS_NFTABLES [, NFNL_BATCH_GENID]) | op messages n+1.. | BATCH_END
/// </code>
/// Two flags nft 1.0.6 does not send (the only differences from its bytes) let a commit learn its outcome from
/// the one sendmsg, with no second request (see <see cref="NetlinkFence.Netlink.NfnetlinkChannel.SendBatchAsync"/>):
/// NLM_F_ACK on the last message, whose ACK the kernel queues after every error of the batch, so it ends the
/// replies; and NLM_F_ECHO on the first message, which makes a commit that changed something send its NEWGEN (the
/// generation after it) back to this socket, because the kernel's generation notice follows the first message's
/// flags. Only when the first operation adds one object or changes a few elements (see <see cref="EchoesGeneration"/>).
/// </summary>
/// <remarks>
/// Allocates nothing per rule or attribute: objects are written straight into the batch's pooled segments,
/// and the message-to-operation map is a reused array.
/// </remarks>
internal static class TransactionEncoder
{
    /// <summary>Map entry for BATCH_BEGIN and BATCH_END, which belong to no operation.</summary>
    public const int Framing = -1;

    /// <summary>
    /// Encodes and returns the sequence number of BATCH_END (the last message). <paramref name="features"/>
    /// chooses kernel-dependent encodings; with none, the bytes are those of nft 1.0.6 (golden tests).
    /// </summary>
    public static uint Encode(Transaction transaction, BatchBuffer batch, uint firstSequence, uint? generation, ref int[] messageOperation,
        EncoderFeatures features = EncoderFeatures.None)
    {
        // Typed elements through a reference are shaped only once the set's flags are known (NftablesConnection
        // reads them): sent unshaped, one address in an interval set would be an open interval.
        if (transaction.HasUnresolvedReferences)
            throw new InvalidOperationException("the transaction's set references must be resolved before encoding");
        batch.Reset();
        uint sequence = firstSequence;
        WriteBatchMarker(batch, NfnetlinkBatchMessage.BATCH_BEGIN, sequence++, generation);
        Map(ref messageOperation, batch.MessageCount - 1, Framing);

        var operations = transaction.Operations;
        int index = 0;
        try
        {
            for (; index < operations.Count; index++)
                EncodeOperation(batch, operations[index], index, features, ref sequence, ref messageOperation);
        }
        catch (NetlinkEncodingException e)
        {
            // Nothing was sent; say which object broke the limit, as kernel errors do.
            var failed = operations[index];
            throw new NetlinkEncodingException($"operation {index + 1} of {operations.Count} ({failed.Describe()})"
                + (failed.Origin is null ? "" : $" from {failed.Origin}") + $" cannot be encoded: {e.Message}");
        }

        // The last message's ACK and the first one's echo: see the class comment. A batch with no message has
        // nothing to acknowledge and nothing to commit; the channel ends its replies with a GETGEN instead.
        if (batch.MessageCount > 1)
        {
            batch.AddFlags(batch.MessageCount - 1, NetlinkMessageFlags.ACK);
            if (EchoesGeneration(transaction, generationChecked: generation is not null))
                batch.AddFlags(1, NetlinkMessageFlags.ECHO);
        }
        uint last = sequence;
        WriteBatchMarker(batch, NfnetlinkBatchMessage.BATCH_END, last, null);
        Map(ref messageOperation, batch.MessageCount - 1, Framing);
        return last;
    }

    /// <summary>
    /// Whether the batch asks for the commit's NEWGEN echo: when its first operation adds one object, or (unless the
    /// commit is checked against a generation, which then knows the next one) changes at most
    /// <see cref="EchoedElementsAtMost"/> elements. The echo also returns the first message's own notifications, which
    /// for deletes and flushes (every rule of a deleted table or chain) and large element changes are one message per
    /// rule or element: those ask for none, and a GETGEN after the commit reads the generation.
    /// </summary>
    public static bool EchoesGeneration(Transaction transaction, bool generationChecked) => transaction.Count > 0 && transaction.Operations[0] switch
    {
        { Kind: OperationKind.AddTable or OperationKind.CreateTable or OperationKind.AddChain or OperationKind.AddSet
            or OperationKind.AddRule or OperationKind.InsertRule or OperationKind.ReplaceRule } => true,
        { Kind: OperationKind.AddElements or OperationKind.DeleteElements or OperationKind.DestroyElements, Elements.Count: > 0 and <= EchoedElementsAtMost } => !generationChecked,
        _ => false,
    };

    /// <summary>
    /// The most elements a first operation may change and still ask for the echo: a window opened or an address
    /// added by an embedder without a generation check then costs one round trip, not two.
    /// </summary>
    public const int EchoedElementsAtMost = 16;

    private static void EncodeOperation(BatchBuffer batch, in Operation operation, int index, EncoderFeatures features, ref uint sequence, ref int[] messageOperation)
    {
        bool destroyMessages = (features & EncoderFeatures.DestroyMessages) != 0;
        if (operation.Elements is { } elements)
        {
            if (operation.Kind == OperationKind.DestroyElements && !destroyMessages)
            {
                // Before NFT_MSG_DESTROYSETELEM (6.3): add the elements (no error if present), then delete them.
                EncodeElementMessages(batch, operation, elements, NftMessageType.NEWSETELEM, index, ref sequence, ref messageOperation);
                EncodeElementMessages(batch, operation, elements, NftMessageType.DELSETELEM, index, ref sequence, ref messageOperation);
            }
            else
            {
                var type = operation.Kind switch
                {
                    OperationKind.AddElements => NftMessageType.NEWSETELEM,
                    OperationKind.DestroyElements => NftDestroyMessage.DESTROYSETELEM,
                    _ => NftMessageType.DELSETELEM,
                };
                EncodeElementMessages(batch, operation, elements, type, index, ref sequence, ref messageOperation);
            }
            return;
        }
        if (!destroyMessages && IsDestroy(operation.Kind))
        {
            // Before NFT_MSG_DESTROY* (6.3): add the object (no error if it exists), then delete it, in this batch.
            if (operation.Kind == OperationKind.DestroyRule)
                throw new NotSupportedException($"{operation.Describe()}: deleting a rule that may not exist needs NFT_MSG_DESTROYRULE (kernel 6.3+); "
                    + "this kernel does not have it, and a rule has no add-then-delete form");
            if (operation.Set is { IsReference: true })
                throw new NotSupportedException($"{operation.Describe()}: on kernels before 6.3 (no NFT_MSG_DESTROYSET) a set is destroyed by "
                    + "adding and deleting it, which needs its key types: give the whole set, not a reference");
            EncodeMessage(batch, operation, WriteIdiomAdd, index, ref sequence, ref messageOperation);
            EncodeMessage(batch, operation, WriteIdiomDelete, index, ref sequence, ref messageOperation);
            return;
        }
        bool echo = (features & EncoderFeatures.EchoRuleHandles) != 0 && operation.WritesRule;
        EncodeMessage(batch, operation, echo ? WriteEchoedOperation : WriteOperation, index, ref sequence, ref messageOperation);
    }

    private delegate void MessageWriter(ref NetlinkWriter writer, in Operation operation, uint sequence);

    private static void EncodeMessage(BatchBuffer batch, in Operation operation, MessageWriter write, int index, ref uint sequence, ref int[] messageOperation)
    {
        var writer = batch.BeginMessage();
        write(ref writer, operation, sequence++);
        batch.EndMessage(writer.Length);
        Map(ref messageOperation, batch.MessageCount - 1, index);
    }

    private static void EncodeElementMessages(BatchBuffer batch, in Operation operation, IReadOnlyList<SetElement> elements, NftMessageType type,
        int index, ref uint sequence, ref int[] messageOperation)
    {
        // nla_len is 16-bit: split the element list over several messages, all in this batch.
        int next = 0;
        do
        {
            next = WriteElements(batch, operation, type, elements, next, sequence++);
            Map(ref messageOperation, batch.MessageCount - 1, index);
        } while (next < elements.Count);
    }

    private static bool IsDestroy(OperationKind kind) => kind is OperationKind.DestroyTable or OperationKind.DestroyChain
        or OperationKind.DestroySet or OperationKind.DestroyRule;

    private static void WriteBatchMarker(BatchBuffer batch, NfnetlinkBatchMessage type, uint sequence, uint? generation)
    {
        var writer = batch.BeginMessage();
        NftablesChannel.WriteBatchMarker(ref writer, type, sequence, generation);
        batch.EndMessage(writer.Length);
    }

    /// <summary>
    /// NLM_F_ECHO on NEWRULE: at commit the kernel unicasts the new rule, with its handle, back to this socket
    /// under the message's sequence number (nf_tables_rule_notify with report set).
    /// </summary>
    private static void WriteEchoedOperation(ref NetlinkWriter writer, in Operation operation, uint sequence)
    {
        var rule = operation.Rule!;
        var flags = RuleFlags(operation.Kind) | NetlinkMessageFlags.ECHO;
        var start = Begin(ref writer, NftMessageType.NEWRULE, flags, sequence, rule.Family);
        RuleCodec.Encode(ref writer, rule, withHandle: operation.Kind == OperationKind.ReplaceRule, operation.RuleId, operation.PositionId);
        writer.EndMessage(start);
    }

    private static NetlinkMessageFlags RuleFlags(OperationKind kind) => kind switch
    {
        OperationKind.AddRule => Create | NetlinkMessageFlags.APPEND,
        OperationKind.InsertRule => Create,
        _ => NetlinkMessageFlags.REQUEST | NetlinkMessageFlags.REPLACE,
    };

    private const NetlinkMessageFlags Create = NetlinkMessageFlags.REQUEST | NetlinkMessageFlags.CREATE;

    private static void WriteOperation(ref NetlinkWriter writer, in Operation operation, uint sequence)
    {
        switch (operation.Kind)
        {
            case OperationKind.AddTable or OperationKind.CreateTable or OperationKind.DeleteTable or OperationKind.DestroyTable:
            {
                var table = operation.Table!;
                var (type, flags) = operation.Kind switch
                {
                    // nft 1.0.6 adds a table with NLM_F_REQUEST alone (golden bytes): NEWTABLE creates a missing
                    // table and updates an existing one whether or not NLM_F_CREATE is set.
                    OperationKind.AddTable => (NftMessageType.NEWTABLE, NetlinkMessageFlags.REQUEST),
                    OperationKind.CreateTable => (NftMessageType.NEWTABLE, Create | NetlinkMessageFlags.EXCL),
                    OperationKind.DestroyTable => (NftDestroyMessage.DESTROYTABLE, NetlinkMessageFlags.REQUEST),
                    _ => (NftMessageType.DELTABLE, NetlinkMessageFlags.REQUEST),
                };
                var start = Begin(ref writer, type, flags, sequence, table.Family);
                TableCodec.Encode(ref writer, table, withFlags: operation.Kind is OperationKind.AddTable or OperationKind.CreateTable);
                writer.EndMessage(start);
                break;
            }
            case OperationKind.AddChain:
            {
                var chain = operation.Chain!;
                var start = Begin(ref writer, NftMessageType.NEWCHAIN, Create, sequence, chain.Family);
                ChainCodec.Encode(ref writer, chain);
                writer.EndMessage(start);
                break;
            }
            case OperationKind.DeleteChain or OperationKind.DestroyChain:
            {
                var chain = operation.Chain!;
                var type = operation.Kind == OperationKind.DestroyChain ? NftDestroyMessage.DESTROYCHAIN : NftMessageType.DELCHAIN;
                var start = Begin(ref writer, type, NetlinkMessageFlags.REQUEST, sequence, chain.Family);
                ChainCodec.EncodeReference(ref writer, chain);
                writer.EndMessage(start);
                break;
            }
            case OperationKind.FlushChain:
            {
                // nft's `flush chain`: DELRULE naming only table and chain deletes every rule in it (golden bytes).
                var chain = operation.Chain!;
                var start = Begin(ref writer, NftMessageType.DELRULE, NetlinkMessageFlags.REQUEST, sequence, chain.Family);
                writer.WriteString((ushort)NftRuleAttribute.TABLE, chain.Table);
                writer.WriteString((ushort)NftRuleAttribute.CHAIN, chain.Name);
                writer.EndMessage(start);
                break;
            }
            case OperationKind.AddRule or OperationKind.InsertRule or OperationKind.ReplaceRule:
            {
                var rule = operation.Rule!;
                var start = Begin(ref writer, NftMessageType.NEWRULE, RuleFlags(operation.Kind), sequence, rule.Family);
                RuleCodec.Encode(ref writer, rule, withHandle: operation.Kind == OperationKind.ReplaceRule, operation.RuleId, operation.PositionId);
                writer.EndMessage(start);
                break;
            }
            case OperationKind.DeleteRule or OperationKind.DestroyRule:
            {
                var rule = operation.Rule!;
                var type = operation.Kind == OperationKind.DestroyRule ? NftDestroyMessage.DESTROYRULE : NftMessageType.DELRULE;
                var start = Begin(ref writer, type, NetlinkMessageFlags.REQUEST, sequence, rule.Family);
                RuleCodec.EncodeReference(ref writer, rule);
                writer.EndMessage(start);
                break;
            }
            case OperationKind.AddSet:
            {
                var set = operation.Set!;
                var start = Begin(ref writer, NftMessageType.NEWSET, Create, sequence, set.Family);
                SetCodec.Encode(ref writer, set, operation.SetId);
                writer.EndMessage(start);
                break;
            }
            case OperationKind.DeleteSet or OperationKind.DestroySet:
            {
                var set = operation.Set!;
                var type = operation.Kind == OperationKind.DestroySet ? NftDestroyMessage.DESTROYSET : NftMessageType.DELSET;
                var start = Begin(ref writer, type, NetlinkMessageFlags.REQUEST, sequence, set.Family);
                SetCodec.EncodeReference(ref writer, set);
                writer.EndMessage(start);
                break;
            }
            case OperationKind.FlushSet:
            {
                // nft's `flush set`: DELSETELEM without NFTA_SET_ELEM_LIST_ELEMENTS deletes every element. nft 1.0.6
                // names the set before the table here (golden bytes); the kernel does not mind the order.
                var set = operation.Set!;
                var start = Begin(ref writer, NftMessageType.DELSETELEM, NetlinkMessageFlags.REQUEST, sequence, set.Family);
                writer.WriteString((ushort)NftSetElementListAttribute.SET, set.Name);
                writer.WriteString((ushort)NftSetElementListAttribute.TABLE, set.Table);
                writer.EndMessage(start);
                break;
            }
            default:
                throw new InvalidOperationException($"operation {operation.Kind} has no single-message encoding");
        }
    }

    /// <summary>The add half of the pre-6.3 destroy idiom: the object as an add operation would write it.</summary>
    private static void WriteIdiomAdd(ref NetlinkWriter writer, in Operation operation, uint sequence)
    {
        var add = operation.Kind switch
        {
            OperationKind.DestroyTable => Operation.Of(OperationKind.AddTable, operation.Table!, operation.Origin),
            OperationKind.DestroyChain => Operation.Of(OperationKind.AddChain, operation.Chain!, operation.Origin),
            _ => Operation.Of(OperationKind.AddSet, operation.Set!, operation.Origin),
        };
        WriteOperation(ref writer, add, sequence);
    }

    /// <summary>The delete half of the pre-6.3 destroy idiom.</summary>
    private static void WriteIdiomDelete(ref NetlinkWriter writer, in Operation operation, uint sequence)
    {
        var delete = operation.Kind switch
        {
            OperationKind.DestroyTable => Operation.Of(OperationKind.DeleteTable, operation.Table!, operation.Origin),
            OperationKind.DestroyChain => Operation.Of(OperationKind.DeleteChain, operation.Chain!, operation.Origin),
            _ => Operation.Of(OperationKind.DeleteSet, operation.Set!, operation.Origin),
        };
        WriteOperation(ref writer, delete, sequence);
    }

    /// <summary>Writes one set element list message with as many elements as fit; returns the next element index.</summary>
    private static int WriteElements(BatchBuffer batch, in Operation operation, NftMessageType type, IReadOnlyList<SetElement> elements, int first, uint sequence)
    {
        var set = operation.Set!;
        var writer = batch.BeginMessage();
        var start = Begin(ref writer, type,
            type == NftMessageType.NEWSETELEM ? NetlinkMessageFlags.REQUEST | NetlinkMessageFlags.CREATE : NetlinkMessageFlags.REQUEST, sequence, set.Family);
        SetElementCodec.WriteListHeader(ref writer, set, operation.SetId);
        var list = writer.BeginNested((ushort)NftSetElementListAttribute.ELEMENTS);
        int next = first;
        while (next < elements.Count && writer.Length - list.Offset + SetElementCodec.MaxElementSize <= NetlinkAlignment.MaxAttributeLength)
        {
            // Nest types 1, 2, 3, ... per message, as nft numbers them (the kernel ignores them).
            SetElementCodec.Encode(ref writer, elements[next], (ushort)(next - first + 1), operation.Timeouts?[next]);
            next++;
        }
        writer.EndNested(list);
        writer.EndMessage(start);
        batch.EndMessage(writer.Length);
        return next;
    }

    private static NetlinkMessageToken Begin(ref NetlinkWriter writer, NftMessageType type, NetlinkMessageFlags flags, uint sequence, NftFamily family) =>
        writer.BeginNfnetlinkMessage(NfnetlinkSubsystem.NFTABLES, (byte)type, flags, sequence, (NetfilterFamily)family);

    private static void Map(ref int[] map, int message, int operation)
    {
        if (message >= map.Length)
            Array.Resize(ref map, Math.Max(map.Length * 2, message + 1));
        map[message] = operation;
    }
}
