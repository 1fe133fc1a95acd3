using System.Buffers.Binary;
using System.Text;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Nftables;
using NetlinkFence.Nftables.Monitoring;

namespace NetlinkFence.Tests.Monitoring;

/// <summary>
/// Rootless: how notifications become changes, how a commit's generation reaches its changes, and that nothing a
/// kernel (or a liar) sends ends the stream.
/// </summary>
public sealed class ChangeDecoderTests
{
    private const uint Port = 777;

    [Fact]
    public void ChangesAreHeldUntilTheirNewgenAndThenCarryItsGenerationAndCommitter()
    {
        var decoder = new ChangeDecoder();
        decoder.OnDatagram(Concat(Table(NftMessageType.NEWTABLE, "a", generation: 0x1_0005), Table(NftMessageType.NEWTABLE, "b", generation: 0x1_0005)));
        Assert.False(decoder.TryTake(out _)); // nothing before the commit boundary
        decoder.OnDatagram(NewGeneration(0x1_0005, pid: 4711, name: "nft"));

        var changes = TakeAll(decoder);
        Assert.Equal([NftablesChangeKind.TableAdded, NftablesChangeKind.TableAdded, NftablesChangeKind.Committed], changes.Select(c => c.Kind));
        Assert.Equal(["a", "b"], changes.Take(2).Select(c => c.Table!.Name));
        Assert.All(changes, c =>
        {
            Assert.Equal(0x1_0005u, c.Generation);
            Assert.Equal(4711, c.ProcessId);
            Assert.Equal("nft", c.ProcessName);
            Assert.Equal(Port, c.PortId);
            Assert.Equal(NftFamily.Inet, c.Family);
        });
    }

    [Fact]
    public void ALossReleasesTheHeldChangesWithoutAGenerationBeforeItself()
    {
        var decoder = new ChangeDecoder();
        decoder.OnDatagram(Table(NftMessageType.DELTABLE, "a", generation: 9));
        decoder.OnOverrun(2);
        decoder.OnDatagram(NewGeneration(9, pid: 1, name: "x")); // arrives, but the changes before the loss are out already

        var changes = TakeAll(decoder);
        Assert.Equal([NftablesChangeKind.TableDeleted, NftablesChangeKind.Lost, NftablesChangeKind.Committed], changes.Select(c => c.Kind));
        Assert.Null(changes[0].Generation);
        Assert.Equal(2, changes[1].LostCount);
        Assert.Contains("re-read the ruleset", changes[1].ToString());
    }

    [Fact]
    public void AChangeOfAnotherGenerationReleasesTheChangesWhoseNewgenNeverCame()
    {
        var decoder = new ChangeDecoder();
        decoder.OnDatagram(Table(NftMessageType.NEWTABLE, "old", generation: 3));
        decoder.OnDatagram(Table(NftMessageType.NEWTABLE, "new", generation: 4));
        decoder.OnDatagram(NewGeneration(4, pid: 2, name: "nft"));

        var changes = TakeAll(decoder);
        Assert.Equal(["old", "new"], changes.Take(2).Select(c => c.Table!.Name));
        Assert.Null(changes[0].Generation);
        Assert.Equal(4u, changes[1].Generation);
    }

    [Fact]
    public void UndecodableNotificationsBecomeUnknownChangesAndTheStreamGoesOn()
    {
        var decoder = new ChangeDecoder();
        // A table without NFTA_TABLE_NAME, a message type nobody models (NEWOBJ), then a lying nlmsg_len.
        var nameless = Message(Nf(NftMessageType.NEWTABLE), 1, []);
        var obj = Message(Nf(NftMessageType.NEWOBJ), 1, Attribute(1, Encoding.ASCII.GetBytes("t\0")));
        var liar = Message(Nf(NftMessageType.NEWTABLE), 1, []);
        BinaryPrimitives.WriteUInt32LittleEndian(liar, 4096);
        decoder.OnDatagram(Concat(nameless, obj));
        decoder.OnDatagram(liar);
        decoder.OnDatagram(Concat(Table(NftMessageType.NEWTABLE, "ok", generation: 1), NewGeneration(1, pid: 3, name: "nft")));

        var changes = TakeAll(decoder);
        Assert.Equal([NftablesChangeKind.Unknown, NftablesChangeKind.Unknown, NftablesChangeKind.Unknown,
            NftablesChangeKind.TableAdded, NftablesChangeKind.Committed], changes.Select(c => c.Kind));
        Assert.Contains("NFTA_TABLE_NAME", changes[0].Error);
        Assert.Null(changes[1].Error); // not modelled, not broken
        Assert.Equal(Nf(NftMessageType.NEWOBJ), changes[1].MessageType);
        Assert.Equal(obj.AsSpan(16).ToArray(), changes[1].RawPayload.ToArray());
        Assert.Contains("4096", changes[2].Error);
        Assert.Equal("ok", changes[3].Table!.Name);
    }

    private static List<NftablesChange> TakeAll(ChangeDecoder decoder)
    {
        var all = new List<NftablesChange>();
        while (decoder.TryTake(out var change))
            all.Add(change);
        return all;
    }

    private static ushort Nf(NftMessageType type) => (ushort)(((int)NfnetlinkSubsystem.NFTABLES << 8) | (int)type);

    private static byte[] Table(NftMessageType type, string name, uint generation) =>
        Message(Nf(type), (ushort)generation, Concat(
            Attribute((ushort)NftTableAttribute.NAME, Encoding.ASCII.GetBytes(name + "\0")),
            Attribute((ushort)NftTableAttribute.HANDLE, BigEndian64(5))));

    private static byte[] NewGeneration(uint generation, int pid, string name) =>
        Message(Nf(NftMessageType.NEWGEN), (ushort)generation, Concat(
            Attribute((ushort)NftGenAttribute.ID, BigEndian32(generation)),
            Attribute((ushort)NftGenAttribute.PROC_PID, BigEndian32((uint)pid)),
            Attribute((ushort)NftGenAttribute.PROC_NAME, Encoding.ASCII.GetBytes(name + "\0"))));

    /// <summary>nlmsghdr, nfgenmsg (family inet, res_id), attributes.</summary>
    private static byte[] Message(ushort type, ushort resourceId, byte[] attributes)
    {
        var message = new byte[16 + 4 + attributes.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)message.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(4), type);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(12), Port);
        message[16] = (byte)NftFamily.Inet;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(18), resourceId);
        attributes.CopyTo(message, 20);
        return message;
    }

    private static byte[] Attribute(ushort type, byte[] payload)
    {
        var attribute = new byte[(4 + payload.Length + 3) & ~3];
        BinaryPrimitives.WriteUInt16LittleEndian(attribute, (ushort)(4 + payload.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(attribute.AsSpan(2), type);
        payload.CopyTo(attribute, 4);
        return attribute;
    }

    private static byte[] BigEndian32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] BigEndian64(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
