#pragma warning disable CA1416 // Linux only
using Xunit;
using Whyfail.Analysis.Explain;
using static Whyfail.Tests.Explain.Ev;

namespace Whyfail.Tests.Explain;

[Collection("Explain")]
public sealed class PathTests
{
    const int NR_OPENAT = 257, NR_EXECVE = 59;
    const int O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0x40, O_NOFOLLOW = 0x20000;
    const ulong Mode644 = 0x1A4;

    [Fact]
    public void Enoent_names_the_first_missing_component()
    {
        using var d = new TempDir();
        d.Dir("a");
        using var p = Actor.Python("t(os.open, 'a/b/c/file', os.O_RDONLY)", cwd: d.Path);
        Assert.Equal(2, p.Errno());

        var ex = Run(p.Event("openat", NR_OPENAT, 2, [AT_FDCWD, 0, O_RDONLY, 0], (1, "a/b/c/file")));
        var e = One(ex, "path.missing_component");
        Assert.Contains($"\"{d.Path}/a/b\" does not exist", e.Text);
        Assert.Contains("has no entry \"b\"", e.Text);
        Assert.Contains("\"c/file\" cannot be looked up", e.Text);
        Assert.True(e.Certain);
        Assert.DoesNotContain(ex, x => x.Rule == "unknown");
    }

    [Fact]
    public void Enoent_suggests_a_near_miss_sibling()
    {
        using var d = new TempDir();
        d.Dir("config");
        d.File_("config/app.conf");
        using var p = Actor.Python($"t(os.open, '{d.Path}/confg/app.conf', os.O_RDONLY)", cwd: "/");
        Assert.Equal(2, p.Errno());

        var e = One(Run(p.Event("openat", NR_OPENAT, 2, [AT_FDCWD, 0, O_RDONLY, 0], (1, $"{d.Path}/confg/app.conf"))), "path.missing_component");
        Assert.Contains($"\"{d.Path}/confg\" does not exist", e.Text);
        Assert.Contains($"did you mean \"{d.Path}/config\"?", e.Text);
    }

    [Fact]
    public void Enoent_from_a_dangling_symlink_names_link_and_target()
    {
        using var d = new TempDir();
        File.CreateSymbolicLink(d["current"], "releases/v2");
        d.Dir("releases");
        using var p = Actor.Python("t(os.open, 'current', os.O_RDONLY)", cwd: d.Path);
        Assert.Equal(2, p.Errno());

        var e = One(Run(p.Event("openat", NR_OPENAT, 2, [AT_FDCWD, 0, O_RDONLY, 0], (1, "current"))), "path.missing_component");
        Assert.Contains($"\"{d.Path}/current\" is a dangling symbolic link", e.Text);
        Assert.Contains("points to \"releases/v2\"", e.Text);
        Assert.Contains($"\"{d.Path}/releases/v2\" does not exist", e.Text);
    }

    [Fact]
    public void Enoent_resolves_absolute_symlinks_inside_the_process_root()
    {
        // A chrooted process: "/etc/app.conf" inside its root is not this machine's /etc.
        using var d = new TempDir();
        d.Dir("root/etc");
        d.Dir("root/srv");
        File.CreateSymbolicLink(d["root/srv/link"], "/etc/app.conf");
        using var p = Actor.Python($"os.chroot('{d["root"]}'); os.chdir('/')\nt(os.open, '/srv/link', os.O_RDONLY)", uid: null);
        Assert.Equal(2, p.Errno());

        var e = One(Run(p.Event("openat", NR_OPENAT, 2, [AT_FDCWD, 0, O_RDONLY, 0], (1, "/srv/link"))), "path.missing_component");
        Assert.Contains("\"/srv/link\" is a dangling symbolic link: it points to \"/etc/app.conf\", and \"/etc/app.conf\" does not exist", e.Text);
    }

