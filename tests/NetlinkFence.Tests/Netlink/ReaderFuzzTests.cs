using System.Buffers.Binary;
using System.Text;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;
using Xunit.Abstractions;

namespace NetlinkFence.Tests.Netlink;

/// <summary>
/// Property tests for everything that decodes bytes from the kernel: whatever the input, the only exception
/// is <see cref="NetlinkDecodeException"/>, and a well-formed expression list decodes to what was encoded.
/// Every case has its own seed (printed on failure), so one failing case replays alone with
/// <see cref="RandomBytes"/>/<see cref="MutatedMessage"/> and that seed.
/// </summary>
public sealed class ReaderFuzzTests(ITestOutputHelper output)
{
    private const int BaseSeed = 0x4E4C4600; // "NLF\0"
    private const int CasesPerKind = 5_000;
    private const int MaxDepth = 64;

    // ------------------------------------------------------------------------------------------------
    // The harness

    private enum Kind { RandomBytes = 1, MutatedMessage = 2, MutatedExpressionList = 3 }

    private sealed class Stats
    {
        public int Messages, Attributes, DecodedLists, DecodedExpressions, ErrorReplies, DecodeExceptions;

        public override string ToString() =>
            $"{Messages} messages, {Attributes} attributes, {DecodedLists} expression lists with {DecodedExpressions} expressions, " +
            $"{ErrorReplies} NLMSG_ERROR replies, {DecodeExceptions} NetlinkDecodeExceptions";
    }

    private static string FirstProductFrame(Exception e)
    {
        string[] frames = (e.StackTrace ?? "").Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return frames.FirstOrDefault(f => f.Contains("NetlinkFence.") && !f.Contains("NetlinkFence.Tests.")) ?? frames.FirstOrDefault() ?? "(no stack)";
    }

    private static int CaseSeed(Kind kind, int index) => BaseSeed + (int)kind * 1_000_000 + index;

    private Stats RunCases(Kind kind, Func<Random, byte[]> generate)
    {
        var stats = new Stats();
        // Failures grouped by exception type and throwing frame, so one bug shows once with its count.
        var failures = new Dictionary<string, (int Count, string First)>();
        int failed = 0;
        for (int index = 0; index < CasesPerKind; index++)
        {
            int seed = CaseSeed(kind, index);
            byte[] input = generate(new Random(seed));
            try
            {
                Exercise(input, stats);
            }
            catch (Exception e)
            {
                failed++;
                string where = FirstProductFrame(e);
                string key = $"{e.GetType().FullName} {where}";
                string report = $"case {index} of {kind} (seed {seed}, {input.Length} bytes): {e.GetType().FullName}: {e.Message}\n" +
                                $"{e.StackTrace}\ninput:\n{Hex.Dump(input)}";
                failures[key] = failures.TryGetValue(key, out var known) ? (known.Count + 1, known.First) : (1, report);
            }
        }
        output.WriteLine($"{kind}: {CasesPerKind} cases, {failed} failed; {stats}");
        Assert.True(failed == 0,
            $"{failed} of {CasesPerKind} {kind} cases threw something other than NetlinkDecodeException (base seed {BaseSeed}), " +
            $"in {failures.Count} distinct place(s):\n\n" +
            string.Join("\n\n", failures.Select(f => $"== {f.Value.Count} x {f.Key}\nfirst: {f.Value.First}")));
        return stats;
    }

    /// <summary>
    /// Feeds <paramref name="input"/> to every decoder, each stage on its own so an early decode error does not
    /// hide a later stage. <see cref="NetlinkDecodeException"/> is expected and counted; anything else escapes.
    /// </summary>
    private static void Exercise(ReadOnlySpan<byte> input, Stats stats)
    {
        // 1. As a datagram of netlink messages.
        try
        {
            var reader = new NetlinkMessageReader(input);
            while (reader.TryRead(out NetlinkMessage message))
            {
                stats.Messages++;
                _ = message.Subsystem;
                _ = message.SubsystemMessage;
                try { _ = message.Family; _ = message.ResourceId; }
                catch (NetlinkDecodeException) { stats.DecodeExceptions++; }

                if (message.Type == (ushort)NetlinkMessageType.ERROR)
                {
                    try
                    {
                        KernelError? error = NetlinkErrorReply.Decode(message, out _);
                        if (error is not null)
                            _ = (error.Errno, error.Message, error.AttributeOffset);
                        stats.ErrorReplies++;
                    }
                    catch (NetlinkDecodeException) { stats.DecodeExceptions++; }
                }

                try
                {
                    AttributeReader attributes = message.Attributes;
                    WalkAttributes(ref attributes, 0, stats);
                }
                catch (NetlinkDecodeException) { stats.DecodeExceptions++; }
            }
        }
        catch (NetlinkDecodeException) { stats.DecodeExceptions++; }

        // 2. As a bare attribute run (what nested payloads are).
        try
        {
            var attributes = new AttributeReader(input);
            WalkAttributes(ref attributes, 0, stats);
        }
        catch (NetlinkDecodeException) { stats.DecodeExceptions++; }

        // 3. As NFTA_RULE_EXPRESSIONS.
        DecodeList(input, stats);
    }

