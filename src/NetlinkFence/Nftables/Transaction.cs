namespace NetlinkFence.Nftables;

/// <summary>
/// Changes to commit together as one nfnetlink batch: the kernel applies all of them or none.
/// Build it, then pass it to <see cref="NftablesConnection.CommitAsync"/>. Not thread-safe.
/// </summary>
public sealed class Transaction
{
    private readonly List<Operation> _operations = [];
    private uint _nextSetId;

    internal IReadOnlyList<Operation> Operations => _operations;

    /// <summary>Number of operations (not counting the messages element lists are split into).</summary>
    public int Count => _operations.Count;

    /// <summary>Adds a table; no error if it exists (its flags are updated).</summary>
    /// <param name="table">The table.</param>
    /// <param name="origin">Where this object came from (e.g. <c>policy.yaml:12:3</c>), quoted in errors.</param>
    public Transaction AddTable(Table table, string? origin = null) => Add(OperationKind.AddTable, table, origin);

    /// <summary>Creates a table; the transaction fails with EEXIST if it exists.</summary>
    public Transaction CreateTable(Table table, string? origin = null) => Add(OperationKind.CreateTable, table, origin);

    /// <summary>Deletes a table with everything in it; fails with ENOENT if it does not exist.</summary>
    public Transaction DeleteTable(Table table, string? origin = null) => Add(OperationKind.DeleteTable, table, origin);

    /// <summary>Adds a chain; no error if it exists.</summary>
    public Transaction AddChain(Chain chain, string? origin = null) => Add(OperationKind.AddChain, chain, origin);

    /// <summary>Deletes an empty, unreferenced chain.</summary>
    public Transaction DeleteChain(Chain chain, string? origin = null) => Add(OperationKind.DeleteChain, chain, origin);

    /// <summary>Appends a rule to its chain (after <see cref="Rule.Position"/> when set).</summary>
    public Transaction AddRule(Rule rule, string? origin = null) => Add(OperationKind.AddRule, rule, origin);

    /// <summary>Inserts a rule at the start of its chain (before <see cref="Rule.Position"/> when set).</summary>
    public Transaction InsertRule(Rule rule, string? origin = null) => Add(OperationKind.InsertRule, rule, origin);

    /// <summary>Replaces the rule whose handle is <see cref="Rule.Handle"/>.</summary>
    public Transaction ReplaceRule(Rule rule, string? origin = null) =>
        Add(OperationKind.ReplaceRule, RequireHandle(rule), origin);

    /// <summary>Deletes the rule whose handle is <see cref="Rule.Handle"/>.</summary>
    public Transaction DeleteRule(Rule rule, string? origin = null) =>
        Add(OperationKind.DeleteRule, RequireHandle(rule), origin);

    /// <summary>Adds a named set; rules later in the same transaction can look it up.</summary>
    public Transaction AddSet(NftSet set, string? origin = null)
    {
        if (set is { IsReference: true })
            throw new ArgumentException($"set {set.Name} is a reference (name only): creating it needs its key types", nameof(set));
        _operations.Add(new Operation(OperationKind.AddSet, set, origin, ++_nextSetId, null));
        return this;
    }

    /// <summary>Deletes a set no rule refers to.</summary>
    public Transaction DeleteSet(NftSet set, string? origin = null) => Add(OperationKind.DeleteSet, set, origin);

    /// <summary>
    /// Adds elements to a set. Any number of elements: they are split over as many messages as the 64 KiB
    /// attribute limit needs, all inside this one transaction. Typed elements (<see cref="SetElement.Of"/>) are
    /// checked against the set's key types (unless <paramref name="set"/> is a <see cref="NftSet.Reference"/>).
    /// </summary>
    public Transaction AddElements(NftSet set, IReadOnlyList<SetElement> elements, string? origin = null)
    {
        _operations.Add(new Operation(OperationKind.AddElements, set, origin, SetIdOf(set), SetElementKeys.Shape(set, elements, add: true)));
        return this;
    }

    /// <summary>Deletes elements from a set (typed elements checked and shaped as for <see cref="AddElements"/>).</summary>
    public Transaction DeleteElements(NftSet set, IReadOnlyList<SetElement> elements, string? origin = null)
    {
        _operations.Add(new Operation(OperationKind.DeleteElements, set, origin, SetIdOf(set), SetElementKeys.Shape(set, elements, add: false)));
        return this;
    }

    private uint SetIdOf(NftSet set)
    {
        for (int i = _operations.Count - 1; i >= 0; i--)
        {
            if (_operations[i].Kind == OperationKind.AddSet && ReferenceEquals(_operations[i].Subject, set))
                return _operations[i].SetId;
        }
        return 0;
    }

    private Transaction Add(OperationKind kind, object subject, string? origin)
    {
        ArgumentNullException.ThrowIfNull(subject);
        _operations.Add(new Operation(kind, subject, origin, 0, null));
        return this;
    }

    private static Rule RequireHandle(Rule rule) => rule.Handle != 0
        ? rule
        : throw new ArgumentException("replacing or deleting a rule needs its handle (read it back first)", nameof(rule));
}