    [Fact]
    public void Enotdir_names_the_component_that_is_a_file()
    {
        using var d = new TempDir();
        d.Dir("data");
        d.File_("data/report");
        using var p = Actor.Python("t(os.open, 'data/report/2024.csv', os.O_RDONLY)", cwd: d.Path);
        Assert.Equal(20, p.Errno());

        var e = One(Run(p.Event("openat", NR_OPENAT, 20, [AT_FDCWD, 0, O_RDONLY, 0], (1, "data/report/2024.csv"))), "path.not_directory");
        Assert.Contains($"\"{d.Path}/data/report\" is a regular file, not a directory", e.Text);
    }

    [Fact]
    public void Eacces_names_the_directory_without_search_permission()
    {
        using var d = new TempDir();
        d.Dir("srv", 0x1C0); // 0700 root
        d.File_("srv/data.txt");
        using var p = Actor.Python($"t(os.open, '{d.Path}/srv/data.txt', os.O_RDONLY)");
        Assert.Equal(13, p.Errno());

        var e = One(Run(p.Event("openat", NR_OPENAT, 13, [AT_FDCWD, 0, O_RDONLY, 0], (1, $"{d.Path}/srv/data.txt"))), "path.permission_denied");
        Assert.Contains($"\"{d.Path}/srv\" has mode 0700, owner root (uid 0)", e.Text);
        Assert.Contains("nobody (uid 65534, not the owner, not in its group) has no search (x) permission", e.Text);
        // 0700: closed to others on purpose, so the narrow grant comes first and chmod o+x is named for what it does.
        Assert.StartsWith($"grant it to uid 65534 alone with setfacl -m u:65534:x {d.Path}/srv", e.Fix);
        Assert.EndsWith($"chmod o+x {d.Path}/srv would open it to every user", e.Fix);
    }

    [Fact]
    public void Eacces_names_the_missing_read_permission_on_the_file()
    {
        using var d = new TempDir();
        d.File_("secret.key", "k", 0x180); // 0600 root
        using var p = Actor.Python("t(os.open, 'secret.key', os.O_RDONLY)", cwd: d.Path);
        Assert.Equal(13, p.Errno());

        var e = One(Run(p.Event("openat", NR_OPENAT, 13, [AT_FDCWD, 0, O_RDONLY, 0], (1, "secret.key"))), "path.permission_denied");
        Assert.Contains($"\"{d.Path}/secret.key\" (regular file) has mode 0600, owner root (uid 0), group root (gid 0)", e.Text);
        Assert.Contains("has no read (r) permission on it, which openat with O_RDONLY needs", e.Text);
        Assert.StartsWith($"grant it to uid 65534 alone with setfacl -m u:65534:r {d.Path}/secret.key, or run as a member of its group root", e.Fix);
        Assert.DoesNotContain("chmod o+r " + d.Path + "/secret.key,", e.Fix);
    }

    [Fact]
    public void Eacces_on_a_file_others_may_partly_use_suggests_chmod_first_but_never_world_write()
    {
        using var d = new TempDir();
        d.File_("notes.txt", "n", 0x1A4); // 0644 root: others may read, not write
        using var w = Actor.Python("t(os.open, 'notes.txt', os.O_WRONLY)", cwd: d.Path);
        Assert.Equal(13, w.Errno());
        var write = One(Run(w.Event("openat", NR_OPENAT, 13, [AT_FDCWD, 0, O_WRONLY, 0], (1, "notes.txt"))), "path.permission_denied");
        Assert.StartsWith($"grant it to uid 65534 alone with setfacl -m u:65534:w {d.Path}/notes.txt, or run as a member of its group root", write.Fix);
        Assert.EndsWith($"chmod o+w {d.Path}/notes.txt would let every user change it", write.Fix);

        d.Dir("shelf", 0x1C9);              // 0711: others may pass through, not read it
        using var r = Actor.Python($"t(os.open, '{d.Path}/shelf', os.O_RDONLY)");
        Assert.Equal(13, r.Errno());
        var read = One(Run(r.Event("openat", NR_OPENAT, 13, [AT_FDCWD, 0, O_RDONLY, 0], (1, $"{d.Path}/shelf"))), "path.permission_denied");
        Assert.StartsWith($"chmod o+r {d.Path}/shelf, or run as a member of its group root", read.Fix);
    }

