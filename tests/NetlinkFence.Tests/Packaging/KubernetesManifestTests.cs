using System.Reflection;
using NetlinkFence.Policy;
using YamlDotNet.RepresentationModel;

namespace NetlinkFence.Tests.Packaging;

/// <summary>
/// deploy/kubernetes/: the security-relevant fields of the DaemonSet, by name (the schema validation in
/// run-integration.sh, tests/packaging/validate-manifests.mjs, checks types and required fields but cannot see a
/// misspelt field name, which Kubernetes' OpenAPI schema does not forbid), and the ConfigMap's policy loads.
/// </summary>
public sealed class KubernetesManifestTests
{
    private static readonly string Directory = Path.Combine(Kernel.ApplyPolicyTests.RepositoryRoot(), "deploy", "kubernetes");
    private const string PolicyPath = "/etc/netlinkfence/policy.yaml";

    private static YamlMappingNode Load(string file)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(Path.Combine(Directory, file));
        stream.Load(reader);   // resolves the anchors (&security, *security) into the same nodes
        return Assert.IsType<YamlMappingNode>(Assert.Single(stream.Documents).RootNode);
    }

    private static YamlNode At(YamlNode node, params string[] path)
    {
        foreach (string key in path)
        {
            var mapping = Assert.IsType<YamlMappingNode>(node);
            Assert.True(mapping.Children.TryGetValue(new YamlScalarNode(key), out var child), $"no '{key}' in {string.Join(".", path)}");
            node = child!;
        }
        return node;
    }

    private static string Scalar(YamlNode node, params string[] path) => Assert.IsType<YamlScalarNode>(At(node, path)).Value!;

    private static string[] List(YamlNode node, params string[] path) =>
        Assert.IsType<YamlSequenceNode>(At(node, path)).Children.Select(c => Assert.IsType<YamlScalarNode>(c).Value!).ToArray();

    private static YamlMappingNode PodSpec => Assert.IsType<YamlMappingNode>(At(Load("daemonset.yaml"), "spec", "template", "spec"));

    private static IEnumerable<YamlMappingNode> AllContainers() =>
        new[] { "initContainers", "containers" }.SelectMany(kind => Assert.IsType<YamlSequenceNode>(At(PodSpec, kind)).Children.Cast<YamlMappingNode>());

    [Fact]
    public void TheDaemonSetUsesTheNodesNetworkNamespace()
    {
        var daemonSet = Load("daemonset.yaml");
        Assert.Equal("apps/v1", Scalar(daemonSet, "apiVersion"));
        Assert.Equal("DaemonSet", Scalar(daemonSet, "kind"));
        Assert.Equal("true", Scalar(PodSpec, "hostNetwork"));
    }

    [Fact]
    public void EveryContainerHasNetAdminOnlyReadOnlyRootAndNoPrivilege()
    {
        var containers = AllContainers().ToList();
        Assert.Equal(2, containers.Count);   // the init container's apply and the daemon
        foreach (var container in containers)
        {
            string name = Scalar(container, "name");
            Assert.True("false" == Scalar(container, "securityContext", "privileged"), $"{name}: privileged");
            Assert.True("false" == Scalar(container, "securityContext", "allowPrivilegeEscalation"), $"{name}: allowPrivilegeEscalation");
            Assert.True("true" == Scalar(container, "securityContext", "readOnlyRootFilesystem"), $"{name}: readOnlyRootFilesystem");
            Assert.Equal(["NET_ADMIN"], List(container, "securityContext", "capabilities", "add"));
            Assert.Equal(["ALL"], List(container, "securityContext", "capabilities", "drop"));
            Assert.Equal("RuntimeDefault", Scalar(container, "securityContext", "seccompProfile", "type"));
            var mounts = Assert.IsType<YamlSequenceNode>(At(container, "volumeMounts")).Children.Cast<YamlMappingNode>().ToList();
            var policy = Assert.Single(mounts, m => Scalar(m, "name") == "policy");
            Assert.Equal("/etc/netlinkfence", Scalar(policy, "mountPath"));
            Assert.Equal("true", Scalar(policy, "readOnly"));
            // The only writable place, a tmpfs, where netlinkfence makes its state directory /run/netlinkfence (0700).
            var state = Assert.Single(mounts, m => Scalar(m, "name") == "state");
            Assert.Equal("/run", Scalar(state, "mountPath"));
        }
        Assert.Equal(["apply", PolicyPath], List(Assert.Single(Assert.IsType<YamlSequenceNode>(At(PodSpec, "initContainers")).Children), "args"));
        Assert.Equal(["run", PolicyPath], List(Assert.Single(Assert.IsType<YamlSequenceNode>(At(PodSpec, "containers")).Children), "args"));
    }

    [Fact]
    public void ReadinessIsVerifyOfTheMountedPolicy()
    {
        var daemon = Assert.IsType<YamlMappingNode>(Assert.Single(Assert.IsType<YamlSequenceNode>(At(PodSpec, "containers")).Children));
        Assert.Equal(["/usr/sbin/netlinkfence", "verify", PolicyPath], List(daemon, "readinessProbe", "exec", "command"));
    }

    [Fact]
    public void UpdatesRollOneNodeAtATime()
    {
        var spec = At(Load("daemonset.yaml"), "spec");
        Assert.Equal("RollingUpdate", Scalar(spec, "updateStrategy", "type"));
        Assert.Equal("1", Scalar(spec, "updateStrategy", "rollingUpdate", "maxUnavailable"));
        Assert.Equal("0", Scalar(spec, "updateStrategy", "rollingUpdate", "maxSurge"));   // two daemons cannot own one table
        Assert.True(int.Parse(Scalar(spec, "minReadySeconds"), System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public void ThePolicyComesFromTheImmutableConfigMapAndLoads()
    {
        var configMap = Load("configmap.yaml");
        string name = Scalar(configMap, "metadata", "name");
        Assert.Equal("true", Scalar(configMap, "immutable"));
        var volumes = Assert.IsType<YamlSequenceNode>(At(PodSpec, "volumes")).Children.Cast<YamlMappingNode>();
        var policy = Assert.Single(volumes, v => Scalar(v, "name") == "policy");
        Assert.Equal(name, Scalar(policy, "configMap", "name"));
        Assert.Equal("Memory", Scalar(Assert.Single(volumes, v => Scalar(v, "name") == "state"), "emptyDir", "medium"));

        var loaded = PolicyLoader.Load(Scalar(configMap, "data", "policy.yaml"), "deploy/kubernetes/configmap.yaml");
        Assert.False(loaded.SelfTest.IsEmpty);   // the init container's apply tests it before the node becomes ready
    }

    [Fact]
    public void TheImageTagIsTheProjectVersion()
    {
        string version = typeof(NetlinkFence.Cli.ExitCodes).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];
        foreach (var container in AllContainers())
            Assert.Equal($"netlinkfence:{version}", Scalar(container, "image"));
    }
}
