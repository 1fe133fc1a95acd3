using System.Diagnostics;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables.Codecs;

namespace NetlinkFence.Nftables.Snapshots;

/// <summary>
/// The file format of a <see cref="TableSnapshot"/>, hand-written (no reflection), version 3:
/// <code>
///  header:  "NLFSNAP" | '3' (format version) | u32 LE payload length | XXH128 of the 12 bytes before it and the payload
///  payload: u8 family | u8 kind (0: the table did not exist, 1: it existed) | u64 LE when it was listed (the monotonic
///           clock, CLOCK_MONOTONIC, in nanoseconds; 0: unknown) | u16 LE name length | name (UTF-8) |
///           u32 LE message count | the table's objects as nf_tables NEWTABLE, NEWCHAIN, NEWSET, NEWSETELEM,
///           NEWRULE netlink messages (none for kind 0)
/// </code>
/// A rollback acts on what it reads, so nothing is guessed: a snapshot is read only when it is whole (length),
/// intact (checksum), of a version this build knows, and its payload decodes completely; "no table" is a record of its
/// own, never the reading of an unknown byte. Anything else raises <see cref="SnapshotCorruptException"/>. Version 2
/// (the same without the listing time, written by the builds before 2026-12-07) is read, with the time unknown, so a
/// rollback pending across an upgrade still works; version 1 (<c>"NLFSNAP1"</c>, no length or checksum) is refused. The
/// messages are what the library's own encoder
/// writes for a commit, read back with the decoders that read the kernel's dumps, so whatever a listing holds
/// (unmodelled expressions included, as raw bytes) survives the round trip. The checksum finds damage, not an
/// attacker (the state directory's ownership and modes keep those out); it is XXH128 rather than SHA-256 so that
/// the NativeAOT binary needs no OpenSSL: a FROM-scratch container or a minimal host has no libssl.
/// </summary>
internal static class SnapshotFormat
{
    private const byte Version = (byte)'3', Version2 = (byte)'2';
    private const int PrefixLength = 8 + 4; // magic and version, payload length
    private const int ChecksumLength = 16; // XXH128
    private const int HeaderLength = PrefixLength + ChecksumLength;
    private const byte KindAbsent = 0, KindPresent = 1;

