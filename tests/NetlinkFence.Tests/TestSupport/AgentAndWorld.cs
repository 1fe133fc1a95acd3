using System.Net;
using System.Net.Sockets;
using NetlinkFence.Interop;

namespace NetlinkFence.Tests.TestSupport;

/// <summary>
/// Two fresh network namespaces joined by a veth pair: "agent" (where the policy is applied) and "world"
/// (which holds every address the agent may or may not reach). All traffic stays on this veth pair.
/// </summary>
public sealed class AgentAndWorld : IDisposable
{
    public const string AgentV4 = "203.0.113.2", AgentV6 = "2001:db8::2";

    private readonly List<Socket> _listeners = [];
    private readonly CancellationTokenSource _stop = new();

    public AgentAndWorld(params string[] worldAddresses)
    {
        Agent = TestNamespace.Create();
        World = TestNamespace.Create();
        string veth = "v" + Agent.Name.GetHashCode().ToString("x8")[..6];
        AgentInterface = veth + "a";
        WorldInterface = veth + "w";
        TestNamespace.Run("ip", $"link add {veth}a netns {Agent.Name} type veth peer name {veth}w netns {World.Name}");
        Agent.Exec("ip", $"link set {veth}a up");
        World.Exec("ip", $"link set {veth}w up");
        Agent.Exec("ip", $"addr add {AgentV4}/24 dev {veth}a");
        Agent.Exec("ip", $"-6 addr add {AgentV6}/64 dev {veth}a nodad");
        // Everything is one hop away: the world answers neighbour discovery for all of its addresses.
        Agent.Exec("ip", $"route add default dev {veth}a");
        Agent.Exec("ip", $"-6 route add default dev {veth}a");
        foreach (string address in worldAddresses)
        {
            bool v6 = address.Contains(':');
            World.Exec("ip", $"{(v6 ? "-6 " : "")}addr add {address}/{(v6 ? 64 : 32)} dev {veth}w{(v6 ? " nodad" : "")}");
        }
        World.Exec("ip", $"route add default dev {veth}w");
        World.Exec("ip", $"-6 route add default dev {veth}w");
    }

    public TestNamespace Agent { get; }

    public TestNamespace World { get; }

    /// <summary>The agent's end of the veth pair.</summary>
    public string AgentInterface { get; }

    /// <summary>The world's end of the veth pair.</summary>
    public string WorldInterface { get; }

    /// <summary>A TCP listener in the world that answers every connection with "hello".</summary>
    public void ListenTcp(string address, int port) => ListenTcp(World, address, port);

    /// <summary>
    /// A TCP listener in <paramref name="side"/> (the agent or the world) that answers every connection with "hello";
    /// <c>0.0.0.0</c> or <c>::</c> listens on every address of that family only (never dual-stack).
    /// </summary>
    public void ListenTcp(TestNamespace side, string address, int port)
    {
        var listener = NetworkNamespace.Run(side.Path, () =>
        {
            var socket = new Socket(IPAddress.Parse(address).AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (socket.AddressFamily == AddressFamily.InterNetworkV6)
                socket.DualMode = false;
            socket.Bind(new IPEndPoint(IPAddress.Parse(address), port));
            socket.Listen(512); // room for a few hundred connections arriving at once (the differential matrix)
            return socket;
        });
        _listeners.Add(listener);
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    using var client = await listener.AcceptAsync(_stop.Token);
                    await client.SendAsync("hello"u8.ToArray(), SocketFlags.None);
                    client.Shutdown(SocketShutdown.Both);
                }
                catch (Exception) when (_stop.IsCancellationRequested)
                {
                    return;
                }
                catch (SocketException)
                {
                }
            }
        });
    }

    /// <summary>A UDP responder in the world that echoes every datagram.</summary>
    public void ListenUdp(string address, int port) => ListenUdp(World, address, port);

    /// <summary>A UDP responder in <paramref name="side"/> (the agent or the world) that echoes every datagram.</summary>
    public void ListenUdp(TestNamespace side, string address, int port)
    {
        var socket = NetworkNamespace.Run(side.Path, () =>
        {
            var s = new Socket(IPAddress.Parse(address).AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.Parse(address), port));
            return s;
        });
        _listeners.Add(socket);
        _ = Task.Run(async () =>
        {
            var buffer = new byte[512];
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    EndPoint any = socket.AddressFamily == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
                    var received = await socket.ReceiveFromAsync(buffer, any, _stop.Token);
                    await socket.SendToAsync(buffer.AsMemory(0, received.ReceivedBytes), received.RemoteEndPoint);
                }
                catch (Exception) when (_stop.IsCancellationRequested)
                {
                    return;
                }
                catch (SocketException)
                {
                }
            }
        });
    }

    /// <summary>
    /// The timeout for a flow a test expects to get through: as long as a loaded 2-core CI machine may need (CI once
    /// took more than the default 1.5 s for one), and free when it does get through. A flow expected to be denied keeps
    /// the short default, which it always waits out.
    /// </summary>
    public const int ExpectedThroughMs = 10_000;

    /// <summary>Connects from the agent and reads the greeting; true when the connection and its reply got through.</summary>
    public bool TcpReachable(string address, int port, int timeoutMilliseconds = 1500)
    {
        var socket = NetworkNamespace.Run(Agent.Path, () => new Socket(IPAddress.Parse(address).AddressFamily, SocketType.Stream, ProtocolType.Tcp));
        using (socket)
        {
            try
            {
                using var timeout = new CancellationTokenSource(timeoutMilliseconds);
                socket.ConnectAsync(IPAddress.Parse(address), port, timeout.Token).AsTask().GetAwaiter().GetResult();
                var buffer = new byte[16];
                int read = socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).AsTask().GetAwaiter().GetResult();
                return read == 5;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                return false;
            }
        }
    }

    /// <summary>Sends a datagram from the agent; true when the echo came back.</summary>
    public bool UdpReachable(string address, int port, int timeoutMilliseconds = 1500)
    {
        var socket = NetworkNamespace.Run(Agent.Path, () => new Socket(IPAddress.Parse(address).AddressFamily, SocketType.Dgram, ProtocolType.Udp));
        using (socket)
        {
            try
            {
                using var timeout = new CancellationTokenSource(timeoutMilliseconds);
                socket.Connect(IPAddress.Parse(address), port);
                socket.Send("ping"u8);
                var buffer = new byte[16];
                int read = socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).AsTask().GetAwaiter().GetResult();
                return read == 4;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                return false;
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        foreach (var socket in _listeners)
            socket.Dispose();
        Agent.Dispose();
        World.Dispose();
    }
}
