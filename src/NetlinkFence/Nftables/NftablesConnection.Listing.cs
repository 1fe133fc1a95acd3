using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables;

/// <summary>Listing parts of the ruleset, and getting one object, without reading a whole table.</summary>
/// <remarks>
/// Every listing is read from one generation, proven the way <see cref="ListTableAsync"/> proves it. A Get answers
/// null when the object does not exist (the kernel's ENOENT, also for a missing table or chain on the way); every
/// other kernel error throws <see cref="NetlinkKernelException"/>.
/// </remarks>
public sealed partial class NftablesConnection
{
    /// <summary>Lists the chains of <paramref name="table"/> (of every table when null) in <paramref name="family"/> (all families when null).</summary>
    public ValueTask<IReadOnlyList<Chain>> ListChainsAsync(NftFamily? family = null, string? table = null, CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<Chain>>(reader => reader.ReadConsistent($"chains of {table ?? "every table"}",
            (uint _, DumpMessageHandler check, out IReadOnlyList<Chain> chains) =>
            {
                chains = reader.ReadChains(family ?? 0, table, check);
                return true;
            }), cancellationToken);

    /// <summary>Lists the named sets of a table, without their elements; empty when the table does not exist.</summary>
    public ValueTask<IReadOnlyList<NftSet>> ListSetsAsync(NftFamily family, string table, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        return ReadAsync<IReadOnlyList<NftSet>>(reader => reader.ReadConsistent($"sets of table {family.ToNftName()} {table}",
            (uint _, DumpMessageHandler check, out IReadOnlyList<NftSet> sets) =>
            {
                sets = reader.ReadSets(family, table, check);
                return true;
            }), cancellationToken);
    }

    /// <summary>
    /// Lists the elements of one set (NFT_MSG_GETSETELEM for that set only); null when the set does not exist.
    /// Only the set's family, table and name are used.
    /// </summary>
    public ValueTask<IReadOnlyList<SetElement>?> ListElementsAsync(NftSet set, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        return ReadAsync<IReadOnlyList<SetElement>?>(reader => reader.ReadConsistent($"elements of set {set.Family.ToNftName()} {set.Table} {set.Name}",
            (uint _, DumpMessageHandler check, out IReadOnlyList<SetElement>? elements) =>
            {
                elements = null;
                if (GetOne(NftMessageType.GETSET, set.Family, (ref NetlinkWriter w) => SetCodec.EncodeReference(ref w, set), SetCodec.Decode, reader.CancellationToken) is null)
                    return true;
                elements = reader.ReadElementsTwice(set.Family, set.Table, set.Name, check);
                return elements is not null;
            }), cancellationToken);
    }

    /// <summary>Lists the rules of one chain in evaluation order, with their handles; null when the chain does not exist.</summary>
    public ValueTask<IReadOnlyList<Rule>?> ListRulesAsync(NftFamily family, string table, string chain, CancellationToken cancellationToken = default)
    {
        var reference = new Chain(family, table, chain);
        return ReadAsync<IReadOnlyList<Rule>?>(reader => reader.ReadConsistent($"rules of chain {family.ToNftName()} {table} {chain}",
            (uint _, DumpMessageHandler check, out IReadOnlyList<Rule>? rules) =>
            {
                rules = null;
                if (GetOne(NftMessageType.GETCHAIN, family, (ref NetlinkWriter w) => ChainCodec.EncodeReference(ref w, reference), ChainCodec.Decode, reader.CancellationToken) is null)
                    return true;
                rules = reader.ReadRulesTwice(family, table, check, chain);
                return rules is not null;
            }), cancellationToken);
    }

    /// <summary>Gets one table (NFT_MSG_GETTABLE); null when it does not exist.</summary>
    public ValueTask<Table?> GetTableAsync(NftFamily family, string name, CancellationToken cancellationToken = default)
    {
        var reference = new Table(family, name);
        return GetAsync(NftMessageType.GETTABLE, family, (ref NetlinkWriter w) => TableCodec.Encode(ref w, reference, withFlags: false),
            TableCodec.Decode, cancellationToken);
    }

    /// <summary>Gets one chain (NFT_MSG_GETCHAIN); null when it or its table does not exist.</summary>
    public ValueTask<Chain?> GetChainAsync(NftFamily family, string table, string name, CancellationToken cancellationToken = default)
    {
        var reference = new Chain(family, table, name);
        return GetAsync(NftMessageType.GETCHAIN, family, (ref NetlinkWriter w) => ChainCodec.EncodeReference(ref w, reference),
            ChainCodec.Decode, cancellationToken);
    }

    /// <summary>Gets one named set without its elements (NFT_MSG_GETSET); null when it or its table does not exist.</summary>
    public ValueTask<NftSet?> GetSetAsync(NftFamily family, string table, string name, CancellationToken cancellationToken = default)
    {
        NftNames.Validate(table, "table");
        NftNames.Validate(name, "set");
        return GetAsync(NftMessageType.GETSET, family, (ref NetlinkWriter w) =>
        {
            w.WriteString((ushort)NftSetAttribute.TABLE, table);
            w.WriteString((ushort)NftSetAttribute.NAME, name);
        }, SetCodec.Decode, cancellationToken);
    }

    /// <summary>Gets one rule by handle (NFT_MSG_GETRULE); null when it, its chain or its table does not exist.</summary>
    public ValueTask<Rule?> GetRuleAsync(NftFamily family, string table, string chain, ulong handle, CancellationToken cancellationToken = default)
    {
        var reference = new Rule(family, table, chain, []) { Handle = handle };
        return GetAsync(NftMessageType.GETRULE, family, (ref NetlinkWriter w) => RuleCodec.EncodeReference(ref w, reference),
            RuleCodec.Decode, cancellationToken);
    }

    private async ValueTask<T?> GetAsync<T>(NftMessageType type, NftFamily family, DumpRequestWriter request, RulesetReader.Decoder<T> decode,
        CancellationToken cancellationToken) where T : class
    {
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return GetOne(type, family, request, decode, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private T? GetOne<T>(NftMessageType type, NftFamily family, DumpRequestWriter request, RulesetReader.Decoder<T> decode, CancellationToken cancellationToken)
        where T : class
    {
        T? result = null;
        _channel.Get(type, (NetfilterFamily)family, request, (in NetlinkMessage m) => result = RulesetReader.Guard(m, decode), cancellationToken);
        return result;
    }

    private async ValueTask<T> ReadAsync<T>(Func<RulesetReader, T> read, CancellationToken cancellationToken)
    {
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return read(new RulesetReader(_channel, cancellationToken));
        }
        finally
        {
            _gate.Release();
        }
    }
}