    private static ReadOnlySpan<byte> Magic => "NLFSNAP"u8;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static byte[] Write(TableSnapshot snapshot)
    {
        byte[] payload = WritePayload(snapshot);
        byte[] output = new byte[HeaderLength + payload.Length];
        Magic.CopyTo(output);
        output[7] = Version;
        BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(8), (uint)payload.Length);
        payload.CopyTo(output.AsSpan(HeaderLength));
        Checksum(output.AsSpan(0, PrefixLength), payload, output.AsSpan(PrefixLength, ChecksumLength));
        return output;
    }

    public static (NftFamily Family, string Name, TableContents? Contents, long? ListedAt) Read(ReadOnlySpan<byte> data)
    {
        int known = Math.Min(data.Length, Magic.Length);
        if (!data[..known].SequenceEqual(Magic[..known]))
            throw new SnapshotCorruptException("not a netlinkfence table snapshot (bad magic)");
        if (data.Length > Magic.Length && data[Magic.Length] is not (Version or Version2))
            throw new SnapshotCorruptException($"snapshot format version {DescribeVersion(data[Magic.Length])}, but this netlinkfence reads versions 2 and 3 only");
        if (data.Length < HeaderLength)
            throw new SnapshotCorruptException($"truncated snapshot: {data.Length} bytes, shorter than the {HeaderLength}-byte header");
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
        long present = data.Length - HeaderLength;
        if (present < length)
            throw new SnapshotCorruptException($"truncated snapshot: {present} of {length} payload bytes");
        if (present > length)
            throw new SnapshotCorruptException($"snapshot has {present - length} bytes after its end");
        var payload = data[HeaderLength..];
        Span<byte> expected = stackalloc byte[ChecksumLength];
        Checksum(data[..PrefixLength], payload, expected);
        if (!expected.SequenceEqual(data[PrefixLength..HeaderLength]))
            throw new SnapshotCorruptException("snapshot checksum mismatch: the file was damaged or changed after it was written");
        try
        {
            return ReadPayload(payload, withListingTime: data[Magic.Length] == Version);
        }
        catch (Exception e) when (e is NetlinkDecodeException or ArgumentException or DecoderFallbackException or InvalidOperationException or OverflowException or IndexOutOfRangeException)
        {
            // The checksum matched, so this was written so (a bug, or a deliberate forgery): still never restored.
            throw new SnapshotCorruptException($"snapshot payload does not decode: {e.Message}", e);
        }
    }

    private static byte[] WritePayload(TableSnapshot snapshot)
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
        Span<byte> field = stackalloc byte[4];
        output.WriteByte((byte)snapshot.Family);
        output.WriteByte(snapshot.Existed ? KindPresent : KindAbsent);
        Span<byte> listedAt = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(listedAt, snapshot.ListedAt is { } at ? Nanoseconds(at) : 0);
        output.Write(listedAt);
        BinaryPrimitives.WriteUInt16LittleEndian(field, checked((ushort)name.Length));
        output.Write(field[..2]);
        output.Write(name);
        BinaryPrimitives.WriteUInt32LittleEndian(field, (uint)messages);
        output.Write(field);
        for (int i = 1; i <= messages; i++)
        {
            var message = batch.Message(i);
            output.Write(message);
            for (int pad = NetlinkAlignment.Align(message.Length) - message.Length; pad > 0; pad--)
                output.WriteByte(0);
        }
        return output.ToArray();
    }

    private static (NftFamily Family, string Name, TableContents? Contents, long? ListedAt) ReadPayload(ReadOnlySpan<byte> data, bool withListingTime)
    {
        int Fixed = withListingTime ? 1 + 1 + 8 + 2 : 1 + 1 + 2;
        if (data.Length < Fixed)
            throw new NetlinkDecodeException("payload shorter than its fixed fields");
        var family = (NftFamily)data[0];
        if (!Enum.IsDefined(family))
            throw new NetlinkDecodeException($"unknown table family {data[0]}");
        byte kind = data[1];
        if (kind is not (KindAbsent or KindPresent))
            throw new NetlinkDecodeException($"unknown record kind {kind} (0: no table, 1: a table)");
        long? listedAt = null;
        if (withListingTime && BinaryPrimitives.ReadInt64LittleEndian(data[2..]) is var nanoseconds and > 0)
            listedAt = Timestamp(nanoseconds);
        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(data[(Fixed - 2)..]);
        if (nameLength == 0 || data.Length < Fixed + nameLength + 4)
            throw new NetlinkDecodeException($"table name of {nameLength} bytes does not fit");
        string name = StrictUtf8.GetString(data.Slice(Fixed, nameLength));
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(data[(Fixed + nameLength)..]);
        var messagesData = data[(Fixed + nameLength + 4)..];
        if (kind == KindAbsent)
        {
            if (count != 0 || !messagesData.IsEmpty)
                throw new NetlinkDecodeException("a 'no table' record carries objects");
            return (family, name, null, listedAt);
        }

        Table? table = null;
        var chains = new List<Chain>();
        var sets = new List<NftSet>();
        var elements = new Dictionary<string, List<SetElement>>(StringComparer.Ordinal);
        var rules = new List<Rule>();
        var reader = new NetlinkMessageReader(messagesData);
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
        return (family, name, new TableContents(table, chains, setContents, rules, 0), listedAt);
    }

    // Stopwatch timestamps are CLOCK_MONOTONIC on Linux; the file holds nanoseconds, whatever the tick.
    private static long Nanoseconds(long timestamp) => (long)(timestamp * (1_000_000_000.0 / Stopwatch.Frequency));

    private static long Timestamp(long nanoseconds) => (long)(nanoseconds * (Stopwatch.Frequency / 1_000_000_000.0));

    private static void Checksum(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        var hash = new XxHash128();
        hash.Append(prefix);
        hash.Append(payload);
        hash.GetCurrentHash(destination);
    }

    private static string DescribeVersion(byte version) =>
        version is >= (byte)'0' and <= (byte)'9' ? ((char)version).ToString() : $"byte 0x{version:x2}";

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