    [Fact]
    public void Eacces_for_a_group_member_uses_the_group_bits()
    {
        using var d = new TempDir();
        d.File_("shared.log", "", 0x1A0); // 0640
        File.SetUnixFileMode(d["shared.log"], (UnixFileMode)0x1A0);
        Sh.Run("chown", "0:65534", d["shared.log"]);
        using var p = Actor.Python("t(os.open, 'shared.log', os.O_WRONLY)", cwd: d.Path); // nobody is in group 65534
        Assert.Equal(13, p.Errno());

        var e = One(Run(p.Event("openat", NR_OPENAT, 13, [AT_FDCWD, 0, O_WRONLY, 0], (1, "shared.log"))), "path.permission_denied");
        Assert.Contains("not the owner, in its group", e.Text);
        Assert.Contains("no write (w) permission", e.Text);
        Assert.StartsWith("chmod g+w", e.Fix);
    }

    [Fact]
    public void Eacces_on_create_names_the_parent_directory()
    {
        using var d = new TempDir();
        d.Dir("out"); // 0755 root
        using var p = Actor.Python("t(os.open, 'out/new.txt', os.O_WRONLY|os.O_CREAT, 0o644)", cwd: d.Path);
        Assert.Equal(13, p.Errno());

        var e = One(Run(p.Event("openat", NR_OPENAT, 13, [AT_FDCWD, 0, O_WRONLY | O_CREAT, Mode644], (1, "out/new.txt"))), "path.permission_denied");
        Assert.Contains($"\"{d.Path}/out\" has mode 0755", e.Text);
        Assert.Contains("no write (w) permission on it, which openat needs to create \"new.txt\" in it", e.Text);
    }

    [Fact]
    public void Eacces_respects_a_posix_acl_entry()
    {
        using var d = new TempDir();
        d.File_("acl.txt", "x", 0x1E4); // 0744 but the ACL mask removes read for named users
        // user::rwx user:65534:r-- group::r-- mask::--- other::---
        var acl = new byte[4 + 8 * 5];
        BitConverter.GetBytes(2u).CopyTo(acl, 0);
        void Entry(int i, ushort tag, ushort perm, uint id) { BitConverter.GetBytes(tag).CopyTo(acl, 4 + 8 * i); BitConverter.GetBytes(perm).CopyTo(acl, 6 + 8 * i); BitConverter.GetBytes(id).CopyTo(acl, 8 + 8 * i); }
        Entry(0, 0x01, 7, uint.MaxValue); Entry(1, 0x02, 4, 65534); Entry(2, 0x04, 4, uint.MaxValue); Entry(3, 0x10, 0, uint.MaxValue); Entry(4, 0x20, 0, uint.MaxValue);
        using (var root = Actor.Python($"os.setxattr('{d["acl.txt"]}', 'system.posix_acl_access', bytes.fromhex('{Convert.ToHexString(acl)}'))", uid: null)) { }
        using var p = Actor.Python("t(os.open, 'acl.txt', os.O_RDONLY)", cwd: d.Path);
        Assert.Equal(13, p.Errno());

        var e = One(Run(p.Event("openat", NR_OPENAT, 13, [AT_FDCWD, 0, O_RDONLY, 0], (1, "acl.txt"))), "path.permission_denied");
        Assert.Contains("ACL entry user:65534:r-- applies, but the ACL mask --- removes r", e.Text);
        Assert.Equal($"widen the ACL mask: setfacl -m m::r {d.Path}/acl.txt", e.Fix);
        Assert.Contains("no read (r) permission", e.Text);
    }

    [Fact]
    public void Eloop_shows_the_cycle()
    {
        using var d = new TempDir();
        File.CreateSymbolicLink(d["a"], "b");
        File.CreateSymbolicLink(d["b"], "a");
        using var p = Actor.Python("t(os.open, 'a', os.O_RDONLY)", cwd: d.Path);
        Assert.Equal(40, p.Errno());

        var e = One(Run(p.Event("openat", NR_OPENAT, 40, [AT_FDCWD, 0, O_RDONLY, 0], (1, "a"))), "path.symlink_loop");
        Assert.Contains($"\"{d.Path}/a\" → \"b\", \"{d.Path}/b\" → \"a\", and back to \"{d.Path}/a\"", e.Text);
    }

