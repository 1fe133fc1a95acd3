namespace NetlinkFence.Nftables;

internal enum OperationKind
{
    AddTable,
    CreateTable,
    DeleteTable,
    AddChain,
    DeleteChain,
    AddRule,
    InsertRule,
    ReplaceRule,
    DeleteRule,
    AddSet,
    DeleteSet,
    AddElements,
    DeleteElements,
}

/// <summary>One change in a transaction: what, to which object, and where it came from.</summary>
internal readonly record struct Operation(OperationKind Kind, object Subject, string? Origin, uint SetId, IReadOnlyList<SetElement>? Elements)
{
    /// <summary>A human description, e.g. <c>rule in chain inet netlinkfence output</c>.</summary>
    public string Describe() => Subject switch
    {
        Table t => $"{Verb} table {t.Family.ToNftName()} {t.Name}",
        Chain c => $"{Verb} chain {c.Family.ToNftName()} {c.Table} {c.Name}",
        Rule r => $"{Verb} rule in chain {r.Family.ToNftName()} {r.Table} {r.Chain}" + (r.Comment is null ? "" : $" (comment \"{r.Comment}\")"),
        NftSet s when Elements is not null => $"{Verb} {Elements.Count} elements of set {s.Family.ToNftName()} {s.Table} {s.Name}",
        NftSet s => $"{Verb} set {s.Family.ToNftName()} {s.Table} {s.Name}",
        _ => Kind.ToString(),
    };

    private string Verb => Kind switch
    {
        OperationKind.AddTable or OperationKind.AddChain or OperationKind.AddRule or OperationKind.AddSet or OperationKind.AddElements => "add",
        OperationKind.CreateTable => "create",
        OperationKind.InsertRule => "insert",
        OperationKind.ReplaceRule => "replace",
        _ => "delete",
    };
}
