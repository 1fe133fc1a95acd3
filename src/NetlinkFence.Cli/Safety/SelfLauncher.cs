using System.Diagnostics;

namespace NetlinkFence.Cli;

/// <summary>
/// Starts a copy of this very program (the only process netlinkfence ever starts), for the rollback waiter.
/// Run as <c>dotnet NetlinkFence.Cli.dll</c>, that is the dotnet host with the same assembly; as a NativeAOT
/// binary, the binary itself. The child's standard streams are fresh pipes, never the caller's terminal or
/// output. The child starts its own session, prints <see cref="DetachedMarker"/>, and points its streams at
/// /dev/null; this process waits for that line, so when it returns the child is out of the caller's session
/// and process group, and the terminal going away (SIGHUP, or a kill of the group) can no longer reach it.
/// </summary>
internal static class SelfLauncher
{
    /// <summary>The line the child prints once it is in its own session.</summary>
    public const string DetachedMarker = "netlinkfence: detached";

    /// <summary>Starts the copy and waits (up to 10 s) until it has detached; returns its process id.</summary>
    public static async Task<int> StartDetachedCopyAsync(IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        string executable = Environment.ProcessPath ?? throw new SystemFailureException("cannot find this program's own executable (Environment.ProcessPath)");
        var start = new ProcessStartInfo(executable)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (Path.GetFileNameWithoutExtension(executable) == "dotnet")
            start.ArgumentList.Add(Environment.GetCommandLineArgs()[0]); // the entry assembly (NetlinkFence.Cli.dll)
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new SystemFailureException($"could not start {executable}");
        process.StandardInput.Close();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        string? line;
        try
        {
            line = await process.StandardOutput.ReadLineAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SystemFailureException($"the rollback waiter (process {process.Id}) did not detach within 10 s");
        }
        if (line != DetachedMarker)
        {
            string error = await process.StandardError.ReadToEndAsync(cancellationToken);
            throw new SystemFailureException($"the rollback waiter failed before it detached: {line} {error.Trim()}");
        }
        process.StandardOutput.Close();
        process.StandardError.Close();
        return process.Id;
    }
}
