namespace NetlinkFence.Nftables;

/// <summary>
/// Changes to commit together as one nfnetlink batch: the kernel applies all of them or none.
/// Build it, then pass it to <see cref="NftablesConnection.CommitAsync"/>. Not thread-safe.
/// </summary>
public sealed class Transaction
{
    private readonly List<Operation> _operations = [];
    private uint _nextSetId;
    private uint _nextRuleId;

    internal IReadOnlyList<Operation> Operations => _operations;

    /// <summary>Whether a destroy operation is in it: the connection then needs to know if the kernel has NFT_MSG_DESTROY*.</summary>
    internal bool HasDestroy { get; private set; }

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

    /// <summary>
    /// Deletes a table with everything in it if it exists, and is no error if it does not (idempotent delete).
    /// Sent as <c>NFT_MSG_DESTROYTABLE</c> on kernels that have it (6.3+); on older kernels as the table added
    /// (with <see cref="Table.Flags"/>) and deleted in the same batch, which has the same effect.
    /// </summary>
    public Transaction DestroyTable(Table table, string? origin = null) => Add(OperationKind.DestroyTable, table, origin);

    /// <summary>Adds a chain; no error if it exists.</summary>
    public Transaction AddChain(Chain chain, string? origin = null) => Add(OperationKind.AddChain, chain, origin);

    /// <summary>Deletes a chain with its rules; fails with ENOENT if it does not exist and EBUSY while a rule jumps to it.</summary>
    public Transaction DeleteChain(Chain chain, string? origin = null) => Add(OperationKind.DeleteChain, chain, origin);

    /// <summary>
    /// Deletes a chain with its rules if it exists; no error if it does not (its table must exist: ENOENT otherwise).
    /// <c>NFT_MSG_DESTROYCHAIN</c> on kernels 6.3+; on older kernels the chain is added (as <paramref name="chain"/>
    /// describes it) and deleted.
    /// </summary>
    public Transaction DestroyChain(Chain chain, string? origin = null) => Add(OperationKind.DestroyChain, chain, origin);

    /// <summary>Deletes every rule of a chain, keeping the chain (<c>NFT_MSG_DELRULE</c> with only table and chain).</summary>
    public Transaction FlushChain(Chain chain, string? origin = null) => Add(OperationKind.FlushChain, chain, origin);

    /// <summary>
    /// Appends a rule to its chain (after <see cref="Rule.Position"/> when set). With
    /// <see cref="CommitOptions.EchoHandles"/> the kernel's handle for it is in <see cref="CommitResult.RuleHandles"/>.
    /// </summary>
    public Transaction AddRule(Rule rule, string? origin = null) => Add(OperationKind.AddRule, rule, origin);

    /// <summary>
    /// Appends a rule right after <paramref name="anchor"/>, a rule added or inserted earlier in this transaction
    /// (it has no handle yet): the kernel finds it by a batch-local id (<c>NFTA_RULE_ID</c>, <c>NFTA_RULE_POSITION_ID</c>).
    /// </summary>
    public Transaction AddRuleAfter(Rule rule, Rule anchor, string? origin = null) =>
        Append(Operation.Of(OperationKind.AddRule, rule, origin, RuleIdOf(anchor)));

    /// <summary>Inserts a rule right before <paramref name="anchor"/>, a rule added or inserted earlier in this transaction.</summary>
    public Transaction InsertRuleBefore(Rule rule, Rule anchor, string? origin = null) =>
        Append(Operation.Of(OperationKind.InsertRule, rule, origin, RuleIdOf(anchor)));

    /// <summary>Inserts a rule at the start of its chain (before <see cref="Rule.Position"/> when set).</summary>
    public Transaction InsertRule(Rule rule, string? origin = null) => Add(OperationKind.InsertRule, rule, origin);

    /// <summary>Replaces the rule whose handle is <see cref="Rule.Handle"/>.</summary>
    public Transaction ReplaceRule(Rule rule, string? origin = null) =>
        Add(OperationKind.ReplaceRule, RequireHandle(rule), origin);

    /// <summary>Deletes the rule whose handle is <see cref="Rule.Handle"/>; fails with ENOENT if there is none.</summary>
    public Transaction DeleteRule(Rule rule, string? origin = null) =>
        Add(OperationKind.DeleteRule, RequireHandle(rule), origin);

