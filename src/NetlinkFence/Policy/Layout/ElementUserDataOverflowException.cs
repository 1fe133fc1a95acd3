using NetlinkFence.Interop;
using NetlinkFence.Nftables;

namespace NetlinkFence.Policy.Layout;

/// <summary>
/// More permanent grants share one allow element than its userdata can name (the kernel keeps 256 bytes). The
/// compiler turns it into a located policy error; a live change that would cause it (a permanent destination added to
/// one that already names ten entries) is refused with it, before anything is sent.
/// </summary>
internal sealed class ElementUserDataOverflowException(IReadOnlyList<string> entries, int bytes, string? element = null)
    : NetlinkFenceException($"{entries.Count} entries ({string.Join(", ", entries)}) allow one and the same destination{(element is null ? "" : $" ({element})")} "
        + $"permanently; naming them takes {bytes} bytes of element userdata, the kernel keeps at most {RuleUserData.MaxBytes}")
{
    /// <summary>The permanent contributors, in policy order.</summary>
    public IReadOnlyList<string> Entries { get; } = entries;

    /// <summary>The element as nft lists it, once known.</summary>
    public string? Element { get; } = element;

    /// <summary>The bytes naming them all would take.</summary>
    public int Bytes { get; } = bytes;

    /// <summary>The same, naming the element.</summary>
    public ElementUserDataOverflowException For(string element) => new(Entries, Bytes, element);
}
