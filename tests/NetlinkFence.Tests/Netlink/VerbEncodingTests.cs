using NetlinkFence.Netlink;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Netlink;

/// <summary>
/// The kernel-dependent encodings: destroy as NFT_MSG_DESTROY* or as the add-then-delete idiom, and NLM_F_ECHO on
/// NEWRULE only when handles are asked for. Without features the bytes are those the code sent before destroy
/// existed (nft 1.0.6 has no destroy command to capture: nft 1.0.7+ builds a destroy with the delete's payload and
/// only the message type changed, which is what the first test pins).
/// </summary>
public sealed class VerbEncodingTests
{
    private const string T = "v";
    private static readonly Table Table = new(NftFamily.Inet, T) { Flags = 1 };
    private static readonly Chain Chain = Build.BaseChain(T);
    private static readonly NftSet Set = Build.AddressPortSet(T, "s");
    private static readonly Rule Rule = Build.AcceptTo(T, "output", 1) with { Handle = 7 };
    private static readonly SetElement[] Elements = [Build.AddressPort(1, 80)];

    private static byte[][] Encode(Transaction transaction, EncoderFeatures features = EncoderFeatures.None)
    {
        using var batch = new BatchBuffer();
        int[] map = [];
        TransactionEncoder.Encode(transaction, batch, 1, null, ref map, features);
        return Enumerable.Range(0, batch.MessageCount).Select(i => batch.Message(i).ToArray()).ToArray();
    }

    private static ushort TypeOf(byte[] message) => BitConverter.ToUInt16(message, 4);

    private static ushort FlagsOf(byte[] message) => BitConverter.ToUInt16(message, 6);

    public static TheoryData<string> Kinds => new() { "table", "chain", "set", "rule", "elements" };

    private static (Transaction Destroy, Transaction Delete, Transaction Add) Pair(string kind) => kind switch
    {
        "table" => (new Transaction().DestroyTable(Table), new Transaction().DeleteTable(Table), new Transaction().AddTable(Table)),
        "chain" => (new Transaction().DestroyChain(Chain), new Transaction().DeleteChain(Chain), new Transaction().AddChain(Chain)),
        "set" => (new Transaction().DestroySet(Set), new Transaction().DeleteSet(Set), new Transaction().AddSet(Set)),
        "rule" => (new Transaction().DestroyRule(Rule), new Transaction().DeleteRule(Rule), new Transaction()),
        _ => (new Transaction().DestroyElements(Set, Elements), new Transaction().DeleteElements(Set, Elements), new Transaction().AddElements(Set, Elements)),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_destroy_message_is_the_delete_message_with_the_destroy_type(string kind)
    {
        var (destroy, delete, _) = Pair(kind);
        byte[] ours = Encode(destroy, EncoderFeatures.DestroyMessages)[1], deleted = Encode(delete)[1];

        // NFT_MSG_DELTABLE 2 -> DESTROYTABLE 26, DELCHAIN 5 -> 27, DELRULE 8 -> 28, DELSET 11 -> 29, DELSETELEM 14 -> 30
        int expected = (TypeOf(deleted) & 0xff) switch { 2 => 26, 5 => 27, 8 => 28, 11 => 29, 14 => 30, var other => throw new InvalidOperationException($"type {other}") };
        Assert.Equal(0x0a00 | expected, TypeOf(ours));
        ours[4] = deleted[4];
        Assert.Equal(deleted, ours);
    }

    [Theory]
    [InlineData("table")]
    [InlineData("chain")]
    [InlineData("set")]
    [InlineData("elements")]
    public void Without_destroy_messages_a_destroy_is_the_add_then_delete_idiom_byte_for_byte(string kind)
    {
        var (destroy, delete, add) = Pair(kind);
        var idiom = Encode(destroy);
        var expected = Encode(add)[1..^1].Concat(Encode(delete)[1..^1]).ToArray();
        Assert.Equal(expected.Length, idiom.Length - 2);
        for (int i = 0; i < expected.Length; i++)
        {
            var message = idiom[i + 1];
            if (kind == "set" && TypeOf(message) == 0x0a09)
                Assert.Equal(expected[i].Length, message.Length); // the added set's NFTA_SET_ID: 1 in a transaction that adds it, 0 here
            else
                Assert.Equal(expected[i][16..], message[16..]); // after the header's sequence number and port id
            // Length and type; the flags without the batch's completion flags, which belong to a batch's first and
            // last messages (ECHO for the generation, ACK to end the replies), not to the operation.
            Assert.Equal(expected[i][..6], message[..6]);
            Assert.Equal(FlagsOf(expected[i]) & ~CompletionFlags, FlagsOf(message) & ~CompletionFlags);
        }
        Assert.NotEqual(0, FlagsOf(idiom[^2]) & Ack); // the idiom's own last message asks for the ACK that ends the replies
    }

    private const int Ack = 0x4, CompletionFlags = 0x4 | 0x8;

    [Fact]
    public void Without_destroy_messages_a_rule_cannot_be_destroyed()
    {
        var error = Assert.Throws<NotSupportedException>(() => Encode(new Transaction().DestroyRule(Rule)));
        Assert.Contains("6.3", error.Message);
    }

    [Fact]
    public void A_set_reference_is_destroyed_by_name_and_needs_its_key_types_only_before_6_3()
    {
        var reference = NftSet.Reference(NftFamily.Inet, T, "s");
        Assert.Equal(Encode(new Transaction().DestroySet(Set), EncoderFeatures.DestroyMessages)[1],
            Encode(new Transaction().DestroySet(reference), EncoderFeatures.DestroyMessages)[1]);
        Assert.Throws<NotSupportedException>(() => Encode(new Transaction().DestroySet(reference)));
    }

    [Fact]
    public void Only_rule_messages_carry_echo_and_only_when_asked()
    {
        var tx = new Transaction().AddTable(Table).AddChain(Chain).AddRule(Build.AcceptTo(T, "output", 1)).InsertRule(Build.AcceptTo(T, "output", 2)).ReplaceRule(Rule);
        const ushort Echo = 0x8;
        var plain = Encode(tx);
        var echoed = Encode(tx, EncoderFeatures.EchoRuleHandles);
        // Only the first message echoes without being asked: the table it adds makes the kernel send the commit's
        // NEWGEN back (TransactionEncoder.EchoesGeneration); rule echoes come on top of that.
        Assert.Equal([false, true, false, false, false, false, false], plain.Select(m => (FlagsOf(m) & Echo) != 0));
        Assert.Equal([false, true, false, true, true, true, false], echoed.Select(m => (FlagsOf(m) & Echo) != 0));
        for (int i = 0; i < plain.Length; i++)
        {
            Assert.Equal(FlagsOf(plain[i]) | ((FlagsOf(echoed[i]) & Echo)), FlagsOf(echoed[i]));
            Assert.Equal(plain[i][8..], echoed[i][8..]);
        }
    }
}
