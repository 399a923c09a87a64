/*
 * The kernel-origin corpus (bench/origins): real failures across subsystems, each made twice in its own child
 * process, PAUSE seconds apart (the first occurrence shows what whyfail finds at once, the second what it finds
 * after zooming in: the functions it started watching in between). Run as root; the cases that need an
 * unprivileged caller drop to nobody (65534) in their child.
 *
 *   origin_corpus MAP [CASE...]     MAP: file that gets one "PID CASE" line per case; no CASE: all of them
 *
 * Exit status 0 when every case failed as intended (errno checked here too), 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/landlock.h>
#include <linux/netlink.h>
#include <mqueue.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned pause_s = 3;
static char dir[64];

static void nobody(void)
{
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534)) {
		perror("drop to nobody");
		_exit(3);
	}
}

/* Each case makes its failure once (and returns the errno it got); it is called twice. */
static int fail_write_tmpfs(void)
{
	static int fd = -1;
	static char buf[65536];
	if (fd < 0) {
		char path[96];
		snprintf(path, sizeof(path), "%s/tmpfs", dir);
		mkdir(path, 0700);
		if (mount("none", path, "tmpfs", 0, "size=64k")) { perror("mount tmpfs"); _exit(3); }
		strcat(path, "/fill");
		fd = open(path, O_WRONLY | O_CREAT, 0600);
		if (fd < 0) { perror("open fill"); _exit(3); }
	}
	for (int i = 0; i < 64; i++)
		if (write(fd, buf, sizeof(buf)) < 0) return errno;
	return 0;
}

static int fail_inotify(void)
{
	static int fd = -1;
	if (fd < 0)
		fd = inotify_init1(0);
	return inotify_add_watch(fd, "/", IN_MODIFY) < 0 ? errno : 0;
}

static int fail_open_missing(void) { return open("/nonexistent-whyfail-corpus/x", O_RDONLY) < 0 ? errno : 0; }

static int fail_open_denied(void)
{
	char path[96];
	snprintf(path, sizeof(path), "%s/private/x", dir);
	return open(path, O_RDONLY) < 0 ? errno : 0;
}

static int fail_kill(void) { return kill(1, 0) < 0 ? errno : 0; }

static int fail_bind(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int r = bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ? errno : 0;
	close(s);
	return r;
}

static int fail_connect(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int r = connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 ? errno : 0;
	close(s);
	return r;
}

static int fail_mlock(void)
{
	static char page[4096] __attribute__((aligned(4096)));
	struct rlimit z = { 0, 0 };
	setrlimit(RLIMIT_MEMLOCK, &z);
	return mlock(page, sizeof(page)) < 0 ? errno : 0;
}

static int fail_mount(void) { return mount("none", "/tmp", "tmpfs", 0, NULL) < 0 ? errno : 0; }

static int fail_unshare(void) { return unshare(CLONE_NEWNS) < 0 ? errno : 0; }

static int fail_ptrace(void) { return ptrace(PTRACE_ATTACH, 1, 0, 0) < 0 ? errno : 0; }

static int fail_perf(void)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_CPU_CLOCK;
	a.sample_type = 1ULL << 62; /* beyond PERF_SAMPLE_MAX */
	return syscall(SYS_perf_event_open, &a, 0, -1, -1, 0) < 0 ? errno : 0;
}

static int fail_io_uring(void)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	return syscall(SYS_io_uring_setup, 0, &p) < 0 ? errno : 0; /* zero entries */
}

static int fail_bpf(void)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = 0x7fff; /* no such map type */
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 1;
	return syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a)) < 0 ? errno : 0;
}

static int fail_socket(void) { return socket(200, SOCK_STREAM, 0) < 0 ? errno : 0; }

static int fail_setns(void)
{
	int fd = open("/dev/null", O_RDONLY);
	int r = setns(fd, 0) < 0 ? errno : 0;
	close(fd);
	return r;
}

static int fail_seccomp_mkdir(void)
{
	static int installed;
	if (!installed) {
		struct sock_filter f[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mkdir, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) { perror("seccomp"); _exit(3); }
		installed = 1;
	}
	return mkdir("/tmp/whyfail-corpus-never", 0755) < 0 ? errno : 0;
}

static void on_usr1(int sig) { (void)sig; }

