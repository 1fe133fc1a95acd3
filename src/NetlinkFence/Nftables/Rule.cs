using NetlinkFence.Nftables.Expressions;
namespace NetlinkFence.Nftables;

/// <summary>A rule: a list of expressions evaluated in order, with an optional comment.</summary>
public sealed record Rule
{
    /// <summary>Creates a rule description.</summary>
    public Rule(NftFamily family, string table, string chain, IReadOnlyList<Expression> expressions, string? comment = null)
    {
        NftNames.Validate(table, "table");
        NftNames.Validate(chain, "chain");
        ArgumentNullException.ThrowIfNull(expressions);
        if (comment is not null && RuleUserData.CommentSize(comment) > RuleUserData.MaxBytes)
            throw new ArgumentException($"rule comment is longer than the {RuleUserData.MaxBytes - 3} bytes nf_tables userdata can hold (NFT_USERDATA_MAXLEN)", nameof(comment));
        Family = family;
        Table = table;
        Chain = chain;
        Expressions = expressions;
        Comment = comment;
    }

    /// <summary>The family of the table.</summary>
    public NftFamily Family { get; }

    /// <summary>The table's name.</summary>
    public string Table { get; }

    /// <summary>The chain's name.</summary>
    public string Chain { get; }

    /// <summary>The expressions, in evaluation order.</summary>
    public IReadOnlyList<Expression> Expressions { get; }

    /// <summary>The comment, stored in the rule's userdata the way nft stores it, so <c>nft list</c> shows it.</summary>
    public string? Comment { get; }

    /// <summary>Userdata that is not just a comment, kept raw from a read-back so it re-encodes unchanged.</summary>
    public DataValue? UserData { get; init; }

    /// <summary>Kernel handle; set on rules read back; on delete or replace, which rule.</summary>
    public ulong Handle { get; init; }

    /// <summary>When adding: put the rule after (append) or before (insert) the rule with this handle.</summary>
    public ulong? Position { get; init; }

    /// <summary>Whether two rules describe the same configuration (handles and counters' values ignored).</summary>
    public bool SameConfiguration(Rule other)
    {
        if (Family != other.Family || Table != other.Table || Chain != other.Chain || Comment != other.Comment
            || !Equals(UserData, other.UserData) || Expressions.Count != other.Expressions.Count)
            return false;
        for (int i = 0; i < Expressions.Count; i++)
        {
            if (Expressions[i] is CounterExpression && other.Expressions[i] is CounterExpression)
                continue;
            if (!Expressions[i].Equals(other.Expressions[i]))
                return false;
        }
        return true;
    }

    /// <inheritdoc />
    public bool Equals(Rule? other) =>
        other is not null && Handle == other.Handle && Position == other.Position && SameConfigurationExact(other);

    private bool SameConfigurationExact(Rule other) =>
        Family == other.Family && Table == other.Table && Chain == other.Chain && Comment == other.Comment
        && Equals(UserData, other.UserData) && Expressions.SequenceEqual(other.Expressions);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Family, Table, Chain, Comment, Expressions.Count, Handle);
}
