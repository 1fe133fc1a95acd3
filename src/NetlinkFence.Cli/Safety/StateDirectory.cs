using Microsoft.Win32.SafeHandles;
using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;

namespace NetlinkFence.Cli;

/// <summary>
/// The rollback state directory, opened and checked before each use; root acts on what it holds, so it trusts
/// nothing it did not make. The directory is created mode 0700 and refused when it is a symbolic link, not a
/// directory, not owned by root (or the user running netlinkfence), or group/world-writable. Files are opened
/// relative to the checked directory, never through a symbolic link; new files are mode 0600; a file read or
/// appended to must be a regular file owned by root (or this user) and not group/world-writable.
/// Every failure is a <see cref="StateFileException"/> that names the path.
/// </summary>
internal sealed class StateDirectory : IDisposable
{
    private const uint DirectoryMode = 0x1C0; // 0700
    private const uint FileMode = 0x180;      // 0600
    private const long MaxFileBytes = 1L << 30;

    private readonly DirectoryHandle _directory;

    private StateDirectory(DirectoryHandle directory) => _directory = directory;

    /// <summary>
    /// Opens and checks the directory <paramref name="path"/>, creating it when missing unless
    /// <paramref name="create"/> is false; then a missing directory is a <see cref="StateFileException"/> whose
    /// <see cref="StateFileException.DirectoryGone"/> is set.
    /// </summary>
    public static StateDirectory Open(string path, bool create = true)
    {
        DirectoryHandle directory;
        try
        {
            directory = create ? DirectoryHandle.OpenOrCreate(path, DirectoryMode) : DirectoryHandle.Open(path);
        }
        catch (ErrnoException e) when (!create && e.Errno == (int)Errno.NOENT)
        {
            throw new StateFileException($"the rollback state directory {path} is gone", e) { DirectoryGone = true };
        }
        catch (ErrnoException e) when (e.Errno == (int)Errno.NOENT && Path.GetDirectoryName(Path.GetFullPath(path)) is { } parent && !System.IO.Directory.Exists(parent))
        {
            // A minimal root (a FROM-scratch container) may have no /run: make the parents as mkdir -p would (0755).
            System.IO.Directory.CreateDirectory(parent);
            return Open(path);
        }
        catch (ErrnoException e)
        {
            throw new StateFileException($"cannot use the rollback state directory {path}: {e.Message}; nothing was changed", e);
        }
        try
        {
            var status = directory.Status;
            if (!status.IsDirectory)
                throw Untrusted(path, "is not a directory");
            CheckOwnerAndMode(path, status, "chown root:root and chmod 700 it, or remove it");
            return new StateDirectory(directory);
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>The contents of <paramref name="name"/>, or null when there is no such file.</summary>
    public byte[]? Read(string name)
    {
        using var file = Guard(name, () => _directory.OpenExisting(name));
        if (file is null)
            return null;
        CheckFile(name, file);
        return Guard(name, () => ReadAll(name, file));
    }

    /// <summary>
    /// Replaces <paramref name="name"/> atomically: a new temporary file (created exclusively, mode 0600), flushed,
    /// then renamed over it. Readers see the old file or the new one, never a mixture.
    /// </summary>
    public void WriteAtomically(string name, ReadOnlySpan<byte> bytes)
    {
        string temporary = name + ".tmp" + Environment.ProcessId;
        byte[] copy = bytes.ToArray();
        Guard(temporary, () =>
        {
            _directory.Delete(temporary); // a leftover of a crashed writer with this pid: the entry, never a link's target
            try
            {
                using (var file = _directory.CreateNew(temporary, FileMode))
                {
                    DirectoryHandle.Write(file, copy);
                    DirectoryHandle.Sync(file);
                }
                _directory.Rename(temporary, name);
            }
            catch
            {
                _directory.Delete(temporary);
                throw;
            }
            return 0;
        });
    }

    /// <summary>Appends <paramref name="text"/> to <paramref name="name"/> (created mode 0600 when missing).</summary>
    public void Append(string name, string text)
    {
        using var file = Guard(name, () => _directory.OpenOrCreate(name, FileMode, append: true));
        CheckFile(name, file);
        Guard(name, () => { DirectoryHandle.Write(file, System.Text.Encoding.UTF8.GetBytes(text)); return 0; });
    }

    /// <summary>
    /// Takes the exclusive lock on <paramref name="name"/> (created mode 0600 when missing) without waiting:
    /// the handle holds it until disposed (or the process dies); null when another process holds it.
    /// </summary>
    public SafeFileHandle? TryLock(string name)
    {
        var file = Guard(name, () => _directory.OpenOrCreate(name, FileMode, append: false));
        try
        {
            CheckFile(name, file);
            if (Guard(name, () => DirectoryHandle.TryLockExclusive(file)))
                return file;
            file.Dispose();
            return null;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Removes <paramref name="name"/> if it exists (a symbolic link is removed itself, its target left alone).</summary>
    public void Delete(string name) => Guard(name, () => _directory.Delete(name));

    public void Dispose() => _directory.Dispose();

    private byte[] ReadAll(string name, SafeFileHandle file)
    {
        long length = RandomAccess.GetLength(file);
        if (length > MaxFileBytes)
            throw new StateFileException($"{PathOf(name)} is {length} bytes, more than netlinkfence ever writes; remove it");
        byte[] bytes = new byte[length];
        int done = 0;
        while (done < bytes.Length)
        {
            int n = RandomAccess.Read(file, bytes.AsSpan(done), done);
            if (n == 0)
                throw new StateFileException($"{PathOf(name)} shrank while it was read");
            done += n;
        }
        return bytes;
    }

    private string PathOf(string name) => Path.Combine(_directory.Path, name);

    private void CheckFile(string name, SafeFileHandle file)
    {
        var status = Guard(name, () => DirectoryHandle.StatusOf(file));
        if (!status.IsRegularFile)
            throw Untrusted(PathOf(name), "is not a regular file");
        CheckOwnerAndMode(PathOf(name), status, "remove it");
    }

    private static void CheckOwnerAndMode(string path, FileStatus status, string remedy)
    {
        if (status.OwnerUid != 0 && status.OwnerUid != DirectoryHandle.EffectiveUserId)
            throw Untrusted(path, $"is owned by uid {status.OwnerUid}, not root", remedy);
        if (status.IsWritableByOthers)
            throw Untrusted(path, $"is writable by group or others (mode {Convert.ToString(status.Permissions, 8).PadLeft(4, '0')})", remedy);
    }

    private static StateFileException Untrusted(string path, string what, string remedy = "remove it") =>
        new($"refusing to use rollback state {path}: it {what}; nothing was changed. Check who made it, then {remedy}");

    private T Guard<T>(string name, Func<T> operation)
    {
        try
        {
            return operation();
        }
        catch (ErrnoException e)
        {
            throw new StateFileException(e.Errno == (int)NetlinkFence.Interop.Uapi.Errno.LOOP
                ? $"refusing to use rollback state {PathOf(name)}: it is a symbolic link; nothing was changed. Check who made it, then remove it"
                : $"rollback state {PathOf(name)}: {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new StateFileException($"rollback state {PathOf(name)}: {e.Message}", e);
        }
    }
}
