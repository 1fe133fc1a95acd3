using System.Runtime.CompilerServices;

namespace NetlinkFence.Tests.TestSupport;

/// <summary>
/// Every .NET process the suite starts (the CLI under the JIT, its confirm waiters, daemons) inherits
/// <c>DOTNET_EnableDiagnostics=0</c>. The runtime otherwise opens a debugger pipe pair and a diagnostics socket in
/// /tmp per process and removes them only on a normal exit, so each process a test kills with SIGKILL (the fault,
/// interleaving and daemon tests kill about a hundred) left three files behind on the host.
/// </summary>
internal static class NoRuntimeDiagnosticFiles
{
    [ModuleInitializer]
    internal static void Initialize() => Environment.SetEnvironmentVariable("DOTNET_EnableDiagnostics", "0");
}
