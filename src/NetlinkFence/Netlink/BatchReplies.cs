using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Netlink;

/// <summary>Reads the value an end-marker reply carries (for nf_tables: NEWGEN's generation id).</summary>
internal delegate bool EndMarkerReader(in NetlinkMessage message, out uint value);

/// <summary>What came back for a batch: every error reply, the end marker's value, and whether replies were lost.</summary>
internal sealed record BatchOutcome(IReadOnlyList<KernelError> Errors, uint EndMarkerValue, bool RepliesLost);

/// <summary>
/// Sorts the replies that follow a batch: errors and echoes for the batch's messages, the end marker's answer,
/// and anything else (stale replies to earlier requests), which is dropped. Sequence ranges may wrap past zero.
/// </summary>
internal sealed class BatchReplies(uint firstSequence, uint count, DumpMessageHandler? onEcho, EndMarkerReader readMarker, string markerOperation)
{
    private readonly List<KernelError> _errors = [];
    private HashSet<uint>? _failed; // a duplicated error reply counts once
    private uint _firstMarker, _markers;

    /// <summary>Set when the receive queue overflowed (ENOBUFS): replies may be missing.</summary>
    public bool RepliesLost { get; set; }

    /// <summary>The outcome, once <see cref="Read"/> returned true.</summary>
    public BatchOutcome? Outcome { get; private set; }

    /// <summary>Records that an end marker was sent with <paramref name="sequence"/>; every marker sent answers equally well.</summary>
    public void MarkerSent(uint sequence)
    {
        if (_markers == 0)
            _firstMarker = sequence;
        _markers = sequence - _firstMarker + 1;
    }

    /// <summary>Reads one datagram; true when the end marker's answer was in it.</summary>
    public bool Read(ReadOnlySpan<byte> datagram)
    {
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out var message))
        {
            if (message.Type == (ushort)NetlinkMessageType.ERROR)
            {
                var error = NetlinkErrorReply.Decode(message, out uint sequence);
                if (error is null)
                    continue; // an ACK (kernels from 6.10 may ACK BATCH_END; nothing here asks for one)
                if (NetlinkConnection.InRange(sequence, firstSequence, count))
                    AddError(error);
                else if (NetlinkConnection.InRange(sequence, _firstMarker, _markers))
                {
                    // Without CAP_NET_ADMIN nfnetlink refuses every request, the marker included: that is the
                    // batch's answer (its EPERM came first), not a failure to read the marker.
                    if (error.Errno == (int)Errno.PERM || _errors.Count > 0)
                    {
                        if (_errors.Count == 0)
                            _errors.Add(error);
                        return Finish(0);
                    }
                    throw new NetlinkKernelException(markerOperation, error);
                }
                continue;
            }
            if (NetlinkConnection.InRange(message.Sequence, firstSequence, count))
                onEcho?.Invoke(message); // NLM_F_ECHO: the kernel's copy of an object the batch created
            else if (NetlinkConnection.InRange(message.Sequence, _firstMarker, _markers) && readMarker(message, out uint value))
                return Finish(value);
        }
        return false;
    }

    private void AddError(KernelError error)
    {
        _failed ??= [];
        if (_failed.Add(error.Sequence))
            _errors.Add(error);
    }

    private bool Finish(uint markerValue)
    {
        // In message order (replies are queued in order; a script may not be), counting across the wrap.
        uint first = firstSequence;
        _errors.Sort((a, b) => (a.Sequence - first).CompareTo(b.Sequence - first));
        Outcome = new BatchOutcome(_errors, markerValue, RepliesLost);
        return true;
    }
}
