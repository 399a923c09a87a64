// whyfail-launch __launch GOFD CREDS EXECUTABLE ARGV0 ARGV...: the traced command's parent, started by whyfail
// (src/Whyfail/Tracing/Launcher.cs). A port of src/Whyfail/Tracing/LauncherChild.cs and Tracing/Inject/LauncherFilter.cs,
// which whyfail runs as `whyfail __launch` when this executable is not installed beside it: the same protocol, the same
// messages and exit codes (src/Whyfail/WhyfailException.cs, ExitCodes). Written in C because it is on the path from the
// user's Enter to the command's first instruction: a .NET runtime start costs ~300 ms of CPU in the lab's emulated CPU,
// this program a few (bench/README "A launcher in C, session 19").
//
// What it does: waits, blocked in read(2) on the inherited pipe GOFD, for whyfail's go byte (end of file: whyfail went
// away, the command never runs); takes --inject's seccomp filter from WHYFAIL_INJECT_FILTER (removed, so the command
// never sees it); with -u (CREDS "UID:GID:G1,G2,...", else "-") drops to the user (groups, gid, uid last), keeping
// CAP_SYS_ADMIN across the change when a filter is to be installed; starts the command as its child (posix_spawn, or
// fork + seccomp + execve with a filter); forwards SIGINT (unless standard input is a terminal, which sends it to the
// whole process group itself), SIGTERM, SIGHUP and SIGQUIT; ends with the command's exit status or dies of its signal.
// No input of the traced command reaches this program; every call's result is checked.
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

extern char **environ;

// whyfail's own exit codes (src/Whyfail/WhyfailException.cs, ExitCodes).
enum { EXIT_USAGE = 2, EXIT_KERNEL_UNSUPPORTED = 4, EXIT_INTERNAL = 70, EXIT_NOT_EXECUTABLE = 126, EXIT_NOT_FOUND = 127 };

#define INJECT_ENV "WHYFAIL_INJECT_FILTER"

// The kernel's numbers the filter needs, passed by whyfail with it from its generated tables (LauncherFilter.KernelNumbers,
// in this order): none of them is typed here.
struct kernel_numbers {
    long sys_seccomp;
    int set_mode_filter, get_action_avail, set_no_new_privs, get_no_new_privs, set_keep_caps, cap_sys_admin;
    uint32_t capability_version3, ret_allow;
    int eacces;
};

struct sock_fprog_ {
    unsigned short len;
    void *filter;
};

struct inject {
    uint32_t flags;
    struct kernel_numbers k;
    unsigned char *program;
    struct sock_fprog_ fprog;
};

// A decimal number of digits only (NumberStyles.None: no sign, no blanks), at most max; 0 when it is not one.
static int parse_digits(const char *s, size_t len, unsigned long long max, unsigned long long *out)
{
    unsigned long long v = 0;
    if (len == 0) return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// "FLAGS:HEX:NUMBERS" (InjectFilter.Encode; LauncherFilter.TryDecode): 1 and *f filled, or 0 when it is not that.
static int inject_decode(const char *s, struct inject *f)
{
    const char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2 || strchr(c2 + 1, ':')) return 0; // exactly three parts
    unsigned long long v;
    if (!parse_digits(s, (size_t)(c1 - s), UINT32_MAX, &v)) return 0;
    f->flags = (uint32_t)v;

    long long n[10];
    const char *p = c2 + 1;
    for (int i = 0; i < 10; i++) {
        const char *end = strchr(p, ',');
        if (i < 9 ? !end : end != NULL) return 0; // exactly ten numbers
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!parse_digits(p, len, UINT32_MAX, &v)) return 0;
        n[i] = (long long)v;
        p = end ? end + 1 : p + len;
    }
    // (the same narrowing casts as LauncherFilter.KernelNumbers.TryParse)
    f->k = (struct kernel_numbers){ (long)n[0], (int)n[1], (int)n[2], (int)n[3], (int)n[4], (int)n[5], (int)n[6],
                                    (uint32_t)n[7], (uint32_t)n[8], (int)n[9] };

    size_t hex = (size_t)(c2 - (c1 + 1));
    if (hex == 0 || hex % 2 != 0 || (hex / 2) % 8 != 0 || hex / 2 / 8 > USHRT_MAX) return 0;
    f->program = malloc(hex / 2);
    if (!f->program) return 0;
    for (size_t i = 0; i < hex / 2; i++) {
        int hi = hex_digit(c1[1 + 2 * i]), lo = hex_digit(c1[2 + 2 * i]);
        if (hi < 0 || lo < 0) {
            free(f->program);
            f->program = NULL;
            return 0;
        }
        f->program[i] = (unsigned char)(hi << 4 | lo);
    }
    f->fprog.len = (unsigned short)(hex / 2 / 8);
    f->fprog.filter = f->program;
    return 1;
}

