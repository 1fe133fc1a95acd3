using NetlinkFence.Tests.TestSupport;

namespace NetlinkFence.Tests.Import.Differential;

/// <summary>
/// The flows every ruleset of the differential tests is judged on: the union of the addresses and ports the rulesets
/// name plus neighbours of them that must stay denied, each tried over TCP, UDP and ICMP echo, outbound from the
/// agent and inbound from the world. Every address and port has a listener (<see cref="OpenPair"/>), so without a
/// firewall every flow is answered (<c>HarnessValidationTests</c>) and a denial can only be the firewall's.
/// </summary>
public static class FlowMatrix
{
    /// <summary>Where the agent sends to: resolvers, collector, IronClaw, repositories and addresses nobody allows.</summary>
    public static readonly string[] OutboundDestinations =
    [
        "192.168.1.10", "192.168.1.11", "192.168.1.20", "203.0.113.50", "198.51.100.20", "198.51.100.21", "198.51.100.7", "10.99.1.1",
        "2001:db8::50", "2001:db8::53", "2001:db8:100::20", "2001:db8::77",
    ];

    /// <summary>Where inbound flows come from: inside and outside the management networks (10.20.0.0/16, 2001:db8:20::/48).</summary>
    public static readonly string[] InboundSources = ["10.20.1.5", "10.21.1.5", "198.51.100.7", "2001:db8:20::5", "2001:db8:21::5"];

    public static readonly int[] OutboundTcpPorts = [22, 25, 53, 80, 443, 6514, 8000, 8050, 8443, 9000];
    public static readonly int[] OutboundUdpPorts = [53, 123, 514];
    public static readonly int[] InboundTcpPorts = [22, 80, 443, 8080, 8085, 9100];
    public static readonly int[] InboundUdpPorts = [161, 514];

    public static IReadOnlyList<Flow> Flows { get; } = Build();

    private static List<Flow> Build()
    {
        var flows = new List<Flow>();
        foreach (string destination in OutboundDestinations)
        {
            string agent = destination.Contains(':') ? AgentAndWorld.AgentV6 : AgentAndWorld.AgentV4;
            flows.AddRange(OutboundTcpPorts.Select(port => new Flow(FlowDirection.Outbound, FlowProtocol.Tcp, agent, destination, port)));
            flows.AddRange(OutboundUdpPorts.Select(port => new Flow(FlowDirection.Outbound, FlowProtocol.Udp, agent, destination, port)));
            flows.Add(new Flow(FlowDirection.Outbound, FlowProtocol.IcmpEcho, agent, destination, 0));
        }
        foreach (string source in InboundSources)
        {
            string agent = source.Contains(':') ? AgentAndWorld.AgentV6 : AgentAndWorld.AgentV4;
            flows.AddRange(InboundTcpPorts.Select(port => new Flow(FlowDirection.Inbound, FlowProtocol.Tcp, source, agent, port)));
            flows.AddRange(InboundUdpPorts.Select(port => new Flow(FlowDirection.Inbound, FlowProtocol.Udp, source, agent, port)));
            flows.Add(new Flow(FlowDirection.Inbound, FlowProtocol.IcmpEcho, source, agent, 0));
        }
        return flows;
    }

    /// <summary>
    /// A fresh agent and world holding every address of the matrix, with a listener for every flow: TCP greeters on
    /// the wildcard addresses (an accepted socket answers from the address it was reached at), UDP echoes bound to
    /// each address (an unbound one would answer from the interface's first address, which a connected client, and
    /// conntrack, would not take as the reply). ICMP echo is answered by the kernels.
    /// </summary>
    public static AgentAndWorld OpenPair()
    {
        var net = new AgentAndWorld([.. OutboundDestinations, .. InboundSources.Except(OutboundDestinations)]);
        try
        {
            foreach (int port in OutboundTcpPorts)
            {
                net.ListenTcp(net.World, "0.0.0.0", port);
                net.ListenTcp(net.World, "::", port);
            }
            foreach (string address in OutboundDestinations)
            {
                foreach (int port in OutboundUdpPorts)
                    net.ListenUdp(net.World, address, port);
            }
            foreach (int port in InboundTcpPorts)
            {
                net.ListenTcp(net.Agent, "0.0.0.0", port);
                net.ListenTcp(net.Agent, "::", port);
            }
            foreach (int port in InboundUdpPorts)
            {
                net.ListenUdp(net.Agent, AgentAndWorld.AgentV4, port);
                net.ListenUdp(net.Agent, AgentAndWorld.AgentV6, port);
            }
            return net;
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }
}
