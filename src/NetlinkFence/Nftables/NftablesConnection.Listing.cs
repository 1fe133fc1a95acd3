using System.Runtime.CompilerServices;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables.Codecs;

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
        ReadAsync<IReadOnlyList<Chain>>(reader => reader.ReadConsistentAsync<IReadOnlyList<Chain>>($"chains of {table ?? "every table"}",
            async (_, check) => (true, await reader.ReadChainsAsync(family ?? 0, table, check).ConfigureAwait(false))), cancellationToken);

    /// <summary>Lists the named sets of a table, without their elements; empty when the table does not exist.</summary>
    public ValueTask<IReadOnlyList<NftSet>> ListSetsAsync(NftFamily family, string table, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        return ReadAsync<IReadOnlyList<NftSet>>(reader => reader.ReadConsistentAsync<IReadOnlyList<NftSet>>($"sets of table {family.ToNftName()} {table}",
            async (_, check) => (true, await reader.ReadSetsAsync(family, table, check).ConfigureAwait(false))), cancellationToken);
    }

    /// <summary>
    /// Lists the elements of one set (NFT_MSG_GETSETELEM for that set only); null when the set does not exist.
    /// Only the set's family, table and name are used.
    /// </summary>
    public ValueTask<IReadOnlyList<SetElement>?> ListElementsAsync(NftSet set, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        return ReadAsync<IReadOnlyList<SetElement>?>(reader => reader.ReadConsistentAsync<IReadOnlyList<SetElement>?>(
            $"elements of set {set.Family.ToNftName()} {set.Table} {set.Name}",
            async (_, check) =>
            {
                if (await GetOneAsync(NftMessageType.GETSET, set.Family, (ref NetlinkWriter w) => SetCodec.EncodeReference(ref w, set), SetCodec.Decode,
                        reader.Synchronous, reader.CancellationToken).ConfigureAwait(false) is null)
                    return (true, null);
                var elements = await reader.ReadElementsTwiceAsync(set.Family, set.Table, set.Name, check).ConfigureAwait(false);
                return (elements is not null, elements);
            }), cancellationToken);
    }

    /// <summary>Lists the rules of one chain in evaluation order, with their handles; null when the chain does not exist.</summary>
    public ValueTask<IReadOnlyList<Rule>?> ListRulesAsync(NftFamily family, string table, string chain, CancellationToken cancellationToken = default)
    {
        var reference = new Chain(family, table, chain);
        return ReadAsync<IReadOnlyList<Rule>?>(reader => reader.ReadConsistentAsync<IReadOnlyList<Rule>?>($"rules of chain {family.ToNftName()} {table} {chain}",
            async (_, check) =>
            {
                if (await GetOneAsync(NftMessageType.GETCHAIN, family, (ref NetlinkWriter w) => ChainCodec.EncodeReference(ref w, reference), ChainCodec.Decode,
                        reader.Synchronous, reader.CancellationToken).ConfigureAwait(false) is null)
                    return (true, null);
                var rules = await reader.ReadRulesTwiceAsync(family, table, check, chain).ConfigureAwait(false);
                return (rules is not null, rules);
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
        return GetAsync(NftMessageType.GETSET, family, SetRequest(table, name), SetCodec.Decode, cancellationToken);
    }

    private static DumpRequestWriter SetRequest(string table, string name) => (ref NetlinkWriter w) =>
    {
        w.WriteString((ushort)NftSetAttribute.TABLE, table);
        w.WriteString((ushort)NftSetAttribute.NAME, name);
    };

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
            return await GetOneAsync(type, family, request, decode, synchronous: false, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async ValueTask<T?> GetOneAsync<T>(NftMessageType type, NftFamily family, DumpRequestWriter request, RulesetReader.Decoder<T> decode,
        bool synchronous, CancellationToken cancellationToken) where T : class
    {
        var result = new StrongBox<T?>();
        await _channel.GetAsync(type, (NetfilterFamily)family, request, (in NetlinkMessage m) => result.Value = RulesetReader.Guard(m, decode),
            synchronous, cancellationToken).ConfigureAwait(false);
        return result.Value;
    }

    private async ValueTask<T> ReadAsync<T>(Func<RulesetReader, ValueTask<T>> read, CancellationToken cancellationToken)
    {
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await read(new RulesetReader(_channel, synchronous: false, cancellationToken)).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }
}
