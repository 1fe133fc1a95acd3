using System.Buffers.Binary;
using System.Text;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables;

/// <summary>
/// The file format of a <see cref="TableSnapshot"/>, hand-written (no reflection):
/// <code>
///  "NLFSNAP1" | u8 family | u8 existed | u16 LE name length | name (UTF-8) | u32 LE message count |
///  the table's objects as nf_tables NEWTABLE, NEWCHAIN, NEWSET, NEWSETELEM, NEWRULE netlink messages
/// </code>
/// The messages are what the library's own encoder writes for a commit, and are read back with the same
/// decoders that read the kernel's dumps, so whatever a listing holds (unmodelled expressions included, as
/// raw bytes) survives the round trip.
/// </summary>
internal static class SnapshotFormat
{
    private static ReadOnlySpan<byte> Magic => "NLFSNAP1"u8;

    public static byte[] Write(TableSnapshot snapshot)
    {
        byte[] name = Encoding.UTF8.GetBytes(snapshot.Name);
        using var batch = new BatchBuffer();
        int messages = 0;
        if (snapshot.Contents is { } contents)
        {
            int[] map = new int[64];
            TransactionEncoder.Encode(TableSnapshot.AppendContents(new Transaction(), contents), batch, 1, null, ref map);
            messages = batch.MessageCount - 2; // without BATCH_BEGIN and BATCH_END
        }
        using var output = new MemoryStream();
        output.Write(Magic);
        Span<byte> header = stackalloc byte[4];
        output.WriteByte((byte)snapshot.Family);
        output.WriteByte(snapshot.Existed ? (byte)1 : (byte)0);
        BinaryPrimitives.WriteUInt16LittleEndian(header, checked((ushort)name.Length));
        output.Write(header[..2]);
        output.Write(name);
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)messages);
        output.Write(header);
        for (int i = 1; i <= messages; i++)
        {
            var message = batch.Message(i);
            output.Write(message);
            for (int pad = NetlinkAlignment.Align(message.Length) - message.Length; pad > 0; pad--)
                output.WriteByte(0);
        }
        return output.ToArray();
    }

    public static (NftFamily Family, string Name, TableContents? Contents) Read(ReadOnlySpan<byte> data)
    {
        const int Fixed = 8 + 1 + 1 + 2;
        if (data.Length < Fixed || !data[..8].SequenceEqual(Magic))
            throw new NetlinkDecodeException("not a netlinkfence table snapshot (bad magic)");
        var family = (NftFamily)data[8];
        bool existed = data[9] == 1;
        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(data[10..]);
        if (data.Length < Fixed + nameLength + 4)
            throw new NetlinkDecodeException("truncated table snapshot");
        string name = Encoding.UTF8.GetString(data.Slice(Fixed, nameLength));
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(data[(Fixed + nameLength)..]);
        if (!existed)
            return (family, name, null);

        Table? table = null;
        var chains = new List<Chain>();
        var sets = new List<NftSet>();
        var elements = new Dictionary<string, List<SetElement>>(StringComparer.Ordinal);
        var rules = new List<Rule>();
        var reader = new NetlinkMessageReader(data[(Fixed + nameLength + 4)..]);
        uint seen = 0;
        while (reader.TryRead(out var message))
        {
            seen++;
            if (message.Subsystem != NfnetlinkSubsystem.NFTABLES)
                throw new NetlinkDecodeException($"table snapshot message {seen} is not an nf_tables message");
            switch ((NftMessageType)message.SubsystemMessage)
            {
                case NftMessageType.NEWTABLE: table = RulesetReader.Guard(message, TableCodec.Decode); break;
                case NftMessageType.NEWCHAIN: chains.Add(RulesetReader.Guard(message, ChainCodec.Decode)); break;
                case NftMessageType.NEWSET: sets.Add(RulesetReader.Guard(message, SetCodec.Decode)); break;
                case NftMessageType.NEWRULE: rules.Add(RulesetReader.Guard(message, RuleCodec.Decode)); break;
                case NftMessageType.NEWSETELEM:
                {
                    string set = SetOf(message) ?? throw new NetlinkDecodeException($"table snapshot message {seen}: elements without a set name");
                    if (!elements.TryGetValue(set, out var list))
                        elements[set] = list = [];
                    RulesetReader.Guard(message, (in NetlinkMessage m) => { SetElementCodec.Decode(m, list); return 0; });
                    break;
                }
                default:
                    throw new NetlinkDecodeException($"table snapshot message {seen} has unexpected type {message.SubsystemMessage}");
            }
        }
        if (seen != count || table is null || table.Name != name || table.Family != family)
            throw new NetlinkDecodeException($"table snapshot is inconsistent ({seen} of {count} messages, table {(table is null ? "missing" : table.Name)})");
        var setContents = sets.Select(s => new SetContents(s, elements.TryGetValue(s.Name, out var e) ? e : [])).ToList();
        return (family, name, new TableContents(table, chains, setContents, rules, 0));
    }

    private static string? SetOf(in NetlinkMessage message)
    {
        var attributes = message.Attributes;
        while (attributes.TryRead(out var a))
        {
            if (a.Type == (ushort)NftSetElementListAttribute.SET)
                return a.String();
        }
        return null;
    }
}
