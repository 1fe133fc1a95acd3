using System.Text;

namespace NetlinkFence.Nftables;

/// <summary>Limits nf_tables puts on names, checked before anything reaches the kernel.</summary>
internal static class NftNames
{
    /// <summary><c>NFT_NAME_MAXLEN</c> includes the terminating NUL.</summary>
    public const int MaxNameBytes = 255;

    public static void Validate(string name, string what)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0)
            throw new ArgumentException($"{what} name must not be empty");
        if (Encoding.UTF8.GetByteCount(name) > MaxNameBytes)
            throw new ArgumentException($"{what} name '{name[..Math.Min(32, name.Length)]}...' is longer than {MaxNameBytes} bytes (NFT_NAME_MAXLEN)");
        if (name.Contains('\0'))
            throw new ArgumentException($"{what} name must not contain NUL");
    }
}
