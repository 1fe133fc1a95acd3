using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using NetlinkFence.Nftables;

namespace NetlinkFence.Cli;

/// <summary>
/// <c>netlinkfence demo</c>: commits the seed discussion's egress ruleset (built with the library, not from a
/// policy file) in one atomic transaction, reads it back from the kernel and prints it.
/// </summary>
internal static class DemoVerb
{
    public static Command Create()
    {
        var command = new Command("demo", "commit the example egress ruleset with the library and read it back (use with --netns)") { CommonOptions.Table };
        command.SetAction((parse, cancellationToken) => ExitCodes.Run(async () =>
        {
            string name = parse.GetValue(CommonOptions.Table)!;
            await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = parse.GetValue(CommonOptions.NetworkNamespace) }, cancellationToken);
            uint generation = await nft.GetGenerationAsync(cancellationToken);
            var transaction = ExampleRuleset.Replace(name);
            var result = await nft.CommitAsync(transaction, new CommitOptions { ExpectedGeneration = generation }, cancellationToken);
            Console.WriteLine($"committed {transaction.Count} operations in one batch ({result.Messages} messages, {result.Bytes} bytes) "
                + $"in {result.Elapsed.TotalMilliseconds:0.00} ms; generation {result.GenerationBefore} -> {result.GenerationAfter}");
            var contents = await nft.ListTableAsync(NftFamily.Inet, name, cancellationToken)
                ?? throw new InvalidOperationException("the table vanished right after the commit");
            Console.Write(Rendering.Renderer.Render(contents));
            return ExitCodes.Ok;
        }));
        return command;
    }
}

/// <summary>The seed's egress setup: IronClaw API 203.0.113.50:443, resolver 192.168.1.10, syslog-TLS 192.168.1.20:6514.</summary>
internal static class ExampleRuleset
{
    public static Transaction Replace(string name)
    {
        const NftFamily Inet = NftFamily.Inet;
        var table = new Table(Inet, name);
        var tx = new Transaction().DestroyTable(table).AddTable(table);
        tx.AddChain(new Chain(Inet, name, "input", new ChainHook("filter", HookPoint.Input, 0, ChainPolicy.Drop)));
        tx.AddChain(new Chain(Inet, name, "forward", new ChainHook("filter", HookPoint.Forward, 0, ChainPolicy.Drop)));
        tx.AddChain(new Chain(Inet, name, "output", new ChainHook("filter", HookPoint.Output, 0, ChainPolicy.Drop)));
        tx.AddChain(new Chain(Inet, name, "ingress_denied"));
        tx.AddChain(new Chain(Inet, name, "egress_denied"));

        var dns = new NftSet(Inet, name, "dns_v4", [SetKeyType.Ipv4Address]);
        var allow = new NftSet(Inet, name, "allow_tcp_v4", [SetKeyType.Ipv4Address, SetKeyType.InetService]);
        tx.AddSet(dns).AddElements(dns, [new SetElement(new DataValue(IPAddress.Parse("192.168.1.10").GetAddressBytes()))]);
        tx.AddSet(allow).AddElements(allow,
        [
            new SetElement(AddressPort("203.0.113.50", 443)),
            new SetElement(AddressPort("192.168.1.20", 6514)),
        ]);

        Rule R(string chain, Func<RuleBuilder, Rule> build) => build(new RuleBuilder(Inet, name, chain));
        const uint Loopback = 1;
        // An explicit drop: during a re-apply the old chains are unhooked before the new ones get their drop policy.
        tx.AddRule(R("forward", r => r.Counter().Drop()));
        tx.AddRule(R("input", r => r.InputInterface(Loopback).Accept()));
        tx.AddRule(R("input", r => r.CtState(CtState.Established).Accept()));
        tx.AddRule(R("input", r => r.CtState(CtState.Related).L4Protocol(ProtocolType.Icmp).Accept()));
        tx.AddRule(R("input", r => r.CtState(CtState.Related).L4Protocol(ProtocolType.IcmpV6).Accept()));
        tx.AddRule(R("input", r => r.CtState(CtState.Invalid).Drop()));
        tx.AddRule(R("input", r => r.Jump("ingress_denied")));
        tx.AddRule(R("output", r => r.OutputInterface(Loopback).Accept()));
        tx.AddRule(R("output", r => r.CtState(CtState.Established | CtState.Related).Accept()));
        tx.AddRule(R("output", r => r.CtState(CtState.Invalid).Drop()));
        tx.AddRule(R("output", r => r.DestinationIn(AddressFamily.InterNetwork, "dns_v4").DestinationPort(ProtocolType.Udp, 53).Accept("dns")));
        tx.AddRule(R("output", r => r.DestinationIn(AddressFamily.InterNetwork, "dns_v4").DestinationPort(ProtocolType.Tcp, 53).Accept("dns")));
        tx.AddRule(R("output", r => r.DestinationAndPortIn(AddressFamily.InterNetwork, ProtocolType.Tcp, "allow_tcp_v4").Counter().Accept("ironclaw-control, syslog-tls")));
        tx.AddRule(R("output", r => r.Jump("egress_denied")));
        tx.AddRule(R("ingress_denied", r => r.Limit(10, 1).Log("INGRESS-DENIED: ").Build()));
        tx.AddRule(R("ingress_denied", r => r.Counter().Drop()));
        tx.AddRule(R("egress_denied", r => r.Limit(10, 1).Log("EGRESS-DENIED: ").Build()));
        tx.AddRule(R("egress_denied", r => r.Counter().Drop()));
        return tx;
    }

    private static DataValue AddressPort(string address, ushort port)
    {
        // Concatenated keys: each field padded to a 32-bit register.
        Span<byte> key = stackalloc byte[8];
        IPAddress.Parse(address).TryWriteBytes(key, out _);
        key[4] = (byte)(port >> 8);
        key[5] = (byte)port;
        return new DataValue(key);
    }
}
