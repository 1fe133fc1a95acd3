using NetlinkFence.Interop;
using NetlinkFence.Interop.Uapi;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables;
using NetlinkFence.Nftables.Rendering;
using NetlinkFence.Policy;

namespace NetlinkFence.Cli;

/// <summary>The CLI's exit codes (DESIGN.md) and the mapping from failures to them.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int DriftOrFindings = 1;
    public const int BadInput = 2;
    public const int KernelRefused = 3;
    public const int Permission = 4;
    public const int SelfTestFailed = 5;

    /// <summary>Runs a verb, printing a one-line explanation for failures instead of a stack trace.</summary>
    public static async Task<int> Run(Func<Task<int>> verb)
    {
        try
        {
            return await verb();
        }
        catch (PolicyException e)
        {
            foreach (var diagnostic in e.Diagnostics)
                Console.Error.WriteLine(diagnostic);
            Console.Error.WriteLine($"netlinkfence: {e.Diagnostics.Count(d => d.Severity == Severity.Error)} error(s); nothing was changed");
            return BadInput;
        }
        catch (TransactionRejectedException e)
        {
            Console.Error.WriteLine($"netlinkfence: {e.Message}");
            foreach (var failure in e.Failures.Skip(1).Take(5))
                Console.Error.WriteLine($"  also: {failure}");
            if (e.Failures.Count > 6)
                Console.Error.WriteLine($"  ... and {e.Failures.Count - 6} more");
            if (!e.IsPermissionDenied && e.Failures.Any(f => f.Error.Errno == (int)Errno.PERM))
                Console.Error.WriteLine("  hint: EPERM on the table's own objects means another process owns the table (nft's table 'owner' flag); stop it, or pick another 'table:' name");
            return e.IsPermissionDenied ? Permission : KernelRefused;
        }
        catch (NetlinkKernelException e) when (e.Error.Errno == (int)Errno.PERM)
        {
            Console.Error.WriteLine("netlinkfence: permission denied: reading or changing nftables needs CAP_NET_ADMIN (run as root)");
            return Permission;
        }
        catch (ErrnoException e) when (e.Errno is (int)Errno.PERM or (int)Errno.ACCES)
        {
            Console.Error.WriteLine($"netlinkfence: {e.Message}; run as root (CAP_NET_ADMIN, and CAP_SYS_ADMIN for --netns)");
            return Permission;
        }
        catch (ErrnoException e) when (e.Errno == (int)Errno.NOENT)
        {
            Console.Error.WriteLine($"netlinkfence: {e.Message}");
            return BadInput;
        }
        catch (StateFileException e)
        {
            Console.Error.WriteLine($"netlinkfence: {e.Message}");
            return BadInput;
        }
        catch (NftSyntaxException e)
        {
            Console.Error.WriteLine($"netlinkfence: {e.Message}");
            return BadInput;
        }
        catch (UnauthorizedAccessException e)
        {
            Console.Error.WriteLine($"netlinkfence: {e.Message}; run as root (CAP_NET_ADMIN; the rollback state lives in {SafetyState.Directory})");
            return Permission;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"netlinkfence: {e.Message}");
            return BadInput;
        }
        catch (NetlinkKernelException e)
        {
            Console.Error.WriteLine($"netlinkfence: {e.Message}");
            return KernelRefused;
        }
    }
}