// The filter whyfail passed, or NULL; the variable is removed so the command never sees it (LauncherFilter.FromEnvironment).
static struct inject *inject_from_environment(void)
{
    static struct inject f;
    const char *s = getenv(INJECT_ENV);
    if (!s) return NULL;
    char *copy = strdup(s);
    if (!copy || unsetenv(INJECT_ENV) != 0) {
        fprintf(stderr, "whyfail: internal error in the launcher: cannot take %s from the environment: %s\n", INJECT_ENV, strerror(errno));
        exit(EXIT_INTERNAL);
    }
    int ok = inject_decode(copy, &f);
    free(copy);
    return ok ? &f : NULL;
}

// capset(2) with one set of capabilities effective and permitted (the first 32; CAP_SYS_ADMIN is one of them).
static int set_caps(const struct inject *f, uint32_t caps)
{
    uint32_t hdr[2] = { f->k.capability_version3, 0 };
    uint32_t data[6] = { caps, caps, 0, 0, 0, 0 }; // {effective, permitted, inheritable} x 2
    return (int)syscall(SYS_capset, hdr, data);
}

// In the forked child: installs the filter; 0, or the errno. No allocation (LauncherFilter.InstallInChild).
static int inject_install(const struct inject *f)
{
    if (syscall(f->k.sys_seccomp, f->k.set_mode_filter, f->flags, &f->fprog) >= 0) return 0;
    int e = errno;
    if (e != f->k.eacces) return e;
    // No CAP_SYS_ADMIN after all (e.g. a container without it): no_new_privs, and again.
    if (prctl(f->k.set_no_new_privs, 1, 0, 0, 0) != 0) return errno;
    return syscall(f->k.sys_seccomp, f->k.set_mode_filter, f->flags, &f->fprog) >= 0 ? 0 : errno;
}

// Starts the command (LauncherChild.PreparedExec.Spawn): posix_spawn, or fork and execve when the child must first install
// --inject's filter. Returns the child's pid (or -1 with *err the errno of what failed before it existed); *err is 0, the
// errno of execve (the child is reaped), or the filter's errno negated.
static pid_t spawn(const char *exe, char **argv, const struct inject *f, int *err)
{
    *err = 0;
    if (!f) {
        // No code of ours runs in the child: glibc's posix_spawn (clone with CLONE_VM|CLONE_VFORK) copies no page tables;
        // execve's error comes back as its result, and a child that failed is reaped by it.
        // SIGPIPE back to its default action in the command: whyfail's runtime ignores it, the launcher inherited that,
        // and a command that ignores SIGPIPE gets EPIPE where it would have died quietly (`yes | head` prints "Broken pipe").
        posix_spawnattr_t attr;
        sigset_t dfl;
        int rc = posix_spawnattr_init(&attr);
        if (rc != 0) {
            *err = rc;
            return -1;
        }
        sigemptyset(&dfl);
        sigaddset(&dfl, SIGPIPE);
        if ((rc = posix_spawnattr_setsigdefault(&attr, &dfl)) != 0 || (rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF)) != 0) {
            posix_spawnattr_destroy(&attr);
            *err = rc;
            return -1;
        }
        pid_t child = 0;
        rc = posix_spawn(&child, exe, NULL, &attr, argv, environ);
        posix_spawnattr_destroy(&attr);
        *err = rc;
        return rc == 0 ? child : 0;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        *err = errno;
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL); // as posix_spawn's SETSIGDEF above
        int e = inject_install(f);
        if (e != 0)
            e = -e;
        else {
            execve(exe, argv, environ);
            e = errno;
        }
        ssize_t w = write(fds[1], &e, sizeof e);
        (void)w; // (nothing else to tell: the parent then reads end of file)
        kill(getpid(), SIGKILL); // as LauncherChild: the child ends without running anything of ours
        _exit(EXIT_INTERNAL);
    }
    int fork_errno = errno;
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        *err = fork_errno;
        return -1;
    }
    int got = 0;
    ssize_t n;
    while ((n = read(fds[0], &got, sizeof got)) < 0 && errno == EINTR) {}
    if (n == (ssize_t)sizeof got) {
        *err = got;
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    }
    close(fds[0]);
    return pid;
}

