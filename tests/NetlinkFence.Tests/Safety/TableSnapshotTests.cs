using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Nftables.Snapshots;
using NetlinkFence.Nftables;
using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Safety;

/// <summary>A live table, snapshotted, written to bytes, read back and restored, is the same table (nft as the oracle).</summary>
public sealed class TableSnapshotTests
{
    // Built by nft itself: the table's comment (which build applied it), anonymous sets, an interval set, a jump, a comment, counters.
    private const string Ruleset = """
        table inet t {
          comment "netlinkfence 0.4.0"
          set s { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 192.168.1.1 } }
          chain c { type filter hook output priority 0; policy accept;
            tcp dport { 22, 80 } counter accept
            ip daddr @s jump d
            meta l4proto { icmp, ipv6-icmp } accept comment "hi"
          }
          chain d {
            counter drop
          }
        }
        """;

    [Fact]
    public async Task SerializedSnapshotRestoresTheSameTableInAnotherNamespace()
    {
        using var source = TestNamespace.Create();
        using var target = TestNamespace.Create();
        source.Nft("-f -", Ruleset);
        TableSnapshot snapshot;
        await using (var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = source.Name }))
            snapshot = await TableSnapshot.CaptureAsync(nft, NftFamily.Inet, "t");
        Assert.True(snapshot.Existed);

        var bytes = snapshot.Serialize();
        var read = TableSnapshot.Deserialize(bytes);
        Assert.Equal(bytes, read.Serialize());

        // Something else is there first: the restore replaces it whole.
        target.Nft("add table inet t"); target.Nft("add chain inet t other");
        await using (var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = target.Name }))
            await nft.CommitAsync(read.ToRestoreTransaction());
        Assert.Equal(source.Nft("list ruleset"), target.Nft("list ruleset"));
        Assert.Contains("comment \"netlinkfence 0.4.0\"", target.Nft("list ruleset")); // a rollback gives the table back the build it had
        // nft creates anonymous sets between rules, so handles follow another order here; the CLI tests check
        // that a table netlinkfence created comes back with every handle but the table's.
        Assert.Equal(MaskAllHandles(source.Nft("-j list ruleset")), MaskAllHandles(target.Nft("-j list ruleset")));
    }

    [Fact]
    public async Task SnapshotOfAMissingTableRemovesTheTable()
    {
        using var ns = TestNamespace.Create();
        await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = ns.Name });
        var snapshot = TableSnapshot.Deserialize((await TableSnapshot.CaptureAsync(nft, NftFamily.Inet, "t")).Serialize());
        Assert.False(snapshot.Existed);
        ns.Nft("-f -", Ruleset);
        ns.Nft("add table inet keep");
        await nft.CommitAsync(snapshot.ToRestoreTransaction());
        Assert.Equal("table inet keep {\n}\n", ns.Nft("list ruleset"));
    }

    /// <summary>A table with a chain, an interval set with elements, and rules, as the library writes them.</summary>
    private static byte[] ValidTable()
    {
        var set = new NftSet(NftFamily.Inet, "t", "s", [SetKeyType.Ipv4Address], SetFlags.Interval);
        var chain = new Chain(NftFamily.Inet, "t", "c");
        SetElement[] elements = [new(new DataValue([10, 0, 0, 0])), new(new DataValue([11, 0, 0, 0])) { IntervalEnd = true }];
        var rule = new Rule(NftFamily.Inet, "t", "c",
            [new PayloadExpression(PayloadBase.Network, 16, 4), new LookupExpression("s", Registers.R1), new CounterExpression(), new ImmediateExpression(Verdict.Accept)], "hi");
        return TableSnapshot.Of(NftFamily.Inet, "t", new TableContents(new Table(NftFamily.Inet, "t"), [chain],
            [new SetContents(set, elements)], [rule], 0), ListedAt).Serialize();
    }

    private static byte[] NoTable() => TableSnapshot.Of(NftFamily.Inet, "t", null, ListedAt).Serialize();

    /// <summary>A fixed listing time, so that the same snapshot serializes to the same bytes.</summary>
    private static readonly long ListedAt = System.Diagnostics.Stopwatch.Frequency * 1000;

    /// <summary>
    /// Timed elements come back with the time they have left at the restore, not at the listing: one whose time ran out
    /// since is left out (a rollback must not open again what the kernel closed), one with time left gets no more than
    /// that; untimed elements are as listed. In a plain interval set (a range is a start and an end element) one whose
    /// time ran out goes back with the shortest time left, and the kernel expires it at once. nft is the oracle.
    /// </summary>
    [Fact]
    public async Task ARestoreGivesTimedElementsTheTimeTheyHaveLeftNowAndLeavesOutThoseThatRanOut()
    {
        using var source = TestNamespace.Create();
        using var target = TestNamespace.Create();
        source.Nft("-f -", """
            table inet t {
              set pairs { type ipv4_addr . inet_service; flags interval,timeout; elements = { 10.0.0.1 . 80 timeout 10s, 10.0.0.2 . 80 timeout 1h, 10.0.0.3 . 80 } }
              set plain { type ipv4_addr; flags timeout; elements = { 10.0.1.1 timeout 10s, 10.0.1.2 timeout 1h } }
              set ranges { type ipv4_addr; flags interval,timeout; elements = { 10.1.0.0/16 timeout 10s, 10.2.0.0/16 timeout 1h } }
            }
            """);
        TableSnapshot snapshot;
        await using (var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = source.Name }))
            snapshot = await TableSnapshot.CaptureAsync(nft, NftFamily.Inet, "t");
        Assert.NotNull(snapshot.ListedAt);
        // As if listed 20 s ago, through the file format (which keeps the listing time).
        var aged = TableSnapshot.Deserialize(TableSnapshot.Of(NftFamily.Inet, "t", snapshot.Contents,
            System.Diagnostics.Stopwatch.GetTimestamp() - 20 * System.Diagnostics.Stopwatch.Frequency).Serialize());
        await using (var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = target.Name }))
            await nft.CommitAsync(aged.ToRestoreTransaction());
        Thread.Sleep(200); // the ranges set's run-out element: its shortest time passes
        string pairs = target.Nft("list set inet t pairs"), plain = target.Nft("list set inet t plain"), ranges = target.Nft("list set inet t ranges");
        Assert.DoesNotContain("10.0.0.1", pairs);
        Assert.DoesNotContain("10.0.1.1", plain);
        Assert.DoesNotContain("10.1.0.0", ranges);
        Assert.Contains("10.0.0.3 . 80", pairs);
        Assert.DoesNotContain("10.0.0.3 . 80 timeout", pairs);
        // Time left: at most the hour less the 20 s (59m40s), not the whole hour again.
        foreach (var (listing, element) in new[] { (pairs, @"10\.0\.0\.2 \. 80"), (plain, @"10\.0\.1\.2"), (ranges, @"10\.2\.0\.0/16") })
        {
            var left = System.Text.RegularExpressions.Regex.Match(listing, element + @" timeout 1h expires 59m(\d+)s");
            Assert.True(left.Success && int.Parse(left.Groups[1].Value) <= 40, listing);
        }
    }

    /// <summary>
    /// A version 2 snapshot (written by a build before the listing time was kept; a rollback pending across an upgrade)
    /// is read, and its restore leaves every timed element out: when they ran out is unknown, so none is opened again.
    /// </summary>
    [Fact]
    public void AVersion2SnapshotIsReadAndItsTimedElementsAreLeftOut()
    {
        var set = new NftSet(NftFamily.Inet, "t", "s", [SetKeyType.Ipv4Address], SetFlags.Timeout);
        SetElement[] elements = [new(new DataValue([10, 0, 0, 1])) { Timeout = TimeSpan.FromHours(1), Expiration = TimeSpan.FromMinutes(59) }, new(new DataValue([10, 0, 0, 2]))];
        byte[] version3 = TableSnapshot.Of(NftFamily.Inet, "t", new TableContents(new Table(NftFamily.Inet, "t"), [], [new SetContents(set, elements)], [], 0)).Serialize();
        const int header = 12 + 16;
        byte[] payload = [.. version3.AsSpan(header, 2), .. version3.AsSpan(header + 2 + 8)]; // version 2: no listing time
        var read = TableSnapshot.Deserialize(Seal(payload, '2'));
        Assert.Null(read.ListedAt);
        Assert.Equal(2, read.Contents!.Sets[0].Elements.Count);
        var now = Assert.Single(read.ContentsNow()!.Sets[0].Elements);
        Assert.Equal(new DataValue([10, 0, 0, 2]), now.Key);
    }

    [Fact]
    public void EveryOneByteCorruptionIsRefused()
    {
        foreach (var bytes in new[] { ValidTable(), NoTable() })
        {
            Assert.Equal("t", TableSnapshot.Deserialize(bytes).Name);
            for (int i = 0; i < bytes.Length; i++)
            {
                foreach (byte value in new byte[] { 0, 1, 2, 0xFF, (byte)(bytes[i] ^ 0x01), (byte)(bytes[i] ^ 0x80) })
                {
                    if (value == bytes[i])
                        continue;
                    var damaged = (byte[])bytes.Clone();
                    damaged[i] = value;
                    Assert.Throws<SnapshotCorruptException>(() => TableSnapshot.Deserialize(damaged));
                }
            }
        }
    }

    [Fact]
    public void EveryTruncationAndEveryAppendIsRefused()
    {
        foreach (var bytes in new[] { ValidTable(), NoTable() })
        {
            for (int cut = 0; cut < bytes.Length; cut++)
            {
                var e = Assert.Throws<SnapshotCorruptException>(() => TableSnapshot.Deserialize(bytes.AsSpan(0, cut)));
                Assert.Contains("truncated", e.Message);
            }
            foreach (byte extra in new byte[] { 0, 1 })
                Assert.Contains("after its end", Assert.Throws<SnapshotCorruptException>(() => TableSnapshot.Deserialize([.. bytes, extra])).Message);
        }
    }

    [Fact]
    public void OtherFormatVersionsAreRefused()
    {
        // Version 1, as the previous netlinkfence wrote "no table": magic, family, existed 0, name, count 0.
        byte[] version1 = [.. "NLFSNAP1"u8, 1, 0, 1, 0, (byte)'t', 0, 0, 0, 0];
        Assert.Contains("version 1", Assert.Throws<SnapshotCorruptException>(() => TableSnapshot.Deserialize(version1)).Message);
        var version4 = ValidTable();
        version4[7] = (byte)'4';
        Assert.Contains("version 4", Assert.Throws<SnapshotCorruptException>(() => TableSnapshot.Deserialize(version4)).Message);
        Assert.Contains("bad magic", Assert.Throws<SnapshotCorruptException>(() => TableSnapshot.Deserialize("not a snapshot"u8)).Message);
    }

    /// <summary>
    /// A payload that passes the checksum (written so by a bug, or forged) but is garbage: random bytes, and
    /// valid payloads with a few bytes changed, re-sealed. Each must decode or raise the defined error, nothing else.
    /// </summary>
    [Fact]
    public void GarbagePayloadsWithAValidChecksumRaiseOnlyTheDefinedError()
    {
        var random = new Random(9);
        const int header = 12 + 16; // magic, version and length; XXH128
        byte[][] valid = [ValidTable()[header..], NoTable()[header..]];
        int decoded = 0, refused = 0;
        for (int i = 0; i < 20_000; i++)
        {
            byte[] payload;
            if (i % 2 == 0)
            {
                payload = new byte[random.Next(0, 400)];
                random.NextBytes(payload);
                if (payload.Length > 4 && i % 4 == 0)
                    valid[0].AsSpan(0, 4).CopyTo(payload); // a plausible family, kind and name length
            }
            else
            {
                payload = (byte[])valid[random.Next(valid.Length)].Clone();
                for (int changes = random.Next(1, 5); changes > 0; changes--)
                    payload[random.Next(payload.Length)] = (byte)random.Next(256);
            }
            try
            {
                TableSnapshot.Deserialize(Seal(payload));
                decoded++;
            }
            catch (SnapshotCorruptException)
            {
                refused++;
            }
        }
        Assert.True(refused > 10_000, $"{decoded} decoded, {refused} refused");
    }

    [Fact]
    public void WriteFileIsPrivateAndNeverWritesThroughALinkAtItsTemporaryName()
    {
        string path = Path.Combine(Path.GetTempPath(), $"nlf-snapshot-{Guid.NewGuid():N}");
        string victim = path + "-victim";
        try
        {
            File.WriteAllText(victim, "untouched\n");
            File.CreateSymbolicLink(path + ".tmp" + Environment.ProcessId, victim);
            TableSnapshot.Deserialize(ValidTable()).WriteFile(path);
            Assert.Equal("untouched\n", File.ReadAllText(victim));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(ValidTable(), File.ReadAllBytes(path));

            File.WriteAllBytes(path, ValidTable()[..100]);
            var e = Assert.Throws<SnapshotCorruptException>(() => TableSnapshot.ReadFile(path));
            Assert.Contains(path, e.Message);
        }
        finally
        {
            foreach (string file in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(path) + "*"))
                File.Delete(file);
        }
    }

    /// <summary>The header of format <paramref name="version"/>, written independently of the product (the format documented in SnapshotFormat).</summary>
    private static byte[] Seal(byte[] payload, char version = '3')
    {
        byte[] prefix = [.. "NLFSNAP"u8, (byte)version, 0, 0, 0, 0];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(prefix.AsSpan(8), (uint)payload.Length);
        byte[] checksum = System.IO.Hashing.XxHash128.Hash([.. prefix, .. payload]);
        return [.. prefix, .. checksum, .. payload];
    }

    internal static string MaskAllHandles(string json) => System.Text.RegularExpressions.Regex.Replace(json, "\"handle\": \\d+", "\"handle\": N");

    /// <summary>A re-created table gets a new table handle (a per-namespace counter); every other handle is reproduced.</summary>
    internal static string MaskTableHandles(string json) =>
        System.Text.RegularExpressions.Regex.Replace(json, "(\\{\"table\": \\{\"family\": \"[a-z0-9]+\", \"name\": \"[^\"]+\", \"handle\": )\\d+", "${1}N");
}
