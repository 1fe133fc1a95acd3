using System.Diagnostics;
using NetlinkFence.Runtime;

namespace NetlinkFence.Tests.Cgroups;

/// <summary>
/// <see cref="CgroupHierarchy"/> on text (mountinfo, names, paths) and on this host's real cgroup2 hierarchy, in a
/// subtree each test makes and removes (cgroup directories are created and removed with mkdir/rmdir).
/// </summary>
public sealed class CgroupHierarchyTests
{
    [Fact]
    public void Finds_the_cgroup2_mount_in_hybrid_and_unified_layouts()
    {
        const string hybrid = """
            31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
            41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw
            """;
        Assert.Equal("/sys/fs/cgroup/unified", CgroupHierarchy.FromMountInfo(hybrid)!.MountPoint);
        Assert.Equal("/sys/fs/cgroup", CgroupHierarchy.FromMountInfo("35 24 0:30 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n")!.MountPoint);
        Assert.Equal("/mnt/my cgroups", CgroupHierarchy.FromMountInfo("35 24 0:30 / /mnt/my\\040cgroups rw - cgroup2 none rw\n")!.MountPoint);
        Assert.Null(CgroupHierarchy.FromMountInfo("31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"));
    }

    [Theory]
    [InlineData("/system.slice/chrony.service", "/system.slice/chrony.service")]
    [InlineData("/system.slice/", "/system.slice")]
    [InlineData("/", "/")]
    [InlineData("system.slice", null)]
    [InlineData("/system.slice/../etc", null)]
    [InlineData("/a//b", null)]
    [InlineData("/a/./b", null)]
    [InlineData("", null)]
    public void Normalizes_paths_and_refuses_ones_that_leave_the_hierarchy(string path, string? expected)
    {
        var normalized = CgroupHierarchy.Normalize(path, out var error);
        Assert.Equal(expected, normalized);
        Assert.Equal(expected is null, error is not null);
    }

    [Fact]
    public void Levels_units_and_unit_names()
    {
        Assert.Equal(0, CgroupHierarchy.LevelOf("/"));
        Assert.Equal(2, CgroupHierarchy.LevelOf("/system.slice/chrony.service"));
        Assert.Equal("chrony.service", CgroupHierarchy.UnitOf("/system.slice/chrony.service"));
        Assert.Equal("foo.service", CgroupHierarchy.UnitOf("/system.slice/foo.service/worker"));
        Assert.Equal("session-3.scope", CgroupHierarchy.UnitOf("/user.slice/user-1000.slice/session-3.scope"));
        Assert.Null(CgroupHierarchy.UnitOf("/user.slice"));
        Assert.True(CgroupHierarchy.IsValidUnitName("getty@tty1.service"));
        Assert.True(CgroupHierarchy.IsValidUnitName("ironclaw-agent.service"));
        Assert.False(CgroupHierarchy.IsValidUnitName("../etc.service"));
        Assert.False(CgroupHierarchy.IsValidUnitName("system.slice/chrony.service"));
        Assert.False(CgroupHierarchy.IsValidUnitName("chrony"));
        Assert.False(CgroupHierarchy.IsValidUnitName("a b.service"));
    }

    [Fact]
    public void Maps_real_cgroups_to_ids_and_back_and_sees_a_recreated_cgroup_as_new()
    {
        var host = CgroupHierarchy.Find();
        Assert.NotNull(host); // CI's kernel has cgroup2 (unified or hybrid): without it issue 15 cannot work at all
        var unit = $"nlf-{Guid.NewGuid():N}.service";
        var root = $"/nlf-test-{Guid.NewGuid():N}";
        var path = $"{root}/system.slice/{unit}";
        Directory.CreateDirectory(host.DirectoryOf(root));
        try
        {
            Directory.CreateDirectory(host.DirectoryOf(root + "/system.slice"));
            Directory.CreateDirectory(host.DirectoryOf(path));
            var id = host.IdOf(path);
            Assert.NotNull(id);
            Assert.Equal(3, CgroupHierarchy.LevelOf(path));
            Assert.Equal(path, new CgroupHierarchy(host.MountPoint).PathOf(id.Value)); // found by walking, not cached
            Assert.Equal(path, host.PathOfUnit(unit));

            using (var sleeper = Process.Start("sleep", "30"))
            {
                File.WriteAllText(Path.Combine(host.DirectoryOf(path), "cgroup.procs"), sleeper.Id.ToString());
                Assert.Equal(path, CgroupHierarchy.PathOfProcess(sleeper.Id));
                sleeper.Kill();
                sleeper.WaitForExit();
            }

            RemoveWhenEmpty(host.DirectoryOf(path));
            Assert.Null(host.IdOf(path));
            Assert.Null(host.PathOf(id.Value));
            Assert.Null(host.PathOfUnit(unit));

            Directory.CreateDirectory(host.DirectoryOf(path));
            var recreated = host.IdOf(path);
            Assert.NotNull(recreated);
            Assert.NotEqual(id, recreated); // a restarted unit gets a new cgroup id: bindings must follow it
        }
        finally
        {
            foreach (var dir in new[] { path, root + "/system.slice", root })
            {
                if (Directory.Exists(host.DirectoryOf(dir)))
                    RemoveWhenEmpty(host.DirectoryOf(dir));
            }
        }
    }

    [Fact]
    public void The_root_cgroup_s_id_maps_to_slash_and_an_id_no_cgroup_has_to_null()
    {
        var host = CgroupHierarchy.Find()!;
        var rootId = host.IdOf("/");
        Assert.NotNull(rootId);
        Assert.Equal("/", new CgroupHierarchy(host.MountPoint).PathOf(rootId.Value)); // a socket of a process in the root cgroup
        Assert.Null(host.PathOf(ulong.MaxValue));
        Assert.Null(host.PathOf(ulong.MaxValue)); // remembered as missing: no second walk, same answer
    }

    /// <summary>A cgroup whose last process just exited may still be busy for a moment (EBUSY): retry, bounded.</summary>
    private static void RemoveWhenEmpty(string directory)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                Directory.Delete(directory);
                return;
            }
            catch (IOException) when (deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                Thread.Sleep(50);
            }
        }
    }
}
