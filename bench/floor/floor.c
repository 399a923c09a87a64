/*
 * bench/floor: the floor of a syscall tracer on this kernel (see floor.bpf.c and bench/README.md).
 *
 *   floor [--both] OBJECT -- COMMAND [ARG...]
 *   floor [--both] (--report FILE | --count FILE) [--wake-default] OBJECT -- COMMAND [ARG...]
 *
 * Without --report/--count: runs COMMAND with empty BPF programs attached to the raw sys_exit
 * tracepoint (and, with --both, sys_enter too), the way whyfail attaches its own.
 *
 * --report FILE: a minimal reporter of every failing call of COMMAND's process tree (floor_report on
 * sys_exit, floor_fork on sched_process_fork): its consumer reads the ring buffer and writes one
 * strace-like line per failure to FILE, in batches of up to 256 KiB:
 *     1234.567890 [pid 42] openat(AT_FDCWD, "/path", O_RDONLY) = -1 ENOENT (No such file or directory)
 * (other calls: "syscall_NR(0x.., ...)", the six arguments in hex). The last line of FILE is the
 * accounting, "floor: reported=N lost=M" (records received, records the ring buffer had no room for).
 * --count FILE: the same BPF programs; the consumer only counts the records (no formatting, no write)
 * and writes the accounting line alone.
 * --pos-every N, --work NS (with --count): the consumer reads the ring buffer itself (mmap, as libbpf
 * does) instead of through libbpf, publishes its position to the kernel only every N records (libbpf: after
 * each one; the producer reads that cache line at every record) and spins NS ns per record without
 * touching memory (a consumer as slow as whyfail's, without its memory traffic). Experiments for
 * bench/README "The floor of reporting every failure, session 15".
 * --pad N (with --report): each line padded with spaces to N bytes (at most 8192), as long as whyfail's JSON
 * records (~1.8 KB each for the failing openat loop): what the output's volume costs.
 * --fat icache|dcache: the reporter's program also runs ~16 KB of straight-line code / writes 256 cache lines of
 * a 16 KiB per-CPU array at every failure (floor_report_icache / _dcache in floor.bpf.c).
 * --fat calls|helpers: the reporter's program also makes 10 calls of an empty global function / of a helper
 * (bpf_get_prandom_u32) at every failure (floor_report_calls / _helpers): the cost of one call on this host.
 * --fat noclock: the record's time is the tick (jiffies, in ns) instead of a clock read (floor_report_noclock):
 * what the one bpf_ktime_get_ns() per record costs (the wake-up policy then counts ticks too).
 * --wake-ns NS: at most one wake-up per NS ns (default 1000000, whyfail's); 0: none, the consumer reads
 * at its poll's 100 ms timeout only.
 * --wake-default: the kernel's wake-ups (one per record written while the consumer waits) instead of
 * whyfail's (at most one per ms; the records between wait for the next wake or the 100 ms poll timeout).
 * --both: also the empty sys_enter program (whyfail attaches both ends).
 *
 * Exits with the command's status (128 + signal when killed). The programs are detached when floor
 * exits, however it exits: the links are file descriptors of this process.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <x86intrin.h>

struct floor_rec {  /* as in floor.bpf.c */
	uint64_t ts_ns;
	uint32_t tgid, tid;
	uint32_t nr;
	int32_t ret;
	uint64_t args[6];
	uint32_t path_len;
	uint32_t pad;
};

static int out_fd = -1;
static char *obuf;
static size_t olen;
#define OBUF_SIZE (256 << 10)
#define LINE_MAX_BYTES (4 * 4096 + 512 + 8192)
static uint64_t received;
static long pad; /* --pad */

static void flush_out(void)
{
	size_t done = 0;
	while (done < olen) {
		ssize_t n = write(out_fd, obuf + done, olen - done);
		if (n < 0) {
			if (errno == EINTR) continue;
			perror("floor: write");
			exit(1);
		}
		done += n;
	}
	olen = 0;
}

static char *put_str(char *p, const char *s)
{
	while (*s) *p++ = *s++;
	return p;
}

