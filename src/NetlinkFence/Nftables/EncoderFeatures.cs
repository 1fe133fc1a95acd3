namespace NetlinkFence.Nftables;

/// <summary>Encodings that depend on the kernel or on what the caller asked for; none gives nft 1.0.6's bytes.</summary>
[Flags]
internal enum EncoderFeatures
{
    None = 0,

    /// <summary>Destroy operations as <c>NFT_MSG_DESTROY*</c> (kernel 6.3+) instead of add-then-delete.</summary>
    DestroyMessages = 1,

    /// <summary><c>NLM_F_ECHO</c> on every NEWRULE, so the kernel sends each added rule back with its handle.</summary>
    EchoRuleHandles = 2,
}
