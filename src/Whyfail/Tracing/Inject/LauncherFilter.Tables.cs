using static Whyfail.Errnos;

namespace Whyfail.Tracing.Inject;

public sealed partial class LauncherFilter
{
    /// <summary>The numbers the launcher needs, from the generated tables (whyfail's side; the launcher executable has no tables).</summary>
    public static KernelNumbers FromTables() => new(
        Capture.Native.Libc.Nr("seccomp"),
        Kernel("seccomp_ops", "SECCOMP_SET_MODE_FILTER"), Kernel("seccomp_ops", "SECCOMP_GET_ACTION_AVAIL"),
        Kernel("prctl_options", "PR_SET_NO_NEW_PRIVS"), Kernel("prctl_options", "PR_GET_NO_NEW_PRIVS"),
        Kernel("prctl_options", "PR_SET_KEEPCAPS"), Kernel("capabilities", "CAP_SYS_ADMIN"),
        InjectFilter.Kernel("cap_versions", "_LINUX_CAPABILITY_VERSION_3"), InjectFilter.RetAllow, EACCES);

    private static int Kernel(string table, string name) => checked((int)InjectFilter.Kernel(table, name));
}
