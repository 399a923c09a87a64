#pragma warning disable CA1416 // Linux only
using Whyfail.Events;
using Xunit;
using static Whyfail.Tests.Explain.Ev;

namespace Whyfail.Tests.Explain;

[Collection("Explain")]
public sealed class ProcessTests
{
    const int NR_WRITE = 1, NR_CLONE = 56, NR_EXECVE = 59, NR_KILL = 62, NR_FCNTL = 72, NR_FLOCK = 73, NR_PTRACE = 101,
        NR_UMOUNT2 = 166, NR_OPENAT = 257, NR_WAIT4 = 61, NR_READLINK = 89, NR_PRCTL = 157;
    const int F_SETLK = 6;

    static byte[] Flock(short type, short whence = 0, long start = 0, long len = 0)
    {
        var b = new byte[32];
        BitConverter.GetBytes(type).CopyTo(b, 0);
        BitConverter.GetBytes(whence).CopyTo(b, 2);
        BitConverter.GetBytes(start).CopyTo(b, 8);
        BitConverter.GetBytes(len).CopyTo(b, 16);
        return b;
    }

    [Fact]
    public void Wait_for_any_child_without_children_says_none_is_left()
    {
        using var p = Actor.Python("t(os.waitpid, -1, os.WNOHANG)");
        Assert.Equal(10, p.Errno()); // ECHILD
        var e = One(Run(p.Event("wait4", NR_WAIT4, 10, [unchecked((ulong)-1L), 0, 1])), "process.no_child");
        Assert.Equal($"wait4 waited for any child of pid {p.Pid}, and it had none left that had not been waited for; it has no child processes now (with WNOHANG: this is how a program polling its children learns that none is left)", e.Text);
        Assert.Null(e.Fix);
    }

    [Fact]
    public void Wait_for_a_process_that_is_not_a_child_names_its_parent()
    {
        int other = Environment.ProcessId; // the test host: the actor's parent, not its child
        int parent = int.Parse(File.ReadAllText($"/proc/{other}/stat").Split(')')[1].Split(' ')[2]);
        using var p = Actor.Python($"t(os.waitpid, {other}, 0)");
        Assert.Equal(10, p.Errno());
        var e = One(Run(p.Event("wait4", NR_WAIT4, 10, [(ulong)other, 0, 0])), "process.no_child");
        Assert.StartsWith($"pid {other} (", e.Text);
        Assert.Contains($" is not a child of pid {p.Pid}: its parent is pid {parent} (", e.Text);
        Assert.EndsWith("only the parent can wait for a process", e.Text);
        Assert.StartsWith("to wait for a process that is not your child, poll a pidfd", e.Fix);
    }

    [Fact]
    public void Wait_after_ignoring_sigchld_says_the_kernel_reaped_the_child()
    {
        using var p = Actor.Python("import signal\nsignal.signal(signal.SIGCHLD, signal.SIG_IGN)\nc = os.fork()\nif c == 0:\n    os._exit(0)\nsay(c)\ntime.sleep(0.3)\nt(os.waitpid, c, 0)");
        Assert.Equal(10, p.Errno());
        int child = int.Parse(p.Said[0]);
        var e = One(Run(p.Event("wait4", NR_WAIT4, 10, [(ulong)child, 0, 0])), "process.no_child");
        Assert.Equal($"there is no process {child} now: it probably had already exited and been reaped (by an earlier wait, or automatically), or was never a child of pid {p.Pid}; pid {p.Pid} ignores SIGCHLD, so the kernel reaps each of its children as soon as it exits and no wait ever collects one", e.Text);
        Assert.False(e.Certain);
        Assert.Equal("restore the default SIGCHLD disposition (signal(SIGCHLD, SIG_DFL)) before waiting for children", e.Fix);
    }

    [Fact]
    public void Another_users_proc_entries_need_ptrace_access()
    {
        using var target = Actor.Python("pass", uid: null);
        using var p = Actor.Python($"t(os.readlink, '/proc/{target.Pid}/cwd')");
        Assert.Equal(13, p.Errno());
        var e = One(Run(p.Event("readlink", NR_READLINK, 13, [0, 0, 4096], (0, $"/proc/{target.Pid}/cwd"))), "proc.ptrace_access");
        Assert.Equal($"\"/proc/{target.Pid}/cwd\" (cwd of pid {target.Pid} (python3)) is private to processes that may trace it: pid {target.Pid} (python3) runs with uids 0/0/0 and gids 0/0/0 (real/effective/saved), pid {p.Pid} with fs uid 65534 and fs gid 65534, and without CAP_SYS_PTRACE", e.Text);
        Assert.Equal("read it as root", e.Fix);
    }

