using NetlinkFence.Netlink;
using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Nftables;

namespace NetlinkFence.Tests.Netlink;

/// <summary>
/// The encode path allocates nothing per rule or per set element: once the batch's pooled segments and the
/// message map have grown to fit, encoding a transaction allocates no managed memory at all.
/// Deterministic: <see cref="GC.GetAllocatedBytesForCurrentThread"/> counts exactly what this thread allocates.
/// </summary>
public sealed class EncodeAllocationTests
{
    private const string TableName = "alloc";

    [Fact]
    public void EncodingRulesAllocatesNothingPerRule()
    {
        var small = ReplaceTable(1_000);
        var large = ReplaceTable(10_000);
        using var batch = new BatchBuffer();
        int[] map = new int[64];

        // Warm-up: JIT every path, grow the segments and the map to the largest size measured.
        for (int i = 0; i < 3; i++)
        {
            TransactionEncoder.Encode(large, batch, 1, null, ref map);
            TransactionEncoder.Encode(small, batch, 1, 42, ref map);
        }

        long smallBytes = Measure(small, batch, ref map);
        long largeBytes = Measure(large, batch, ref map);

        Assert.Equal(10_000 + 6, batch.MessageCount); // BEGIN, 3 table ops, chain, rules, END
        Assert.True(largeBytes <= smallBytes,
            $"encoding 10,000 rules allocated {largeBytes} bytes, 1,000 rules {smallBytes} bytes: something allocates per rule");
        Assert.Equal(0, smallBytes);
        Assert.Equal(0, largeBytes);
    }

    [Fact]
    public void EncodingSetElementsAllocatesNothingPerElement()
    {
        var small = WithSet(1_000);
        var large = WithSet(100_000);
        using var batch = new BatchBuffer();
        int[] map = new int[64];

        for (int i = 0; i < 3; i++)
        {
            TransactionEncoder.Encode(large, batch, 1, null, ref map);
            TransactionEncoder.Encode(small, batch, 1, null, ref map);
        }

        long smallBytes = Measure(small, batch, ref map);
        long largeBytes = Measure(large, batch, ref map);

        Assert.True(batch.MessageCount > 20, $"100,000 elements (about 28 bytes each) should be split over many 64 KiB messages, got {batch.MessageCount}");
        Assert.True(largeBytes <= smallBytes,
            $"encoding 100,000 elements allocated {largeBytes} bytes, 1,000 elements {smallBytes} bytes: something allocates per element");
        Assert.Equal(0, smallBytes);
        Assert.Equal(0, largeBytes);
    }

    [Fact]
    public void AStableBatchBufferIsReusedAcrossEncodes()
    {
        var tx = ReplaceTable(2_000);
        using var batch = new BatchBuffer();
        int[] map = new int[64];
        TransactionEncoder.Encode(tx, batch, 1, null, ref map);
        var firstMap = map;
        long length = batch.Length;
        long bytes = Measure(tx, batch, ref map);
        Assert.Same(firstMap, map);
        Assert.Equal(length, batch.Length);
        Assert.Equal(0, bytes);
    }

    /// <summary>
    /// The least any of three encodes allocated: a per-rule or per-element cost shows in every one, while the runtime's
    /// own one-time work on this thread (a method tiering up mid-encode; 5,064 bytes once in ci76) shows in one only.
    /// </summary>
    private static long Measure(Transaction transaction, BatchBuffer batch, ref int[] map)
    {
        long least = long.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            TransactionEncoder.Encode(transaction, batch, 1, null, ref map);
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }

    /// <summary>Full replace: add table, delete table, add table, one base chain, <paramref name="rules"/> egress rules.</summary>
    internal static Transaction ReplaceTable(int rules)
    {
        var table = new Table(NftFamily.Inet, TableName);
        var output = new Chain(NftFamily.Inet, TableName, "output", new ChainHook("filter", HookPoint.Output, 0, ChainPolicy.Drop));
        var tx = new Transaction().AddTable(table).DeleteTable(table).AddTable(table).AddChain(output);
        for (int i = 0; i < rules; i++)
            tx.AddRule(EgressRule(i), origin: $"policy.yaml:{i + 1}:3");
        return tx;
    }

    /// <summary><c>ip daddr A tcp dport P counter accept comment "allow-i"</c> (or a set lookup for every 4th rule).</summary>
    internal static Rule EgressRule(int i)
    {
        uint address = 0xC6120000u + (uint)i; // 198.18.0.0 + i
        ushort port = (ushort)(1024 + i % 50_000);
        Expression destination = i % 4 == 3
            ? new LookupExpression("allow_v4", Registers.R1)
            : new CmpExpression(CmpOp.Eq, Registers.R1, DataValue.BigEndian32(address));
        return new Rule(NftFamily.Inet, TableName, "output",
        [
            new MetaExpression(MetaKey.NfProto),
            new CmpExpression(CmpOp.Eq, Registers.R1, new DataValue([2])),
            new PayloadExpression(PayloadBase.Network, 16, 4),
            destination,
            new MetaExpression(MetaKey.L4Proto),
            new CmpExpression(CmpOp.Eq, Registers.R1, new DataValue([6])),
            new PayloadExpression(PayloadBase.Transport, 2, 2),
            new CmpExpression(CmpOp.Eq, Registers.R1, DataValue.BigEndian16(port)),
            new CounterExpression(),
            new ImmediateExpression(Verdict.Accept),
        ], $"allow-{i}");
    }

    /// <summary>A concatenated <c>ipv4_addr . inet_service</c> set with <paramref name="elements"/> elements and one rule.</summary>
    private static Transaction WithSet(int elements)
    {
        var table = new Table(NftFamily.Inet, TableName);
        var set = new NftSet(NftFamily.Inet, TableName, "allow", [SetKeyType.Ipv4Address, SetKeyType.InetService]);
        var list = new SetElement[elements];
        for (int i = 0; i < elements; i++)
        {
            uint address = 0xC6120000u + (uint)i;
            ushort port = (ushort)(1024 + i % 50_000);
            list[i] = new SetElement(new DataValue([(byte)(address >> 24), (byte)(address >> 16), (byte)(address >> 8), (byte)address,
                (byte)(port >> 8), (byte)port, 0, 0]));
        }
        return new Transaction().AddTable(table).AddSet(set).AddElements(set, list).AddRule(EgressRule(3));
    }
}
