using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables;

/// <summary>
/// Encodes a <see cref="Transaction"/> into one nfnetlink batch:
/// <code>
///  BATCH_BEGIN(seq n, res_id NFNL_SUBSYS_NFTABLES [, NFNL_BATCH_GENID]) | op messages n+1.. | BATCH_END
/// </code>
/// Allocates nothing per rule or attribute: objects are written straight into the batch's pooled segments,
/// and the message-to-operation map is a reused array.
/// </summary>
internal static class TransactionEncoder
{
    /// <summary>Map entry for BATCH_BEGIN and BATCH_END, which belong to no operation.</summary>
    public const int Framing = -1;

    /// <summary>Encodes and returns the sequence number of BATCH_END (the last message).</summary>
    public static uint Encode(Transaction transaction, BatchBuffer batch, uint firstSequence, uint? generation, ref int[] messageOperation)
    {
        batch.Reset();
        uint sequence = firstSequence;
        WriteBatchMarker(batch, NfnetlinkBatchMessage.BATCH_BEGIN, sequence++, generation);
        Map(ref messageOperation, batch.MessageCount - 1, Framing);

        var operations = transaction.Operations;
        int index = 0;
        try
        {
            for (; index < operations.Count; index++)
                EncodeOperation(batch, operations[index], index, ref sequence, ref messageOperation);
        }
        catch (NetlinkEncodingException e)
        {
            // Nothing was sent; say which object broke the limit, as kernel errors do.
            var failed = operations[index];
            throw new NetlinkEncodingException($"operation {index + 1} of {operations.Count} ({failed.Describe()})"
                + (failed.Origin is null ? "" : $" from {failed.Origin}") + $" cannot be encoded: {e.Message}");
        }

        uint last = sequence;
        WriteBatchMarker(batch, NfnetlinkBatchMessage.BATCH_END, last, null);
        Map(ref messageOperation, batch.MessageCount - 1, Framing);
        return last;
    }

    private static void EncodeOperation(BatchBuffer batch, in Operation operation, int index, ref uint sequence, ref int[] messageOperation)
    {
        if (operation.Elements is { } elements)
        {
            // nla_len is 16-bit: split the element list over several messages, all in this batch.
            int next = 0;
            do
            {
                next = WriteElements(batch, operation, elements, next, sequence++);
                Map(ref messageOperation, batch.MessageCount - 1, index);
            } while (next < elements.Count);
        }
        else
        {
            var writer = batch.BeginMessage();
            WriteOperation(ref writer, operation, sequence++);
            batch.EndMessage(writer.Length);
            Map(ref messageOperation, batch.MessageCount - 1, index);
        }
    }

    private static void WriteBatchMarker(BatchBuffer batch, NfnetlinkBatchMessage type, uint sequence, uint? generation)
    {
        var writer = batch.BeginMessage();
        NftablesChannel.WriteBatchMarker(ref writer, type, sequence, generation);
        batch.EndMessage(writer.Length);
    }