    [Fact]
    public void A_process_that_is_not_dumpable_hides_its_proc_entries_from_its_own_user()
    {
        using var target = Actor.Python("c('prctl', 4, 0, 0, 0, 0)"); // PR_SET_DUMPABLE 0, as nobody
        using var p = Actor.Python($"t(os.readlink, '/proc/{target.Pid}/cwd')");
        Assert.Equal(13, p.Errno());
        var e = One(Run(p.Event("readlink", NR_READLINK, 13, [0, 0, 4096], (0, $"/proc/{target.Pid}/cwd"))), "proc.ptrace_access");
        Assert.True(e.Text.Contains($"is private to processes that may trace it, and pid {target.Pid} (python3) is not dumpable (its /proc entries belong to root although it runs as uid 65534"), e.Text);
    }

    [Fact]
    public void Ptrace_attach_to_a_process_that_is_not_dumpable_says_so()
    {
        using var target = Actor.Python("c('prctl', 4, 0, 0, 0, 0)"); // PR_SET_DUMPABLE 0, as nobody
        using var p = Actor.Python($"t(c, 'ptrace', 16, {target.Pid}, 0, 0)");
        Assert.Equal(1, p.Errno());
        var e = One(Run(p.Event("ptrace", NR_PTRACE, 1, [16, (ulong)target.Pid, 0, 0])), "ptrace.permission");
        Assert.StartsWith($"pid {target.Pid} (python3) is probably not dumpable (its /proc entries belong to root although it runs as uid 65534", e.Text);
    }

