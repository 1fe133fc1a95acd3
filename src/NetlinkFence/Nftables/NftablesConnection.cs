using System.Diagnostics;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables.Codecs;

namespace NetlinkFence.Nftables;

/// <summary>
/// A connection to nf_tables over one netlink socket: commit transactions atomically, read the ruleset back.
/// Safe to use from many threads: calls are serialised, one at a time. Dispose to close the socket.
/// </summary>
/// <remarks>
/// The kernel answers nf_tables requests inside the sendmsg call that carries them, so a reply is usually
/// queued before anything waits: such a call completes on the calling thread. When a reply is not there yet
/// (a lost end marker, a reply not yet queued), the async methods wait on the runtime's epoll without holding a thread,
/// and cancelling ends the wait at once. The synchronous methods (<see cref="Commit"/>, <see cref="ListTable"/>,
/// <see cref="GetGeneration"/>) block the calling thread in poll instead: the same code with a flag, so the two
/// paths cannot drift apart.
/// </remarks>
/// <example>
/// <code>
/// await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = "agent" });
/// var table = new Table(NftFamily.Inet, "demo");
/// await nft.CommitAsync(new Transaction().AddTable(table));
/// var contents = await nft.ListTableAsync(NftFamily.Inet, "demo");
/// </code>
/// </example>
public sealed partial class NftablesConnection : IAsyncDisposable, IDisposable
{
    private readonly NftablesChannel _channel;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly BatchBuffer _batch = new();
    private int[] _messageOperation = new int[64];
    private bool _disposed;

    internal NftablesConnection(NftablesChannel channel) => _channel = channel;

    /// <summary>
    /// Opens a connection, in another network namespace if <paramref name="options"/> names one (the socket is
    /// created by a short-lived thread in that namespace; the caller does not block on it).
    /// </summary>
    public static async ValueTask<NftablesConnection> OpenAsync(NftablesConnectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        options = Validate(options);
        return new(await NftablesChannel.OpenAsync(options.NamespacePath, options.NamespaceHandle).ConfigureAwait(false));
    }

    /// <summary>Opens a connection synchronously.</summary>
    public static NftablesConnection Open(NftablesConnectionOptions? options = null) => Open(options, firstSequence: null);

    /// <summary>Opens a connection whose first sequence number is <paramref name="firstSequence"/> (tests start it near the wrap).</summary>
    internal static NftablesConnection Open(NftablesConnectionOptions? options, uint? firstSequence)
    {
        options = Validate(options);
        return new(NftablesChannel.Open(options.NamespacePath, options.NamespaceHandle, firstSequence));
    }

    private static NftablesConnectionOptions Validate(NftablesConnectionOptions? options)
    {
        options ??= new();
        if (options.NamespaceHandle is not null && options.NetworkNamespace is not null)
            throw new ArgumentException("give either NetworkNamespace or NamespaceHandle, not both", nameof(options));
        return options;
    }

    /// <summary>
    /// The netlink port id of this connection's socket: the kernel's name for it in monitor events
    /// (<see cref="Monitoring.NftablesChange.PortId"/>) and as the owner of a table it committed with <see cref="Table.OwnerFlag"/>
    /// (<see cref="Table.Owner"/>).
    /// </summary>
    public uint PortId => _channel.Connection.Transport.PortId;

