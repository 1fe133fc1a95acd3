using System.Runtime.InteropServices;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Interop;

/// <summary>A failed system call or a kernel error reply, carrying the errno and its symbolic name.</summary>
public sealed class ErrnoException : NetlinkFenceException
{
    /// <summary>Creates the exception for <paramref name="errno"/> raised by <paramref name="operation"/>.</summary>
    public ErrnoException(string operation, int errno, string? detail = null)
        : base(Format(operation, errno, detail), errno)
    {
        Operation = operation;
    }

    /// <summary>What failed, e.g. <c>sendmsg</c> or <c>setns(/run/netns/agent)</c>.</summary>
    public string Operation { get; }

    /// <summary>The positive errno value (a failed system call always has one, so never null here, unlike the base's).</summary>
    public new int Errno => base.Errno!.Value;

    /// <summary>The symbolic name of an errno value, e.g. <c>EPERM</c>.</summary>
    public static string NameOf(int errno) => errno switch
    {
        (int)Uapi.Errno._2BIG => "E2BIG",
        524 => "ENOTSUPP",
        _ when Enum.IsDefined((Uapi.Errno)errno) => "E" + ((Uapi.Errno)errno).ToString(),
        _ => $"errno {errno}",
    };

    /// <summary>The C library's description of an errno value.</summary>
    public static string Describe(int errno) => errno == 524 ? "Operation not supported by the kernel" : Marshal.GetPInvokeErrorMessage(errno);

    private static string Format(string operation, int errno, string? detail) =>
        $"{operation} failed: {NameOf(errno)} ({Describe(errno)})" + (detail is null ? "" : $": {detail}");
}