static volatile pid_t command_pid;
static int terminal_interrupt;

static void forward(int sig)
{
    int saved = errno;
    if (!(sig == SIGINT && terminal_interrupt)) kill(command_pid, sig);
    errno = saved;
}

// "UID:GID:G1,G2,..." (Launcher.Start); 0 when it is not that (whyfail always passes it).
static int parse_creds(const char *s, uid_t *uid, gid_t *gid, gid_t **groups, size_t *ngroups)
{
    const char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2 || strchr(c2 + 1, ':')) return 0;
    unsigned long long v;
    if (!parse_digits(s, (size_t)(c1 - s), UINT32_MAX, &v)) return 0;
    *uid = (uid_t)v;
    if (!parse_digits(c1 + 1, (size_t)(c2 - c1 - 1), UINT32_MAX, &v)) return 0;
    *gid = (gid_t)v;
    const char *p = c2 + 1;
    size_t count = 0;
    if (*p) {
        count = 1;
        for (const char *q = p; *q; q++) count += *q == ',';
    }
    *groups = calloc(count ? count : 1, sizeof **groups);
    if (!*groups) return 0;
    for (size_t i = 0; i < count; i++) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!parse_digits(p, len, UINT32_MAX, &v)) return 0;
        (*groups)[i] = (gid_t)v;
        p = end ? end + 1 : p + len;
    }
    *ngroups = count;
    return 1;
}

/*
 * __hold EXITFD RUNDIR FD...: holds whyfail's BPF links (inherited descriptors) until whyfail has exited (end of file
 * on EXITFD), then closes them and removes its pid file, RUNDIR/reaper.PID (whyfail wrote it; doctor reads it). Closing a perf event's link waits for the kernel's grace periods
 * (~50 ms each, one after the other), which whyfail leaves to this process instead of its user's prompt. Its own
 * session: no terminal signal reaches it. If it is killed, the kernel closes the links as at any exit: nothing stays.
 */
