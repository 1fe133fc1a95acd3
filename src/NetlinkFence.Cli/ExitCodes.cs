using System.CommandLine;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Interop;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables.Rendering;
using NetlinkFence.Nftables.Snapshots;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>The CLI's exit codes (the table in README, "The command line") and the mapping from failures to them.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int DriftOrFindings = 1;
    public const int BadInput = 2;
    public const int KernelRefused = 3;
    public const int Permission = 4;
    public const int SelfTestFailed = 5;

    /// <summary>
    /// Neither the input's fault nor a refusal: the kernel did not answer or sent a reply that does not decode, a system
    /// call failed with another errno, an I/O error, the rollback waiter could not be started.
    /// </summary>
    public const int SystemFailure = 6;

    /// <summary>A bug in netlinkfence: an exception no code path throws on purpose (sysexits.h's EX_SOFTWARE).</summary>
    public const int InternalError = 70;

    /// <summary>
    /// Runs a verb, printing a one-line explanation for failures instead of a stack trace (bugs keep theirs); with
    /// <c>--output json</c> in <paramref name="parse"/>, also the failure as JSON on standard output (<see cref="FailureJson"/>).
    /// </summary>
    public static async Task<int> Run(ParseResult? parse, Func<Task<int>> verb)
    {
        try
        {
            return await verb();
        }
        catch (Exception e) when (e is not OperationCanceledException) // Ctrl-C/SIGTERM: System.CommandLine's own exit
        {
            var text = new StringWriter();
            int code = Report(e, text);
            Console.Error.Write(text.ToString());
            if (FailureJson.Wanted(parse))
                FailureJson.Write(e, code, text.ToString());
            return code;
        }
    }

    /// <summary>The name of an exit code in JSON output (<c>bad-input</c>, <c>kernel-refused</c>, ...).</summary>
    public static string KindOf(int code) => code switch
    {
        Ok => "ok",
        DriftOrFindings => "drift-or-findings",
        BadInput => "bad-input",
        KernelRefused => "kernel-refused",
        Permission => "permission",
        SelfTestFailed => "self-test-failed",
        SystemFailure => "system-failure",
        _ => "internal-error",
    };

    /// <summary>Writes what <paramref name="failure"/> means to <paramref name="error"/> and returns its exit code.</summary>
    public static int Report(Exception failure, TextWriter error)
    {
        switch (failure)
        {
            case PolicyException e:
                foreach (var diagnostic in e.Diagnostics)
                    error.WriteLine(diagnostic);
                error.WriteLine($"netlinkfence: {e.Diagnostics.Count(d => d.Severity == Severity.Error)} error(s); nothing was changed");
                return BadInput;
            case TransactionRejectedException e:
                error.WriteLine($"netlinkfence: {e.Message}");
                foreach (var failed in e.Failures.Skip(1).Take(5))
                    error.WriteLine($"  also: {failed}");
                if (e.Failures.Count > 6)
                    error.WriteLine($"  ... and {e.Failures.Count - 6} more");
                if (!e.IsPermissionDenied && e.Failures.Any(f => f.Error.Errno == (int)Errno.PERM))
                    error.WriteLine("  hint: EPERM on the table's own objects means another process owns the table (nft's table 'owner' flag); stop it, or pick another 'table:' name");
                return e.IsPermissionDenied ? Permission : KernelRefused;
            case Daemon.HeldByDaemonException:
                error.WriteLine($"netlinkfence: {failure.Message}");
                return KernelRefused;
            case NetlinkKernelException e when e.IsPermissionDenied:
                error.WriteLine("netlinkfence: permission denied: reading or changing nftables needs CAP_NET_ADMIN (run as root)");
                return Permission;
            case NetlinkKernelException e:
                error.WriteLine($"netlinkfence: {e.Message}");
                return KernelRefused;
            case ErrnoException e when e.IsPermissionDenied:
                error.WriteLine($"netlinkfence: {e.Message}; run as root (CAP_NET_ADMIN, and CAP_SYS_ADMIN for --netns)");
                return Permission;
            case UnauthorizedAccessException e:
                error.WriteLine($"netlinkfence: {e.Message}; run as root (CAP_NET_ADMIN; the rollback state lives in {SafetyState.Directory})");
                return Permission;
            case SelfTestFailedException e:
                foreach (string line in e.Lines)
                    error.WriteLine($"netlinkfence: {line}");
                return SelfTestFailed;
            // The live table is not what the verb needs: missing, not this policy's, or not what was committed.
            case MissingTableException or LivePolicyException or ReadBackMismatchException:
                error.WriteLine($"netlinkfence: {failure.Message}");
                return DriftOrFindings;
            // The input is at fault: a namespace that does not exist or is not one, a flow, a name nft cannot write,
            // an object over a netlink limit, a state file or snapshot that cannot be trusted, a bad option value.
            case ErrnoException e when e.IsNotFound:
            case InvalidInputException or NotARegularFileException or NftSyntaxException or NetlinkEncodingException
                or SnapshotCorruptException or StateFileException or UsageException or Logging.Syslog.SyslogTlsException:
                error.WriteLine($"netlinkfence: {failure.Message}");
                return BadInput;
            case NetlinkFenceException or SystemFailureException or IOException:
                error.WriteLine($"netlinkfence: {failure.Message}");
                return SystemFailure;
            default:
                error.WriteLine($"netlinkfence: internal error: this is a bug in netlinkfence, not a problem with your input; please report it with this trace (exit {InternalError})");
                error.WriteLine(failure.ToString());
                return InternalError;
        }
    }
}