    private static void WriteOperation(ref NetlinkWriter writer, in Operation operation, uint sequence)
    {
        const NetlinkMessageFlags Create = NetlinkMessageFlags.REQUEST | NetlinkMessageFlags.CREATE;
        switch (operation.Kind)
        {
            case OperationKind.AddTable or OperationKind.CreateTable or OperationKind.DeleteTable:
            {
                var table = (Table)operation.Subject;
                var (type, flags) = operation.Kind switch
                {
                    // nft 1.0.6 adds a table with NLM_F_REQUEST alone (golden bytes): NEWTABLE creates a missing
                    // table and updates an existing one whether or not NLM_F_CREATE is set.
                    OperationKind.AddTable => (NftMessageType.NEWTABLE, NetlinkMessageFlags.REQUEST),
                    OperationKind.CreateTable => (NftMessageType.NEWTABLE, Create | NetlinkMessageFlags.EXCL),
                    _ => (NftMessageType.DELTABLE, NetlinkMessageFlags.REQUEST),
                };
                var start = Begin(ref writer, type, flags, sequence, table.Family);
                TableCodec.Encode(ref writer, table, withFlags: operation.Kind != OperationKind.DeleteTable);
                writer.EndMessage(start);
                break;
            }
            case OperationKind.AddChain:
            {
                var chain = (Chain)operation.Subject;
                var start = Begin(ref writer, NftMessageType.NEWCHAIN, Create, sequence, chain.Family);
                ChainCodec.Encode(ref writer, chain);
                writer.EndMessage(start);
                break;
            }
            case OperationKind.DeleteChain:
            {
                var chain = (Chain)operation.Subject;
                var start = Begin(ref writer, NftMessageType.DELCHAIN, NetlinkMessageFlags.REQUEST, sequence, chain.Family);
                ChainCodec.EncodeReference(ref writer, chain);
                writer.EndMessage(start);
                break;
            }
            case OperationKind.AddRule or OperationKind.InsertRule or OperationKind.ReplaceRule:
            {
                var rule = (Rule)operation.Subject;
                var flags = operation.Kind switch
                {
                    OperationKind.AddRule => Create | NetlinkMessageFlags.APPEND,
                    OperationKind.InsertRule => Create,
                    _ => NetlinkMessageFlags.REQUEST | NetlinkMessageFlags.REPLACE,
                };
                var start = Begin(ref writer, NftMessageType.NEWRULE, flags, sequence, rule.Family);
                RuleCodec.Encode(ref writer, rule, withHandle: operation.Kind == OperationKind.ReplaceRule);
                writer.EndMessage(start);
                break;
            }
            case OperationKind.DeleteRule:
            {
                var rule = (Rule)operation.Subject;
                var start = Begin(ref writer, NftMessageType.DELRULE, NetlinkMessageFlags.REQUEST, sequence, rule.Family);
                RuleCodec.EncodeReference(ref writer, rule);
                writer.EndMessage(start);
                break;
            }
            case OperationKind.AddSet:
            {
                var set = (NftSet)operation.Subject;
                var start = Begin(ref writer, NftMessageType.NEWSET, Create, sequence, set.Family);
                SetCodec.Encode(ref writer, set, operation.SetId);
                writer.EndMessage(start);
                break;
            }
            case OperationKind.DeleteSet:
            {
                var set = (NftSet)operation.Subject;
                var start = Begin(ref writer, NftMessageType.DELSET, NetlinkMessageFlags.REQUEST, sequence, set.Family);
                SetCodec.EncodeReference(ref writer, set);
                writer.EndMessage(start);
                break;
            }
            default:
                throw new InvalidOperationException($"operation {operation.Kind} has no single-message encoding");
        }
    }

    /// <summary>Writes one NEWSETELEM/DELSETELEM message with as many elements as fit; returns the next element index.</summary>
    private static int WriteElements(BatchBuffer batch, in Operation operation, IReadOnlyList<SetElement> elements, int first, uint sequence)
    {
        var set = (NftSet)operation.Subject;
        bool add = operation.Kind == OperationKind.AddElements;
        var writer = batch.BeginMessage();
        var start = Begin(ref writer, add ? NftMessageType.NEWSETELEM : NftMessageType.DELSETELEM,
            add ? NetlinkMessageFlags.REQUEST | NetlinkMessageFlags.CREATE : NetlinkMessageFlags.REQUEST, sequence, set.Family);
        SetElementCodec.WriteListHeader(ref writer, set, operation.SetId);
        var list = writer.BeginNested((ushort)NftSetElementListAttribute.ELEMENTS);
        int next = first;
        while (next < elements.Count && writer.Length - list.Offset + SetElementCodec.MaxElementSize <= NetlinkAlignment.MaxAttributeLength)
        {
            // Nest types 1, 2, 3, ... per message, as nft numbers them (the kernel ignores them).
            SetElementCodec.Encode(ref writer, elements[next], (ushort)(next - first + 1));
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