    [Fact]
    public void Eloop_from_O_NOFOLLOW_on_a_symlink()
    {
        using var d = new TempDir();
        d.File_("real");
        File.CreateSymbolicLink(d["link"], "real");
        using var p = Actor.Python("t(os.open, 'link', os.O_RDONLY|os.O_NOFOLLOW)", cwd: d.Path);
        Assert.Equal(40, p.Errno());

        var e = One(Run(p.Event("openat", NR_OPENAT, 40, [AT_FDCWD, 0, O_RDONLY | O_NOFOLLOW, 0], (1, "link"))), "path.symlink_loop");
        Assert.Contains("is a symbolic link (to \"real\") and the call used O_NOFOLLOW", e.Text);
    }

    [Fact]
    public void Enametoolong_names_the_long_component()
    {
        using var d = new TempDir();
        var name = new string('n', 300);
        d.Dir("x");
        using var p = Actor.Python($"t(os.open, 'x/{name}/y', os.O_RDONLY)", cwd: d.Path);
        Assert.Equal(36, p.Errno());

        var e = One(Run(p.Event("openat", NR_OPENAT, 36, [AT_FDCWD, 0, O_RDONLY, 0], (1, $"x/{name}/y"))), "path.name_too_long");
        Assert.Contains("is 300 bytes long, over NAME_MAX = 255", e.Text);
    }

    [Fact]
    public void Enametoolong_for_a_path_over_PATH_MAX()
    {
        using var d = new TempDir();
        var path = string.Join('/', Enumerable.Repeat(new string('d', 100), 45));
        using var p = Actor.Python($"t(os.open, '{path}', os.O_RDONLY)", cwd: d.Path);
        Assert.Equal(36, p.Errno());

        var e = One(Run(p.Event("openat", NR_OPENAT, 36, [AT_FDCWD, 0, O_RDONLY, 0], (1, path))), "path.name_too_long");
        Assert.Contains($"is {path.Length} bytes long; paths are limited to PATH_MAX = 4096", e.Text);
    }

    [Fact]
    public void Execve_enoent_from_a_missing_script_interpreter()
    {
        using var d = new TempDir();
        d.File_("run.sh", "#!/opt/nowhere/bin/bash\necho hi\n", 0x1ED);
        using var p = Actor.Python("t(os.execv, './run.sh', ['./run.sh'])", cwd: d.Path);
        Assert.Equal(2, p.Errno());

        var ex = Run(p.Event("execve", NR_EXECVE, 2, [0, 0, 0], (0, "./run.sh")));
        var e = One(ex, "exec.missing_interpreter");
        Assert.Contains("names the interpreter \"/opt/nowhere/bin/bash\", which does not exist", e.Text);
        Assert.Contains("\"/opt/nowhere\" does not exist", e.Text);
        Assert.DoesNotContain(ex, x => x.Rule == "path.missing_component");
    }

    [Fact]
    public void Execve_enoent_from_dos_line_endings()
    {
        using var d = new TempDir();
        d.File_("run.sh", "#!/bin/sh\r\necho hi\r\n", 0x1ED);
        using var p = Actor.Python("t(os.execv, './run.sh', ['./run.sh'])", cwd: d.Path);
        Assert.Equal(2, p.Errno());

        var e = One(Run(p.Event("execve", NR_EXECVE, 2, [0, 0, 0], (0, "./run.sh"))), "exec.missing_interpreter");
        Assert.Contains("carriage return", e.Text);
        Assert.Contains("\"/bin/sh\r\"", e.Text);
    }

    [Fact]
    public void Execve_eacces_from_a_noexec_mount()
    {
        using var d = new TempDir();
        var mnt = d.Tmpfs("mnt", "noexec,mode=755");
        File.WriteAllText($"{mnt}/tool.sh", "#!/bin/sh\necho hi\n");
        File.SetUnixFileMode($"{mnt}/tool.sh", (UnixFileMode)0x1ED);
        using var p = Actor.Python($"t(os.execv, '{mnt}/tool.sh', ['tool.sh'])");
        Assert.Equal(13, p.Errno());

        var ex = Run(p.Event("execve", NR_EXECVE, 13, [0, 0, 0], (0, $"{mnt}/tool.sh")));
        var e = One(ex, "exec.noexec_mount");
        Assert.Contains($"on the mount \"{mnt}\" (tmpfs", e.Text);
        Assert.Contains("mounted noexec", e.Text);
        Assert.DoesNotContain(ex, x => x.Rule == "path.permission_denied");
    }

