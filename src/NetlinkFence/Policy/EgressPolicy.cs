namespace NetlinkFence.Policy;

/// <summary>
/// A validated policy (version 1): what the host may talk to. Load one with <see cref="PolicyLoader"/> or
/// build one with <see cref="PolicyBuilder"/>; both give equal objects for equal policies.
/// </summary>
public sealed record EgressPolicy
{
    /// <summary>Creates a policy; prefer <see cref="PolicyBuilder"/>.</summary>
    public EgressPolicy(string table, LogSettings log, IReadOnlyDictionary<string, IReadOnlyList<System.Net.IPAddress>> hosts,
        IReadOnlyList<Destination> resolvers, IReadOnlyList<AllowEntry> egress, IReadOnlyList<AllowEntry> input, string source = "(builder)")
    {
        Table = table;
        Log = log;
        Hosts = hosts;
        Resolvers = resolvers;
        Egress = egress;
        Input = input;
        Source = source;
    }

    /// <summary>The inet table the tool owns; no other table is ever touched.</summary>
    public string Table { get; init; }

    /// <summary>Logging of denials.</summary>
    public LogSettings Log { get; }

    /// <summary>Static name pins (<c>hosts:</c>), preferred over DNS.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<System.Net.IPAddress>> Hosts { get; }

    /// <summary>DNS resolvers (<c>egress.dns.resolvers</c>): UDP and TCP 53 go to these only.</summary>
    public IReadOnlyList<Destination> Resolvers { get; }

    /// <summary>How names follow DNS while a daemon or an embedding agent keeps them fresh (<c>egress.dns</c> timings).</summary>
    public DnsSettings Dns { get; init; } = DnsSettings.Default;

    /// <summary>What happens to egress no entry allows, after it is logged (<c>egress.deny</c>): dropped (the default) or rejected.</summary>
    public DenyAction EgressDeny { get; init; } = DenyAction.Drop;

    /// <summary>Egress allow entries, in policy order.</summary>
    public IReadOnlyList<AllowEntry> Egress { get; }

    /// <summary>Input allow entries, in policy order.</summary>
    public IReadOnlyList<AllowEntry> Input { get; }

    /// <summary>Flows to try right after an apply (<c>selftest:</c>); a failure restores the previous table.</summary>
    public SelfTest SelfTest { get; init; } = SelfTest.None;

    /// <summary>Warnings the reader found (values a list repeats), reported by <see cref="PolicyLinter"/>; not part of equality.</summary>
    internal IReadOnlyList<PolicyDiagnostic> ReadNotes { get; init; } = [];

    /// <summary>The file the policy came from.</summary>
    public string Source { get; }

    /// <summary>Structural equality (locations and source ignored).</summary>
    public bool Equals(EgressPolicy? other) =>
        other is not null && Table == other.Table && Log == other.Log
        && Hosts.Count == other.Hosts.Count
        && Hosts.All(h => other.Hosts.TryGetValue(h.Key, out var a) && a.SequenceEqual(h.Value))
        && Resolvers.SequenceEqual(other.Resolvers) && Dns == other.Dns && EgressDeny == other.EgressDeny && Egress.SequenceEqual(other.Egress) && Input.SequenceEqual(other.Input) && SelfTest.Equals(other.SelfTest);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Table, Egress.Count, Input.Count);
}
