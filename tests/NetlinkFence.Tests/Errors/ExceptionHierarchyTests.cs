using System.Text.RegularExpressions;
using NetlinkFence.Interop;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables.Rendering;
using NetlinkFence.Nftables.Snapshots;
using NetlinkFence.Nftables;
using NetlinkFence.Policy;
using NetlinkFence.Tests.Kernel;

namespace NetlinkFence.Tests.Errors;

/// <summary>One base for the library's exceptions: an embedder catches <see cref="NetlinkFenceException"/> and misses nothing it should handle.</summary>
public sealed partial class ExceptionHierarchyTests
{
    private static readonly System.Reflection.Assembly[] Library = [typeof(NftablesConnection).Assembly, typeof(ErrnoException).Assembly];

    [Fact]
    public void EveryPublicExceptionTypeDerivesFromTheBase()
    {
        var exceptions = Library.SelectMany(a => a.GetExportedTypes()).Where(t => typeof(Exception).IsAssignableFrom(t)).ToList();
        // The list is not vacuous: the types an embedder meets are all in it.
        Type[] known = [typeof(NetlinkFenceException), typeof(ErrnoException), typeof(NetlinkKernelException), typeof(NetlinkDecodeException),
            typeof(NetlinkEncodingException), typeof(NetlinkTimeoutException), typeof(TransactionRejectedException), typeof(ReadBackMismatchException),
            typeof(SnapshotCorruptException), typeof(NftSyntaxException), typeof(PolicyException), typeof(InvalidInputException), typeof(NotARegularFileException)];
        Assert.Subset(exceptions.ToHashSet(), known.ToHashSet());
        Assert.All(exceptions, t => Assert.True(t.IsSubclassOf(typeof(NetlinkFenceException)) || t == typeof(NetlinkFenceException), $"{t.FullName} does not derive from NetlinkFenceException"));
        Assert.True(typeof(NetlinkFenceException).IsAbstract);
    }

    /// <summary>
    /// Every <c>throw new X</c> in the library's source throws the base's subclass, or a BCL type that reports a programmer's
    /// mistake (a bad argument, a call in the wrong state), or an internal type the library catches itself. A new
    /// <c>throw new TimeoutException</c> or <c>IOException</c> would escape <c>catch (NetlinkFenceException)</c>: this fails.
    /// </summary>
    [Fact]
    public void EveryExceptionTheLibraryThrowsOnPurposeDerivesFromTheBase()
    {
        string[] programmerErrors = ["ArgumentException", "ArgumentNullException", "ArgumentOutOfRangeException", "InvalidOperationException", "ObjectDisposedException", "NotSupportedException"];
        string[] caughtInside = ["YamlException", "TooDeepException", "UndefinedAliasException"]; // PolicyLoader turns them into PolicyException diagnostics
        string root = ApplyPolicyTests.RepositoryRoot();
        var thrown = new List<(string File, string Type)>();
        foreach (string folder in new[] { "src/NetlinkFence", "native-interop/NetlinkFence.Interop" })
        {
            foreach (string file in Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal)))
            {
                foreach (Match m in ThrowNew().Matches(File.ReadAllText(file)))
                    thrown.Add((Path.GetRelativePath(root, file), m.Groups[1].Value));
            }
        }
        Assert.Contains(thrown, t => t.Type == "NetlinkTimeoutException");
        var byName = Library.SelectMany(a => a.GetTypes()).Where(t => typeof(Exception).IsAssignableFrom(t)).GroupBy(t => t.Name).ToDictionary(g => g.Key, g => g.First());
        var outside = thrown.Where(t => !programmerErrors.Contains(t.Type) && !caughtInside.Contains(t.Type)
            && !(byName.TryGetValue(t.Type, out var type) && type.IsSubclassOf(typeof(NetlinkFenceException)))).ToList();
        Assert.True(outside.Count == 0, "thrown outside the error model: " + string.Join(", ", outside.Select(t => $"{t.Type} in {t.File}")));
    }

    [GeneratedRegex(@"throw new ([A-Za-z]+Exception)\b")]
    private static partial Regex ThrowNew();
}