    /// <summary>Reads the ruleset's generation id; it changes with every committed transaction in the namespace.</summary>
    public async ValueTask<uint> GetGenerationAsync(CancellationToken cancellationToken = default)
    {
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await _channel.GetGenerationAsync(synchronous: false, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Like <see cref="GetGenerationAsync"/>, blocking the calling thread.</summary>
    public uint GetGeneration(CancellationToken cancellationToken = default)
    {
        Enter(cancellationToken);
        try
        {
            return _channel.GetGeneration(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Commits <paramref name="transaction"/> as one batch in one sendmsg. Either everything applies, or
    /// <see cref="TransactionRejectedException"/> names every refused object and nothing changed.
    /// </summary>
    public async ValueTask<CommitResult> CommitAsync(Transaction transaction, CommitOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await CommitLockedAsync(transaction, options, synchronous: false, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Like <see cref="CommitAsync"/>, blocking the calling thread.</summary>
    public CommitResult Commit(Transaction transaction, CommitOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        Enter(cancellationToken);
        try
        {
            return NfnetlinkChannel.Completed(CommitLockedAsync(transaction, options, synchronous: true, cancellationToken));
        }
        finally
        {
            _gate.Release();
        }
    }

    private async ValueTask<CommitResult> CommitLockedAsync(Transaction transaction, CommitOptions? options, bool synchronous, CancellationToken cancellationToken)
    {
        transaction = await ResolveReferencesAsync(transaction, synchronous, cancellationToken).ConfigureAwait(false);
        long started = Stopwatch.GetTimestamp();
        uint? expected = options?.ExpectedGeneration;
        uint before = expected ?? 0;
        // Sequence numbers: BEGIN, one per message (element lists may take several), END. Only encoding knows
        // how many, so the batch is encoded from the next free number and exactly that range is reserved after.
        var features = await EncoderFeaturesForAsync(transaction, options, synchronous, cancellationToken).ConfigureAwait(false);
        var connection = _channel.Connection;
        uint first = connection.NextSequence;
        uint last = TransactionEncoder.Encode(transaction, _batch, first, expected, ref _messageOperation, features);
        uint count = last - first + 1; // modulo 2^32: the range may wrap past zero
        connection.ReserveSequences(count);
        var echo = RuleHandleEcho.For(transaction, features, first, _messageOperation);
        var outcome = await _channel.SendBatchAsync(_batch, first, count, echo?.Receive, synchronous, cancellationToken).ConfigureAwait(false);

        if (outcome.Errors.Count > 0)
            throw new TransactionRejectedException(MapFailures(transaction, outcome.Errors, first), incomplete: outcome.RepliesLost);
        // Only a commit that applied sends its NEWGEN or rule echoes. Without them, lost replies (a receive-queue
        // overflow, ENOBUFS, after stale replies were drained before sending) can only have been error replies.
        bool applied = outcome.CommittedGeneration is not null || echo is { Received: > 0 };
        if (outcome.RepliesLost && !applied)
            throw new TransactionRejectedException([], "the kernel refused the transaction, nothing was applied, but all its error replies were lost "
                + "(the socket receive queue overflowed, ENOBUFS); raise net.core.rmem_max or split the change", incomplete: true);
        uint after = outcome.CommittedGeneration ?? outcome.MarkerGeneration
            ?? (expected is { } checkedAgainst && !TransactionEncoder.EchoesGeneration(transaction, generationChecked: true)
                // Checked batches that start with element changes or deletes ask for no echo (it would come with one
                // notification per element or rule): a commit checked against a generation made the next one
                // (the kernel skips 0 on wrap).
                ? (unchecked(checkedAgainst + 1) is 0 ? 1 : unchecked(checkedAgainst + 1))
                // Asked for and not sent: the commit changed nothing (the kernel keeps its generation and sends no
                // NEWGEN). Unchecked batches of many element changes or of deletes too: only a second request can tell.
                : await _channel.GetGenerationAsync(synchronous, cancellationToken).ConfigureAwait(false));
        return new CommitResult(before, after, _batch.MessageCount, _batch.Length, Stopwatch.GetElapsedTime(started), echo?.Handles);
    }

    private List<TransactionFailure> MapFailures(Transaction transaction, IReadOnlyList<KernelError> errors, uint first)
    {
        var failures = new List<TransactionFailure>(errors.Count);
        foreach (var error in errors)
        {
            uint distance = error.Sequence - first; // unsigned: the batch's numbers may wrap past zero
            int message = distance < (uint)_batch.MessageCount ? (int)distance : -1;
            int index = message >= 0 ? _messageOperation[message] : TransactionEncoder.Framing;
            if (index == TransactionEncoder.Framing)
            {
                failures.Add(new TransactionFailure(-1, transaction.Count, "the batch", null, error, null));
                continue;
            }
            var operation = transaction.Operations[index];
            string? attribute = error.AttributeOffset is { } offset ? AttributeLocator.Describe(_batch.Message(message), offset) : null;
            failures.Add(new TransactionFailure(index, transaction.Count, operation.Describe(), operation.Origin, error, attribute));
        }
        return failures;
    }

    /// <summary>Lists the tables of <paramref name="family"/> (all families when null).</summary>
    public async ValueTask<IReadOnlyList<Table>> ListTablesAsync(NftFamily? family = null, CancellationToken cancellationToken = default)
    {
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var tables = new List<Table>();
            await _channel.DumpAsync(NftMessageType.GETTABLE, (NetfilterFamily)(family ?? 0), null,
                (in NetlinkMessage m) => tables.Add(RulesetReader.Guard(m, TableCodec.Decode)), tables.Clear,
                synchronous: false, cancellationToken).ConfigureAwait(false);
            return tables;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Reads a whole table back: chains, sets with elements, rules with expressions, all from one generation
    /// (the listing is retried if the ruleset changes while it is read). Null when the table does not exist.
    /// </summary>
    public async ValueTask<TableContents?> ListTableAsync(NftFamily family, string table, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await new RulesetReader(_channel, synchronous: false, cancellationToken).ReadTableAsync(family, table).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Like <see cref="ListTableAsync"/>, with each set's elements and the rules dumped once instead of twice: for a
    /// read-back that is compared with what was committed, and read again with <see cref="ListTableAsync"/> when it
    /// differs (a dump walk disturbed by a hash-table resize can miss objects; see <see cref="RulesetReader.SingleRead"/>).
    /// </summary>
    internal async ValueTask<TableContents?> ListTableForComparisonAsync(NftFamily family, string table, CancellationToken cancellationToken = default)
    {
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await new RulesetReader(_channel, synchronous: false, cancellationToken) { SingleRead = true }.ReadTableAsync(family, table).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Like <see cref="ListTableAsync"/>, blocking the calling thread.</summary>
    public TableContents? ListTable(NftFamily family, string table, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        Enter(cancellationToken);
        try
        {
            return NfnetlinkChannel.Completed(new RulesetReader(_channel, synchronous: true, cancellationToken).ReadTableAsync(family, table));
        }
        finally
        {
            _gate.Release();
        }
    }

    private async ValueTask EnterAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        ThrowIfDisposedInside();
    }

    private void Enter(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _gate.Wait(cancellationToken);
        ThrowIfDisposedInside();
    }

    private void ThrowIfDisposedInside()
    {
        if (_disposed)
        {
            _gate.Release();
            throw new ObjectDisposedException(nameof(NftablesConnection));
        }
    }

    /// <summary>Closes the socket.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _gate.Wait();
        try
        {
            _disposed = true;
            _channel.Dispose();
            _batch.Dispose();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Closes the socket.</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
