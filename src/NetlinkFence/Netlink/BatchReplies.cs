using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Netlink;

/// <summary>Reads the generation id a reply carries (for nf_tables: NEWGEN's); false for any other message.</summary>
internal delegate bool EndMarkerReader(in NetlinkMessage message, out uint value);

/// <summary>What came back for a batch.</summary>
/// <param name="Errors">Every error reply for the batch's messages, in message order.</param>
/// <param name="CommittedGeneration">The generation the commit made, from the NEWGEN the kernel echoes under the first
/// message's sequence number when that message asked for an echo; only a commit that applied and changed something sends it.</param>
/// <param name="MarkerGeneration">The answer of a GETGEN end marker, when one had to be sent.</param>
/// <param name="RepliesLost">The receive queue overflowed (ENOBUFS) or the batch's final ACK never came: replies may be missing.</param>
internal readonly record struct BatchOutcome(IReadOnlyList<KernelError> Errors, uint? CommittedGeneration, uint? MarkerGeneration, bool RepliesLost);

/// <summary>
/// Sorts the replies that follow a batch: errors and echoes for the batch's messages, the commit's NEWGEN, the ACK of the message that asked for one (the end of the replies), the answer of a GETGEN end
/// marker when one was sent, and anything else (stale replies to earlier requests), which is dropped.
/// Sequence ranges may wrap past zero.
/// </summary>
/// <remarks>
/// Kernel facts this relies on (net/netfilter/nfnetlink.c, nfnetlink_rcv_batch): the whole batch is handled inside
/// the sendmsg that carries it; errors and requested ACKs are collected per message in message order and delivered
/// after the commit or abort, so the ACK of the last message comes after every error of the batch (and after a
/// commit-time error, which is sent first, for the first message after BATCH_BEGIN). A refusal of the batch as a whole (ERESTART for a stale
/// generation, EPERM, ENOMEM, ...) is one error for BATCH_BEGIN, possibly with nothing after it; since everything was
/// queued before sendmsg returned, the replies end where the socket has nothing more to read.
/// </remarks>
internal struct BatchReplies(uint firstSequence, uint count, uint? acknowledgedSequence, DumpMessageHandler? onEcho,
    EndMarkerReader readGeneration, string markerOperation)
{
    private List<KernelError>? _errors; // only a refused batch has any: a commit that applied allocates nothing here
    private HashSet<uint>? _failed; // a duplicated error reply counts once
    private uint _firstMarker, _markers;
    private uint? _committedGeneration;
    private bool _refusedAsAWhole;

    /// <summary>Set when the receive queue overflowed (ENOBUFS): replies may be missing.</summary>
    public bool RepliesLost { get; set; }

    /// <summary>True when no message asked for an ACK, so only a GETGEN marker can end the replies.</summary>
    public bool NeedsMarker => acknowledgedSequence is null;

    /// <summary>
    /// True when the batch was refused as a whole (an error for BATCH_BEGIN) and no marker is awaited: what is still
    /// queued belongs to the batch, and an empty socket ends the replies.
    /// </summary>
    public bool EndsWhenDrained => _refusedAsAWhole && _markers == 0;

    /// <summary>The outcome, once <see cref="Read"/> or <see cref="Drained"/> returned it.</summary>
    public BatchOutcome Outcome { get; private set; }

    /// <summary>
    /// Whether the reply that ended the batch was the last one queued for it: no other end marker is still to be
    /// answered and nothing was lost. False leaves the socket to be drained before the next request.
    /// </summary>
    public bool ReadAll { get; private set; }

    /// <summary>Records that an end marker was sent with <paramref name="sequence"/>; every marker sent answers equally well.</summary>
    public void MarkerSent(uint sequence)
    {
        if (_markers == 0)
            _firstMarker = sequence;
        _markers = sequence - _firstMarker + 1;
    }

    /// <summary>Reads one datagram; true when it held the end of the replies.</summary>
    public bool Read(ReadOnlySpan<byte> datagram)
    {
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out var message))
        {
            if (message.Type == (ushort)NetlinkMessageType.ERROR)
            {
                var error = NetlinkErrorReply.Decode(message, out uint sequence);
                if (NetlinkConnection.InRange(sequence, firstSequence, count))
                {
                    if (error is not null)
                        AddError(error);
                    if (sequence == acknowledgedSequence)
                        return Finish(null, markersAnswered: 0); // the last message's ACK (or error): every reply of the batch came before it
                    if (error is not null && sequence == firstSequence)
                        _refusedAsAWhole = true;
                }
                else if (NetlinkConnection.InRange(sequence, _firstMarker, _markers) && error is not null)
                {
                    // Without CAP_NET_ADMIN nfnetlink refuses every request, the marker included: that is the
                    // batch's answer (its EPERM came first), not a failure to read the marker.
                    if (error.Errno == (int)Errno.PERM || _errors is not null)
                    {
                        if (_errors is null)
                            AddError(error);
                        return Finish(null, markersAnswered: 1);
                    }
                    throw new NetlinkKernelException(markerOperation, error);
                }
                continue;
            }
            if (NetlinkConnection.InRange(message.Sequence, firstSequence, count))
            {
                if (readGeneration(message, out uint generation))
                    _committedGeneration = generation; // NLM_F_ECHO on the first message: the commit applied
                else
                    onEcho?.Invoke(message); // NLM_F_ECHO on a message: the kernel's copy of an object the batch created
            }
            else if (NetlinkConnection.InRange(message.Sequence, _firstMarker, _markers) && readGeneration(message, out uint value))
            {
                // The marker's answer is queued after every reply to the batch. If an ACK was asked for and has not
                // come, it was lost (or the kernel dropped the batch without a word): say so, never guess success.
                if (acknowledgedSequence is not null)
                    RepliesLost = true;
                return Finish(value, markersAnswered: 1);
            }
        }
        return false;
    }

    /// <summary>Ends the replies of a batch refused as a whole once nothing more is queued (see <see cref="EndsWhenDrained"/>).</summary>
    public BatchOutcome Drained()
    {
        Finish(null, markersAnswered: 0);
        return Outcome;
    }

    private void AddError(KernelError error)
    {
        _failed ??= [];
        if (_failed.Add(error.Sequence))
            (_errors ??= []).Add(error);
    }

    private bool Finish(uint? markerGeneration, uint markersAnswered)
    {
        ReadAll = !RepliesLost && _markers == markersAnswered;
        // In message order (replies are queued in order; a script may not be), counting across the wrap.
        if (_errors is { Count: > 1 })
        {
            uint first = firstSequence;
            _errors.Sort((a, b) => (a.Sequence - first).CompareTo(b.Sequence - first));
        }
        Outcome = new BatchOutcome(_errors ?? (IReadOnlyList<KernelError>)[], _committedGeneration, markerGeneration, RepliesLost);
        return true;
    }
}
