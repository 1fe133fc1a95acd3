using System.Net;

namespace NetlinkFence.Policy;

/// <summary>One address of a DNS answer with the TTL its record carried.</summary>
/// <param name="Address">An A or AAAA address.</param>
/// <param name="Ttl">The record's TTL as answered (not floored).</param>
public readonly record struct DnsAddress(IPAddress Address, TimeSpan Ttl);

/// <summary>The A and AAAA answer for one name, from one resolver.</summary>
/// <param name="Host">The name asked for.</param>
/// <param name="Addresses">Every address, in answer order (A first), with its TTL; empty when the name did not resolve.</param>
/// <param name="Resolver">Which resolver answered (or was asked last, on failure), e.g. <c>192.168.1.10:53</c>.</param>
/// <param name="Error">Why there are no addresses (timeout, NXDOMAIN, ...); null when the lookup worked.</param>
public sealed record DnsAnswer(string Host, IReadOnlyList<DnsAddress> Addresses, string Resolver, string? Error = null)
{
    /// <summary>The smallest TTL of the answer (the name must be asked again by then); null when empty.</summary>
    public TimeSpan? Ttl
    {
        get
        {
            TimeSpan? smallest = null;
            foreach (var address in Addresses)
                smallest = smallest is { } s && s <= address.Ttl ? s : address.Ttl;
            return smallest;
        }
    }
}

/// <summary>A resolver whose answers carry TTLs, so names can follow DNS (see <see cref="Runtime.DnsRefresher"/>).</summary>
public interface ITtlHostResolver : IHostResolver
{
    /// <summary>Asks for the A and AAAA records of <paramref name="host"/>; a failure is an answer with no addresses and an <see cref="DnsAnswer.Error"/>, never an exception.</summary>
    Task<DnsAnswer> LookupAsync(string host, CancellationToken cancellationToken);

    /// <summary>Asks for many names at once (one answer per name, in order); implementations may batch (one namespace thread for all).</summary>
    async Task<IReadOnlyList<DnsAnswer>> LookupManyAsync(IReadOnlyList<string> hosts, CancellationToken cancellationToken)
    {
        var answers = new DnsAnswer[hosts.Count];
        for (int i = 0; i < hosts.Count; i++)
            answers[i] = await LookupAsync(hosts[i], cancellationToken).ConfigureAwait(false);
        return answers;
    }
}