    private static void WalkAttributes(ref AttributeReader attributes, int depth, Stats stats)
    {
        while (attributes.TryRead(out NetlinkAttribute attribute))
        {
            stats.Attributes++;
            _ = (attribute.Type, attribute.RawType, attribute.IsNested, attribute.Offset);
            try { _ = attribute.U8(); } catch (NetlinkDecodeException) { stats.DecodeExceptions++; }
            try { _ = attribute.U16BigEndian(); } catch (NetlinkDecodeException) { stats.DecodeExceptions++; }
            try { _ = attribute.U32BigEndian(); } catch (NetlinkDecodeException) { stats.DecodeExceptions++; }
            try { _ = attribute.U64BigEndian(); } catch (NetlinkDecodeException) { stats.DecodeExceptions++; }
            try { _ = attribute.String(); } catch (NetlinkDecodeException) { stats.DecodeExceptions++; }

            if (depth >= MaxDepth || attribute.Payload.Length < NetlinkAlignment.AttributeHeaderSize)
                continue;
            // Any payload may be read as nested attributes (the flag is advisory), and as an expression list.
            try
            {
                AttributeReader nested = attribute.Nested();
                WalkAttributes(ref nested, depth + 1, stats);
            }
            catch (NetlinkDecodeException) { stats.DecodeExceptions++; }
            DecodeList(attribute.Payload, stats);
        }
    }

    private static void DecodeList(ReadOnlySpan<byte> list, Stats stats)
    {
        try
        {
            List<Expression> expressions = ExpressionCodec.DecodeList(list);
            stats.DecodedLists++;
            stats.DecodedExpressions += expressions.Count;
            foreach (Expression expression in expressions)
                _ = (expression.Name, expression.ToString(), expression.GetHashCode());
        }
        catch (NetlinkDecodeException) { stats.DecodeExceptions++; }
    }

    // ------------------------------------------------------------------------------------------------
    // (a) random bytes

    [Fact]
    public void Random_bytes_raise_only_NetlinkDecodeException()
    {
        Stats stats = RunCases(Kind.RandomBytes, RandomBytes);
        Assert.True(stats.Messages > 1_000, $"random inputs reached only {stats.Messages} messages: the generator is not exercising the reader");
        Assert.True(stats.DecodeExceptions > 1_000, $"only {stats.DecodeExceptions} decode errors from random bytes");
    }

    /// <summary>
    /// Random bytes; half of them get a plausible first nlmsghdr (a length that fits, an interesting type) so the
    /// reader gets past the header and into the payload decoders.
    /// </summary>
    private static byte[] RandomBytes(Random random)
    {
        int length = random.Next(4) switch
        {
            0 => random.Next(0, 24),
            1 => random.Next(16, 64),
            _ => random.Next(16, 512),
        };
        var input = new byte[length];
        random.NextBytes(input);
        if (length >= 16 && random.Next(2) == 0)
        {
            uint claimed = random.Next(3) == 0 ? (uint)random.Next(16, length + 1) : (uint)length;
            BinaryPrimitives.WriteUInt32LittleEndian(input, claimed);
            ushort[] types = [(ushort)NetlinkMessageType.ERROR, (ushort)NetlinkMessageType.DONE, NftType(NftMessageType.NEWRULE), NftType(NftMessageType.NEWTABLE)];
            BinaryPrimitives.WriteUInt16LittleEndian(input.AsSpan(4), types[random.Next(types.Length)]);
            // Sometimes give the attribute stream a plausible start too.
            if (length >= 24 && random.Next(2) == 0)
                BinaryPrimitives.WriteUInt16LittleEndian(input.AsSpan(20), (ushort)random.Next(4, length - 20 + 1));
        }
        return input;
    }

    // ------------------------------------------------------------------------------------------------
    // (b) valid messages, then mutated

    [Fact]
    public void Mutated_valid_messages_raise_only_NetlinkDecodeException()
    {
        Stats stats = RunCases(Kind.MutatedMessage, MutatedMessage);
        Assert.True(stats.DecodedExpressions > 5_000, $"only {stats.DecodedExpressions} expressions decoded from mutated messages: mutations are too destructive");
        Assert.True(stats.ErrorReplies > 500, $"only {stats.ErrorReplies} NLMSG_ERROR replies decoded");
        Assert.True(stats.DecodeExceptions > 5_000, $"only {stats.DecodeExceptions} decode errors: mutations are too gentle");
    }

    [Fact]
    public void Mutated_expression_lists_raise_only_NetlinkDecodeException()
    {
        Stats stats = RunCases(Kind.MutatedExpressionList, MutatedExpressionList);
        Assert.True(stats.DecodedExpressions > 2_000, $"only {stats.DecodedExpressions} expressions decoded from mutated lists: mutations are too destructive");
        Assert.True(stats.DecodeExceptions > 2_000, $"only {stats.DecodeExceptions} decode errors from mutated lists: mutations are too gentle");
    }

