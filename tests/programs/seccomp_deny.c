/*
 * A process under two seccomp filters that really refuse mkdir, for whyfail's seccomp attribution tests.
 *
 *   filter 1 (installed first): mkdir -> ERRNO(EPERM), everything else allowed
 *   filter 2: arch other than x86_64 -> KILL_PROCESS; mkdir with mode 0700 -> ERRNO(EACCES); else allowed
 *
 * With mode 0755 only filter 1 objects (EPERM); with mode 0700 both return ERRNO and the kernel takes the newest
 * filter's (EACCES). It calls mkdir both ways, prints "mkdir ERRNO PATH-POINTER MODE" for each, then "pid PID tid TID"
 * and "READY", and then answers every "ping" line on stdin with "pong N" until end of input, exiting after 30 s
 * without input.
 *
 * Usage: seccomp_deny [direct] [thread] [big]
 * Without "direct" the work happens in a forked child, so the process that started this one is not the parent of the
 * filtered process (whyfail does not stop its own children; see SeccompFilters). The parent only waits for the child.
 * With "thread" a second thread installs a third filter of its own (mkdir -> ERRNO(EROFS)), so it has three filters
 * and the main thread two; it calls mkdir (EROFS), prints "worker TID" and sleeps until the process ends.
 * With "big" filter 1 starts with BIG_PAD loads of nr that change nothing: 2 504 instructions, more than one record of
 * the kernel side's copy holds (WF_SECCOMP_CHUNK).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NR_OFF offsetof(struct seccomp_data, nr)
#define ARCH_OFF offsetof(struct seccomp_data, arch)
#define ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n))
#define ARG_HI(n) (offsetof(struct seccomp_data, args) + 8 * (n) + 4)

static int install(struct sock_filter *f, unsigned short len)
{
    struct sock_fprog prog = { .len = len, .filter = f };
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static void attempt(const char *path, unsigned mode)
{
    long r = syscall(SYS_mkdir, path, mode);
    printf("mkdir %d %#lx %#o\n", r == 0 ? 0 : errno, (unsigned long)path, mode);
}

static int ready_pipe[2];

static void *worker(void *arg)
{
    (void)arg;
    struct sock_filter deny_all_mkdir[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR_OFF),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mkdir, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EROFS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    if (install(deny_all_mkdir, sizeof deny_all_mkdir / sizeof deny_all_mkdir[0]) != 0) { perror("seccomp filter 3"); exit(2); }
    attempt("/nonexistent-whyfail-seccomp/worker", 0755);
    printf("worker %ld\n", syscall(SYS_gettid));
    char c = 1;
    if (write(ready_pipe[1], &c, 1) != 1) exit(2);
    for (;;) pause();
    return NULL;
}

#define BIG_PAD 2500

static int work(int with_thread, int big)
{
    static struct sock_filter deny_mkdir[BIG_PAD + 4];
    const struct sock_filter body[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR_OFF),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mkdir, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    unsigned short pad = big ? BIG_PAD : 0;
    for (unsigned short i = 0; i < pad; i++)
        deny_mkdir[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR_OFF);
    memcpy(deny_mkdir + pad, body, sizeof body);
    struct sock_filter deny_private_mkdir[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARCH_OFF),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR_OFF),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mkdir, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_HI(1)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(1)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0700, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
    };

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) { perror("prctl(PR_SET_NO_NEW_PRIVS)"); return 2; }
    if (install(deny_mkdir, pad + 4) != 0) { perror("seccomp filter 1"); return 2; }
    if (install(deny_private_mkdir, sizeof deny_private_mkdir / sizeof deny_private_mkdir[0]) != 0) { perror("seccomp filter 2"); return 2; }

    static const char path[] = "/nonexistent-whyfail-seccomp/dir";
    attempt(path, 0755);
    attempt(path, 0700);
    if (with_thread)
    {
        pthread_t t;
        char c;
        if (pipe(ready_pipe) != 0 || pthread_create(&t, NULL, worker, NULL) != 0) { perror("thread"); return 2; }
        if (read(ready_pipe[0], &c, 1) != 1) return 2;
    }
    printf("pid %d tid %ld\nREADY\n", getpid(), syscall(SYS_gettid));

    char line[256];
    int pongs = 0;
    for (;;)
    {
        struct pollfd p = { .fd = 0, .events = POLLIN };
        int r = poll(&p, 1, 30000);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return 3;
        if (!fgets(line, sizeof line, stdin)) return 0;
        if (strncmp(line, "ping", 4) == 0) printf("pong %d\n", ++pongs);
    }
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int direct = 0, with_thread = 0, big = 0;
    for (int i = 1; i < argc; i++)
    {
        if (strcmp(argv[i], "direct") == 0) direct = 1;
        else if (strcmp(argv[i], "thread") == 0) with_thread = 1;
        else if (strcmp(argv[i], "big") == 0) big = 1;
    }
    if (direct) return work(with_thread, big);

    pid_t child = fork();
    if (child < 0) { perror("fork"); return 2; }
    if (child == 0)
    {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        return work(with_thread, big);
    }
    int status;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR) return 2;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