    [Fact]
    public void Execve_eacces_without_execute_bit()
    {
        using var d = new TempDir();
        d.File_("tool", "#!/bin/sh\n", 0x1A4);
        using var p = Actor.Python("t(os.execv, './tool', ['tool'])", cwd: d.Path);
        Assert.Equal(13, p.Errno());

        var e = One(Run(p.Event("execve", NR_EXECVE, 13, [0, 0, 0], (0, "./tool"))), "path.permission_denied");
        Assert.Contains("no execute (x) permission on it, which execve needs", e.Text);
        Assert.Contains("no execute bit is set at all", e.Text);
    }

    [Fact]
    public void Protected_regular_in_a_sticky_directory()
    {
        if ((Whyfail.Analysis.Explain.ProcFs.ReadLong("/proc/sys/fs/protected_regular") ?? 0) == 0) return;
        using var d = new TempDir();
        d.Dir("shared", 0x3FF); // 1777
        d.File_("shared/lock", "", 0x1B6); // 0666 root: anyone could write it, but O_CREAT is refused
        using var p = Actor.Python("t(os.open, 'shared/lock', os.O_WRONLY|os.O_CREAT, 0o644)", cwd: d.Path);
        Assert.Equal(13, p.Errno());

        var ex = Run(p.Event("openat", NR_OPENAT, 13, [AT_FDCWD, 0, O_WRONLY | O_CREAT, Mode644], (1, "shared/lock")));
        var e = One(ex, "path.protected_sticky");
        Assert.Contains("fs.protected_regular", e.Text);
        Assert.DoesNotContain(ex, x => x.Rule == "path.permission_denied");
    }

    [Fact]
    public void Enoent_relative_to_a_directory_descriptor()
    {
        using var d = new TempDir();
        d.Dir("base");
        using var p = Actor.Python($"dfd = os.open('{d["base"]}', os.O_RDONLY | os.O_DIRECTORY)\nsay(dfd)\nt(os.open, 'sub/file', os.O_RDONLY, dir_fd=dfd)");
        Assert.Equal(2, p.Errno());
        int dfd = int.Parse(p.Said[0]);

        var e = One(Run(p.Event("openat", NR_OPENAT, 2, [(ulong)dfd, 0, O_RDONLY, 0], (1, "sub/file"))), "path.missing_component");
        Assert.Contains($"\"{d.Path}/base/sub\" does not exist: the directory \"{d.Path}/base\" has no entry \"sub\"", e.Text);
    }

    [Fact]
    public void Enoent_through_dotdot_from_the_working_directory()
    {
        using var d = new TempDir();
        d.Dir("app/bin");
        using var p = Actor.Python("t(os.open, '../lib/app.so', os.O_RDONLY)", cwd: d["app/bin"]);
        Assert.Equal(2, p.Errno());

        var e = One(Run(p.Event("openat", NR_OPENAT, 2, [AT_FDCWD, 0, O_RDONLY, 0], (1, "../lib/app.so"))), "path.missing_component");
        Assert.Contains($"\"{d.Path}/app/lib\" does not exist: the directory \"{d.Path}/app\" has no entry \"lib\", so \"app.so\" cannot be looked up", e.Text);
    }

    [Fact]
    public void Ebadf_for_a_closed_directory_descriptor_of_openat()
    {
        using var p = Actor.Python("t(os.open, 'x', os.O_RDONLY, dir_fd=42)");
        Assert.Equal(9, p.Errno());
        var e = One(Run(p.Event("openat", NR_OPENAT, 9, [42, 0, O_RDONLY, 0], (1, "x"))), "fd.bad");
        Assert.Contains("descriptor 42 (the directory descriptor for \"x\") is not open", e.Text);
    }
}