static char *put_u64(char *p, uint64_t v, int min_digits)
{
	char t[24];
	int n = 0;
	do { t[n++] = '0' + v % 10; v /= 10; } while (v);
	while (n < min_digits) t[n++] = '0';
	while (n) *p++ = t[--n];
	return p;
}

static char *put_i64(char *p, int64_t v)
{
	if (v < 0) { *p++ = '-'; return put_u64(p, -(uint64_t)v, 1); }
	return put_u64(p, v, 1);
}

static char *put_hex(char *p, uint64_t v)
{
	static const char hx[] = "0123456789abcdef";
	char t[16];
	int n = 0;
	*p++ = '0'; *p++ = 'x';
	do { t[n++] = hx[v & 15]; v >>= 4; } while (v);
	while (n) *p++ = t[--n];
	return p;
}

static char *put_oct(char *p, uint64_t v)
{
	char t[24];
	int n = 0;
	*p++ = '0';
	do { t[n++] = '0' + (v & 7); v >>= 3; } while (v);
	while (n) *p++ = t[--n];
	return p;
}

/* A C string literal, as strace quotes it. */
static char *put_quoted(char *p, const unsigned char *s, uint32_t n)
{
	static const char hx[] = "0123456789abcdef";
	*p++ = '"';
	for (uint32_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\') { *p++ = '\\'; *p++ = c; }
		else if (c >= 0x20 && c < 0x7f) *p++ = c;
		else if (c == '\n') { *p++ = '\\'; *p++ = 'n'; }
		else if (c == '\t') { *p++ = '\\'; *p++ = 't'; }
		else { *p++ = '\\'; *p++ = 'x'; *p++ = hx[c >> 4]; *p++ = hx[c & 15]; }
	}
	*p++ = '"';
	return p;
}

static const struct { uint64_t bit; const char *name; } open_flags[] = {
	{ O_CREAT, "O_CREAT" }, { O_EXCL, "O_EXCL" }, { O_NOCTTY, "O_NOCTTY" }, { O_TRUNC, "O_TRUNC" },
	{ O_APPEND, "O_APPEND" }, { O_NONBLOCK, "O_NONBLOCK" }, { O_DSYNC, "O_DSYNC" },
	{ O_ASYNC, "O_ASYNC" }, { O_DIRECT, "O_DIRECT" }, { O_LARGEFILE, "O_LARGEFILE" },
	{ O_DIRECTORY, "O_DIRECTORY" }, { O_NOFOLLOW, "O_NOFOLLOW" }, { O_NOATIME, "O_NOATIME" },
	{ O_CLOEXEC, "O_CLOEXEC" }, { O_PATH, "O_PATH" }, { 04000000 /* __O_SYNC */, "O_SYNC" }, { __O_TMPFILE, "O_TMPFILE" },
};

static char *put_open_flags(char *p, uint64_t f)
{
	static const char *acc[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };
	p = put_str(p, acc[f & O_ACCMODE]);
	f &= ~(uint64_t)O_ACCMODE;
	for (size_t i = 0; i < sizeof(open_flags) / sizeof(open_flags[0]); i++)
		if (f & open_flags[i].bit) {
			*p++ = '|';
			p = put_str(p, open_flags[i].name);
			f &= ~open_flags[i].bit;
		}
	if (f) { *p++ = '|'; p = put_hex(p, f); }
	return p;
}

