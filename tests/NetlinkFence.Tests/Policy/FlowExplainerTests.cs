using System.Net;
using System.Net.Sockets;
using NetlinkFence.Policy;
using NetlinkFence.Tests.Faults;

namespace NetlinkFence.Tests.Policy;

/// <summary>
/// probe's "why": the verdict is read from the compiled allow sets field by field (address, protocol, port each in
/// its range), names the entry the element is attributed to with its file:line, and tells an allowed address on
/// the wrong port from an address nothing allows.
/// </summary>
public sealed class FlowExplainerTests
{
    private static readonly CompiledPolicy Compiled = FaultPolicies.Compile("""
        version: 1
        egress:
          dns:
            resolvers: [192.168.1.10]
          allow:
            - name: control
              to: [203.0.113.50]
              tcp: [443]
            - name: fleet
              to: [10.0.0.0/8, "2001:db8::/32"]
              tcp: [8000-8100]
              udp: [53]
            - name: inner
              to: [10.1.2.0/24]
              tcp: [8080, 9000]
        """, "explain.yaml");

    private static FlowVerdict Explain(ProtocolType protocol, string address, ushort port) =>
        FlowExplainer.Explain(Compiled, protocol, IPAddress.Parse(address), port);

    [Fact]
    public void An_allowed_flow_names_its_entry_and_where_it_is()
    {
        var verdict = Explain(ProtocolType.Tcp, "203.0.113.50", 443);
        Assert.True(verdict.Allowed);
        Assert.Equal("allow entry 'control' at explain.yaml:6:7", verdict.Reason);
        Assert.Equal("allow entry 'fleet' at explain.yaml:9:7", Explain(ProtocolType.Udp, "2001:db8::1", 53).Reason);
    }

    [Fact]
    public void An_overlap_is_attributed_to_the_first_entry_and_the_inner_entrys_own_ports_to_it()
    {
        Assert.Equal("allow entry 'fleet' at explain.yaml:9:7", Explain(ProtocolType.Tcp, "10.1.2.3", 8080).Reason);
        Assert.Equal("allow entry 'inner' at explain.yaml:13:7", Explain(ProtocolType.Tcp, "10.1.2.3", 9000).Reason);
        // 9000 only inside the /24: the box holds addresses and ports, not a lexicographic key range.
        Assert.False(Explain(ProtocolType.Tcp, "10.1.3.0", 9000).Allowed);
        Assert.False(Explain(ProtocolType.Tcp, "10.1.2.3", 53).Allowed);
    }

    [Fact]
    public void A_known_address_on_another_port_or_protocol_is_told_apart_from_an_unknown_one()
    {
        Assert.Equal("203.0.113.50 is allowed, but not tcp/8443: logged and dropped by egress_denied", Explain(ProtocolType.Tcp, "203.0.113.50", 8443).Reason);
        Assert.Equal("203.0.113.50 is allowed, but not udp/443: logged and dropped by egress_denied", Explain(ProtocolType.Udp, "203.0.113.50", 443).Reason);
        Assert.Equal("no entry allows 198.51.100.7: logged and dropped by egress_denied", Explain(ProtocolType.Tcp, "198.51.100.7", 443).Reason);
        Assert.Equal("DNS to a named resolver at explain.yaml:4:17", Explain(ProtocolType.Udp, "192.168.1.10", 53).Reason);
        Assert.Equal("192.168.1.10 is allowed, but not udp/123: logged and dropped by egress_denied", Explain(ProtocolType.Udp, "192.168.1.10", 123).Reason);
    }

    [Fact]
    public void A_window_entrys_flow_passes_only_while_the_window_is_open_and_says_so()
    {
        // Window entries compile closed: no element holds them, so this used to read "no entry allows 198.51.100.20".
        var compiled = FaultPolicies.Compile("""
            version: 1
            hosts:
              mirror.example: [198.51.100.20]
            egress:
              allow:
                - name: control
                  to: [203.0.113.50]
                  tcp: [443]
                - name: updates
                  to: [mirror.example, 192.0.2.0/24]
                  tcp: [80, 443]
                  window: 30m
            """, "window.yaml");
        var pinned = FlowExplainer.Explain(compiled, ProtocolType.Tcp, IPAddress.Parse("198.51.100.20"), 443);
        Assert.False(pinned.Allowed);
        Assert.Equal("updates", pinned.Entry?.Name);
        Assert.Equal("window entry 'updates' at window.yaml:9:7 allows 198.51.100.20 tcp/443 only while it is open (for at most 30m); "
            + "closed, it is logged and dropped by egress_denied", pinned.Reason); // the CLI adds the open command for its policy and namespace
        Assert.StartsWith("window entry 'updates'", FlowExplainer.Explain(compiled, ProtocolType.Tcp, IPAddress.Parse("192.0.2.7"), 80).Reason);
        // Not its port or protocol: nothing allows it, open or not.
        Assert.Null(FlowExplainer.Explain(compiled, ProtocolType.Tcp, IPAddress.Parse("198.51.100.20"), 8080).Entry);
        Assert.Null(FlowExplainer.Explain(compiled, ProtocolType.Udp, IPAddress.Parse("192.0.2.7"), 443).Entry);
    }

    [Fact]
    public void A_denial_of_an_allowed_address_names_the_entry_it_belongs_to()
    {
        var otherPort = Explain(ProtocolType.Tcp, "203.0.113.50", 8443);
        Assert.Equal("control", otherPort.Entry?.Name);
        Assert.Equal("explain.yaml:6:7", otherPort.Entry?.Location.ToString());
        Assert.Equal("control", Explain(ProtocolType.Tcp, "203.0.113.50", 443).Entry?.Name);
        Assert.Null(Explain(ProtocolType.Tcp, "198.51.100.7", 443).Entry); // nothing allows the address
        Assert.Null(Explain(ProtocolType.Udp, "192.168.1.10", 123).Entry); // a resolver's element names no entry
    }
}
