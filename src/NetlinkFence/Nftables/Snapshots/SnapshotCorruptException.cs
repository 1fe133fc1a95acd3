namespace NetlinkFence.Nftables.Snapshots;

/// <summary>
/// Bytes that are not a whole, intact <see cref="TableSnapshot"/> of a version this library reads: truncated,
/// damaged (checksum mismatch), another format version, or a payload that does not decode. Such a snapshot is
/// never restored, and never read as "there was no table".
/// </summary>
public sealed class SnapshotCorruptException : NetlinkFenceException
{
    internal SnapshotCorruptException(string message, Exception? inner = null)
        : base(message, innerException: inner)
    {
    }
}