static int on_record_report(void *ctx, void *data, size_t size)
{
	(void)ctx;
	const struct floor_rec *r = data;
	if (size < sizeof(*r)) return 0;
	received++;
	if (olen + LINE_MAX_BYTES > OBUF_SIZE) flush_out();
	char *p = obuf + olen;
	p = put_u64(p, r->ts_ns / 1000000000ULL, 1);
	*p++ = '.';
	p = put_u64(p, r->ts_ns / 1000 % 1000000, 6);
	p = put_str(p, " [pid ");
	p = put_u64(p, r->tid, 1);
	p = put_str(p, "] ");
	uint32_t plen = r->path_len;
	if (plen > size - sizeof(*r)) plen = size - sizeof(*r);
	if (r->nr == SYS_openat) {
		p = put_str(p, "openat(");
		if ((int)r->args[0] == AT_FDCWD) p = put_str(p, "AT_FDCWD");
		else p = put_i64(p, (int)r->args[0]);
		p = put_str(p, ", ");
		if (r->path_len || r->args[1] == 0) p = put_quoted(p, (const unsigned char *)(r + 1), plen);
		else p = put_hex(p, r->args[1]);
		p = put_str(p, ", ");
		p = put_open_flags(p, r->args[2]);
		if (r->args[2] & (O_CREAT | __O_TMPFILE)) { p = put_str(p, ", "); p = put_oct(p, r->args[3]); }
		*p++ = ')';
	} else {
		p = put_str(p, "syscall_");
		p = put_u64(p, r->nr, 1);
		*p++ = '(';
		for (int i = 0; i < 6; i++) {
			if (i) p = put_str(p, ", ");
			p = put_hex(p, r->args[i]);
		}
		*p++ = ')';
	}
	int e = -r->ret;
	p = put_str(p, " = -1 ");
	const char *name = strerrorname_np(e), *desc = strerrordesc_np(e);
	if (name) p = put_str(p, name);
	else { *p++ = 'E'; p = put_u64(p, e, 1); }
	if (desc) { p = put_str(p, " ("); p = put_str(p, desc); *p++ = ')'; }
	/* --pad: lines as long as whyfail's JSON records, to see what the output's volume costs */
	for (char *end = obuf + olen + pad - 1; p < end;) *p++ = ' ';
	*p++ = '\n';
	olen = p - obuf;
	return 0;
}

static int on_record_count(void *ctx, void *data, size_t size)
{
	(void)ctx; (void)data; (void)size;
	received++;
	return 0;
}

/* --pos-every / --work: a ring-buffer reader of our own (the layout libbpf maps: a consumer page, then
 * the producer page and the data area mapped twice; each record has an 8-byte header, len | busy | discard) */
static long pos_every = 0, work_ns = 0, wake_ns = -1;
static double spins_per_ns;
static volatile unsigned long spin_sink;
struct own_ring { unsigned long *cons; unsigned long *prod; unsigned char *data; unsigned long mask; };

static void spin(long ns)
{
	unsigned long end = __rdtsc() + (unsigned long)(ns * spins_per_ns);
	while (__rdtsc() < end) spin_sink++;
}

/* TSC ticks per ns, against CLOCK_MONOTONIC over 20 ms (wall time: robust to a loaded machine) */
static void calibrate(void)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	unsigned long t0 = __rdtsc();
	struct timespec d = { 0, 20000000 };
	nanosleep(&d, NULL);
	unsigned long t1 = __rdtsc();
	clock_gettime(CLOCK_MONOTONIC, &b);
	spins_per_ns = (t1 - t0) / ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec));
}

static int own_ring_open(int fd, unsigned long size, struct own_ring *r)
{
	long page = sysconf(_SC_PAGESIZE);
	void *c = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	void *p = mmap(NULL, page + 2 * size, PROT_READ, MAP_SHARED, fd, page);
	if (c == MAP_FAILED || p == MAP_FAILED) return -1;
	r->cons = c;
	r->prod = p;
	r->data = (unsigned char *)p + page;
	r->mask = size - 1;
	return 0;
}

static void own_ring_consume(struct own_ring *r)
{
	unsigned long cons = *r->cons, since = 0;
	for (;;) {
		unsigned long prod = __atomic_load_n(r->prod, __ATOMIC_ACQUIRE);
		if (cons >= prod) break;
		while (cons < prod) {
			uint32_t len = __atomic_load_n((uint32_t *)(r->data + (cons & r->mask)), __ATOMIC_ACQUIRE);
			if (len & (1u << 31)) goto done; /* busy: still being written */
			if (!(len & (1u << 30))) {
				received++;
				if (work_ns) spin(work_ns);
			}
			cons += ((len & ~(3u << 30)) + 8 + 7) & ~7UL;
			if (++since >= (unsigned long)pos_every) {
				__atomic_store_n(r->cons, cons, __ATOMIC_RELEASE);
				since = 0;
			}
		}
	}
done:
	__atomic_store_n(r->cons, cons, __ATOMIC_RELEASE);
}

