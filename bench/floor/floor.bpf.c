// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of a syscall tracer on this kernel.
 *
 * floor_enter / floor_exit: programs on the raw sys_enter / sys_exit tracepoints (tp_btf, as whyfail
 * attaches them) that return at once. What they cost a getppid loop is what any tracer that sees one or
 * both ends of every system call pays before it does any work of its own.
 *
 * floor_report (+ floor_fork): the least a tool can do to report every failing call of a process tree
 * with decoded arguments. On sys_exit of a call that failed, for a task marked in a task-storage map
 * (the command, marked by floor.c through a pidfd before it execs, and every task it forks or clones),
 * it sends one record to a BPF ring buffer: time, tgid/tid, syscall number, the six arguments, the
 * result and, for openat, the path read from user memory (bpf_probe_read_user_str, up to PATH_MAX, into
 * a per-CPU scratch buffer, sent with its length: as whyfail's capture_one). The ring buffer's size and
 * the wake-up policy are whyfail's (bpf/whyfail.bpf.c: 16 MiB, at most one wake-up per ms), unless
 * floor.c sets cfg (--wake-default: the kernel's, a wake-up for each record written while the consumer
 * waits; --wake-ns: another interval, or none).
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define FLOOR_PATH_MAX 4096
#define FLOOR_NR_OPENAT 257
#define FLOOR_WAKE_NS 1000000ULL

/* One record; path_len bytes of path follow (the string without its NUL; 0 when not captured). */
struct floor_rec {
	u64 ts_ns;
	u32 tgid, tid;
	u32 nr;
	s32 ret;
	u64 args[6];
	u32 path_len;
	u32 pad;
};

struct floor_scratch {
	struct floor_rec r;
	char path[FLOOR_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, 1); /* BPF_F_NO_PREALLOC */
	__type(key, int);
	__type(value, u32);
} traced SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* whyfail's default --buffer-size */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct floor_scratch);
} scratch SEC(".maps");

/* [0] records sent, [1] records lost (the ring buffer was full) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, u32);
	__type(value, u64);
} counts SEC(".maps");

/* set by floor.c before load (--wake-default, --wake-ns) */
const volatile struct {
	u64 default_wake; /* the kernel's wake-ups */
	u64 wake_ns;      /* at most one wake-up per wake_ns; 0: none (the consumer's 100 ms poll timeout only) */
	u64 jiffy_ns;     /* floor_report_noclock: a jiffy in ns (the coarse clock's resolution, from floor.c) */
} cfg = { 0, FLOOR_WAKE_NS, 4000000 };
u64 last_wake_ns = 0;

SEC("tp_btf/sys_enter")
int floor_enter(u64 *ctx)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int floor_exit(u64 *ctx)
{
	return 0;
}

/* The command's children and threads are traced too. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(floor_fork, struct task_struct *parent, struct task_struct *child)
{
	u32 *f = bpf_task_storage_get(&traced, parent, 0, 0);
	if (!f)
		return 0;
	u32 *c = bpf_task_storage_get(&traced, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (c)
		*c = 1;
	return 0;
}

/*
 * floor_report_icache / floor_report_dcache: floor_report plus ~16 KB of straight-line code (4 096 register adds,
 * four independent chains) / plus a write to each of the 256 cache lines of a 16 KiB per-CPU array, on every
 * failure: is what a bigger program costs the loop beyond its own run time (caches it evicts from the call's
 * own path) like what whyfail pays beyond on_sys_exit's run time? (bench/README, session 15)
 */
#define A4 "r1 += 1; r2 += 3; r3 += 5; r4 += 7;"
#define A16 A4 A4 A4 A4
#define A64 A16 A16 A16 A16
#define A256 A64 A64 A64 A64
#define A1024 A256 A256 A256 A256
static __always_inline void code_block(struct floor_scratch *s)
{
	asm volatile("r1 = 0; r2 = 0; r3 = 0; r4 = 0;" A1024 A1024 A1024 A1024 "*(u64 *)(%[p] + 0) = r1;" :: [p] "r"(s) : "r1", "r2", "r3", "r4", "memory");
}

struct fat_lines { u64 w[16 << 10 >> 3]; };
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct fat_lines);
} fat SEC(".maps");

