using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Nftables;

/// <summary>nf_tables register numbers: the verdict register, four 128-bit registers and sixteen 32-bit ones.</summary>
public static class Registers
{
    /// <summary><c>NFT_REG_VERDICT</c>.</summary>
    public const uint Verdict = (uint)NftRegister.VERDICT;

    /// <summary><c>NFT_REG_1</c>, the first 128-bit data register (same storage as 32-bit registers 0..3).</summary>
    public const uint R1 = (uint)NftRegister.R1;

    /// <summary><c>NFT_REG32_00</c>; the 32-bit registers are numbered consecutively from here.</summary>
    public const uint R32Base = (uint)NftRegister32.R00;

    /// <summary>The 32-bit register <paramref name="index"/> (0..15), e.g. for the fields of a concatenation.</summary>
    public static uint R32(int index) => index is >= 0 and < 16
        ? R32Base + (uint)index
        : throw new ArgumentOutOfRangeException(nameof(index), "32-bit registers are numbered 0..15");
}
