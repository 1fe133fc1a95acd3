using System.Net.Sockets;
using NetlinkFence.Logging;
using NetlinkFence.Policy;
using NetlinkFence.Policy.Learning;

namespace NetlinkFence.Tests.Policy.Learning;

/// <summary>
/// The <c>by:</c> that <c>learn</c> suggests from the senders' cgroups and users, without a kernel; and that the
/// merged policy carries it in a form the policy loader reads back as the same scopes.
/// </summary>
public sealed class LearnByTests
{
    private static DenialRecord From(string destination, ushort port, int second, uint uid, string? user, string? cgroup, bool lookedUp = true) =>
        DenialLearnerTests.Denial(destination, ProtocolType.Udp, port, second, uid: uid, user: user) with
        {
            CgroupLookedUp = lookedUp,
            CgroupId = cgroup is null ? null : 1000,
            Cgroup = cgroup,
            Unit = cgroup is null ? null : NetlinkFence.Runtime.CgroupHierarchy.UnitOf(cgroup),
        };

    private static async Task<SuggestedEntry> SuggestAsync(params DenialRecord[] records)
    {
        var learner = new DenialLearner();
        foreach (var record in records)
            learner.Observe(record);
        var report = await learner.SuggestAsync(await DenialLearnerTests.ResolvedAsync());
        return Assert.Single(report.Entries);
    }

    private static ServiceScope Scope(ServiceScopeKind kind, string value) => new(kind, value);

    [Fact]
    public async Task A_service_s_denials_suggest_its_unit_and_a_plain_cgroup_its_path()
    {
        var entry = await SuggestAsync(
            From("198.51.100.7", 123, 1, 118, "_chrony", "/system.slice/chrony.service"),
            From("198.51.100.7", 123, 2, 118, "_chrony", "/system.slice/chrony.service"),
            From("198.51.100.7", 123, 3, 0, "root", "/machine.slice/box"));
        Assert.Equal([Scope(ServiceScopeKind.Unit, "chrony.service"), Scope(ServiceScopeKind.Cgroup, "/machine.slice/box")], entry.By);
        Assert.Equal(0, entry.UnknownCgroup);
        Assert.Equal(["chrony.service", "/machine.slice/box"], entry.Ports.Single().Cgroups);
    }

    [Fact]
    public async Task A_session_scope_or_the_root_cgroup_is_no_unit_to_name_the_root_falls_back_to_the_user()
    {
        var entry = await SuggestAsync(
            From("198.51.100.7", 123, 1, 1000, "alice", "/user.slice/user-1000.slice/session-3.scope"),
            From("198.51.100.7", 123, 2, 0, "root", "/"),
            From("198.51.100.7", 123, 3, 4242, null, "/"));
        Assert.Equal([Scope(ServiceScopeKind.Cgroup, "/user.slice/user-1000.slice/session-3.scope"), Scope(ServiceScopeKind.User, "root"), Scope(ServiceScopeKind.Uid, "4242")], entry.By);
    }

    [Fact]
    public async Task Senders_whose_socket_was_gone_are_counted_and_named_by_user_only_when_no_cgroup_is_known()
    {
        var mixed = await SuggestAsync(
            From("198.51.100.7", 123, 1, 118, "_chrony", "/system.slice/chrony.service"),
            From("198.51.100.7", 123, 2, 118, "_chrony", null));
        Assert.Equal([Scope(ServiceScopeKind.Unit, "chrony.service")], mixed.By);
        Assert.Equal(1, mixed.UnknownCgroup);
        Assert.Contains("cgroup unknown", mixed.Ports.Single().Cgroups);

        var unknown = await SuggestAsync(From("198.51.100.7", 123, 1, 118, "_chrony", null), From("198.51.100.7", 123, 2, 118, "_chrony", null));
        Assert.Equal([Scope(ServiceScopeKind.User, "_chrony")], unknown.By);
        Assert.Equal(2, unknown.UnknownCgroup);

        // Records read without lookups (SocketCgroups off): the user, and nothing counted as unknown.
        var notLookedUp = await SuggestAsync(From("198.51.100.7", 123, 1, 118, "_chrony", null, lookedUp: false));
        Assert.Equal([Scope(ServiceScopeKind.User, "_chrony")], notLookedUp.By);
        Assert.Equal(0, notLookedUp.UnknownCgroup);
    }

    [Fact]
    public async Task More_senders_than_MaxScopes_get_no_by_and_a_comment_says_why()
    {
        var records = Enumerable.Range(0, DenialLearner.MaxScopes + 1)
            .Select(i => From("198.51.100.7", 123, i, 0, "root", $"/system.slice/s{i}.service")).ToArray();
        var entry = await SuggestAsync(records);
        Assert.Empty(entry.By);
        Assert.Equal(DenialLearner.MaxScopes + 1, entry.TooManySenders);
        var change = PolicyMerger.Merge(DenialLearnerTests.PolicyText, "policy.yaml", [entry]);
        Assert.Contains($"sent by {DenialLearner.MaxScopes + 1} different services or users: no 'by:' suggested", change.Diff);
        Assert.DoesNotContain("by:", change.Merged[DenialLearnerTests.PolicyText.Length..].Replace("'by:'", ""));
    }

    [Fact]
    public async Task The_merged_policy_carries_by_and_loads_back_as_the_same_scopes_even_for_odd_names()
    {
        var entry = await SuggestAsync(
            From("198.51.100.7", 123, 1, 118, "_chrony", "/system.slice/chrony.service"),
            From("198.51.100.7", 123, 2, 0, "root", "/odd, dir: \"x\" #1"),
            From("198.51.100.7", 123, 4, 0, "root", "/line\nbreak"),
            From("198.51.100.7", 123, 3, 0, "root", "/system.slice/foo\\x2dbar.service"));
        var change = PolicyMerger.Merge(DenialLearnerTests.PolicyText, "policy.yaml", [entry]);
        Assert.Contains("+      by: [{ unit: chrony.service }, { unit: \"foo\\\\x2dbar.service\" }, { cgroup: \"/line\\x0abreak\" }, { cgroup: \"/odd, dir: \\\"x\\\" #1\" }]", change.Diff);
        Assert.Contains("from _chrony (uid 118), root (uid 0); cgroups chrony.service, /odd, dir: \"x\" #1, /line?break, foo\\x2dbar.service\n", change.Diff);
        var loaded = PolicyLoader.Load(change.Merged, "policy.yaml").Egress[^1];
        Assert.Equal(entry.By.ToHashSet(), loaded.By.ToHashSet());
    }
}