static __always_inline void data_block(void)
{
	u32 zero = 0;
	struct fat_lines *f = bpf_map_lookup_elem(&fat, &zero);
	if (!f)
		return;
	for (u32 i = 0; i < (16 << 10) / 64; i++)
		f->w[i * 8] += i;
}

/*
 * floor_report_calls / floor_report_helpers: floor_report plus FLOOR_EXTRA_CALLS calls of a global (__noinline)
 * function that does nothing / of a helper that does almost nothing (bpf_get_prandom_u32: neither inlined by the
 * verifier nor the JIT) on every failure: what one BPF-to-BPF call or helper call costs on this host (on 6.18 with
 * SRSO's "Safe RET" mitigation every call returns through a thunk), and so what whyfail's calls per failure cost
 * (bench/README "The kernel's cost per call, session 19").
 */
#ifndef FLOOR_EXTRA_CALLS
#define FLOOR_EXTRA_CALLS 10  /* bench/floor/kcost: BENCH_FLOOR_CALLS */
#endif
__noinline u64 floor_nop(u64 x)
{
	return x + 1;
}

static __always_inline u64 extra_calls(int fat)
{
	u64 v = 0;
#pragma unroll
	for (int i = 0; i < FLOOR_EXTRA_CALLS; i++)
		v += fat == 3 ? floor_nop(v) : bpf_get_prandom_u32();
	return v;
}

static __always_inline int report(struct pt_regs *regs, long ret, int fat)
{
	if (ret >= 0)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if (!bpf_task_storage_get(&traced, task, 0, 0))
		return 0;
	u32 zero = 0;
	struct floor_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	struct floor_rec *r = &s->r;
	if (fat == 1)
		code_block(s);
	else if (fat == 2)
		data_block();
	else if (fat == 3 || fat == 4)
		r->pad = (u32)extra_calls(fat);
	/* noclock: the tick (jiffies, no clock read; tracing programs may not read the coarse clock) instead of
	 * bpf_ktime_get_ns(), which with kvm-clock costs this VM 0.07-0.14x of a failing openat (bench/README "No
	 * context where nothing reads it, session 22") */
	u64 now = fat == 5 ? bpf_jiffies64() * cfg.jiffy_ns : bpf_ktime_get_ns();
	r->ts_ns = now;
	r->tgid = task->tgid;
	r->tid = task->pid;
	r->nr = (u32)regs->orig_ax;
	r->ret = (s32)ret;
	r->args[0] = regs->di;
	r->args[1] = regs->si;
	r->args[2] = regs->dx;
	r->args[3] = regs->r10;
	r->args[4] = regs->r8;
	r->args[5] = regs->r9;
	u64 len = 0;
	if (r->nr == FLOOR_NR_OPENAT) {
		long n = bpf_probe_read_user_str(s->path, sizeof(s->path), (void *)regs->si);
		if (n > 0)
			len = n - 1;
	}
	r->path_len = len;
	len = (sizeof(*r) + len + 7) & ~7ULL;
	if (len > sizeof(*s))
		len = sizeof(*s);
	u64 flags = 0;
	if (!cfg.default_wake) {
		if (!cfg.wake_ns || now - last_wake_ns < cfg.wake_ns) {
			flags = BPF_RB_NO_WAKEUP;
		} else {
			last_wake_ns = now;
			flags = BPF_RB_FORCE_WAKEUP;
		}
	}
	u32 k = bpf_ringbuf_output(&events, s, len, flags) ? 1 : 0;
	u64 *c = bpf_map_lookup_elem(&counts, &k);
	if (c)
		(*c)++;
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_report, struct pt_regs *regs, long ret)
{
	return report(regs, ret, 0);
}

/* the variants: floor_report plus what fat says (see above) */
#define FLOOR_REPORTER(name, fat)					\
	SEC("tp_btf/sys_exit")						\
	int BPF_PROG(name, struct pt_regs *regs, long ret)		\
	{								\
		return report(regs, ret, fat);				\
	}
FLOOR_REPORTER(floor_report_icache, 1)
FLOOR_REPORTER(floor_report_dcache, 2)
FLOOR_REPORTER(floor_report_calls, 3)
FLOOR_REPORTER(floor_report_helpers, 4)
FLOOR_REPORTER(floor_report_noclock, 5)

char LICENSE[] SEC("license") = "GPL";
