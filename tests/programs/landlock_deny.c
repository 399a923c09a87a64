/*
 * A process that really sandboxes itself with Landlock and then does something its sandbox forbids, for whyfail's
 * Landlock evidence tests. It uses the raw system calls (no liblandlock) and checks the ABI version first.
 *
 * Usage:
 *   landlock_deny fs ALLOWED_DIR FILE [r|w|rw]
 *       Handles file reading and writing (fs.read_file, fs.write_file, fs.read_dir and the make/remove rights),
 *       allows them beneath ALLOWED_DIR only, restricts itself (PR_SET_NO_NEW_PRIVS, then landlock_restrict_self),
 *       opens ALLOWED_DIR itself (allowed), then opens FILE for reading, writing or both (default r): EACCES when
 *       FILE is outside ALLOWED_DIR.
 *   landlock_deny fs-child ALLOWED_DIR FILE [r|w|rw]
 *       The same, but after restricting itself it forks and the child (which inherits the domain) does the opens;
 *       the parent prints "creator PID", waits and exits with the child's status.
 *   landlock_deny net PORT
 *       (ABI 4 and later) Handles net.bind_tcp with no rule allowing it, restricts itself and binds a TCP socket to
 *       127.0.0.1:PORT: EACCES.
 *
 * Prints "abi N pid PID" (the process doing the calls), then one line "CALL ERRNO" per attempt (0 when it succeeded). Exits 1 when the final
 * attempt failed with EACCES, 0 when it succeeded, 2 on a setup error (message on stderr), 3 when the kernel has no
 * Landlock or an ABI too old for the mode (message on stderr).
 * Landlock logs a denial to the audit log (Linux 6.15+, ABI 7+) only when audit is enabled and, by default, only in
 * the executable that created the domain: this program does the denied call itself, so it is logged.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Newer than the installed uapi header may be (Debian 12's describes Linux 6.1). */
struct ll_ruleset_attr
{
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
};
struct ll_net_port_attr
{
    uint64_t allowed_access;
    uint64_t port;
} __attribute__((packed));
#define LL_ACCESS_NET_BIND_TCP (1ULL << 0)

static int ll_create(const struct ll_ruleset_attr *attr, size_t size, uint32_t flags)
{
    return (int)syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

static int restrict_self(int ruleset)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) { perror("prctl(PR_SET_NO_NEW_PRIVS)"); return -1; }
    if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) { perror("landlock_restrict_self"); return -1; }
    close(ruleset);
    return 0;
}

static int fs_mode(int abi, const char *allowed, const char *file, const char *how, int in_child)
{
    uint64_t rights = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_DIR
        | LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG
        | LANDLOCK_ACCESS_FS_MAKE_DIR;
    struct ll_ruleset_attr attr = { .handled_access_fs = rights };
    int ruleset = ll_create(&attr, sizeof attr.handled_access_fs, 0);
    if (ruleset < 0) { perror("landlock_create_ruleset"); return 2; }

    int dir = open(allowed, O_PATH | O_CLOEXEC);
    if (dir < 0) { perror(allowed); return 2; }
    struct landlock_path_beneath_attr beneath = { .allowed_access = rights, .parent_fd = dir };
    if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) != 0)
    {
        perror("landlock_add_rule");
        return 2;
    }
    close(dir);
    if (restrict_self(ruleset) != 0) return 2;
    if (in_child)
    {
        printf("creator %d\n", getpid());
        pid_t child = fork();
        if (child < 0) { perror("fork"); return 2; }
        if (child > 0)
        {
            int status;
            while (waitpid(child, &status, 0) < 0)
                if (errno != EINTR) return 2;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
        }
    }
    printf("abi %d pid %d\n", abi, getpid());

    int fd = open(allowed, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    printf("open-allowed %d\n", fd >= 0 ? 0 : errno);
    if (fd >= 0) close(fd);

    int flags = strcmp(how, "w") == 0 ? O_WRONLY : strcmp(how, "rw") == 0 ? O_RDWR : O_RDONLY;
    fd = open(file, flags | O_CLOEXEC);
    int err = fd >= 0 ? 0 : errno;
    printf("open %d\n", err);
    return err == EACCES ? 1 : err == 0 ? 0 : 2;
}

static int net_mode(int abi, int port)
{
    if (abi < 4) { fprintf(stderr, "Landlock ABI %d has no network rules (4 and later)\n", abi); return 3; }
    struct ll_ruleset_attr attr = { .handled_access_net = LL_ACCESS_NET_BIND_TCP };
    int ruleset = ll_create(&attr, sizeof attr, 0);
    if (ruleset < 0) { perror("landlock_create_ruleset"); return 2; }
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) { perror("socket"); return 2; }
    if (restrict_self(ruleset) != 0) return 2;
    printf("abi %d pid %d\n", abi, getpid());

    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int err = bind(s, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : errno;
    printf("bind %d\n", err);
    return err == EACCES ? 1 : err == 0 ? 0 : 2;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int abi = ll_create(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 0)
    {
        fprintf(stderr, "no Landlock on this kernel (landlock_create_ruleset: %s)\n", strerror(errno));
        return 3;
    }
    if (argc >= 4 && (strcmp(argv[1], "fs") == 0 || strcmp(argv[1], "fs-child") == 0))
        return fs_mode(abi, argv[2], argv[3], argc >= 5 ? argv[4] : "r", strcmp(argv[1], "fs-child") == 0);
    if (argc == 3 && strcmp(argv[1], "net") == 0) return net_mode(abi, atoi(argv[2]));
    fprintf(stderr, "usage: landlock_deny fs|fs-child ALLOWED_DIR FILE [r|w|rw] | landlock_deny net PORT\n");
    return 2;
}
