using System.Net;
using NetlinkFence.Policy;

namespace NetlinkFence.Runtime;

/// <summary>
/// One DNS name the refresher keeps fresh: its live addresses with their expiry (what the kernel's element timeouts
/// say), when to ask again, and when a failure or the cap may be logged again. Merging an answer reuses the list:
/// nothing is allocated beyond the answer itself.
/// </summary>
internal sealed class TrackedName(string host)
{
    public string Host { get; } = host;

    /// <summary>The addresses handed to the kernel, each with when it expires there.</summary>
    public List<(IPAddress Address, DateTimeOffset Expires)> Addresses { get; } = [];

    /// <summary>Whether an answer with addresses came since tracking began (until then the applied addresses stand).</summary>
    public bool Answered { get; set; }

    /// <summary>When the name must be asked again (its floored TTL ran out).</summary>
    public DateTimeOffset Due { get; set; }

    /// <summary>The last floored TTL: failures are logged at most once per this.</summary>
    public TimeSpan LastTtl { get; set; }

    public DateTimeOffset QuietFailuresUntil { get; set; }

    public DateTimeOffset QuietCapUntil { get; set; }

    /// <summary>Until when answers holding addresses a name may not open (see AnswerScreen) are not logged again.</summary>
    public DateTimeOffset QuietRefusedUntil { get; set; }

    /// <summary>Drops addresses whose expiry passed (the kernel dropped them already).</summary>
    public void Prune(DateTimeOffset now)
    {
        // A loop, not RemoveAll(lambda): the lambda would capture now and allocate on every refresh.
        for (int i = Addresses.Count - 1; i >= 0; i--)
        {
            if (Addresses[i].Expires <= now)
                Addresses.RemoveAt(i);
        }
    }

    /// <summary>
    /// Merges an answer received at <paramref name="now"/>: every answered address lives until now + floored TTL +
    /// grace (never shortened); earlier addresses keep their expiry. Beyond the cap, the ones expiring first go
    /// (among equals, the later in answer order). Returns how many were dropped by the cap.
    /// </summary>
    public int Merge(IReadOnlyList<DnsAddress> answer, DateTimeOffset now, DnsSettings settings)
    {
        Prune(now);
        var smallest = TimeSpan.MaxValue;
        for (int i = 0; i < answer.Count; i++)
        {
            var (address, ttl) = answer[i];
            if (ttl < smallest)
                smallest = ttl;
            var expires = now + settings.Lifetime(ttl);
            int at = IndexOf(address);
            if (at < 0)
                Addresses.Add((address, expires));
            else if (Addresses[at].Expires < expires)
                Addresses[at] = (address, expires);
        }
        LastTtl = settings.Bound(smallest);
        Due = now + LastTtl;
        int dropped = 0;
        while (Addresses.Count > settings.MaxAddressesPerName)
        {
            Addresses.RemoveAt(FirstToExpire());
            dropped++;
        }
        return dropped;
    }

    private int IndexOf(IPAddress address)
    {
        for (int i = 0; i < Addresses.Count; i++)
        {
            if (Addresses[i].Address.Equals(address))
                return i;
        }
        return -1;
    }

    private int FirstToExpire()
    {
        int first = Addresses.Count - 1;
        for (int i = Addresses.Count - 2; i >= 0; i--)
        {
            if (Addresses[i].Expires < Addresses[first].Expires)
                first = i;
        }
        return first;
    }
}
