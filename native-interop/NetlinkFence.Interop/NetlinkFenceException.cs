using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence;

/// <summary>
/// The base of every exception NetlinkFence throws on purpose: a kernel refusal, a failed system call, a reply that
/// does not decode, an object that cannot be encoded, a timeout, a policy or input error. Catch this one type to
/// handle all of them; <see cref="Errno"/> and the <c>Is...</c> helpers say what happened without matching types.
/// A programmer's bad argument (null, out of range) stays an <see cref="ArgumentException"/>, a bug to fix, not this.
/// </summary>
/// <remarks>
/// It lives in the interop assembly, under the library's namespace, so that <see cref="ErrnoException"/> (thrown by
/// the socket and namespace code down there) derives from it too: every path that reaches a syscall reports through
/// the same base without a wrapper at each boundary. The NetlinkFence package references this assembly.
/// </remarks>
public abstract class NetlinkFenceException : Exception
{
    /// <summary>Creates the exception; <paramref name="errno"/> is the positive errno when the kernel or a system call gave one.</summary>
    protected NetlinkFenceException(string message, int? errno = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Errno = errno;
    }

    /// <summary>The positive errno the kernel or a system call reported, e.g. 2 for ENOENT; null when the failure has none (decode, timeout, policy).</summary>
    public int? Errno { get; }

    /// <summary><see cref="Errno"/> as the typed enum (a value without a named member is still carried, e.g. 524 ENOTSUPP); null when there is none.</summary>
    public Errno? ErrnoCode => Errno is { } errno ? (Interop.Uapi.Errno)errno : null;

    /// <summary>The errno's symbolic name, e.g. <c>ENOENT</c>; null when there is none.</summary>
    public string? ErrnoName => Errno is { } errno ? ErrnoException.NameOf(errno) : null;

    /// <summary>The object does not exist (ENOENT): e.g. deleting a table, chain, set or element that is not there.</summary>
    public bool IsNotFound => Errno == (int)Interop.Uapi.Errno.NOENT;

    /// <summary>The object already exists (EEXIST): e.g. creating a table with <c>NLM_F_EXCL</c> that is already there.</summary>
    public bool IsExists => Errno == (int)Interop.Uapi.Errno.EXIST;

    /// <summary>The caller lacks the privilege (EPERM or EACCES): for nf_tables, CAP_NET_ADMIN in the target network namespace.</summary>
    public virtual bool IsPermissionDenied => Errno is (int)Interop.Uapi.Errno.PERM or (int)Interop.Uapi.Errno.ACCES;

    /// <summary>
    /// The ruleset changed since the generation a transaction was checked against (the kernel's ERESTART for a batch whose
    /// <c>NFNL_BATCH_GENID</c> no longer matches): nothing was applied; read again and retry.
    /// </summary>
    public bool IsGenerationConflict => Errno == (int)Interop.Uapi.Errno.RESTART;
}