static int fail_signal_read(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1; /* no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);
	int p[2];
	if (pipe(p)) _exit(3);
	pid_t me = getpid(), c = fork();
	if (c == 0) {
		/* Signal once the parent is blocked in read (its /proc/PID/syscall starts with 0). */
		char path[64], buf[128];
		snprintf(path, sizeof(path), "/proc/%d/syscall", (int)me);
		for (int i = 0; i < 4000; i++) {
			FILE *f = fopen(path, "r");
			int blocked = f && fgets(buf, sizeof(buf), f) && strncmp(buf, "0 ", 2) == 0;
			if (f) fclose(f);
			if (blocked) break;
			usleep(5000);
		}
		usleep(50000);
		kill(me, SIGUSR1);
		_exit(0);
	}
	char b;
	int r = read(p[0], &b, 1) < 0 ? errno : 0;
	waitpid(c, NULL, 0);
	close(p[0]);
	close(p[1]);
	return r;
}

static int fail_landlock_open(void)
{
	static int restricted;
	char allowed[96], denied[96];
	snprintf(allowed, sizeof(allowed), "%s/ll-allowed", dir);
	snprintf(denied, sizeof(denied), "%s/ll-denied", dir);
	if (!restricted) {
		struct landlock_ruleset_attr ra = { .handled_access_fs = LANDLOCK_ACCESS_FS_READ_FILE };
		int rs = syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra), 0);
		if (rs < 0) { perror("landlock_create_ruleset"); _exit(3); }
		struct landlock_path_beneath_attr pb = { .allowed_access = LANDLOCK_ACCESS_FS_READ_FILE, .parent_fd = open(allowed, O_PATH) };
		if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0)) { perror("landlock_add_rule"); _exit(3); }
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_landlock_restrict_self, rs, 0)) { perror("landlock_restrict_self"); _exit(3); }
		restricted = 1;
	}
	return open(denied, O_RDONLY) < 0 ? errno : 0;
}

/* A path under the corpus directory (its tmpfs mounts: "small", "scratch"). */
static void scratch_path(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

static int fail_fallocate_tmpfs(void)
{
	static int fd = -1;
	if (fd < 0) {
		char path[96];
		scratch_path(path, sizeof(path), "small/falloc");
		fd = open(path, O_RDWR | O_CREAT, 0600);
		if (fd < 0) { perror("open falloc"); _exit(3); }
	}
	return fallocate(fd, 0, 0, 1 << 20) < 0 ? errno : 0; /* 1 MiB on a 64 KiB tmpfs */
}

static int fail_rmdir_not_empty(void)
{
	char path[96];
	scratch_path(path, sizeof(path), "scratch/full-dir");
	return rmdir(path) < 0 ? errno : 0;
}

static int fail_getxattr_small_buffer(void)
{
	char path[96], b[1];
	scratch_path(path, sizeof(path), "scratch/file");
	return getxattr(path, "trusted.whyfail", b, sizeof(b)) < 0 ? errno : 0;
}

static int fail_getxattr_missing(void)
{
	char path[96], b[64];
	scratch_path(path, sizeof(path), "scratch/file");
	return getxattr(path, "trusted.whyfail-missing", b, sizeof(b)) < 0 ? errno : 0;
}

static int fail_setxattr_too_big(void)
{
	static char big[65537];
	char path[96];
	scratch_path(path, sizeof(path), "scratch/file");
	return setxattr(path, "trusted.whyfail-big", big, sizeof(big), 0) < 0 ? errno : 0;
}

static int fail_read_directory(void)
{
	char path[96], b[16];
	scratch_path(path, sizeof(path), "scratch");
	int fd = open(path, O_RDONLY | O_DIRECTORY);
	int r = read(fd, b, sizeof(b)) < 0 ? errno : 0;
	close(fd);
	return r;
}

static int fail_write_full_pipe(void)
{
	static int p[2] = { -1, -1 };
	static char buf[4096];
	if (p[1] < 0 && pipe2(p, O_NONBLOCK)) _exit(3);
	for (int i = 0; i < 1024; i++)
		if (write(p[1], buf, sizeof(buf)) < 0) return errno;
	return 0;
}

static int fail_ftruncate_fsize(void)
{
	static int fd = -1;
	if (fd < 0) {
		char path[96];
		scratch_path(path, sizeof(path), "scratch/trunc");
		fd = open(path, O_RDWR | O_CREAT, 0600);
		signal(SIGXFSZ, SIG_IGN);
		struct rlimit l = { 4096, 4096 };
		if (fd < 0 || setrlimit(RLIMIT_FSIZE, &l)) { perror("fsize"); _exit(3); }
	}
	return ftruncate(fd, 1 << 20) < 0 ? errno : 0;
}

static int fail_eventfd_write_max(void)
{
	int fd = eventfd(0, 0);
	unsigned long long v = ~0ULL;
	int r = write(fd, &v, sizeof(v)) < 0 ? errno : 0;
	close(fd);
	return r;
}

static int fail_eventfd_read_short(void)
{
	int fd = eventfd(1, 0);
	char b[4];
	int r = read(fd, b, sizeof(b)) < 0 ? errno : 0;
	close(fd);
	return r;
}

static int fail_mkdir_exists(void)
{
	char path[96];
	scratch_path(path, sizeof(path), "scratch/full-dir");
	return mkdir(path, 0755) < 0 ? errno : 0;
}

static int fail_link_cross_mount(void)
{
	char from[96], to[96];
	scratch_path(from, sizeof(from), "scratch/file");
	scratch_path(to, sizeof(to), "link-elsewhere");
	return link(from, to) < 0 ? errno : 0;
}

static int fail_mmap_locked(void)
{
	struct rlimit l = { 4096, 4096 };
	setrlimit(RLIMIT_MEMLOCK, &l);
	void *p = mmap(NULL, 1 << 16, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	if (p != MAP_FAILED) { munmap(p, 1 << 16); return 0; }
	return errno;
}

static int fail_madvise(void)
{
	static char page[4096] __attribute__((aligned(4096)));
	return madvise(page, sizeof(page), 12345) < 0 ? errno : 0;
}

static int fail_munmap_unaligned(void) { return munmap((void *)0x10001, 4096) < 0 ? errno : 0; }

static int fail_inotify_instances(void) { int fd = inotify_init1(0); if (fd >= 0) close(fd); return fd < 0 ? errno : 0; }

static int fail_userns_limit(void) { return unshare(CLONE_NEWUSER) < 0 ? errno : 0; }

static int fail_mqueue_limit(void)
{
	struct mq_attr a = { .mq_maxmsg = 1, .mq_msgsize = 16 };
	int fd = syscall(SYS_mq_open, "whyfail-corpus", O_RDWR | O_CREAT | O_EXCL, 0600, &a);
	if (fd >= 0) { close(fd); syscall(SYS_mq_unlink, "whyfail-corpus"); return 0; }
	return errno;
}

static int fail_unix_connect_file(void)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	scratch_path(a.sun_path, sizeof(a.sun_path), "scratch/file");
	int r = connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 ? errno : 0;
	close(s);
	return r;
}

static int fail_unix_send_unconnected(void)
{
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	int r = send(s, "x", 1, 0) < 0 ? errno : 0;
	close(s);
	return r;
}

static int fail_setsockopt_ttl(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0), ttl = 0;
	int r = setsockopt(s, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) < 0 ? errno : 0;
	close(s);
	return r;
}

