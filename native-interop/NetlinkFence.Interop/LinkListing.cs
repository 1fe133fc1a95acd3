using System.Runtime.InteropServices;
using System.Text;

namespace NetlinkFence.Interop;

/// <summary>
/// Directory names and symbolic link targets with one syscall each: for walks over <c>/proc/PID/fd</c> of every
/// process, where .NET's enumeration would stat and lstat each link (and what it points to) to learn its attributes.
/// </summary>
public static unsafe class LinkListing
{
    /// <summary>The entry names in <paramref name="directory"/> (not <c>.</c> and <c>..</c>); empty when it cannot be opened (gone, no permission).</summary>
    public static List<string> Names(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var names = new List<string>();
        byte[] path = Encoding.UTF8.GetBytes(directory + "\0");
        nint dir;
        fixed (byte* p = path)
            dir = opendir(p);
        if (dir == 0)
            return names;
        try
        {
            // struct dirent on 64-bit glibc and musl: d_ino u64, d_off i64, d_reclen u16, d_type u8, d_name[].
            for (byte* entry = readdir(dir); entry != null; entry = readdir(dir))
            {
                var name = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(entry + 19);
                if (name is [(byte)'.'] or [(byte)'.', (byte)'.'])
                    continue;
                names.Add(Encoding.UTF8.GetString(name));
            }
        }
        finally
        {
            _ = closedir(dir);
        }
        return names;
    }

    /// <summary>The target of the symbolic link <paramref name="path"/>; null when it is not one or cannot be read.</summary>
    public static string? Target(string path) => Target(path, out _);

    /// <summary>
    /// The target of the symbolic link <paramref name="path"/>, or null with the errno readlink gave in
    /// <paramref name="error"/> (EACCES: not allowed, as for another user's <c>/proc/PID/ns/*</c> without
    /// CAP_SYS_PTRACE; ENOENT: gone). .NET's <c>FileSystemInfo.LinkTarget</c> answers null for both, and for "not a link".
    /// </summary>
    public static string? Target(string path, out int error)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] name = Encoding.UTF8.GetBytes(path + "\0");
        byte* buffer = stackalloc byte[512];
        nint length;
        fixed (byte* p = name)
            length = readlink(p, buffer, 512);
        error = length < 0 ? Marshal.GetLastPInvokeError() : 0;
        return length is > 0 and < 512 ? Encoding.UTF8.GetString(buffer, (int)length) : null;
    }

    [DllImport("libc")]
    private static extern nint opendir(byte* name);

    [DllImport("libc")]
    private static extern byte* readdir(nint dir);

    [DllImport("libc")]
    private static extern int closedir(nint dir);

    [DllImport("libc", SetLastError = true)]
    private static extern nint readlink(byte* path, byte* buffer, nint size);
}
