using System.Diagnostics;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;

namespace NetlinkFence.Nftables;

/// <summary>
/// A connection to nf_tables over one netlink socket: commit transactions atomically, read the ruleset back.
/// Safe to use from many threads: calls are serialised, one at a time. Dispose to close the socket.
/// </summary>
/// <remarks>
/// The kernel answers nf_tables requests synchronously (a batch is processed inside the sendmsg call), so
/// the async methods do their work on the calling thread and only wait asynchronously for the connection
/// itself; while waiting for replies they poll the socket in short slices, so cancellation is honoured.
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
    private readonly NfnetlinkChannel _channel;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly BatchBuffer _batch = new();
    private int[] _messageOperation = new int[64];
    private bool _disposed;

    private NftablesConnection(NfnetlinkChannel channel) => _channel = channel;

    /// <summary>Opens a connection, in another network namespace if <paramref name="options"/> names one.</summary>
    public static ValueTask<NftablesConnection> OpenAsync(NftablesConnectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Open(options));
    }

    /// <summary>Opens a connection synchronously.</summary>
    public static NftablesConnection Open(NftablesConnectionOptions? options = null)
    {
        options ??= new();
        if (options.NamespaceHandle is not null && options.NetworkNamespace is not null)
            throw new ArgumentException("give either NetworkNamespace or NamespaceHandle, not both", nameof(options));
        return new(NfnetlinkChannel.Open(options.NamespacePath, options.NamespaceHandle));
    }

    /// <summary>Reads the ruleset's generation id; it changes with every committed transaction in the namespace.</summary>
    public async ValueTask<uint> GetGenerationAsync(CancellationToken cancellationToken = default)
    {
        await EnterAsync(cancellationToken).ConfigureAwait(false);
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
        transaction = await ResolveReferencesAsync(transaction, cancellationToken).ConfigureAwait(false);
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Commit(transaction, options, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private CommitResult Commit(Transaction transaction, CommitOptions? options, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        uint? expected = options?.ExpectedGeneration;
        uint before = expected ?? 0;
        // Sequence numbers: BEGIN, one per message (element lists may take several), END.
        var features = EncoderFeaturesFor(transaction, options, cancellationToken);
        uint first = _channel.ReserveSequences(0);
        uint last = TransactionEncoder.Encode(transaction, _batch, first, expected, ref _messageOperation, features);
        _channel.ReserveSequences((int)(last - first + 1));
        var echo = RuleHandleEcho.For(transaction, features, first, _messageOperation);
        var outcome = _channel.SendBatch(_batch, first, last, before, cancellationToken, echo?.Receive);

        // A successful batch queues no reply at all (no message asks for an ACK), only the marker's NEWGEN, and
        // stale replies were drained before sending. So a receive-queue overflow (ENOBUFS) during a commit means
        // the kernel sent error replies, i.e. refused the batch, even when every one of them was lost.
        if (outcome.Errors.Count > 0)
            throw new TransactionRejectedException(MapFailures(transaction, outcome.Errors, first), incomplete: outcome.RepliesLost);
        if (outcome.RepliesLost && echo is not { Received: > 0 }) // an echo is only sent by a commit that applied
            throw new TransactionRejectedException([], "the kernel refused the transaction, nothing was applied, but all its error replies were lost "
                + "(the socket receive queue overflowed, ENOBUFS); raise net.core.rmem_max or split the change", incomplete: true);
        return new CommitResult(before, outcome.GenerationAfter, _batch.MessageCount, _batch.Length, Stopwatch.GetElapsedTime(started), echo?.Handles);
    }

    private List<TransactionFailure> MapFailures(Transaction transaction, IReadOnlyList<KernelError> errors, uint first)
    {
        var failures = new List<TransactionFailure>(errors.Count);
        foreach (var error in errors)
        {
            int message = (int)(error.Sequence - first);
            int index = message >= 0 && message < _batch.MessageCount ? _messageOperation[message] : TransactionEncoder.Framing;
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
            _channel.Dump(NftMessageType.GETTABLE, (NetfilterFamily)(family ?? 0), null,
                (in NetlinkMessage m) => tables.Add(RulesetReader.Guard(m, TableCodec.Decode)), tables.Clear, cancellationToken);
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
            return new RulesetReader(_channel, cancellationToken).ReadTable(family, table);
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