    [Fact]
    public void Unmutated_generated_datagrams_decode_without_errors()
    {
        // The generator itself must produce well-formed input, or the mutation tests prove little.
        for (int index = 0; index < 500; index++)
        {
            int seed = CaseSeed(Kind.MutatedMessage, index);
            byte[] datagram = ValidDatagram(new Random(seed), out _);
            int messages = 0;
            var reader = new NetlinkMessageReader(datagram);
            while (reader.TryRead(out NetlinkMessage message))
            {
                messages++;
                if (message.Type == (ushort)NetlinkMessageType.ERROR)
                {
                    NetlinkErrorReply.Decode(message, out _);
                    continue;
                }
                if (message.Type == (ushort)NetlinkMessageType.DONE)
                    continue;
                AttributeReader attributes = message.Attributes;
                while (attributes.TryRead(out NetlinkAttribute attribute))
                {
                    if (attribute.Type == (ushort)NftRuleAttribute.EXPRESSIONS && attribute.IsNested)
                        Assert.NotEmpty(ExpressionCodec.DecodeList(attribute.Payload));
                }
            }
            Assert.True(messages > 0, $"seed {seed}: no messages\n{Hex.Dump(datagram)}");
            Assert.Equal(datagram.Length, reader.Offset);
        }
    }

    private static byte[] MutatedMessage(Random random)
    {
        byte[] datagram = ValidDatagram(random, out List<LengthField> fields);
        return Mutate(random, datagram, fields);
    }

    private static byte[] MutatedExpressionList(Random random)
    {
        List<Expression> expressions = RandomExpressions(random);
        byte[] list = EncodeList(expressions);
        var fields = new List<LengthField>();
        CollectAttributeFields(list, 0, list.Length, fields, 0);
        return Mutate(random, list, fields);
    }

    /// <summary>Where a length lives: a u32 nlmsg_len, a u16 nla_len, or the echoed request length inside nlmsgerr.</summary>
    private readonly record struct LengthField(int Offset, int Size, uint Value);

    private static byte[] Mutate(Random random, byte[] valid, List<LengthField> fields)
    {
        var bytes = new List<byte>(valid);
        int mutations = 1 + random.Next(3);
        for (int m = 0; m < mutations; m++)
        {
            // Once a truncation or an append moves things, structural offsets may point past the end.
            var live = fields.Where(f => f.Offset + f.Size <= bytes.Count).ToList();
            switch (random.Next(8))
            {
                case 0: // bit flips
                    for (int i = random.Next(1, 4); i > 0 && bytes.Count > 0; i--)
                        bytes[random.Next(bytes.Count)] ^= (byte)(1 << random.Next(8));
                    break;

                case 1: // truncation anywhere
                    if (bytes.Count > 0)
                    {
                        int cut = random.Next(bytes.Count);
                        bytes.RemoveRange(cut, bytes.Count - cut);
                    }
                    break;

                case 2: // truncation at a structural position: inside a header, at a payload start, one byte short
                    if (live.Count > 0)
                    {
                        LengthField f = live[random.Next(live.Count)];
                        int headerSize = f.Size == 4 ? NetlinkAlignment.MessageHeaderSize : NetlinkAlignment.AttributeHeaderSize;
                        int[] cuts =
                        [
                            f.Offset, f.Offset + 1, f.Offset + f.Size - 1, f.Offset + headerSize - 1, f.Offset + headerSize,
                            f.Offset + (int)f.Value - 1, f.Offset + (int)f.Value, f.Offset + NetlinkAlignment.Align((int)f.Value) - 1,
                        ];
                        int cut = Math.Clamp(cuts[random.Next(cuts.Length)], 0, bytes.Count);
                        bytes.RemoveRange(cut, bytes.Count - cut);
                    }
                    break;

                case 3: // a length that lies
                case 4:
                    if (live.Count > 0)
                    {
                        LengthField f = live[random.Next(live.Count)];
                        uint max = f.Size == 4 ? uint.MaxValue : ushort.MaxValue;
                        uint[] lies =
                        [
                            0, 1, 2, 3, 4, 5, 15, 16, 17, 19, 20, f.Value - 1, f.Value + 1, f.Value + 3, f.Value + 4, f.Value * 2,
                            (uint)(bytes.Count - f.Offset), (uint)(bytes.Count - f.Offset + 1), max, max - 1, max - 3,
                            0x7FFF, 0x8000, 0x7FFF_FFFC, 0x7FFF_FFFD, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFC,
                            (uint)random.Next(), (uint)random.Next(0, 64),
                        ];
                        uint lie = lies[random.Next(lies.Length)] & max;
                        Span<byte> span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes).Slice(f.Offset, f.Size);
                        if (f.Size == 4)
                            BinaryPrimitives.WriteUInt32LittleEndian(span, lie);
                        else
                            BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)lie);
                    }
                    break;

