namespace Whyfail.Events;

/// <summary>
/// The cgroup a failing call's process was in, and what its path names: a container (docker, containerd or
/// CRI-O under Kubernetes, podman) with its id and, under Kubernetes, the pod's uid; or a systemd service.
/// </summary>
/// <param name="Path">The cgroup v2 path, from the hierarchy's root ("/system.slice/docker-3f2a….scope").</param>
/// <param name="Runtime">"docker", "containerd", "cri-o", "podman", or null when no container is named.</param>
/// <param name="ContainerId">The container's full id (64 hex digits), or null.</param>
/// <param name="Pod">The Kubernetes pod uid, or null.</param>
/// <param name="Service">The systemd unit ("nginx.service"), or null.</param>
public sealed record CgroupInfo(string Path, string? Runtime = null, string? ContainerId = null, string? Pod = null, string? Service = null)
{
    /// <summary>The first 12 digits of the container id, as docker ps shows it.</summary>
    public string? ShortId => ContainerId is { Length: > 12 } id ? id[..12] : ContainerId;

    /// <summary>"docker 3f2a9c1e0b7d", "containerd 3f2a9c1e0b7d (pod 1b2c…)", "nginx.service", or null.</summary>
    public string? Label => Runtime != null ? $"{Runtime} {ShortId}{(Pod != null ? $" (pod {Pod})" : "")}" : Service;
}
