namespace NetlinkFence.Nftables;

internal enum OperationKind
{
    AddTable,
    CreateTable,
    DeleteTable,
    DestroyTable,
    AddChain,
    DeleteChain,
    DestroyChain,
    FlushChain,
    AddRule,
    InsertRule,
    ReplaceRule,
    DeleteRule,
    DestroyRule,
    AddSet,
    DeleteSet,
    DestroySet,
    FlushSet,
    AddElements,
    DeleteElements,
    DestroyElements,
}

/// <summary>
/// One change in a transaction: what, to which object, and where it came from. Exactly one of
/// <see cref="Table"/>, <see cref="Chain"/>, <see cref="Rule"/> and <see cref="Set"/> is set, the one its
/// kind acts on; the factories below are the only way to make one, so the encoder never casts.
/// </summary>
internal readonly record struct Operation
{
    private Operation(OperationKind kind, string? origin) => (Kind, Origin) = (kind, origin);

    public OperationKind Kind { get; }
    public string? Origin { get; }
    public Table? Table { get; private init; }
    public Chain? Chain { get; private init; }
    public Rule? Rule { get; private init; }
    public NftSet? Set { get; private init; }

    /// <summary>The batch-local id of a set added in the same transaction (<c>NFTA_SET_ID</c>), else 0.</summary>
    public uint SetId { get; private init; }

    /// <summary>The batch-local id of a rule a later rule is positioned against (<c>NFTA_RULE_ID</c>), else 0.</summary>
    public uint RuleId { get; private init; }

    /// <summary>The batch-local id of the rule this one goes after or before (<c>NFTA_RULE_POSITION_ID</c>), else 0.</summary>
    public uint PositionId { get; private init; }

    /// <summary>This rule operation with a batch-local id, so later rules can be positioned against it.</summary>
    public Operation WithRuleId(uint id) => this with { RuleId = id };

    /// <summary>This element operation on <paramref name="set"/> (the set a reference named) with its shaped elements.</summary>
    public Operation WithSet(NftSet set, uint setId, IReadOnlyList<SetElement> elements) =>
        this with { Set = set, SetId = setId, Elements = elements };

    /// <summary>The elements of an element operation; null for every other kind.</summary>
    public IReadOnlyList<SetElement>? Elements { get; private init; }

    /// <summary>
    /// For an addition that only moves timeouts (<see cref="Transaction.RetimeElements"/>): element i is sent with
    /// timeout and time left both <c>Timeouts[i]</c> instead of its own. Null otherwise.
    /// </summary>
    public IReadOnlyList<TimeSpan>? Timeouts { get; private init; }

    /// <summary>An addition of <paramref name="elements"/>, each sent with its timeout of <paramref name="timeouts"/>.</summary>
    public static Operation Retime(NftSet set, string? origin, IReadOnlyList<SetElement> elements, IReadOnlyList<TimeSpan> timeouts) =>
        Of(OperationKind.AddElements, set, origin, 0, elements) with { Timeouts = timeouts };

    public static Operation Of(OperationKind kind, Table table, string? origin) =>
        new(kind, origin) { Table = table ?? throw new ArgumentNullException(nameof(table)) };

    public static Operation Of(OperationKind kind, Chain chain, string? origin) =>
        new(kind, origin) { Chain = chain ?? throw new ArgumentNullException(nameof(chain)) };

    public static Operation Of(OperationKind kind, Rule rule, string? origin, uint positionId = 0) =>
        new(kind, origin) { Rule = rule ?? throw new ArgumentNullException(nameof(rule)), PositionId = positionId };

    public static Operation Of(OperationKind kind, NftSet set, string? origin, uint setId = 0, IReadOnlyList<SetElement>? elements = null) =>
        new(kind, origin) { Set = set ?? throw new ArgumentNullException(nameof(set)), SetId = setId, Elements = elements };

    /// <summary>The family of the object the operation acts on.</summary>
    public NftFamily Family => Table?.Family ?? Chain?.Family ?? Rule?.Family ?? Set!.Family;

    /// <summary>Whether the operation adds, inserts or replaces a rule (the ones whose handles can be echoed).</summary>
    public bool WritesRule => Kind is OperationKind.AddRule or OperationKind.InsertRule or OperationKind.ReplaceRule;

    /// <summary>A human description, e.g. <c>rule in chain inet netlinkfence output</c>.</summary>
    public string Describe()
    {
        if (Table is { } t)
            return $"{Verb} table {t.Family.ToNftName()} {t.Name}";
        if (Chain is { } c)
            return $"{Verb} chain {c.Family.ToNftName()} {c.Table} {c.Name}";
        if (Rule is { } r)
            return $"{Verb} rule in chain {r.Family.ToNftName()} {r.Table} {r.Chain}" + (r.Comment is null ? "" : $" (comment \"{r.Comment}\")");
        var s = Set!;
        return Elements is not null
            ? $"{Verb} {Elements.Count} elements of set {s.Family.ToNftName()} {s.Table} {s.Name}"
            : $"{Verb} set {s.Family.ToNftName()} {s.Table} {s.Name}";
    }

    private string Verb => Kind switch
    {
        OperationKind.AddTable or OperationKind.AddChain or OperationKind.AddRule or OperationKind.AddSet or OperationKind.AddElements => "add",
        OperationKind.CreateTable => "create",
        OperationKind.InsertRule => "insert",
        OperationKind.ReplaceRule => "replace",
        OperationKind.DestroyTable or OperationKind.DestroyChain or OperationKind.DestroyRule or OperationKind.DestroySet or OperationKind.DestroyElements => "destroy",
        OperationKind.FlushChain or OperationKind.FlushSet => "flush",
        _ => "delete",
    };
}