static uint64_t sum_count(int fd, uint32_t key)
{
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0) return 0;
	uint64_t v[ncpu], s = 0;
	if (bpf_map_lookup_elem(fd, &key, v)) return 0;
	for (int i = 0; i < ncpu; i++) s += v[i];
	return s;
}

static int reporter_opt(int report, int count) { return report || count; }

static void usage(void)
{
	fprintf(stderr, "usage: floor [--both] [(--report|--count) FILE [--wake-default]] [--wake-ns NS] [--pad N] [--fat icache|dcache|calls|helpers|noclock] [--pos-every N] [--work NS] OBJECT -- COMMAND [ARG...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int fat = 0, both = 0, report = 0, count = 0, wake_default = 0, i = 1;
	const char *out_path = NULL;
	for (; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--both")) both = 1;
		else if (!strcmp(argv[i], "--wake-default")) wake_default = 1;
		else if (!strcmp(argv[i], "--report") && i + 1 < argc) { report = 1; out_path = argv[++i]; }
		else if (!strcmp(argv[i], "--count") && i + 1 < argc) { count = 1; out_path = argv[++i]; }
		else if (!strcmp(argv[i], "--pos-every") && i + 1 < argc) pos_every = atol(argv[++i]);
		else if (!strcmp(argv[i], "--work") && i + 1 < argc) work_ns = atol(argv[++i]);
		else if (!strcmp(argv[i], "--wake-ns") && i + 1 < argc) wake_ns = atol(argv[++i]);
		else if (!strcmp(argv[i], "--pad") && i + 1 < argc) pad = atol(argv[++i]);
		else if (!strcmp(argv[i], "--fat") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "icache")) fat = 1;
			else if (!strcmp(argv[i], "dcache")) fat = 2;
			else if (!strcmp(argv[i], "calls")) fat = 3;
			else if (!strcmp(argv[i], "helpers")) fat = 4;
			else if (!strcmp(argv[i], "noclock")) fat = 5;
			else usage();
		}
		else usage();
	}
	if (argc - i < 3 || strcmp(argv[i + 1], "--") || (report && count) || ((pos_every || work_ns) && !count) || (fat && !reporter_opt(report, count)) || pad < 0 || pad > 8192 || (pad && !report)) usage();
	int own = pos_every || work_ns;
	if (own && pos_every <= 0) pos_every = 1;
	struct own_ring orb;
	const char *path = argv[i];
	char **cmd = argv + i + 2;
	int reporter = report || count;

	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (!obj) { fprintf(stderr, "floor: cannot open %s: %s\n", path, strerror(errno)); return 1; }
	struct bpf_program *enter = bpf_object__find_program_by_name(obj, "floor_enter");
	struct bpf_program *exitp = bpf_object__find_program_by_name(obj, "floor_exit");
	const char *rep_names[] = { "floor_report", "floor_report_icache", "floor_report_dcache", "floor_report_calls", "floor_report_helpers",
				    "floor_report_noclock" };
	struct bpf_program *reps[6], *rep;
	for (int k = 0; k < 6; k++) {
		reps[k] = bpf_object__find_program_by_name(obj, rep_names[k]);
		if (!reps[k]) { fprintf(stderr, "floor: %s lacks %s\n", path, rep_names[k]); return 1; }
		if (k != fat) bpf_program__set_autoload(reps[k], false);
	}
	rep = reps[fat];
	struct bpf_program *fork_p = bpf_object__find_program_by_name(obj, "floor_fork");
	if (!enter || !exitp || !rep || !fork_p) {
		fprintf(stderr, "floor: %s lacks floor_enter/floor_exit/floor_report/floor_fork\n", path);
		return 1;
	}
	if (!both) bpf_program__set_autoload(enter, false);
	if (reporter) bpf_program__set_autoload(exitp, false);
	else bpf_program__set_autoload(rep, false);
	if (!reporter) {
		bpf_program__set_autoload(fork_p, false);
		/* the ring buffer is not used: do not reserve 16 MiB for it */
		bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "events"), 4096);
	}
	if (wake_default || wake_ns >= 0 || fat == 5) {
		/* floor.bpf.c's cfg: { u64 default_wake; u64 wake_ns; u64 jiffy_ns; }, .rodata's only variable */
		struct bpf_map *ro = bpf_object__find_map_by_name(obj, ".rodata");
		size_t sz = 0;
		unsigned long long *c = ro ? (unsigned long long *)bpf_map__initial_value(ro, &sz) : NULL;
		if (!c || sz < 24) { fprintf(stderr, "floor: no .rodata cfg in %s\n", path); return 1; }
		if (wake_default) c[0] = 1;
		if (wake_ns >= 0) c[1] = wake_ns;
		struct timespec tick;
		if (fat == 5 && clock_getres(CLOCK_MONOTONIC_COARSE, &tick) == 0)
			c[2] = (unsigned long long)tick.tv_sec * 1000000000ULL + tick.tv_nsec;
	}
	if (bpf_object__load(obj)) { fprintf(stderr, "floor: cannot load %s: %s\n", path, strerror(errno)); return 1; }
	if (!bpf_program__attach(reporter ? rep : exitp) || (both && !bpf_program__attach(enter)) ||
	    (reporter && !bpf_program__attach(fork_p))) {
		fprintf(stderr, "floor: cannot attach: %s\n", strerror(errno));
		return 1;
	}
	struct ring_buffer *rb = NULL;
	if (reporter) {
		out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out_fd < 0) { fprintf(stderr, "floor: cannot open %s: %s\n", out_path, strerror(errno)); return 1; }
		obuf = malloc(OBUF_SIZE);
		struct bpf_map *ev = bpf_object__find_map_by_name(obj, "events");
		if (own) {
			calibrate();
			if (own_ring_open(bpf_map__fd(ev), bpf_map__max_entries(ev), &orb)) { perror("floor: mmap"); return 1; }
		} else {
			rb = ring_buffer__new(bpf_map__fd(ev), report ? on_record_report : on_record_count, NULL, NULL);
		}
		if (!obuf || (!rb && !own)) { fprintf(stderr, "floor: cannot open the ring buffer: %s\n", strerror(errno)); return 1; }
	}

	int go[2];
	if (pipe2(go, O_CLOEXEC)) { perror("floor: pipe"); return 1; }
	pid_t pid = fork();
	if (pid < 0) { perror("floor: fork"); return 1; }
	if (pid == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1) _exit(127); /* floor failed to mark it */
		execvp(cmd[0], cmd);
		fprintf(stderr, "floor: cannot run %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	close(go[0]);
	int pidfd = -1;
	if (reporter) {
		pidfd = syscall(SYS_pidfd_open, pid, 0);
		uint32_t one = 1;
		if (pidfd < 0 || bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "traced")), &pidfd, &one, BPF_NOEXIST)) {
			fprintf(stderr, "floor: cannot mark the command as traced: %s\n", strerror(errno));
			return 1;
		}
	}
	if (write(go[1], "g", 1) != 1) { perror("floor: write"); return 1; }
	close(go[1]);

	if (reporter) {
		/* whyfail's loop: wait up to 100 ms for records or for the command's end, deliver what there is */
		int evfd = bpf_map__fd(bpf_object__find_map_by_name(obj, "events"));
		struct pollfd fds[2] = { { .fd = own ? evfd : ring_buffer__epoll_fd(rb), .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
		for (;;) {
			if (poll(fds, 2, 100) < 0 && errno != EINTR) { perror("floor: poll"); return 1; }
			if (own) own_ring_consume(&orb);
			else if (ring_buffer__consume(rb) < 0) { fprintf(stderr, "floor: ring buffer read failed\n"); return 1; }
			if (fds[1].revents) break;
		}
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) { perror("floor: waitpid"); return 1; }
	if (reporter) {
		if (own) own_ring_consume(&orb);
		else ring_buffer__consume(rb);
		uint64_t lost = sum_count(bpf_map__fd(bpf_object__find_map_by_name(obj, "counts")), 1);
		olen += snprintf(obuf + olen, OBUF_SIZE - olen, "floor: reported=%llu lost=%llu\n",
				 (unsigned long long)received, (unsigned long long)lost);
		flush_out();
		close(out_fd);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
