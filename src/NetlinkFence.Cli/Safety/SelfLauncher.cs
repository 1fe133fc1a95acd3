using System.Diagnostics;

namespace NetlinkFence.Cli;

/// <summary>
/// Starts a copy of this very program (the only process netlinkfence ever starts), for the rollback waiter.
/// Run as <c>dotnet NetlinkFence.Cli.dll</c>, that is the dotnet host with the same assembly; as a NativeAOT
/// binary, the binary itself. The child's standard streams are fresh pipes closed at once (the child points
/// them at /dev/null when it detaches), so it never holds the caller's terminal or output pipes open.
/// </summary>
internal static class SelfLauncher
{
    public static int StartCopy(IEnumerable<string> arguments)
    {
        string executable = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this program's own executable (Environment.ProcessPath)");
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
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {executable}");
        process.StandardInput.Close();
        process.StandardOutput.Close();
        process.StandardError.Close();
        return process.Id;
    }
}
