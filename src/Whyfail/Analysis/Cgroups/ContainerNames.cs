using System.Text.RegularExpressions;
using Whyfail.Events;

namespace Whyfail.Analysis.Cgroups;

/// <summary>
/// What a cgroup v2 path names, read from the naming conventions of the container runtimes and systemd
/// (a table: one pattern per convention; the innermost component that matches wins).
/// </summary>
public static partial class ContainerNames
{
    private static readonly (Regex Pattern, string Runtime)[] Containers =
    [
        (DockerScope(), "docker"),            // systemd cgroup driver: docker-<id>.scope
        (ContainerdScope(), "containerd"),    // cri-containerd-<id>.scope (Kubernetes with containerd)
        (CrioScope(), "cri-o"),               // crio-<id>.scope
        (LibpodScope(), "podman"),            // libpod-<id>.scope, libpod-payload-<id>
    ];

    public static CgroupInfo Describe(string path)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string? pod = null;
        foreach (var p in parts)
            if (KubePod().Match(p) is { Success: true } m)
                pod = (m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value).Replace('_', '-');
        for (int i = parts.Length - 1; i >= 0; i--)
        {
            foreach (var (pattern, runtime) in Containers)
                if (pattern.Match(parts[i]) is { Success: true } m)
                    return new CgroupInfo(path, runtime, m.Groups[1].Value, pod);
            // The cgroupfs driver: /docker/<id>, or a bare id under a Kubernetes pod (runtime not named).
            if (i > 0 && BareId().IsMatch(parts[i]) && (parts[i - 1] == "docker" || pod != null))
                return new CgroupInfo(path, parts[i - 1] == "docker" ? "docker" : "kubernetes", parts[i], pod);
        }
        // A systemd service: the innermost NAME.service (system.slice/nginx.service, user@1000.service/…/app.service).
        for (int i = parts.Length - 1; i >= 0; i--)
            if (parts[i].EndsWith(".service", StringComparison.Ordinal))
                return new CgroupInfo(path, Service: parts[i]);
        return new CgroupInfo(path);
    }

    [GeneratedRegex("^docker-([0-9a-f]{64})\\.scope$")] private static partial Regex DockerScope();
    [GeneratedRegex("^[0-9a-f]{64}$")] private static partial Regex BareId();
    [GeneratedRegex("^cri-containerd-([0-9a-f]{64})\\.scope$")] private static partial Regex ContainerdScope();
    [GeneratedRegex("^crio-([0-9a-f]{64})\\.scope$")] private static partial Regex CrioScope();
    [GeneratedRegex("^libpod-(?:payload-)?([0-9a-f]{64})(?:\\.scope)?$")] private static partial Regex LibpodScope();
    [GeneratedRegex("^kubepods(?:-[a-z]+)?-pod([0-9a-f_-]{36})\\.slice$|^pod([0-9a-f-]{36})$")] private static partial Regex KubePod();
}