    /// <summary>
    /// Deletes the rule whose handle is <see cref="Rule.Handle"/> if it exists; no error if it or its chain does not
    /// (its table must exist: ENOENT otherwise). Needs <c>NFT_MSG_DESTROYRULE</c> (kernel 6.3+): a rule has no add-then-delete form, so
    /// on older kernels the commit throws <see cref="NotSupportedException"/> before anything is sent.
    /// </summary>
    public Transaction DestroyRule(Rule rule, string? origin = null) =>
        Add(OperationKind.DestroyRule, RequireHandle(rule), origin);

    /// <summary>Adds a named set; rules later in the same transaction can look it up.</summary>
    public Transaction AddSet(NftSet set, string? origin = null)
    {
        if (set is { IsReference: true })
            throw new ArgumentException($"set {set.Name} is a reference (name only): creating it needs its key types", nameof(set));
        _operations.Add(Operation.Of(OperationKind.AddSet, set, origin, ++_nextSetId));
        return this;
    }

    /// <summary>Deletes a set no rule refers to; fails with ENOENT if it does not exist.</summary>
    public Transaction DeleteSet(NftSet set, string? origin = null) => Add(OperationKind.DeleteSet, set, origin);

    /// <summary>
    /// Deletes a set no rule refers to if it exists; no error if it does not (its table must exist: ENOENT otherwise).
    /// <c>NFT_MSG_DESTROYSET</c> on kernels 6.3+; on older kernels the set is added (as <paramref name="set"/>
    /// describes it: an existing set of another key type fails with EEXIST) and deleted.
    /// </summary>
    public Transaction DestroySet(NftSet set, string? origin = null) => Add(OperationKind.DestroySet, set, origin);

    /// <summary>Deletes every element of a set, keeping the set (<c>NFT_MSG_DELSETELEM</c> without an element list).</summary>
    public Transaction FlushSet(NftSet set, string? origin = null) => Add(OperationKind.FlushSet, set, origin);

    /// <summary>
    /// Adds elements to a set. Any number of elements: they are split over as many messages as the 64 KiB
    /// attribute limit needs, all inside this one transaction. Typed elements (<see cref="SetElement.Of"/>) are
    /// checked against the set's key types (unless <paramref name="set"/> is a <see cref="NftSet.Reference"/>).
    /// </summary>
    public Transaction AddElements(NftSet set, IReadOnlyList<SetElement> elements, string? origin = null) =>
        AddElementOperation(OperationKind.AddElements, set, elements, origin);

    /// <summary>
    /// Deletes elements from a set (typed elements checked and shaped as for <see cref="AddElements"/>); fails with
    /// ENOENT if one of them is not in it.
    /// </summary>
    public Transaction DeleteElements(NftSet set, IReadOnlyList<SetElement> elements, string? origin = null) =>
        AddElementOperation(OperationKind.DeleteElements, set, elements, origin);

    /// <summary>
    /// Deletes those of <paramref name="elements"/> that are in the set; no error for the others (the set must exist).
    /// <c>NFT_MSG_DESTROYSETELEM</c> on kernels 6.3+; on older kernels the elements are added and deleted.
    /// </summary>
    public Transaction DestroyElements(NftSet set, IReadOnlyList<SetElement> elements, string? origin = null) =>
        AddElementOperation(OperationKind.DestroyElements, set, elements, origin);