static int fail_netlink_protocol(void)
{
	int s = socket(AF_NETLINK, SOCK_RAW, 200);
	if (s >= 0) { close(s); return 0; }
	return errno;
}

static int fail_listen_udp(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	int r = listen(s, 1) < 0 ? errno : 0;
	close(s);
	return r;
}

static int fail_accept_not_listening(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int r = accept(s, NULL, NULL) < 0 ? errno : 0;
	close(s);
	return r;
}

static int fail_send_tcp_unconnected(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int r = send(s, "x", 1, MSG_NOSIGNAL) < 0 ? errno : 0;
	close(s);
	return r;
}

static int fail_prlimit_raise(void)
{
	struct rlimit l = { 0, 0 }, more = { 0, 1 };
	setrlimit(RLIMIT_CORE, &l);
	return prlimit(0, RLIMIT_CORE, &more, NULL) < 0 ? errno : 0;
}

static int fail_setpriority(void) { return setpriority(PRIO_PROCESS, 0, -5) < 0 ? errno : 0; }

static int fail_setuid_root(void) { return setuid(0) < 0 ? errno : 0; }

static int fail_sched_fifo(void)
{
	struct sched_param sp = { .sched_priority = 1 };
	return sched_setscheduler(0, SCHED_FIFO, &sp) < 0 ? errno : 0;
}

static int fail_bpf_bad_prog_type(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = 0x7fff; /* no such program type */
	a.insn_cnt = 2;
	a.insns = (unsigned long)insns;
	a.license = (unsigned long)"GPL";
	return syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a)) < 0 ? errno : 0;
}

static int fail_io_uring_bad_flags(void)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	p.flags = 1u << 31; /* no such setup flag */
	return syscall(SYS_io_uring_setup, 4, &p) < 0 ? errno : 0;
}

static int fail_setns_netns(void)
{
	int fd = open("/proc/self/ns/net", O_RDONLY);
	int r = setns(fd, CLONE_NEWNET) < 0 ? errno : 0;
	close(fd);
	return r;
}

