using System.Diagnostics.Tracing;

namespace NetlinkFence.Benchmarks;

/// <summary>
/// The runtime's allocation sampling (GCAllocationTick, about one event per 100 KB allocated) summed by type, for
/// finding what a path allocates: create it (the runtime's events start flowing), <see cref="Start"/> where the
/// measured part begins, <see cref="Print"/> at its end.
/// </summary>
internal sealed class AllocationTypes : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly Dictionary<string, long> _bytes = [];
    private bool _on;

    public void Start() => _on = true;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, EventLevel.Verbose, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_on || e.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null || e.PayloadNames is null)
            return;
        int type = e.PayloadNames.IndexOf("TypeName"), amount = e.PayloadNames.IndexOf("AllocationAmount64");
        if (type < 0 || amount < 0)
            return;
        lock (_bytes)
            _bytes[(string)e.Payload[type]!] = _bytes.GetValueOrDefault((string)e.Payload[type]!) + Convert.ToInt64(e.Payload[amount]);
    }

    /// <summary>Stops counting and prints the <paramref name="top"/> types by sampled bytes.</summary>
    public void Print(int top)
    {
        _on = false;
        lock (_bytes)
        {
            long total = _bytes.Values.Sum();
            Console.WriteLine($"  sampled allocations by type ({total / 1024} KiB sampled):");
            foreach (var (type, bytes) in _bytes.OrderByDescending(p => p.Value).Take(top))
                Console.WriteLine($"    {bytes / 1024,8} KiB  {type}");
        }
    }
}
