using System.Text.Json;
using Whyfail.Events;

namespace Whyfail.Rendering;

/// <summary>The cgroup fields of a syscall object (docs/json.md): cgroup_id, cgroup, container, service.</summary>
public static class CgroupJson
{
    public static void Write(Utf8JsonWriter w, SyscallEvent ev)
    {
        w.WriteNumber("cgroup_id", ev.CgroupId);
        var c = ev.Cgroup;
        if (c is null) w.WriteNull("cgroup"); else w.WriteString("cgroup", c.Path);
        if (c?.Runtime is { } runtime)
        {
            w.WriteStartObject("container");
            w.WriteString("runtime", runtime);
            w.WriteString("id", c.ContainerId);
            if (c.Pod is null) w.WriteNull("pod"); else w.WriteString("pod", c.Pod);
            w.WriteEndObject();
        }
        else
            w.WriteNull("container");
        if (c?.Service is null) w.WriteNull("service"); else w.WriteString("service", c.Service);
    }
}