static int fail_ptrace_not_traced(void)
{
	errno = 0;
	long v = ptrace(PTRACE_PEEKDATA, 1, 0, 0);
	return v == -1 && errno ? errno : 0;
}

static int fail_kill_bad_signal(void) { return kill(getpid(), 1000) < 0 ? errno : 0; }

struct kase {
	const char *name;
	int (*fail)(void);
	int as_nobody;
	int want;
	const char *sysctl, *value; /* set around the case (then put back): a system-wide limit */
};

static const struct kase cases[] = {
	{ "write_tmpfs_full", fail_write_tmpfs, 0, ENOSPC },
	{ "inotify_watch_limit", fail_inotify, 0, ENOSPC, "/proc/sys/fs/inotify/max_user_watches", "0" },
	{ "open_missing", fail_open_missing, 0, ENOENT },
	{ "open_denied", fail_open_denied, 1, EACCES },
	{ "kill_init", fail_kill, 1, EPERM },
	{ "bind_port_80", fail_bind, 1, EACCES },
	{ "connect_refused", fail_connect, 0, ECONNREFUSED },
	{ "mlock_no_limit", fail_mlock, 1, EPERM },
	{ "mount_unprivileged", fail_mount, 1, EPERM },
	{ "unshare_unprivileged", fail_unshare, 1, EPERM },
	{ "ptrace_init", fail_ptrace, 1, EPERM },
	{ "perf_bad_sample_type", fail_perf, 0, EINVAL },
	{ "io_uring_zero_entries", fail_io_uring, 0, EINVAL },
	{ "bpf_bad_map_type", fail_bpf, 0, EINVAL },
	{ "socket_bad_family", fail_socket, 0, EAFNOSUPPORT },
	{ "setns_not_a_namespace", fail_setns, 0, EINVAL },
	{ "seccomp_mkdir", fail_seccomp_mkdir, 0, EPERM },
	{ "signal_read", fail_signal_read, 0, EINTR },
	{ "landlock_open", fail_landlock_open, 0, EACCES },
	{ "fallocate_tmpfs_too_big", fail_fallocate_tmpfs, 0, ENOSPC },
	{ "rmdir_not_empty", fail_rmdir_not_empty, 0, ENOTEMPTY },
	{ "getxattr_small_buffer", fail_getxattr_small_buffer, 0, ERANGE },
	{ "getxattr_missing", fail_getxattr_missing, 0, ENODATA },
	{ "setxattr_too_big", fail_setxattr_too_big, 0, E2BIG },
	{ "read_directory", fail_read_directory, 0, EISDIR },
	{ "write_full_pipe", fail_write_full_pipe, 0, EAGAIN },
	{ "ftruncate_fsize_limit", fail_ftruncate_fsize, 0, EFBIG },
	{ "eventfd_write_max", fail_eventfd_write_max, 0, EINVAL },
	{ "eventfd_read_short", fail_eventfd_read_short, 0, EINVAL },
	{ "mkdir_exists", fail_mkdir_exists, 0, EEXIST },
	{ "link_cross_mount", fail_link_cross_mount, 0, EXDEV },
	{ "mmap_locked_limit", fail_mmap_locked, 1, EAGAIN },
	{ "madvise_bad_advice", fail_madvise, 0, EINVAL },
	{ "munmap_unaligned", fail_munmap_unaligned, 0, EINVAL },
	{ "inotify_instance_limit", fail_inotify_instances, 0, EMFILE, "/proc/sys/fs/inotify/max_user_instances", "0" },
	{ "userns_limit", fail_userns_limit, 0, ENOSPC, "/proc/sys/user/max_user_namespaces", "0" },
	{ "mqueue_queues_max", fail_mqueue_limit, 1, ENOSPC, "/proc/sys/fs/mqueue/queues_max", "0" },
	{ "unix_connect_not_a_socket", fail_unix_connect_file, 0, ECONNREFUSED },
	{ "unix_send_unconnected", fail_unix_send_unconnected, 0, ENOTCONN },
	{ "setsockopt_ip_ttl_zero", fail_setsockopt_ttl, 0, EINVAL },
	{ "netlink_bad_protocol", fail_netlink_protocol, 0, EPROTONOSUPPORT },
	{ "listen_udp", fail_listen_udp, 0, EOPNOTSUPP },
	{ "accept_not_listening", fail_accept_not_listening, 0, EINVAL },
	{ "send_tcp_unconnected", fail_send_tcp_unconnected, 0, EPIPE },
	{ "prlimit_raise_hard", fail_prlimit_raise, 1, EPERM },
	{ "setpriority_lower_nice", fail_setpriority, 1, EACCES },
	{ "setuid_root", fail_setuid_root, 1, EPERM },
	{ "sched_fifo_unprivileged", fail_sched_fifo, 1, EPERM },
	{ "bpf_bad_prog_type", fail_bpf_bad_prog_type, 0, EINVAL },
	{ "io_uring_bad_flags", fail_io_uring_bad_flags, 0, EINVAL },
	{ "setns_netns_unprivileged", fail_setns_netns, 1, EPERM },
	{ "ptrace_not_traced", fail_ptrace_not_traced, 0, ESRCH },
	{ "kill_bad_signal", fail_kill_bad_signal, 0, EINVAL },
};

