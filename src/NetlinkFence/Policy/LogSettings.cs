namespace NetlinkFence.Policy;

/// <summary>The <c>log:</c> section: how denied packets are logged before they are dropped.</summary>
/// <param name="Prefix">Prefix of every egress denial log line (null: no log rule, which lint reports).</param>
/// <param name="RatePerSecond">Kernel-side limit on log lines per <paramref name="RateUnitSeconds"/>; null: unlimited.</param>
/// <param name="RateUnitSeconds">The unit of the rate in seconds (1, 60, 3600, 86400).</param>
/// <param name="Group">NFLOG group for reading denials over netlink (<c>log.group</c>); null: <see cref="DefaultGroup"/>.</param>
public sealed record LogSettings(string? Prefix, ulong? RatePerSecond = null, ulong RateUnitSeconds = 1, ushort? Group = null)
{
    /// <summary>The syslog-over-TLS collector denials are shipped to (<c>log.remote</c>); null: none.</summary>
    public RemoteLogSettings? Remote { get; init; }

    /// <summary>The NFLOG group denials go to when <c>log.group</c> is unset (what <c>netlinkfence watch</c> reads by default).</summary>
    public const ushort DefaultGroup = 100;

    /// <summary>
    /// The NFLOG group every denial is sent to, besides the kernel log: NFLOG works in any network namespace,
    /// while kernel log lines from a non-initial namespace need the host's <c>nf_log_all_netns</c> sysctl.
    /// </summary>
    public ushort NflogGroup => Group ?? DefaultGroup;

    /// <summary>The prefix used on the input side: <c>EGRESS</c> becomes <c>INGRESS</c>, else <c>INPUT-</c> is prepended.</summary>
    public string? InputPrefix => Prefix is null ? null
        : Prefix.Contains("EGRESS", StringComparison.Ordinal) ? Prefix.Replace("EGRESS", "INGRESS", StringComparison.Ordinal)
        : "INPUT-" + Prefix;
}