static int hold(int argc, char **argv)
{
    unsigned long long v;
    if (argc < 4 || !parse_digits(argv[2], strlen(argv[2]), INT_MAX, &v)) return EXIT_INTERNAL;
    int exit_fd = (int)v;
    setsid();
    unsigned char b;
    ssize_t got;
    do got = read(exit_fd, &b, 1);
    while (got > 0 || (got < 0 && errno == EINTR));
    close(exit_fd);
    for (int i = 4; i < argc; i++)
        if (parse_digits(argv[i], strlen(argv[i]), INT_MAX, &v) && v > 2) close((int)v);
    char pidfile[PATH_MAX];
    int n = snprintf(pidfile, sizeof pidfile, "%s/reaper.%d", argv[3], (int)getpid());
    if (argv[3][0] == '/' && n > 0 && (size_t)n < sizeof pidfile) unlink(pidfile);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "__hold") == 0) return hold(argc, argv);
    if (argc < 2 || strcmp(argv[1], "__launch") != 0) {
        fputs("whyfail-launch: started by whyfail only (whyfail -- COMMAND)\n", stderr);
        return EXIT_USAGE;
    }
    // argv[1..]: __launch GOFD CREDS EXECUTABLE ARGV0 ARGV...
    if (argc - 1 < 5) return EXIT_INTERNAL;
    unsigned long long fdv;
    if (!parse_digits(argv[2], strlen(argv[2]), INT_MAX, &fdv)) return EXIT_INTERNAL;
    int go_fd = (int)fdv;
    unsigned char go;
    ssize_t got;
    do got = read(go_fd, &go, 1);
    while (got < 0 && errno == EINTR);
    close(go_fd);
    if (got != 1) return EXIT_INTERNAL; // whyfail went away before the go: the command never runs
    const struct inject *inject = inject_from_environment();

    if (strcmp(argv[3], "-") != 0) {
        uid_t uid;
        gid_t gid, *groups;
        size_t ngroups;
        if (!parse_creds(argv[3], &uid, &gid, &groups, &ngroups)) {
            fprintf(stderr, "whyfail: internal error in the launcher: bad credentials '%s'\n", argv[3]);
            return EXIT_INTERNAL;
        }
        // Keep the permitted capabilities across the uid change (this thread, the one that forks); failing is harmless:
        // the child's seccomp(2) then falls back to no_new_privs.
        if (inject) prctl(inject->k.set_keep_caps, 1, 0, 0, 0);
        // Order matters: groups and gid while still root, uid last (as strace -u / su do).
        if (setgroups(ngroups, groups) != 0 || setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0) {
            fprintf(stderr, "whyfail: cannot switch to uid %u: %s\n", (unsigned)uid, strerror(errno));
            return EXIT_NOT_EXECUTABLE;
        }
        free(groups);
        // CAP_SYS_ADMIN alone, effective, for the child's seccomp(2); failing is harmless (no_new_privs then).
        if (inject) set_caps(inject, UINT32_C(1) << inject->k.cap_sys_admin);
    }

    const char *exe = argv[4];
    int err;
    pid_t pid = spawn(exe, argv + 5, inject, &err);
    if (inject) {
        // After the fork: the launcher keeps no capability.
        set_caps(inject, 0);
        prctl(inject->k.set_keep_caps, 0, 0, 0, 0);
    }
    if (err < 0) {
        fprintf(stderr, "whyfail: cannot install the --inject seccomp filter: %s\n", strerror(-err));
        return EXIT_KERNEL_UNSUPPORTED;
    }
    if (pid < 0 || err != 0) {
        fprintf(stderr, "whyfail: cannot execute %s: %s\n", exe, strerror(err));
        return err == ENOENT ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE;
    }

    command_pid = pid;
    terminal_interrupt = isatty(STDIN_FILENO);
    static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
    struct sigaction sa = { .sa_handler = forward, .sa_flags = SA_RESTART };
    sigemptyset(&sa.sa_mask);
    struct sigaction old[4];
    for (int i = 0; i < 4; i++)
        if (sigaction(forwarded[i], &sa, &old[i]) != 0) {
            int e = errno;
            fprintf(stderr, "whyfail: internal error in the launcher: cannot forward signal %d: %s\n", forwarded[i], strerror(e));
            kill(pid, SIGKILL);
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
            return EXIT_INTERNAL;
        }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            fprintf(stderr, "whyfail: internal error in the launcher: cannot wait for the command: %s\n", strerror(errno));
            return EXIT_INTERNAL;
        }
    for (int i = 0; i < 4; i++) sigaction(forwarded[i], &old[i], NULL);

    if (WIFEXITED(status)) return WEXITSTATUS(status);
    int termsig = WTERMSIG(status);
    // Die of the same signal (without a core dump of the launcher), so that whyfail reports 128+N as for the command.
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    signal(termsig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, termsig);
    sigprocmask(SIG_UNBLOCK, &one, NULL);
    kill(getpid(), termsig);
    return 128 + termsig;
}
