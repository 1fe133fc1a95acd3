namespace NetlinkFence.Interop.Uapi;

/// <summary>
/// Names the C prefix and header of a UAPI enum, so a test can rebuild every C constant name
/// (<c>prefix + member name</c>; a leading <c>R</c> before a digit is dropped) and compare its
/// value with the one the installed kernel headers define.
/// </summary>
[AttributeUsage(AttributeTargets.Enum)]
public sealed class UapiPrefixAttribute(string prefix, string header) : Attribute
{
    /// <summary>The C prefix, e.g. <c>NFTA_TABLE_</c>.</summary>
    public string Prefix { get; } = prefix;

    /// <summary>The header that defines the constants, e.g. <c>linux/netfilter/nf_tables.h</c>.</summary>
    public string Header { get; } = header;
}
