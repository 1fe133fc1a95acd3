using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using NetlinkFence.Interop;

namespace NetlinkFence.Logging.Syslog;

/// <summary>
/// Decides whether a collector's certificate is acceptable: it must chain to a certificate of the CA file, which
/// is the ONLY trust anchor (custom root trust: the system store plays no part), be valid now, allow server
/// authentication, and name the host we connected to in its subjectAltName (an IP address or a DNS name).
/// The TLS library's own verdict (<c>SslPolicyErrors</c>, computed against the system store) is not used.
/// </summary>
internal sealed class CollectorTrust
{
    private const int MaxPemBytes = 1 << 20;
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");

    private readonly X509Certificate2Collection _anchors;
    private readonly string _caFile;

    private CollectorTrust(X509Certificate2Collection anchors, string caFile)
    {
        _anchors = anchors;
        _caFile = caFile;
    }

    /// <summary>Reads the CA file; <see cref="SyslogTlsException"/> with the path and errno when it cannot be read, or holds no certificate.</summary>
    public static CollectorTrust Load(string caFile)
    {
        var anchors = new X509Certificate2Collection();
        try
        {
            anchors.ImportFromPem(ReadPem(caFile, "CA file"));
        }
        catch (CryptographicException e)
        {
            throw new SyslogTlsException($"the CA file {caFile} is not a PEM certificate: {e.Message}", null, e);
        }
        if (anchors.Count == 0)
            throw new SyslogTlsException($"the CA file {caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        return new CollectorTrust(anchors, caFile);
    }

    /// <summary>The client certificate with its key, for collectors that authenticate senders.</summary>
    public static X509Certificate2 LoadClientCertificate(string certificateFile, string keyFile)
    {
        string certificate = ReadPem(certificateFile, "client certificate file");
        string key = ReadPem(keyFile, "client key file");
        try
        {
            return X509Certificate2.CreateFromPem(certificate, key);
        }
        catch (CryptographicException e)
        {
            throw new SyslogTlsException($"the client certificate {certificateFile} with key {keyFile} cannot be used: {e.Message}", null, e);
        }
    }

    private static string ReadPem(string path, string what)
    {
        try
        {
            return Encoding.ASCII.GetString(RegularFile.Read(path, MaxPemBytes));
        }
        catch (ErrnoException e)
        {
            throw new SyslogTlsException($"cannot read the {what} {path}: {ErrnoException.Describe(e.Errno)} ({e.ErrnoName})", e.Errno, e);
        }
        catch (NotARegularFileException e)
        {
            throw new SyslogTlsException($"the {what} {path} is {e.Kind}, not a regular file", null, e);
        }
    }

    /// <summary>Null when the certificate is acceptable for <paramref name="host"/>; otherwise why not, in a sentence.</summary>
    public string? Check(X509Certificate? presented, X509Chain? presentedChain, string host, string endpoint)
    {
        if (presented is null)
            return $"{endpoint} sent no certificate";
        using var owned = presented as X509Certificate2 is null ? X509CertificateLoader.LoadCertificate(presented.GetRawCertData()) : null;
        var leaf = owned ?? (X509Certificate2)presented;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_anchors);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // no network beyond the collector
        chain.ChainPolicy.ApplicationPolicy.Add(ServerAuthentication);
        // Intermediates the collector sent may complete the path; they are never anchors.
        foreach (var element in presentedChain?.ChainElements ?? Enumerable.Empty<X509ChainElement>())
        {
            if (!element.Certificate.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span))
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        }
        bool built = chain.Build(leaf);
        var root = chain.ChainElements.Count > 0 ? chain.ChainElements[^1].Certificate : null;
        bool anchored = root is not null && _anchors.Any(a => a.RawDataMemory.Span.SequenceEqual(root.RawDataMemory.Span));
        string who = $"certificate of {endpoint} ({leaf.Subject}, issued by {leaf.Issuer})";
        if (!built || !anchored)
        {
            var statuses = chain.ChainStatus.Select(s => s.Status).Distinct().ToList();
            string detail = statuses.Count == 0 ? "its chain does not end at a certificate of the CA file" : string.Join(", ", statuses);
            return statuses.Any(s => s is X509ChainStatusFlags.UntrustedRoot or X509ChainStatusFlags.PartialChain or X509ChainStatusFlags.NotSignatureValid) || !anchored
                ? $"{who} is not signed by {_caFile}: {detail}"
                : $"{who} is refused: {detail}";
        }
        if (!leaf.MatchesHostname(host, allowWildcards: true, allowCommonName: false))
            return $"{who} does not name {host} in its subjectAltName";
        return null;
    }
}
