using System.Diagnostics;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Images;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace NetlinkFence.IntegrationTests;

/// <summary>
/// The one local image every container of the suite runs: FROM scratch, holding the NativeAOT <c>netlinkfence</c>,
/// the suite's own <c>nlf-world</c> listener, and the libc files the two need (found with ldd). Nothing is pulled.
/// </summary>

internal static class TestImage
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static IFutureDockerImage? image;

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string NetlinkfenceBinary =>
        Environment.GetEnvironmentVariable("NETLINKFENCE_BINARY") is { Length: > 0 } path ? path
            : Path.Combine(RepositoryRoot, "src/NetlinkFence.Cli/bin/Release/net10.0/linux-x64/publish/netlinkfence");

    public static string WorldBinary =>
        Environment.GetEnvironmentVariable("NLF_WORLD_BINARY") is { Length: > 0 } path ? path
            : Path.Combine(RepositoryRoot, "integration/NetlinkFence.World/bin/Release/net10.0/linux-x64/publish/nlf-world");

    public static async Task<IFutureDockerImage> GetAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (image is not null)
                return image;
            string context = Path.Combine(Path.GetTempPath(), $"nlf-image-{Environment.ProcessId}");
            if (Directory.Exists(context))
                Directory.Delete(context, recursive: true);
            string rootfs = Path.Combine(context, "rootfs");
            Directory.CreateDirectory(Path.Combine(rootfs, "tmp"));
            foreach (var (binary, name) in new[] { (NetlinkfenceBinary, "netlinkfence"), (WorldBinary, "nlf-world") })
            {
                if (!File.Exists(binary))
                    throw new FileNotFoundException($"{binary} is missing: publish it first (run-integration.sh does)", binary);
                Place(binary, rootfs, "/usr/bin/" + name);
                foreach (string library in SharedLibraries(binary))
                    Place(library, rootfs, library);
            }
            File.WriteAllText(Path.Combine(context, "Dockerfile"), "FROM scratch\nCOPY rootfs/ /\nENTRYPOINT [\"/usr/bin/nlf-world\"]\nCMD [\"sleep\"]\n");
            image = new ImageFromDockerfileBuilder()
                .WithDockerfileDirectory(context)
                .WithName("netlinkfence-it:latest")   // replaced by every run, so runs leave at most one image behind
                .WithDeleteIfExists(true)
                .WithCleanUp(true)
                .Build();
            await image.CreateAsync();
            Directory.Delete(context, recursive: true);
            return image;
        }
        finally
        {
            Gate.Release();
        }
    }

    private static void Place(string source, string rootfs, string absoluteTarget)
    {
        string target = Path.Combine(rootfs, absoluteTarget.TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(source, target, overwrite: true);   // follows symlinks: the image gets the file itself
        File.SetUnixFileMode(target, File.GetUnixFileMode(source) | UnixFileMode.UserRead | UnixFileMode.UserExecute);
    }

    /// <summary>The libraries and loader ldd lists for a binary (absolute paths as the binary looks for them).</summary>
    private static List<string> SharedLibraries(string binary)
    {
        var psi = new ProcessStartInfo("ldd", [binary]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var ldd = Process.Start(psi)!;
        string output = ldd.StandardOutput.ReadToEnd();
        ldd.WaitForExit();
        if (ldd.ExitCode != 0)
            throw new InvalidOperationException($"ldd {binary} exited {ldd.ExitCode}: {ldd.StandardError.ReadToEnd()}");
        var libraries = new List<string>();
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
            string path = line.Contains("=>") ? line[(line.IndexOf("=>", StringComparison.Ordinal) + 2)..].Trim() : line;
            path = path.Split(' ')[0];
            if (path.StartsWith('/'))
                libraries.Add(path);
        }
        if (!libraries.Any(l => l.Contains("ld-linux", StringComparison.Ordinal)))
            throw new InvalidOperationException($"ldd {binary} named no loader:\n{output}");
        return libraries;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NetlinkFence.sln")))
                return dir.FullName;
        throw new InvalidOperationException("cannot find NetlinkFence.sln above " + AppContext.BaseDirectory);
    }
}
