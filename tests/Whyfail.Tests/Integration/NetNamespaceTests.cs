using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;
using static Whyfail.Tests.Integration.ContextTests;

namespace Whyfail.Tests.Integration;

/// <summary>
/// A refused connect by a process that exits at once, explained against the network namespace it was in (the
/// context's net_ns), not whyfail's: while this test listens on the very port in whyfail's namespace, a client in a
/// private namespace (unshare -n) must not be told that something listens. The namespace is read through a live
/// process still in it, or, when none is left, not at all (the process.gone note says so).
/// </summary>
[Collection("tracing")]
[Trait("suite", "integration")]
public class NetNamespaceTests
{
    private static string P(string name) => WhyfailRunner.Program(name);

    private static IEnumerable<JsonElement> Explanations(JsonElement ev) => ev.GetProperty("explanation").EnumerateArray();

    private static JsonElement? Why(JsonElement ev, string rule) =>
        Explanations(ev).Where(x => x.GetProperty("rule").GetString() == rule).Select(x => (JsonElement?)x).FirstOrDefault();

    private static string? Text(JsonElement ev, string rule) => Why(ev, rule)?.GetProperty("text").GetString();

    /// <summary>The inode number of this process's (and so whyfail's) network namespace, from "net:[N]".</summary>
    private static long OwnNetNs()
    {
        var link = new FileInfo("/proc/self/ns/net").LinkTarget!;
        return long.Parse(Regex.Match(link, @"net:\[(\d+)\]").Groups[1].Value);
    }

    /// <summary>
    /// Runs <paramref name="script"/> (given the port) in a private network namespace while this test listens on the port
    /// in whyfail's, until whyfail analysed the client's refused connect after the client exited (at most 4 runs; one
    /// analysed while it ran read its /proc/PID/net, which is right but not the case here), then checks it.
    /// </summary>
    private static void RefusedAfterTheClientExited(Func<int, string> script, Action<JsonElement, int> check, Func<JsonElement, bool>? retry = null)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            for (int attempt = 0; attempt < 4; attempt++)
            {
                var run = WhyfailRunner.Run("--", "unshare", "-n", "sh", "-c", $"ip link set lo up && {script(port)}");
                Assert.True(run.ExitCode == 1, run.ToString());
                var ev = Assert.Single(run.Failures("connect", "ECONNREFUSED"));
                var ns = ev.GetProperty("context").GetProperty("net_ns");
                Assert.True(ns.ValueKind == JsonValueKind.Number && ns.GetInt64() != 0 && ns.GetInt64() != OwnNetNs(), ev.ToString());
                var all = string.Join("\n", Explanations(ev).Select(x => x.GetProperty("text").GetString()));
                Assert.DoesNotContain("something listens", all);
                Assert.DoesNotContain("this network namespace", all);
                if (Text(ev, "net.connection_refused") is { } live && Regex.IsMatch(live, @"in pid \d+'s network namespace$")) continue;
                if (retry?.Invoke(ev) == true) continue;
                check(ev, port);
                return;
            }
            Assert.Fail("in 4 runs, whyfail always analysed the failure while the client was still alive (or, where a process keeps the namespace, after it too had gone)");
        }
        finally { listener.Stop(); }
    }

    [Fact]
    public void ARefusedConnectInAPrivateNamespaceThatIsGoneIsNotReadInOurs() =>
        // exec: the client is the namespace's only process, so the namespace goes with it.
        RefusedAfterTheClientExited(port => $"exec {P("tcp_port")} connect {port}", (ev, _) =>
        {
            // what is known is said (not certain): a namespace of its own, whose loopback is not this machine's
            var text = Text(ev, "net.connection_refused");
            Assert.True(text != null, ev.ToString());
            Assert.Contains("was in a network namespace of its own (not whyfail's), and nothing there accepted 127.0.0.1:", text);
            Assert.Contains("127.0.0.1 there is that namespace's own loopback, not this machine's", text);
            // Why the listeners are unknown, said once: the namespace and its pid are named at the start.
            Assert.Contains("what listened in it could not be read, as no process is left in that namespace; ", text);
            Assert.Single(Regex.Matches(text, @"\bpid \d+"));
            Assert.False(Why(ev, "net.connection_refused")!.Value.GetProperty("certain").GetBoolean(), ev.ToString());
            Assert.Contains("does not hold the sockets of its network namespace (no process is left in that namespace", Text(ev, "process.gone"));
        });

    [Fact]
    public void ARefusedConnectInOurNamespaceNamesItAndNeedsNothingOfTheGoneProcess()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var run = WhyfailRunner.Run("--", P("tcp_port"), "connect", port.ToString());
        Assert.True(run.ExitCode == 1, run.ToString());
        var ev = Assert.Single(run.Failures("connect", "ECONNREFUSED"));
        Assert.Equal(OwnNetNs(), ev.GetProperty("context").GetProperty("net_ns").GetInt64());
        Assert.Contains($"nothing is listening on 127.0.0.1:{port}: no TCP socket is in LISTEN state on port {port} in this network namespace",
            Text(ev, "net.connection_refused"));
        Assert.DoesNotContain("process.gone", Rules(ev));
    }

    [Fact]
    public void ARefusedConnectInANamespaceThatOutlivesTheClientIsReadThroughAProcessStillInIt() =>
        // sleep (and sh) keep the namespace after the client exits; a run whose analysis came after the sleep too had
        // ended (the lab's emulated 6.1 can take seconds) found the namespace gone, and is tried again.
        RefusedAfterTheClientExited(port => $"{{ sleep 6 & {P("tcp_port")} connect {port}; r=$?; wait; exit $r; }}", (ev, port) =>
        {
            var text = Text(ev, "net.connection_refused");
            Assert.True(text != null, ev.ToString());
            Assert.Contains($"nothing is listening on 127.0.0.1:{port}: no TCP socket is in LISTEN state on port {port} in ", text);
            Assert.Matches(@"in the network namespace pid (\d+) was in \(read through pid (?!\1\))\d+\)$", text);
            Assert.DoesNotContain("process.gone", Rules(ev));
        }, ev => Text(ev, "net.connection_refused")?.Contains("was in a network namespace of its own (not whyfail's)") == true);
}
