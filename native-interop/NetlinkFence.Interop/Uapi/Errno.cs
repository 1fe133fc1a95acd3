// errno values this project reports by name. Checked against <errno.h> by the constants test.

namespace NetlinkFence.Interop.Uapi;

/// <summary>Values of <c>E*</c> from <c>&lt;errno.h&gt;</c> that netlink and nf_tables return.</summary>
[UapiPrefix("E", "errno.h")]
public enum Errno
{
    /// <summary><c>EPERM</c>: operation not permitted (no CAP_NET_ADMIN).</summary>
    PERM = 1,
    /// <summary><c>ENOENT</c>: no such table, chain, set or element.</summary>
    NOENT = 2,
    /// <summary><c>ESRCH</c>.</summary>
    SRCH = 3,
    /// <summary><c>EINTR</c>: interrupted system call, or a dump interrupted by a ruleset change.</summary>
    INTR = 4,
    /// <summary><c>ENXIO</c>.</summary>
    NXIO = 6,
    /// <summary><c>E2BIG</c>.</summary>
    _2BIG = 7,
    /// <summary><c>EBADF</c>.</summary>
    BADF = 9,
    /// <summary><c>EAGAIN</c>: nothing to read on a non-blocking socket.</summary>
    AGAIN = 11,
    /// <summary><c>ENOMEM</c>.</summary>
    NOMEM = 12,
    /// <summary><c>EACCES</c>.</summary>
    ACCES = 13,
    /// <summary><c>EFAULT</c>.</summary>
    FAULT = 14,
    /// <summary><c>EBUSY</c>: object in use (e.g. a chain still referenced).</summary>
    BUSY = 16,
    /// <summary><c>EEXIST</c>: object exists (create with NLM_F_EXCL).</summary>
    EXIST = 17,
    /// <summary><c>ENODEV</c>.</summary>
    NODEV = 19,
    /// <summary><c>ENOTDIR</c>.</summary>
    NOTDIR = 20,
    /// <summary><c>EINVAL</c>: malformed request.</summary>
    INVAL = 22,
    /// <summary><c>ENFILE</c>.</summary>
    NFILE = 23,
    /// <summary><c>EMFILE</c>.</summary>
    MFILE = 24,
    /// <summary><c>ENOSPC</c>: set full.</summary>
    NOSPC = 28,
    /// <summary><c>ERANGE</c>: value out of range (e.g. name or prefix too long).</summary>
    RANGE = 34,
    /// <summary><c>ENOTEMPTY</c>.</summary>
    NOTEMPTY = 39,
    /// <summary><c>ELOOP</c>: chain jumps form a loop.</summary>
    LOOP = 40,
    /// <summary><c>EPROTO</c>.</summary>
    PROTO = 71,
    /// <summary><c>EOVERFLOW</c>.</summary>
    OVERFLOW = 75,
    /// <summary><c>ERESTART</c>: the ruleset generation changed (NFNL_BATCH_GENID mismatch).</summary>
    RESTART = 85,
    /// <summary><c>EMSGSIZE</c>: message larger than the socket's send buffer.</summary>
    MSGSIZE = 90,
    /// <summary><c>EPROTONOSUPPORT</c>.</summary>
    PROTONOSUPPORT = 93,
    /// <summary><c>EOPNOTSUPP</c>: operation not supported.</summary>
    OPNOTSUPP = 95,
    /// <summary><c>EAFNOSUPPORT</c>: address family (e.g. AF_NETLINK protocol) not supported.</summary>
    AFNOSUPPORT = 97,
    /// <summary><c>ENOBUFS</c>: socket receive queue overflowed; replies were lost.</summary>
    NOBUFS = 105,
    /// <summary><c>ETIMEDOUT</c>.</summary>
    TIMEDOUT = 110,
}