/* Writes VALUE into the sysctl file PATH; returns its old value in OLD (empty when unreadable). */
static int set_sysctl(const char *path, const char *value, char *old, size_t n)
{
	old[0] = 0;
	int s = open(path, O_RDONLY);
	if (s >= 0) { ssize_t r = read(s, old, n - 1); old[r > 0 ? r : 0] = 0; close(s); }
	s = open(path, O_WRONLY);
	int ok = s >= 0 && write(s, value, strlen(value)) == (ssize_t)strlen(value);
	if (s >= 0) close(s);
	return ok;
}

static int run(const struct kase *k, FILE *map)
{
	char old[32] = "";
	if (k->sysctl && !set_sysctl(k->sysctl, k->value, old, sizeof(old))) { perror(k->sysctl); return 0; }
	pid_t c = fork();
	if (c == 0) {
		fprintf(map, "%d %s\n", (int)getpid(), k->name);
		fflush(map);
		if (k->as_nobody) nobody();
		int e1 = k->fail();
		sleep(pause_s);
		int e2 = k->fail();
		printf("%s: %s, then %s (want %s)\n", k->name, strerrorname_np(e1) ?: "0", strerrorname_np(e2) ?: "0", strerrorname_np(k->want));
		fflush(stdout);
		_exit(e1 == k->want && e2 == k->want ? 0 : 1);
	}
	int st = 0;
	waitpid(c, &st, 0);
	/* A system-wide limit goes back at once: whatever runs next needs it. */
	char ignored[32];
	if (k->sysctl && old[0] && !set_sysctl(k->sysctl, old, ignored, sizeof(ignored))) return 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) { fprintf(stderr, "usage: origin_corpus MAP [CASE...]\n"); return 2; }
	if (getenv("PAUSE")) pause_s = (unsigned)atoi(getenv("PAUSE"));
	FILE *map = fopen(argv[1], "w");
	if (!map) { perror(argv[1]); return 2; }
	strcpy(dir, "/run/whyfail-corpus-XXXXXX");
	if (!mkdtemp(dir)) { perror("mkdtemp"); return 2; }
	chmod(dir, 0755);
	char p[96];
	snprintf(p, sizeof(p), "%s/private", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/ll-allowed", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/ll-denied", dir);
	close(open(p, O_WRONLY | O_CREAT, 0644));
	/* Two tmpfs: "small" (64 KiB, for ENOSPC) and "scratch" (a file with a trusted xattr, a directory that is not empty). */
	snprintf(p, sizeof(p), "%s/small", dir);
	mkdir(p, 0755);
	if (mount("none", p, "tmpfs", 0, "size=64k")) { perror("mount small"); return 2; }
	snprintf(p, sizeof(p), "%s/scratch", dir);
	mkdir(p, 0755);
	if (mount("none", p, "tmpfs", 0, "size=1m,mode=0755")) { perror("mount scratch"); return 2; }
	snprintf(p, sizeof(p), "%s/scratch/full-dir", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/scratch/full-dir/x", dir);
	close(open(p, O_WRONLY | O_CREAT, 0644));
	snprintf(p, sizeof(p), "%s/scratch/file", dir);
	close(open(p, O_WRONLY | O_CREAT, 0666));
	if (setxattr(p, "trusted.whyfail", "whyfail corpus", 14, 0)) { perror("setxattr trusted"); return 2; }

	int ok = 1;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int want = argc == 2;
		for (int a = 2; a < argc; a++) want |= strcmp(argv[a], cases[i].name) == 0;
		if (want) ok &= run(&cases[i], map);
	}
	const char *mounts[] = { "tmpfs", "small", "scratch" };
	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, mounts[i]);
		umount2(p, MNT_DETACH);
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd)) ok = 0;
	return ok ? 0 : 1;
}
