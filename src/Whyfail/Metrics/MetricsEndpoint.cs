using System.Net;

namespace Whyfail.Metrics;

/// <summary>Where --metrics listens: ADDR:PORT, [IPv6]:PORT, :PORT or PORT (all addresses).</summary>
public sealed record MetricsEndpoint(string Host, int Port)
{
    /// <summary>The host as HttpListener wants it: "+" for every address, IPv6 in brackets.</summary>
    public string ListenerHost => Host switch
    {
        "" or "*" or "0.0.0.0" or "::" => "+",
        _ when IPAddress.TryParse(Host, out var a) && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 => $"[{Host}]",
        _ => Host,
    };

    public override string ToString() => $"{(Host.Contains(':') ? $"[{Host}]" : Host.Length == 0 ? "*" : Host)}:{Port}";

    public static MetricsEndpoint Parse(string value)
    {
        string host = "", port = value.Trim();
        if (port.StartsWith('['))
        {
            int close = port.IndexOf(']');
            if (close < 0 || close + 1 >= port.Length || port[close + 1] != ':') throw Bad(value);
            host = port[1..close];
            port = port[(close + 2)..];
        }
        else if (port.LastIndexOf(':') is var colon and >= 0)
        {
            host = port[..colon];
            port = port[(colon + 1)..];
            if (host.Contains(':')) throw Bad(value); // IPv6 without brackets
        }
        if (!int.TryParse(port, out int p) || p is < 1 or > 65535) throw Bad(value);
        if (host.Length > 0 && host != "*" && host != "localhost" && !IPAddress.TryParse(host, out _))
            throw new WhyfailException($"--metrics {value}: '{host}' is not an IP address (give 127.0.0.1, 0.0.0.0, [::1], localhost or *)", ExitCodes.Usage);
        return new MetricsEndpoint(host, p);
    }

    private static WhyfailException Bad(string value) =>
        new($"--metrics {value}: expected ADDR:PORT, e.g. 127.0.0.1:9464, [::1]:9464 or :9464 (every address)", ExitCodes.Usage);
}
