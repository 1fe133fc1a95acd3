namespace NetlinkFence.Nftables.Monitoring;

/// <summary>What an <see cref="NftablesChange"/> reports (the nf_tables notification it was decoded from).</summary>
public enum NftablesChangeKind
{
    /// <summary>A table was added or its flags changed (<c>NFT_MSG_NEWTABLE</c>): <see cref="NftablesChange.Table"/>.</summary>
    TableAdded,
    /// <summary>A table was deleted (<c>NFT_MSG_DELTABLE</c>): <see cref="NftablesChange.Table"/>.</summary>
    TableDeleted,
    /// <summary>A chain was added or updated (<c>NFT_MSG_NEWCHAIN</c>): <see cref="NftablesChange.Chain"/>.</summary>
    ChainAdded,
    /// <summary>A chain was deleted (<c>NFT_MSG_DELCHAIN</c>): <see cref="NftablesChange.Chain"/>.</summary>
    ChainDeleted,
    /// <summary>A rule was added (<c>NFT_MSG_NEWRULE</c>): <see cref="NftablesChange.Rule"/>, with its handle and expressions.</summary>
    RuleAdded,
    /// <summary>A rule was deleted (<c>NFT_MSG_DELRULE</c>): <see cref="NftablesChange.Rule"/>.</summary>
    RuleDeleted,
    /// <summary>A set was added (<c>NFT_MSG_NEWSET</c>): <see cref="NftablesChange.Set"/>.</summary>
    SetAdded,
    /// <summary>A set was deleted (<c>NFT_MSG_DELSET</c>): <see cref="NftablesChange.Set"/>.</summary>
    SetDeleted,
    /// <summary>Elements were added to a set (<c>NFT_MSG_NEWSETELEM</c>): <see cref="NftablesChange.Elements"/>.</summary>
    ElementsAdded,
    /// <summary>Elements were removed from a set (<c>NFT_MSG_DELSETELEM</c>): <see cref="NftablesChange.Elements"/>.</summary>
    ElementsDeleted,
    /// <summary>
    /// A transaction was committed (<c>NFT_MSG_NEWGEN</c>): the boundary after the changes of one commit, with the
    /// new <see cref="NftablesChange.Generation"/> and the committing <see cref="NftablesChange.ProcessId"/> and name.
    /// </summary>
    Committed,
    /// <summary>
    /// A notification this library does not decode (objects, flowtables, another subsystem) or could not decode:
    /// <see cref="NftablesChange.MessageType"/>, <see cref="NftablesChange.RawPayload"/> and <see cref="NftablesChange.Error"/>.
    /// </summary>
    Unknown,
    /// <summary>
    /// Notifications were lost: the socket's receive queue overflowed (ENOBUFS) <see cref="NftablesChange.LostCount"/>
    /// times. The kernel reports an overflow when it starts dropping and goes on dropping, unreported, until the
    /// queue has been read empty; the changes around this point are unknown: re-read the ruleset.
    /// </summary>
    Lost,
}
