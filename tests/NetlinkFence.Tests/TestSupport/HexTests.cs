namespace NetlinkFence.Tests.TestSupport;

public sealed class HexTests
{
    [Fact]
    public void Dump_shows_offsets_sixteen_bytes_per_row_and_ascii()
    {
        byte[] bytes = [.. "netlinkfence: hi"u8, 0x00, 0x7f, 0xff];
        Assert.Equal(
            "00000000  6e 65 74 6c 69 6e 6b 66  65 6e 63 65 3a 20 68 69  |netlinkfence: hi|\n" +
            "00000010  00 7f ff                                          |...|\n",
            Hex.Dump(bytes));
    }

    [Fact]
    public void Dump_of_nothing_says_so() => Assert.Equal("(0 bytes)\n", Hex.Dump([]));

    [Fact]
    public void Parse_ignores_layout()
    {
        Assert.Equal(new byte[] { 0x14, 0x00, 0xab, 0xCD }, Hex.Parse("14 00\n  ab_cd"));
    }

    [Fact]
    public void Diff_names_the_first_differing_offset()
    {
        string diff = Hex.Diff([1, 2, 3], [1, 9, 3]);
        Assert.StartsWith("first difference at offset 1 (0x1): expected 0x02, actual 0x09", diff);
        Assert.StartsWith("lengths differ: expected 2 bytes, actual 3", Hex.Diff([1, 2], [1, 2, 3]));
    }

    [Fact]
    public void AssertEqual_fails_with_the_diff()
    {
        var e = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Hex.AssertEqual(new byte[] { 1 }, new byte[] { 2 }));
        Assert.Contains("first difference at offset 0", e.Message);
        Hex.AssertEqual(new byte[] { 1 }, new byte[] { 1 });
    }
}
