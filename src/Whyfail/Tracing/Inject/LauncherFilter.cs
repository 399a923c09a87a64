using System.Runtime.InteropServices;
using Whyfail.Capture.Native;
using static Whyfail.Analysis.Explain.Errnos;

namespace Whyfail.Tracing.Inject;

/// <summary>
/// The launcher's side of --inject: the filter program whyfail passed in <see cref="InjectFilter.EnvVar"/>, pinned before fork
/// so that the forked child installs it with one seccomp(2) call (no allocation between fork and execve), just before execve.
/// Installing a filter needs CAP_SYS_ADMIN or no_new_privs. Root has the capability. With -u the launcher has already
/// dropped to the user; so that set-user-ID programs inside the command keep working (no_new_privs would disarm them), the
/// launcher keeps CAP_SYS_ADMIN across the uid change (PR_SET_KEEPCAPS, then capset) for the fork, and the command's
/// execve as a non-root user clears it (no file capabilities: the new permitted set is empty). Only when the kernel still
/// refuses (EACCES: no CAP_SYS_ADMIN, e.g. whyfail in a container without it) does the child set no_new_privs and retry.
/// </summary>
public sealed unsafe class LauncherFilter : IDisposable
{
    // The kernel's numbers, from the generated tables (Decoding/Data), read once in the parent: the forked child only uses them.
    private static readonly long SYS_seccomp = Libc.Nr("seccomp");
    private static readonly int SECCOMP_SET_MODE_FILTER = Kernel("seccomp_ops", "SECCOMP_SET_MODE_FILTER"),
        SECCOMP_GET_ACTION_AVAIL = Kernel("seccomp_ops", "SECCOMP_GET_ACTION_AVAIL"),
        PR_SET_NO_NEW_PRIVS = Kernel("prctl_options", "PR_SET_NO_NEW_PRIVS"), PR_GET_NO_NEW_PRIVS = Kernel("prctl_options", "PR_GET_NO_NEW_PRIVS"),
        PR_SET_KEEPCAPS = Kernel("prctl_options", "PR_SET_KEEPCAPS"), CAP_SYS_ADMIN = Kernel("capabilities", "CAP_SYS_ADMIN");
    private static readonly uint LINUX_CAPABILITY_VERSION_3 = InjectFilter.Kernel("cap_versions", "_LINUX_CAPABILITY_VERSION_3");

    private static int Kernel(string table, string name) => checked((int)InjectFilter.Kernel(table, name));

    [StructLayout(LayoutKind.Sequential)]
    private struct SockFprog
    {
        public ushort Len;
        public nint Filter;
    }

    private GCHandle programHandle, fprogHandle;
    private readonly uint flags;

    private LauncherFilter(byte[] program, uint flags)
    {
        this.flags = flags;
        programHandle = GCHandle.Alloc(program, GCHandleType.Pinned);
        var fprog = new SockFprog[] { new() { Len = (ushort)(program.Length / 8), Filter = programHandle.AddrOfPinnedObject() } };
        fprogHandle = GCHandle.Alloc(fprog, GCHandleType.Pinned);
    }

    /// <summary>The filter whyfail passed, or null; the variable is removed so the command never sees it.</summary>
    public static LauncherFilter? FromEnvironment()
    {
        var s = Environment.GetEnvironmentVariable(InjectFilter.EnvVar);
        if (s == null) return null;
        Environment.SetEnvironmentVariable(InjectFilter.EnvVar, null);
        return InjectFilter.TryDecode(s, out uint flags, out var program) ? new LauncherFilter(program, flags) : null;
    }

    /// <summary>Before the uid change: keep the permitted capabilities across it (this thread, the one that forks).</summary>
    public void KeepCapsAcrossUidChange() => Libc.Prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);

    /// <summary>After the uid change: CAP_SYS_ADMIN alone, effective, for the child's seccomp(2); failing is harmless (no_new_privs then).</summary>
    public void RaiseAdminForFork() => SetCaps(1u << CAP_SYS_ADMIN);

    /// <summary>After the fork: the launcher keeps no capability.</summary>
    public void DropCaps()
    {
        SetCaps(0);
        Libc.Prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    }

    private static void SetCaps(uint caps)
    {
        uint* hdr = stackalloc uint[2] { LINUX_CAPABILITY_VERSION_3, 0 };
        uint* data = stackalloc uint[6] { caps, caps, 0, 0, 0, 0 }; // {effective, permitted, inheritable} × 2
        Libc.Capset(hdr, data);
    }

    /// <summary>Resolves the entry points the child calls, in the parent (a harmless call of each).</summary>
    /// <remarks>The same method the child runs, asking SECCOMP_GET_ACTION_AVAIL instead (compiled now under a JIT, not in the child).</remarks>
    public void WarmUp()
    {
        Libc.Prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
        InstallInChild(warmUp: true);
    }

    /// <summary>In the forked child: installs the filter. No allocation. Returns 0, or the errno.</summary>
    public int InstallInChild(bool warmUp = false)
    {
        uint allow = InjectFilter.RetAllow;
        int op = warmUp ? SECCOMP_GET_ACTION_AVAIL : SECCOMP_SET_MODE_FILTER;
        var fprog = warmUp ? &allow : (void*)fprogHandle.AddrOfPinnedObject();
        if (Libc.Syscall(SYS_seccomp, op, warmUp ? 0 : flags, fprog) >= 0) return 0;
        int e = Marshal.GetLastPInvokeError();
        if (e != EACCES || warmUp) return e;
        Libc.Prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        return Libc.Syscall(SYS_seccomp, op, warmUp ? 0 : flags, fprog) >= 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    public void Dispose()
    {
        if (fprogHandle.IsAllocated) fprogHandle.Free();
        if (programHandle.IsAllocated) programHandle.Free();
    }

}
