using System.Globalization;
using System.Runtime.InteropServices;
using Whyfail.Capture.Native;

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
public sealed unsafe partial class LauncherFilter : IDisposable
{
    /// <summary>
    /// The kernel's numbers the launcher uses, from whyfail's generated tables (Decoding/Data; see <c>FromTables</c>),
    /// passed with the filter: the small launcher executable (launcher/whyfail-launch.c, which parses them the same way) has
    /// no tables, and the forked child only uses them.
    /// </summary>
    public readonly record struct KernelNumbers(long SysSeccomp, int SetModeFilter, int GetActionAvail, int SetNoNewPrivs, int GetNoNewPrivs,
        int SetKeepCaps, int CapSysAdmin, uint CapabilityVersion3, uint RetAllow, int Eacces)
    {
        public string Encode() => string.Join(',', new long[] { SysSeccomp, SetModeFilter, GetActionAvail, SetNoNewPrivs, GetNoNewPrivs, SetKeepCaps, CapSysAdmin, CapabilityVersion3, RetAllow, Eacces }
            .Select(n => n.ToString(CultureInfo.InvariantCulture)));

        public static bool TryParse(string s, out KernelNumbers numbers)
        {
            numbers = default;
            var n = s.Split(',');
            var v = new long[10];
            if (n.Length != v.Length) return false;
            for (int i = 0; i < v.Length; i++)
                if (!long.TryParse(n[i], NumberStyles.None, CultureInfo.InvariantCulture, out v[i]) || v[i] > uint.MaxValue) return false;
            numbers = new(v[0], (int)v[1], (int)v[2], (int)v[3], (int)v[4], (int)v[5], (int)v[6], (uint)v[7], (uint)v[8], (int)v[9]);
            return true;
        }
    }

    private readonly KernelNumbers k;

    [StructLayout(LayoutKind.Sequential)]
    private struct SockFprog
    {
        public ushort Len;
        public nint Filter;
    }

    private GCHandle programHandle, fprogHandle;
    private readonly uint flags;

    private LauncherFilter(byte[] program, uint flags, KernelNumbers numbers)
    {
        this.flags = flags;
        k = numbers;
        programHandle = GCHandle.Alloc(program, GCHandleType.Pinned);
        var fprog = new SockFprog[] { new() { Len = (ushort)(program.Length / 8), Filter = programHandle.AddrOfPinnedObject() } };
        fprogHandle = GCHandle.Alloc(fprog, GCHandleType.Pinned);
    }

    /// <summary>The filter whyfail passed, or null; the variable is removed so the command never sees it.</summary>
    public static LauncherFilter? FromEnvironment()
    {
        var s = Environment.GetEnvironmentVariable(EnvVar);
        if (s == null) return null;
        Environment.SetEnvironmentVariable(EnvVar, null);
        return TryDecode(s, out uint flags, out var program, out var numbers) ? new LauncherFilter(program, flags, numbers) : null;
    }

    /// <summary>"FLAGS:HEX:NUMBERS", the value of <see cref="EnvVar"/> (see InjectFilter.Encode).</summary>
    public static bool TryDecode(string? s, out uint flags, out byte[] program, out KernelNumbers numbers)
    {
        flags = 0;
        program = [];
        numbers = default;
        var parts = s?.Split(':');
        if (parts is not { Length: 3 } || !uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out flags) || !KernelNumbers.TryParse(parts[2], out numbers))
            return false;
        try { program = Convert.FromHexString(parts[1]); }
        catch (FormatException) { return false; }
        return program.Length > 0 && program.Length % 8 == 0;
    }

    /// <summary>The environment variable that carries the filter from whyfail to its launcher (removed before exec).</summary>
    public const string EnvVar = "WHYFAIL_INJECT_FILTER";

    /// <summary>Before the uid change: keep the permitted capabilities across it (this thread, the one that forks).</summary>
    public void KeepCapsAcrossUidChange() => Libc.Prctl(k.SetKeepCaps, 1, 0, 0, 0);

    /// <summary>After the uid change: CAP_SYS_ADMIN alone, effective, for the child's seccomp(2); failing is harmless (no_new_privs then).</summary>
    public void RaiseAdminForFork() => SetCaps(1u << k.CapSysAdmin);

    /// <summary>After the fork: the launcher keeps no capability.</summary>
    public void DropCaps()
    {
        SetCaps(0);
        Libc.Prctl(k.SetKeepCaps, 0, 0, 0, 0);
    }

    private void SetCaps(uint caps)
    {
        uint* hdr = stackalloc uint[2] { k.CapabilityVersion3, 0 };
        uint* data = stackalloc uint[6] { caps, caps, 0, 0, 0, 0 }; // {effective, permitted, inheritable} × 2
        Libc.Capset(hdr, data);
    }

    /// <summary>Resolves the entry points the child calls, in the parent (a harmless call of each).</summary>
    /// <remarks>The same method the child runs, asking SECCOMP_GET_ACTION_AVAIL instead (compiled now under a JIT, not in the child).</remarks>
    public void WarmUp()
    {
        Libc.Prctl(k.GetNoNewPrivs, 0, 0, 0, 0);
        InstallInChild(warmUp: true);
    }

    /// <summary>In the forked child: installs the filter. No allocation. Returns 0, or the errno.</summary>
    public int InstallInChild(bool warmUp = false)
    {
        uint allow = k.RetAllow;
        int op = warmUp ? k.GetActionAvail : k.SetModeFilter;
        var fprog = warmUp ? &allow : (void*)fprogHandle.AddrOfPinnedObject();
        if (Libc.Syscall(k.SysSeccomp, op, warmUp ? 0 : flags, fprog) >= 0) return 0;
        int e = Marshal.GetLastPInvokeError();
        if (e != k.Eacces || warmUp) return e;
        Libc.Prctl(k.SetNoNewPrivs, 1, 0, 0, 0);
        return Libc.Syscall(k.SysSeccomp, op, warmUp ? 0 : flags, fprog) >= 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    public void Dispose()
    {
        if (fprogHandle.IsAllocated) fprogHandle.Free();
        if (programHandle.IsAllocated) programHandle.Free();
    }

}