    /// <summary>
    /// Adds elements the set already holds so that only their timeouts move: element i is sent with timeout and time
    /// left <paramref name="timeouts"/>[i] in place of its own (kernels 6.10+ apply both to the element in place). A
    /// refresh round moves thousands of timeouts this way without a copy of each element. Elements must be raw or
    /// already shaped (<see cref="SetElement.Fields"/> null), for a set that is not a reference.
    /// </summary>
    internal Transaction RetimeElements(NftSet set, IReadOnlyList<SetElement> elements, IReadOnlyList<TimeSpan> timeouts, string? origin = null)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(elements);
        ArgumentNullException.ThrowIfNull(timeouts);
        if (timeouts.Count != elements.Count)
            throw new ArgumentException($"{elements.Count} elements but {timeouts.Count} timeouts", nameof(timeouts));
        if (set.IsReference || HasTypedElements(elements))
            throw new ArgumentException("timeouts move on shaped elements of a declared set only", nameof(elements));
        for (int i = 0; i < timeouts.Count; i++)
            if (timeouts[i] < TimeSpan.FromMilliseconds(1))
                throw new ArgumentOutOfRangeException(nameof(timeouts), timeouts[i], "a moved timeout is at least 1 ms");
        return Append(Operation.Retime(set, origin, elements, timeouts));
    }

    private Transaction AddElementOperation(OperationKind kind, NftSet set, IReadOnlyList<SetElement> elements, string? origin)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(elements);
        // A reference does not know whether the set is an interval set, and a single value sent to an interval set
        // as one element is an open interval ("this address and every one above"): its typed elements wait, as they
        // are, for the commit, which reads the set's real flags and key types first (ResolveReferences).
        if (set.IsReference && HasTypedElements(elements))
        {
            HasUnresolvedReferences = true;
            return Append(Operation.Of(kind, set, origin, 0, elements));
        }
        // Typed elements are checked and expanded as nft does; a destroy names elements as a delete does.
        var shaped = SetElementKeys.Shape(set, elements, add: kind == OperationKind.AddElements);
        return Append(Operation.Of(kind, set, origin, SetIdOf(set), shaped));
    }

    /// <summary>True when element operations on a <see cref="NftSet.Reference"/> wait for the set's real declaration.</summary>
    internal bool HasUnresolvedReferences { get; private set; }

    /// <summary>
    /// This transaction with every waiting reference replaced by the set <paramref name="lookup"/> finds (a set
    /// added earlier in this transaction first) and its typed elements checked and shaped against it. Operation
    /// indices stay the same, so failures map back to what the caller added.
    /// </summary>
    internal async ValueTask<Transaction> ResolveReferencesAsync(Func<NftSet, ValueTask<NftSet>> lookup)
    {
        var resolved = new Transaction { _nextSetId = _nextSetId, _nextRuleId = _nextRuleId, HasDestroy = HasDestroy };
        var known = new Dictionary<(NftFamily, string, string), (NftSet Set, uint SetId)>();
        foreach (var operation in _operations)
        {
            if (operation is { Kind: OperationKind.AddSet, Set: { } added })
                known[(added.Family, added.Table, added.Name)] = (added, operation.SetId);
            if (operation is not { Set: { IsReference: true } reference, Elements: { } elements } || !HasTypedElements(elements))
            {
                resolved._operations.Add(operation);
                continue;
            }
            var key = (reference.Family, reference.Table, reference.Name);
            if (!known.TryGetValue(key, out var real))
                known[key] = real = (await lookup(reference).ConfigureAwait(false), 0);
            var shaped = SetElementKeys.Shape(real.Set, elements, add: operation.Kind == OperationKind.AddElements);
            resolved._operations.Add(operation.WithSet(real.Set, real.SetId, shaped));
        }
        return resolved;
    }

    private static bool HasTypedElements(IReadOnlyList<SetElement> elements)
    {
        for (int i = 0; i < elements.Count; i++)
        {
            if (elements[i].Fields is not null)
                return true;
        }
        return false;
    }

    private uint RuleIdOf(Rule anchor)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        for (int i = _operations.Count - 1; i >= 0; i--)
        {
            var operation = _operations[i];
            if (operation.Kind is not (OperationKind.AddRule or OperationKind.InsertRule) || !ReferenceEquals(operation.Rule, anchor))
                continue;
            if (operation.RuleId == 0)
                _operations[i] = operation.WithRuleId(++_nextRuleId);
            return _operations[i].RuleId;
        }
        throw new ArgumentException("the anchor rule must be added or inserted earlier in this transaction", nameof(anchor));
    }

    private uint SetIdOf(NftSet set)
    {
        for (int i = _operations.Count - 1; i >= 0; i--)
        {
            if (_operations[i].Kind == OperationKind.AddSet && ReferenceEquals(_operations[i].Set, set))
                return _operations[i].SetId;
        }
        return 0;
    }

    private Transaction Add(OperationKind kind, Table table, string? origin) => Append(Operation.Of(kind, table, origin));

    private Transaction Add(OperationKind kind, Chain chain, string? origin) => Append(Operation.Of(kind, chain, origin));

    private Transaction Add(OperationKind kind, Rule rule, string? origin) => Append(Operation.Of(kind, rule, origin));

    private Transaction Add(OperationKind kind, NftSet set, string? origin) => Append(Operation.Of(kind, set, origin));

    private Transaction Append(Operation operation)
    {
        _operations.Add(operation);
        HasDestroy |= operation.Kind is OperationKind.DestroyTable or OperationKind.DestroyChain or OperationKind.DestroyRule
            or OperationKind.DestroySet or OperationKind.DestroyElements;
        return this;
    }

    private static Rule RequireHandle(Rule rule) => (rule ?? throw new ArgumentNullException(nameof(rule))).Handle != 0
        ? rule
        : throw new ArgumentException("replacing or deleting a rule needs its handle (read it back first)", nameof(rule));
}