                case 5: // flags: nla_type flag bits, nlmsg_flags, or the message type itself
                    if (live.Count > 0)
                    {
                        LengthField f = live[random.Next(live.Count)];
                        Span<byte> all = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes);
                        if (f.Size == 2 && f.Offset + 4 <= all.Length)
                        {
                            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(all[(f.Offset + 2)..]);
                            ushort[] toggles = [0x8000, 0x4000, 0xC000, (ushort)(1 << random.Next(14))];
                            BinaryPrimitives.WriteUInt16LittleEndian(all[(f.Offset + 2)..], (ushort)(type ^ toggles[random.Next(toggles.Length)]));
                        }
                        else if (f.Size == 4 && f.Offset + 8 <= all.Length)
                        {
                            if (random.Next(3) == 0)
                            {
                                ushort[] types = [(ushort)NetlinkMessageType.ERROR, (ushort)NetlinkMessageType.DONE, (ushort)NetlinkMessageType.NOOP, NftType(NftMessageType.NEWRULE)];
                                BinaryPrimitives.WriteUInt16LittleEndian(all[(f.Offset + 4)..], types[random.Next(types.Length)]);
                            }
                            else
                            {
                                ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(all[(f.Offset + 6)..]);
                                ushort[] toggles = [(ushort)NetlinkMessageFlags.ACK_TLVS, (ushort)NetlinkMessageFlags.CAPPED, 0x0300, (ushort)random.Next(0x10000)];
                                BinaryPrimitives.WriteUInt16LittleEndian(all[(f.Offset + 6)..], (ushort)(flags ^ toggles[random.Next(toggles.Length)]));
                            }
                        }
                    }
                    break;

                case 6: // extra bytes appended: random, zeros, or a copy of the start (a second header)
                    switch (random.Next(3))
                    {
                        case 0:
                            var extra = new byte[random.Next(1, 40)];
                            random.NextBytes(extra);
                            bytes.AddRange(extra);
                            break;
                        case 1:
                            bytes.AddRange(new byte[random.Next(1, 24)]);
                            break;
                        default:
                            bytes.AddRange(bytes.Take(random.Next(1, Math.Max(2, bytes.Count))).ToList());
                            break;
                    }
                    break;

                default: // a byte range overwritten with random data
                    if (bytes.Count > 0)
                    {
                        int start = random.Next(bytes.Count);
                        int count = Math.Min(random.Next(1, 9), bytes.Count - start);
                        for (int i = 0; i < count; i++)
                            bytes[start + i] = (byte)random.Next(256);
                    }
                    break;
            }
        }
        return bytes.ToArray();
    }

    // ------------------------------------------------------------------------------------------------
    // Generators of well-formed input

    private static ushort NftType(NftMessageType type) => (ushort)(((int)NfnetlinkSubsystem.NFTABLES << 8) | (int)type);

    /// <summary>1-3 messages: nf_tables messages with nested attributes and expression lists, NLMSG_ERROR replies, NLMSG_DONE.</summary>
    private static byte[] ValidDatagram(Random random, out List<LengthField> fields)
    {
        var buffer = new byte[16 * 1024];
        var writer = new NetlinkWriter(buffer);
        int count = 1 + random.Next(3);
        for (int i = 0; i < count; i++)
        {
            switch (random.Next(5))
            {
                case 0:
                    WriteErrorReply(ref writer, random);
                    break;
                case 1 when i == count - 1:
                    var done = writer.BeginMessage((ushort)NetlinkMessageType.DONE, NetlinkMessageFlags.MULTI, (uint)random.Next());
                    BinaryPrimitives.WriteInt32LittleEndian(writer.Reserve(4), 0); // the dump's status
                    writer.EndMessage(done);
                    break;
                default:
                    WriteRuleMessage(ref writer, random);
                    break;
            }
        }
        byte[] datagram = writer.Written.ToArray();
        fields = [];
        for (int offset = 0; offset < datagram.Length;)
        {
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(datagram.AsSpan(offset));
            fields.Add(new LengthField(offset, 4, length));
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(datagram.AsSpan(offset + 4));
            if (type == (ushort)NetlinkMessageType.ERROR)
            {
                // nlmsgerr: error, then the echoed request header (its length is a field too), then attributes.
                int echoed = offset + 20;
                uint requestLength = BinaryPrimitives.ReadUInt32LittleEndian(datagram.AsSpan(echoed));
                fields.Add(new LengthField(echoed, 4, requestLength));
                ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(datagram.AsSpan(offset + 6));
                int attributes = echoed + ((flags & (ushort)NetlinkMessageFlags.CAPPED) != 0 ? 16 : NetlinkAlignment.Align((int)requestLength));
                CollectAttributeFields(datagram, attributes, offset + (int)length, fields, 0);
            }
            else
            {
                CollectAttributeFields(datagram, offset + 20, offset + (int)length, fields, 0);
            }
            offset += NetlinkAlignment.Align((int)length);
        }
        return datagram;
    }

    /// <summary>Records every nla_len in a well-formed attribute run, descending into NLA_F_NESTED attributes.</summary>
    private static void CollectAttributeFields(byte[] bytes, int start, int end, List<LengthField> fields, int depth)
    {
        for (int offset = start; offset + 4 <= end;)
        {
            ushort length = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset));
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset + 2));
            fields.Add(new LengthField(offset, 2, length));
            if ((type & 0x8000) != 0 && depth < 16)
                CollectAttributeFields(bytes, offset + 4, offset + length, fields, depth + 1);
            offset += NetlinkAlignment.Align(length);
        }
    }

    private static void WriteRuleMessage(ref NetlinkWriter writer, Random random)
    {
        var flags = (NetlinkMessageFlags)random.Next(0x1000) | NetlinkMessageFlags.REQUEST;
        var message = writer.BeginNfnetlinkMessage(NfnetlinkSubsystem.NFTABLES, (byte)NftMessageType.NEWRULE, flags, (uint)random.Next(), NetfilterFamily.INET, (ushort)random.Next(0x10000));
        writer.WriteString((ushort)NftRuleAttribute.TABLE, RandomName(random));
        writer.WriteString((ushort)NftRuleAttribute.CHAIN, RandomName(random));
        if (random.Next(2) == 0)
            writer.WriteU64BigEndian((ushort)NftRuleAttribute.HANDLE, (ulong)random.NextInt64());
        var expressions = writer.BeginNested((ushort)NftRuleAttribute.EXPRESSIONS);
        foreach (Expression expression in RandomExpressions(random))
            expression.Encode(ref writer);
        writer.EndNested(expressions);
        if (random.Next(2) == 0)
            WriteRandomAttributes(ref writer, random, depth: 0, firstType: 16); // types NFTA_RULE_* does not use
        writer.EndMessage(message);
    }

    private static void WriteRandomAttributes(ref NetlinkWriter writer, Random random, int depth, int firstType = 0)
    {
        int count = random.Next(1, 5);
        for (int i = 0; i < count; i++)
        {
            ushort type = (ushort)random.Next(firstType, firstType + 20);
            switch (random.Next(depth < 3 ? 7 : 6))
            {
                case 0: writer.WriteU8(type, (byte)random.Next(256)); break;
                case 1: writer.WriteU16BigEndian(type, (ushort)random.Next(0x10000)); break;
                case 2: writer.WriteU32BigEndian(type, (uint)random.Next()); break;
                case 3: writer.WriteU64BigEndian(type, (ulong)random.NextInt64()); break;
                case 4: writer.WriteString(type, RandomName(random)); break;
                case 5:
                    var bytes = new byte[random.Next(0, 13)];
                    random.NextBytes(bytes);
                    writer.WriteBytes(type, bytes);
                    break;
                default:
                    var nest = writer.BeginNested(type);
                    WriteRandomAttributes(ref writer, random, depth + 1);
                    writer.EndNested(nest);
                    break;
            }
        }
    }

    private static void WriteErrorReply(ref NetlinkWriter writer, Random random)
    {
        // struct nlmsghdr, written by hand: a kernel reply carries a port id, which the writer leaves to the kernel.
        int start = writer.Length;
        bool extended = random.Next(3) != 0;
        bool capped = random.Next(2) == 0;
        var flags = (extended ? NetlinkMessageFlags.ACK_TLVS : 0) | (capped ? NetlinkMessageFlags.CAPPED : 0);
        Span<byte> header = writer.Reserve(16);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], (ushort)NetlinkMessageType.ERROR);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], (ushort)flags);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], (uint)random.Next());
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], (uint)random.Next());

        int error = random.Next(4) == 0 ? 0 : -random.Next(1, 134);
        BinaryPrimitives.WriteInt32LittleEndian(writer.Reserve(4), error);

        // The echoed request: its header only when capped (the length field still says the whole request),
        // else the whole request (a small rule message).
        var requestBuffer = new byte[2048];
        var request = new NetlinkWriter(requestBuffer);
        var requestStart = request.BeginNfnetlinkMessage(NfnetlinkSubsystem.NFTABLES, (byte)NftMessageType.NEWRULE, NetlinkMessageFlags.REQUEST | NetlinkMessageFlags.ACK, (uint)random.Next(), NetfilterFamily.INET);
        request.WriteString((ushort)NftRuleAttribute.TABLE, RandomName(random));
        request.WriteString((ushort)NftRuleAttribute.CHAIN, RandomName(random));
        request.EndMessage(requestStart);
        ReadOnlySpan<byte> echoed = capped ? request.Written[..NetlinkAlignment.MessageHeaderSize] : request.Written;
        echoed.CopyTo(writer.Reserve(echoed.Length));

        if (extended && error != 0)
        {
            writer.WriteString((ushort)NetlinkErrorAttribute.MSG, "Could not process rule: " + RandomName(random));
            BinaryPrimitives.WriteUInt32LittleEndian(writer.Attribute((ushort)NetlinkErrorAttribute.OFFS, 4), (uint)random.Next(0, 200));
            if (random.Next(3) == 0)
                writer.WriteU32BigEndian((ushort)NetlinkErrorAttribute.MISS_TYPE, 7);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)(writer.Length - start));
    }

    // ------------------------------------------------------------------------------------------------
    // Random expressions

    private static readonly string[] Pieces = ["a", "b", "z", "0", "9", "-", "_", ".", " ", "input", "egress_denied", "é", "→", "日本", "🙂", "x"];

    private static string RandomName(Random random)
    {
        var name = new StringBuilder();
        int pieces = random.Next(1, 8);
        for (int i = 0; i < pieces; i++)
            name.Append(Pieces[random.Next(Pieces.Length)]);
        return name.ToString();
    }

    private static string RandomString(Random random, int maxBytes)
    {
        var text = new StringBuilder();
        int pieces = random.Next(0, 20);
        for (int i = 0; i < pieces; i++)
        {
            string piece = Pieces[random.Next(Pieces.Length)];
            if (Encoding.UTF8.GetByteCount(text.ToString()) + Encoding.UTF8.GetByteCount(piece) > maxBytes)
                break;
            text.Append(piece);
        }
        return text.ToString();
    }

    private static DataValue RandomData(Random random, int maxBytes = 16)
    {
        var bytes = new byte[random.Next(0, maxBytes + 1)];
        random.NextBytes(bytes);
        return new DataValue(bytes);
    }

    private static uint RandomRegister(Random random) => random.Next(4) switch
    {
        0 => Registers.R1 + (uint)random.Next(4),
        1 => Registers.R32((int)random.Next(16)),
        2 => Registers.Verdict,
        _ => (uint)random.Next(),
    };

    private static T RandomEnum<T>(Random random) where T : struct, Enum
    {
        T[] values = Enum.GetValues<T>();
        return values[random.Next(values.Length)];
    }

    private static uint RandomUInt(Random random) => random.Next(3) == 0 ? (uint)random.Next(0, 16) : (uint)random.NextInt64(0, 1L << 32);

    private static Expression RandomExpression(Random random)
    {
        switch (random.Next(14))
        {
            case 0:
                return new PayloadExpression(random.Next(5) == 0 ? (PayloadBase)RandomUInt(random) : RandomEnum<PayloadBase>(random),
                    RandomUInt(random), RandomUInt(random), RandomRegister(random));
            case 1:
                return new MetaExpression(random.Next(5) == 0 ? (MetaKey)RandomUInt(random) : RandomEnum<MetaKey>(random), RandomRegister(random));
            case 2:
                return new CmpExpression(random.Next(5) == 0 ? (CmpOp)RandomUInt(random) : RandomEnum<CmpOp>(random), RandomRegister(random), RandomData(random));
            case 3:
                return new BitwiseExpression(RandomRegister(random), RandomRegister(random), RandomUInt(random), RandomData(random), RandomData(random));
            case 4:
                return new CtExpression(random.Next(5) == 0 ? (CtKey)RandomUInt(random) : RandomEnum<CtKey>(random), RandomRegister(random),
                    random.Next(2) == 0 ? null : (byte)random.Next(256));
            case 5:
                VerdictCode code = random.Next(5) == 0 ? (VerdictCode)random.Next(int.MinValue, int.MaxValue) : RandomEnum<VerdictCode>(random);
                string? chain = code is VerdictCode.Jump or VerdictCode.Goto || random.Next(8) == 0 ? RandomName(random) : null;
                return new ImmediateExpression(new Verdict(code, chain));
            case 6:
                return new ImmediateExpression(RandomRegister(random), RandomData(random));
            case 7:
                return new LookupExpression(RandomName(random), RandomRegister(random), random.Next(2) == 0 ? 0 : RandomUInt(random), random.Next(2) == 0);
            case 8:
                return new RangeExpression(random.Next(2) == 0, RandomRegister(random), RandomData(random), RandomData(random));
            case 9:
                return new LogExpression(random.Next(4) == 0 ? null : RandomString(random, LogExpression.MaxPrefixBytes))
                {
                    Group = random.Next(2) == 0 ? null : (ushort)random.Next(0x10000),
                    Snaplen = random.Next(2) == 0 ? null : RandomUInt(random),
                    QueueThreshold = random.Next(2) == 0 ? null : (ushort)random.Next(0x10000),
                    Level = random.Next(2) == 0 ? null : RandomUInt(random),
                    Flags = random.Next(2) == 0 ? null : RandomUInt(random),
                };
            case 10:
                return new CounterExpression((ulong)random.NextInt64(), (ulong)random.NextInt64());
            case 11:
                return new LimitExpression((ulong)random.NextInt64(), (ulong)random.NextInt64(), RandomUInt(random),
                    random.Next(5) == 0 ? (LimitType)RandomUInt(random) : RandomEnum<LimitType>(random), random.Next(2) == 0);
            case 12:
                return new RejectExpression(random.Next(5) == 0 ? (RejectType)RandomUInt(random) : RandomEnum<RejectType>(random), (byte)random.Next(256));
            default:
                // An expression this library does not model: kept raw, attributes and all.
                string[] names = ["xt", "nat", "masq", "fib", "dynset", "objref", "quota", "socket", "tproxy"];
                var buffer = new byte[512];
                var inner = new NetlinkWriter(buffer);
                if (random.Next(4) != 0)
                    WriteRandomAttributes(ref inner, random, depth: 1);
                return new RawExpression(names[random.Next(names.Length)], new DataValue(inner.Written));
        }
    }

    private static List<Expression> RandomExpressions(Random random)
    {
        int count = random.Next(1, 9);
        var expressions = new List<Expression>(count);
        for (int i = 0; i < count; i++)
            expressions.Add(RandomExpression(random));
        return expressions;
    }

    /// <summary>The payload of NFTA_RULE_EXPRESSIONS for <paramref name="expressions"/>.</summary>
    private static byte[] EncodeList(IEnumerable<Expression> expressions)
    {
        var buffer = new byte[32 * 1024];
        var writer = new NetlinkWriter(buffer);
        foreach (Expression expression in expressions)
            expression.Encode(ref writer);
        return writer.Written.ToArray();
    }

    // ------------------------------------------------------------------------------------------------
    // Round trip

    [Fact]
    public void Random_expression_lists_round_trip_through_encode_and_DecodeList()
    {
        const int cases = 5_000;
        var failures = new List<string>();
        for (int index = 0; index < cases; index++)
        {
            int seed = BaseSeed + 9_000_000 + index;
            List<Expression> expressions = RandomExpressions(new Random(seed));
            byte[] encoded = EncodeList(expressions);
            try
            {
                List<Expression> decoded = ExpressionCodec.DecodeList(encoded);
                if (!decoded.SequenceEqual(expressions))
                {
                    failures.Add($"case {index} (seed {seed}):\n  encoded: {string.Join("; ", expressions)}\n  decoded: {string.Join("; ", decoded)}\n{Hex.Dump(encoded)}");
                    continue;
                }
                // Encoding what was decoded gives the same bytes.
                Hex.AssertEqual(encoded, EncodeList(decoded));
            }
            catch (Exception e)
            {
                failures.Add($"case {index} (seed {seed}): {e.GetType().FullName}: {e.Message}\n  {string.Join("; ", expressions)}\n{Hex.Dump(encoded)}");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases} expression lists did not round-trip; the first ones:\n\n" + string.Join("\n\n", failures.Take(5)));
    }

    [Fact]
    public void Round_trip_inside_a_whole_message()
    {
        var random = new Random(BaseSeed);
        List<Expression> expressions = [new PayloadExpression(PayloadBase.Network, 16, 4), new CmpExpression(CmpOp.Eq, Registers.R1, DataValue.BigEndian32(0xC0A8010A)),
            new CounterExpression(), new ImmediateExpression(Verdict.Accept), .. RandomExpressions(random)];
        var buffer = new byte[8192];
        var writer = new NetlinkWriter(buffer);
        var message = writer.BeginNfnetlinkMessage(NfnetlinkSubsystem.NFTABLES, (byte)NftMessageType.NEWRULE, NetlinkMessageFlags.REQUEST, 1, NetfilterFamily.INET);
        writer.WriteString((ushort)NftRuleAttribute.TABLE, "netlinkfence");
        var nest = writer.BeginNested((ushort)NftRuleAttribute.EXPRESSIONS);
        foreach (Expression expression in expressions)
            expression.Encode(ref writer);
        writer.EndNested(nest);
        writer.EndMessage(message);

        var reader = new NetlinkMessageReader(writer.Written);
        Assert.True(reader.TryRead(out NetlinkMessage read));
        List<Expression>? decoded = null;
        AttributeReader attributes = read.Attributes;
        while (attributes.TryRead(out NetlinkAttribute attribute))
        {
            if (attribute.Type == (ushort)NftRuleAttribute.EXPRESSIONS)
            {
                Assert.True(attribute.IsNested);
                decoded = ExpressionCodec.DecodeList(attribute.Payload);
            }
        }
        Assert.False(reader.TryRead(out _));
        Assert.NotNull(decoded);
        Assert.Equal(expressions, decoded);
    }

    // ------------------------------------------------------------------------------------------------
    // Specific malformed inputs give exact, clear messages

    private static string ReadAllMessages(byte[] datagram)
    {
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out _)) { }
        return "no error";
    }

    private static string ReadAllAttributes(byte[] attributes)
    {
        var reader = new AttributeReader(attributes);
        while (reader.TryRead(out _)) { }
        return "no error";
    }

    private static byte[] Header(uint length, ushort type = 0x0a06, int total = -1)
    {
        var bytes = new byte[total < 0 ? (int)Math.Max(16, length) : total];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, length);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), type);
        return bytes;
    }

    [Fact]
    public void Truncated_message_header_is_reported_with_offset_and_sizes()
    {
        var e = Assert.Throws<NetlinkDecodeException>(() => ReadAllMessages(new byte[10]));
        Assert.Equal("truncated netlink message at offset 0: 10 bytes left, a header needs 16", e.Message);
    }

    [Fact]
    public void Truncated_second_message_header_names_its_offset()
    {
        byte[] datagram = [.. Header(20, total: 20), .. new byte[7]];
        var e = Assert.Throws<NetlinkDecodeException>(() => ReadAllMessages(datagram));
        Assert.Equal("truncated netlink message at offset 20: 7 bytes left, a header needs 16", e.Message);
    }

    [Fact]
    public void Message_length_larger_than_what_is_left_is_reported()
    {
        var e = Assert.Throws<NetlinkDecodeException>(() => ReadAllMessages(Header(64, total: 20)));
        Assert.Equal("netlink message at offset 0 claims 64 bytes; 20 are left and a header needs 16", e.Message);
    }

    [Fact]
    public void Message_length_smaller_than_a_header_is_reported()
    {
        var e = Assert.Throws<NetlinkDecodeException>(() => ReadAllMessages(Header(8, total: 20)));
        Assert.Equal("netlink message at offset 0 claims 8 bytes; 20 are left and a header needs 16", e.Message);
    }

    [Fact]
    public void Attribute_length_below_four_is_reported()
    {
        byte[] attributes = Hex.Parse("02 00 01 00   00 00 00 00");
        var e = Assert.Throws<NetlinkDecodeException>(() => ReadAllAttributes(attributes));
        Assert.Equal("attribute at offset 0 claims 2 bytes; 8 are left and a header needs 4", e.Message);
    }

    [Fact]
    public void Attribute_length_larger_than_what_is_left_is_reported()
    {
        byte[] attributes = Hex.Parse("08 00 01 00   00 00 00 01   10 00 02 00   ab cd");
        var e = Assert.Throws<NetlinkDecodeException>(() => ReadAllAttributes(attributes));
        Assert.Equal("attribute at offset 8 claims 16 bytes; 6 are left and a header needs 4", e.Message);
    }

    [Fact]
    public void Truncated_attribute_header_is_reported()
    {
        byte[] attributes = Hex.Parse("08 00 01 00   00 00 00 01   05 00");
        var e = Assert.Throws<NetlinkDecodeException>(() => ReadAllAttributes(attributes));
        Assert.Equal("truncated attribute at offset 8: 2 bytes left, a header needs 4", e.Message);
    }

    [Fact]
    public void Integer_of_the_wrong_size_is_reported()
    {
        byte[] attributes = Hex.Parse("06 00 03 00   12 34 00 00");
        var e = Assert.Throws<NetlinkDecodeException>(() =>
        {
            var reader = new AttributeReader(attributes);
            reader.TryRead(out NetlinkAttribute attribute);
            return attribute.U32BigEndian();
        });
        Assert.Equal("attribute type 3 at offset 0 has 2 payload bytes, expected 4", e.Message);
    }

    [Fact]
    public void Short_error_reply_is_reported()
    {
        byte[] datagram = Header(24, (ushort)NetlinkMessageType.ERROR);
        var e = Assert.Throws<NetlinkDecodeException>(() =>
        {
            var reader = new NetlinkMessageReader(datagram);
            reader.TryRead(out NetlinkMessage message);
            return NetlinkErrorReply.Decode(message, out _);
        });
        Assert.Equal("NLMSG_ERROR with 8 payload bytes; at least 20 are needed", e.Message);
    }

    [Fact]
    public void Expression_list_with_a_foreign_attribute_is_reported()
    {
        byte[] list = Hex.Parse("08 00 05 00   00 00 00 00");
        var e = Assert.Throws<NetlinkDecodeException>(() => ExpressionCodec.DecodeList(list));
        Assert.Equal("expression list holds attribute type 5, expected NFTA_LIST_ELEM", e.Message);
    }

    [Fact]
    public void Expression_without_a_name_is_reported()
    {
        byte[] list = Hex.Parse("0c 00 01 80   08 00 02 80   04 00 01 00");
        var e = Assert.Throws<NetlinkDecodeException>(() => ExpressionCodec.DecodeList(list));
        Assert.Equal("expression without NFTA_EXPR_NAME", e.Message);
    }

    [Fact]
    public void Error_reply_echoing_a_huge_request_length_is_a_decode_error()
    {
        // nlmsgerr { error -22, request header claiming 0x7fffffff bytes }, ACK_TLVS set, not capped.
        byte[] datagram = new byte[36];
        BinaryPrimitives.WriteUInt32LittleEndian(datagram, 36);
        BinaryPrimitives.WriteUInt16LittleEndian(datagram.AsSpan(4), (ushort)NetlinkMessageType.ERROR);
        BinaryPrimitives.WriteUInt16LittleEndian(datagram.AsSpan(6), (ushort)NetlinkMessageFlags.ACK_TLVS);
        BinaryPrimitives.WriteInt32LittleEndian(datagram.AsSpan(16), -22);
        BinaryPrimitives.WriteUInt32LittleEndian(datagram.AsSpan(20), 0x7FFF_FFFF);
        Assert.Throws<NetlinkDecodeException>(() =>
        {
            var reader = new NetlinkMessageReader(datagram);
            reader.TryRead(out NetlinkMessage message);
            return NetlinkErrorReply.Decode(message, out _);
        });
    }
}