    [Fact]
    public void Probing_capabilities_past_the_last_one_is_an_answer()
    {
        long last = long.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim());
        int probe = (int)last + 5;
        using var p = Actor.Python($"t(c, 'prctl', 23, {probe}, 0, 0, 0)");
        Assert.Equal(22, p.Errno());
        var e = One(Run(p.Event("prctl", NR_PRCTL, 22, [23, (ulong)probe])), "capability.unknown_number");
        Assert.StartsWith($"capability {probe} does not exist in this kernel: its last is {last} (CAP_", e.Text);
        Assert.EndsWith("programs (libcap, systemd) read PR_CAPBSET_READ upward until this answer to learn how many capabilities the kernel knows", e.Text);
        Assert.Null(e.Fix);
    }

    [Fact]
    public void Fcntl_lock_conflict_names_the_holder()
    {
        using var d = new TempDir();
        var f = d.File_("db.lock", "", 0x1B6);
        using var holder = Actor.Python($"fd = os.open('{f}', os.O_RDWR)\nfcntl.lockf(fd, fcntl.LOCK_EX)\nsay(fd)", uid: null);
        using var p = Actor.Python($"fd = os.open('{f}', os.O_RDWR)\nsay(fd)\nt(fcntl.lockf, fd, fcntl.LOCK_EX | fcntl.LOCK_NB)");
        int err = p.Errno();
        Assert.True(err is 11 or 13, $"errno {err}");
        int fd = int.Parse(p.Said[0]);

        var e = One(Run(p.Event("fcntl", NR_FCNTL, err, [(ulong)fd, F_SETLK, 0], [Bytes(2, Flock(1))])), "lock.conflict");
        Assert.Contains($"\"{f}\" is locked: a write (exclusive) POSIX (fcntl) lock on the whole file is held by pid {holder.Pid} (python3) through descriptor {holder.Said[0]}", e.Text);
        Assert.Contains("conflicts with a write POSIX lock on the whole file", e.Text);
    }

    [Fact]
    public void Flock_conflict_names_the_holder()
    {
        using var d = new TempDir();
        var f = d.File_("job.lock", "", 0x1B6);
        using var holder = Actor.Python($"fd = os.open('{f}', os.O_RDONLY)\nfcntl.flock(fd, fcntl.LOCK_SH)\nsay(fd)", uid: null);
        using var p = Actor.Python($"fd = os.open('{f}', os.O_RDONLY)\nsay(fd)\nt(fcntl.flock, fd, fcntl.LOCK_EX | fcntl.LOCK_NB)");
        Assert.Equal(11, p.Errno());
        int fd = int.Parse(p.Said[0]);

        var e = One(Run(p.Event("flock", NR_FLOCK, 11, [(ulong)fd, 6])), "lock.conflict");
        Assert.Contains($"a read (shared) flock() lock on the whole file is held by pid {holder.Pid} (python3) through descriptor {holder.Said[0]}, which conflicts with an exclusive flock() lock", e.Text);
    }

    [Fact]
    public void Etxtbsy_names_the_writer()
    {
        using var d = new TempDir();
        var prog = d.File_("tool", "#!/bin/sh\necho hi\n", 0x1ED);
        using var writer = Actor.Python($"fd = os.open('{prog}', os.O_WRONLY)\nsay(fd)", uid: null);
        using var p = Actor.Python($"t(os.execv, '{prog}', ['tool'])");
        Assert.Equal(26, p.Errno());

        var e = One(Run(p.Event("execve", NR_EXECVE, 26, [0, 0, 0], (0, prog))), "file.text_busy");
        Assert.Contains($"\"{prog}\" is open for writing by pid {writer.Pid} (python3) as descriptor {writer.Said[0]} (write-only (O_WRONLY))", e.Text);
    }

    [Fact]
    public void Ebusy_umount_names_the_process_inside()
    {
        using var d = new TempDir();
        var mnt = d.Tmpfs("busy", "mode=755");
        using var inside = Actor.Python("pass", cwd: mnt);
        using var p = Actor.Python($"t(c, 'umount2', b'{mnt}', 0)", uid: null);
        Assert.Equal(16, p.Errno());

        var e = One(Run(p.Event("umount2", NR_UMOUNT2, 16, [0, 0], (0, mnt))), "mount.busy");
        Assert.Contains($"\"{mnt}\" (tmpfs from wf-explain) is busy: pid {inside.Pid} (python3) has its working directory there (\"{mnt}\")", e.Text);
        Assert.Contains($"fuser -vm {mnt}", e.Fix);
    }

    [Fact]
    public void Kill_eperm_for_another_users_process()
    {
        using var target = Actor.Python("pass", uid: null);
        using var p = Actor.Python($"t(os.kill, {target.Pid}, 15)");
        Assert.Equal(1, p.Errno());

        var e = One(Run(p.Event("kill", NR_KILL, 1, [(ulong)target.Pid, 15])), "signal.permission");
        Assert.Contains($"pid {target.Pid} (python3) runs as real uid 0, saved uid 0 (root) and pid {p.Pid} as real uid 65534, effective uid 65534 (nobody) without CAP_KILL", e.Text);
    }

    [Fact]
    public void Ptrace_eperm_for_another_users_process()
    {
        using var target = Actor.Python("pass", uid: null);
        using var p = Actor.Python($"t(c, 'ptrace', ctypes.c_long(16), ctypes.c_long({target.Pid}), None, None)");
        Assert.Equal(1, p.Errno());

        var e = One(Run(p.Event("ptrace", NR_PTRACE, 1, [16, (ulong)target.Pid, 0, 0])), "ptrace.permission");
        Assert.Contains($"pid {target.Pid} (python3) runs with uids 0/0/0", e.Text);
        Assert.Contains("lacks CAP_SYS_PTRACE", e.Text);
    }

    [Fact]
    public void Ptrace_eperm_when_already_traced()
    {
        using var target = Actor.Python("pass");
        using var tracer = Actor.Python($"t(c, 'ptrace', ctypes.c_long(0x4206), ctypes.c_long({target.Pid}), None, None)");
        if (tracer.Errno() != 0) return; // a security module forbids attaching here at all
        using var p = Actor.Python($"t(c, 'ptrace', ctypes.c_long(16), ctypes.c_long({target.Pid}), None, None)");
        Assert.Equal(1, p.Errno());

        var e = One(Run(p.Event("ptrace", NR_PTRACE, 1, [16, (ulong)target.Pid, 0, 0])), "ptrace.permission");
        Assert.Contains($"is already being traced by pid {tracer.Pid} (python3)", e.Text);
    }

    [Fact]
    public void Fork_eagain_from_rlimit_nproc()
    {
        using var p = Actor.Python("resource.setrlimit(resource.RLIMIT_NPROC, (1, 1))\nt(os.fork)");
        Assert.Equal(11, p.Errno());

        var e = One(Run(p.Event("clone", NR_CLONE, 11, [0x1200011, 0, 0, 0, 0])), "proc.limit");
        Assert.Matches(@"nobody \(uid 65534\) runs \d+ tasks? \(processes and threads, counted by real uid\) and pid \d+'s RLIMIT_NPROC soft limit is 1 \(hard 1\)", e.Text);
    }

    [Fact]
    public void Fork_eagain_from_the_pids_cgroup()
    {
        string? cg = null;
        if (Directory.Exists("/sys/fs/cgroup/pids") && File.Exists("/sys/fs/cgroup/pids/cgroup.procs"))
            cg = $"/sys/fs/cgroup/pids/wf-explain-{Environment.ProcessId}";
        if (cg is null) return; // no cgroup v1 pids hierarchy to play with
        Directory.CreateDirectory(cg);
        try
        {
            File.WriteAllText($"{cg}/pids.max", "1");
            using (var p = Actor.Python($"open('{cg}/cgroup.procs', 'w').write(str(os.getpid()))\nt(os.fork)", uid: null))
            {
                Assert.Equal(11, p.Errno());
                var e = One(Run(p.Event("clone", NR_CLONE, 11, [0x1200011, 0, 0, 0, 0])), "proc.limit");
                Assert.Contains($"pid {p.Pid}'s pids cgroup \"{cg}\" allows at most 1 task (pids.max) and has 1 (pids.current); 1 fork has been refused there", e.Text);
            }
        }
        finally { Sh.Run("rmdir", cg); }
    }

    [Fact]
    public void Enospc_on_a_full_tmpfs()
    {
        using var d = new TempDir();
        var mnt = d.Tmpfs("small", "size=64k,mode=777");
        using var p = Actor.Python($"""
fd = os.open('{mnt}/big', os.O_WRONLY | os.O_CREAT, 0o644)
say(fd)
while True:
    try:
        os.write(fd, b'x' * 65536)
    except OSError as e:
        print(e.errno, flush=True)
        break
""");
        Assert.Equal(28, p.Errno());
        int fd = int.Parse(p.Said[0]);

        var e = One(Run(p.Event("write", NR_WRITE, 28, [(ulong)fd, 0, 65536])), "fs.no_space");
        Assert.Contains($"descriptor {fd} (\"{mnt}/big\") is on the file system mounted at \"{mnt}\" (tmpfs from wf-explain), which is full: 0 bytes available of 64 KiB (100% used), and the call wrote 65,536 bytes", e.Text);
        Assert.Contains("remount with a larger size", e.Fix);
    }

    [Fact]
    public void Enospc_when_inodes_run_out()
    {
        using var d = new TempDir();
        var mnt = d.Tmpfs("few", "nr_inodes=4,mode=777");
        using var p = Actor.Python($"""
i = 0
while True:
    try:
        os.close(os.open('{mnt}/f%d' % i, os.O_WRONLY | os.O_CREAT, 0o644))
        i += 1
    except OSError as e:
        print(e.errno, flush=True)
        say(i)
        break
""");
        Assert.Equal(28, p.Errno());
        var name = $"{mnt}/f{p.Said[0]}";

        var e = One(Run(p.Event("openat", NR_OPENAT, 28, [AT_FDCWD, 0, 0x41, 0x1A4], (1, name))), "fs.no_space");
        Assert.Contains("which has no free inodes: all 4 are in use", e.Text);
    }

    [Fact]
    public void Erofs_inside_a_private_mount_namespace()
    {
        // The read-only mount exists only in the process's own mount namespace: this machine sees a plain directory.
        using var d = new TempDir();
        var dir = d.Dir("nsonly");
        using var p = Actor.Python($"os.system('mount -t tmpfs -o ro wf-ns {dir}')\nt(os.open, '{dir}/x', os.O_WRONLY | os.O_CREAT, 0o644)",
            uid: null, prefix: ["unshare", "-m", "--propagation", "private"]);
        Assert.Equal(30, p.Errno());

        var e = One(Run(p.Event("openat", NR_OPENAT, 30, [AT_FDCWD, 0, 0x41, 0x1A4], (1, $"{dir}/x"))), "mount.read_only");
        Assert.Contains($"is on the mount \"{dir}\" (tmpfs from wf-ns), which is mounted read-only", e.Text);
    }
}
