// SPDX-License-Identifier: GPL-2.0
/*
 * whyfail's tracepoint capture: failing system calls of the traced tasks, with their arguments,
 * the user memory they point at, and the kernel evidence (capability denials, signals) gathered
 * while the call ran.
 *
 * The core uses only tracepoints (tp_btf, iter): they work on kernels locked down in confidentiality
 * mode, where kprobes, fentry/fexit and bpf_probe_read_kernel are refused. The origin programs and
 * the capability fallbacks (fexit/kprobes on cap_capable, for kernels without its tracepoint) are
 * loaded only where the kernel allows them.
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "whyfail.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct wf_config cfg = {};

/*
 * Waking the consumer: by default the kernel wakes it for each record written while it waits, which is each
 * record when it keeps up with a flood — an inter-processor interrupt per failure, paid by the failing task
 * (a failing-openat loop ran at 3.2x its untraced time with nothing lost, against 2.3x while the consumer fell
 * behind and lost a quarter). A failure's record wakes it at most once per WF_WAKE_NS (the first failure after a
 * quiet spell at once); the records between wait for the next wake, or for the reader's poll timeout (TraceLoop:
 * 100 ms; the reader reads the ring after every wait, as epoll reports nothing for them): at most 100 ms late.
 * 10 ms rather than 1 ms: ~60-120 ns less per failure in a flood (bench/README, session 16).
 */
#define WF_WAKE_NS 10000000ULL
u64 last_wake_ns = 0;

static __always_inline u64 wake_flag(u64 now)
{
	if (now - last_wake_ns < WF_WAKE_NS)
		return BPF_RB_NO_WAKEUP;
	last_wake_ns = now;
	return BPF_RB_FORCE_WAKEUP;
}

/* Masks in a way the compiler cannot drop, so the verifier sees the bound. */
#define VERIFIER_MASK(v, m) asm volatile("%[x] &= " #m : [x] "+r"(v))


#include "task_state.h"

/* Thread groups to adopt (-p, launched command): consulted by the task iterator and on fork. Filled by user space
 * only, a few entries: not preallocated (1 024 elements made at map creation were 17-72 ms in the 6.12 lab; tp_btf and
 * iter programs may use a hash map allocated at run time on every kernel). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, 1 /* BPF_F_NO_PREALLOC */);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u32); /* flags to give */
} seeds SEC(".maps");

/* What to copy from user memory, per syscall number. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WF_MAX_SYSCALLS);
	__type(key, u32);
	__type(value, struct wf_capture_spec);
} capture SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* resized by user space before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WF_STAT_MAX);
	__type(key, u32);
	__type(value, u64);
} stats SEC(".maps");

#define SCRATCH_VALUE (WF_SCRATCH + WF_MAX_BLOB + 64)
struct scratch_buf {
	u8 data[SCRATCH_VALUE];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct scratch_buf);
} scratch SEC(".maps");

/* This CPU's scratch buffer (an inlined per-CPU array lookup), for bpf_loop steps, which get only their own context. */
static __always_inline struct scratch_buf *this_scratch(void)
{
	u32 zero = 0;
	return bpf_map_lookup_elem(&scratch, &zero);
}

static __always_inline void stat_inc(u32 idx)
{
	u64 *v = bpf_map_lookup_elem(&stats, &idx);
	if (v)
		(*v)++;
}

/*
 * The current task as an untrusted pointer (the kfunc bpf_rdonly_cast), where user space made that possible
 * (cfg.task_btf_id: it turns the placeholder call into the kfunc's before loading), else the trusted one. Since 6.4 the
 * verifier looks up every pointer it sees loaded through a trusted or RCU pointer (task->cred, ->fs, ->signal, ...)
 * in the kernel's __safe_* type lists by name: up to four linear searches of the whole vmlinux BTF for each load on
 * each path (btf_nested_type_is_trusted, 37-41 % of on_sys_exit's verification on 6.18); a load through an untrusted
 * pointer is not looked up. At run time nothing changes: the verifier replaces the call by a register move, and a
 * load through either pointer is the same instruction (BPF_PROBE_MEM). For loads only: helpers that want a trusted
 * task (task storage) keep bpf_get_current_task_btf()'s. The extern kfunc declaration would make libbpf parse the
 * whole vmlinux BTF (load CPU 52 -> 154 ms: bench/README "Verifier cost of on_sys_exit, session 14"), hence the
 * placeholder.
 */
static void *(*wf_rdonly_cast)(const void *obj, u32 btf_id) = (void *)WF_CAST_HELPER;

static __always_inline struct task_struct *untrusted_task(struct task_struct *task)
{
	if (cfg.task_btf_id)
		return wf_rdonly_cast(task, cfg.task_btf_id);
	return task;
}

/*
 * The current task in a global function that was handed its address (task_addr: on_sys_exit's task as a number): with
 * the cast, an untrusted typed pointer made from it, for loads only (see untrusted_task), without a helper call; else
 * bpf_get_current_task_btf(). cfg is read-only: the verifier walks only the branch this kernel takes.
 */
static __always_inline struct task_struct *current_task_of(u64 task_addr)
{
	if (cfg.task_btf_id)
		return wf_rdonly_cast((void *)task_addr, cfg.task_btf_id);
	return bpf_get_current_task_btf();
}

static __always_inline struct task_state *state_of(struct task_struct *t, bool create)
{
	return bpf_task_storage_get(&tasks, t, 0, create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

static __always_inline bool is_self(struct task_struct *t)
{
	return cfg.self_tgid && (u32)t->tgid == cfg.self_tgid;
}

/* Evidence is kept only for tasks we report on. */
static __always_inline struct task_state *evidence_target(struct task_struct *t)
{
	if (cfg.trace_all) {
		if (is_self(t))
			return 0;
		return state_of(t, true);
	}
	struct task_state *st = state_of(t, false);
	if (!st || !(st->flags & WF_TRACED))
		return 0;
	return st;
}

static __always_inline void add_evidence(struct task_state *st, struct wf_evidence *e)
{
	u32 n = st->n_ev;
	if (n >= WF_MAX_EVIDENCE) {
		stat_inc(WF_STAT_LOST_EVIDENCE);
		return;
	}
	st->ev[n & (WF_MAX_EVIDENCE - 1)] = *e;
	st->n_ev = n + 1;
}

static __always_inline void reset_call_state(struct task_state *st)
{
	if (st) {
		if (st->n_ev)
			st->n_ev = 0;
		if (st->n_orig)
			st->n_orig = 0;
		if (st->n_pin)
			st->n_pin = 0;
	}
}

/*
 * Never called, never loaded (libbpf loads a .text function only when a program calls it): it makes
 * clang keep in BTF the structs of whyfail.h that no map or program signature refers to, so
 * tools/gen-bpf-contract can read their layout.
 */
__noinline int wf_btf_anchor(struct wf_event *e, struct wf_blob *b, struct wf_exit_rec *x, struct wf_message_rec *m)
{
	return e && b && x && m;
}

/* (BPF functions take at most five arguments: the context's structs have an anchor of their own.) */
__noinline int wf_btf_anchor_context(struct wf_context *c, struct wf_ctx_file *f, struct wf_ctx_ref *r)
{
	return c && f && r;
}

/* ---- task bookkeeping ------------------------------------------------------------------ */

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	u32 give = 0;
	struct task_state *pst = state_of(parent, false);
	/* Children of an armed launcher are armed too, also without --follow: the launcher forks the command. */
	if (pst && (pst->flags & (WF_FOLLOW | WF_ARMED_ON_EXEC)))
		give = pst->flags | (pst->flags & WF_ARMED_ON_EXEC ? WF_EXEC_CHILD : 0);
	if (!give) {
		u32 tgid = parent->tgid;
		u32 *seed = bpf_map_lookup_elem(&seeds, &tgid);
		if (!seed)
			return 0;
		give = *seed;
	}
	struct task_state *cst = state_of(child, true);
	if (cst)
		cst->flags = give;
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct task_state *st = state_of(p, false);
	if (st && (st->flags & WF_ARMED_ON_EXEC)) {
		st->flags = (st->flags & ~(WF_ARMED_ON_EXEC | WF_EXEC_CHILD)) | WF_TRACED;
		st->n_ev = 0;
		st->n_orig = 0;
		st->n_pin = 0;
	}
	return 0;
}

/* Marks every existing task whose thread group is in `seeds` (run once by user space). */
SEC("iter/task")
int adopt_tasks(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	if (!t)
		return 0;
	u32 tgid = t->tgid;
	u32 *give = bpf_map_lookup_elem(&seeds, &tgid);
	if (!give)
		return 0;
	struct task_state *st = state_of(t, true);
	if (st)
		st->flags = *give;
	return 0;
}

/* --comm in the kernel: true when the current task's name is not one of them. */
static __always_inline bool comm_filtered_out(void)
{
	if (cfg.n_comms) {
		char comm[16];
		bpf_get_current_comm(comm, sizeof(comm));
		for (u32 i = 0; i < WF_FILTER_COMMS; i++) {
			if (i >= cfg.n_comms)
				break;
			bool same = true;
			for (u32 j = 0; j < 16; j++) {
				if (comm[j] != cfg.comms[i][j]) {
					same = false;
					break;
				}
				if (!comm[j])
					break;
			}
			if (same)
				return false;
		}
		return true;
	}
	return false;
}

/*
 * The end of a thread group: how it ended (exit status or signal), for the verdict. Sent when the
 * last thread exits (signal->live is already decremented when the tracepoint fires).
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_process_exit, struct task_struct *p)
{
	/* The pointers (signal, real_parent) through the untrusted task: no __safe_* name searches of the kernel's BTF
	 * (see untrusted_task; on 6.12 they were most of this 105-instruction program's 135-380 ms of verification in the
	 * lab). The task storage lookup keeps the trusted pointer. */
	struct task_struct *up = untrusted_task(p);
	struct signal_struct *sig = up->signal;
	if (!sig || sig->live.counter != 0)
		return 0;
	struct task_state *st = state_of(p, false);
	if (!st || !(st->flags & WF_TRACED)) {
		if (!cfg.trace_all || is_self(p) || p->exit_code == 0 || comm_filtered_out())
			return 0;
	}
	struct wf_exit_rec *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		stat_inc(WF_STAT_LOST_EVENTS);
		return 0;
	}
	r->type = WF_REC_EXIT;
	r->pad = 0;
	r->size = sizeof(*r);
	r->ts_ns = bpf_ktime_get_ns();
	r->tgid = p->tgid;
	r->tid = p->pid;
	struct task_struct *parent = up->real_parent;
	r->ppid = parent ? parent->tgid : 0;
	r->exit_code = p->exit_code;
	for (u32 i = 0; i < sizeof(r->comm); i++) /* a BTF read: no bpf_probe_read_kernel (refused under lockdown) */
		r->comm[i] = p->comm[i];
	bpf_ringbuf_submit(r, 0);
	return 0;
}

/* ---- evidence ---------------------------------------------------------------------------- */

/*
 * Capability denials: one record whatever the source (the tracepoint, or on kernels before 6.14
 * fexit or kprobe+kretprobe on cap_capable, which user space loads only when the tracepoint is absent).
 * ns is the namespace the capability was asked for (the tracepoint's target_ns, cap_capable's targ_ns).
 */
static __always_inline void cap_denied(int cap, int ret, int ns_level, u32 ns_owner, u32 euid)
{
	/* (callers return early on ret == 0: the check is hot, and a grant reads nothing) */
	struct task_state *st = evidence_target(bpf_get_current_task_btf());
	if (!st)
		return;
	struct wf_evidence e = {};
	e.kind = WF_EV_CAPABILITY;
	e.a = cap;
	e.b = ret;
	e.c = ns_level;
	e.d = ns_owner;
	e.e = euid;
	add_evidence(st, &e);
}

SEC("tp_btf/cap_capable")
int BPF_PROG(on_cap_capable, const struct cred *cred, struct user_namespace *target_ns,
	     const struct user_namespace *capable_ns, int cap, int ret)
{
	if (ret == 0)
		return 0;
	cap_denied(cap, ret, target_ns ? target_ns->level : 0, target_ns ? target_ns->owner.val : 0,
		   cred ? cred->euid.val : 0);
	return 0;
}

/* int cap_capable(const struct cred *cred, struct user_namespace *targ_ns, int cap, unsigned int opts) */
SEC("fexit/cap_capable")
int BPF_PROG(cap_capable_fexit, const struct cred *cred, struct user_namespace *targ_ns, int cap,
	     unsigned int opts, int ret)
{
	if (ret == 0)
		return 0;
	cap_denied(cap, ret, targ_ns ? targ_ns->level : 0, targ_ns ? targ_ns->owner.val : 0,
		   cred ? cred->euid.val : 0);
	return 0;
}

/* kprobe fallback: the entry keeps the arguments of the thread's check until its return. */
struct cap_args {
	const struct cred *cred;
	struct user_namespace *ns;
	int cap;
	int pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);      /* threads inside cap_capable at once */
	__type(key, u64);              /* pid_tgid */
	__type(value, struct cap_args);
} cap_pending SEC(".maps");

SEC("kprobe/cap_capable")
int cap_capable_entry(struct pt_regs *ctx)
{
	if (!evidence_target(bpf_get_current_task_btf()))
		return 0;
	u64 id = bpf_get_current_pid_tgid();
	struct cap_args a = {
		.cred = (const struct cred *)ctx->di,
		.ns = (struct user_namespace *)ctx->si,
		.cap = (int)ctx->dx,
	};
	bpf_map_update_elem(&cap_pending, &id, &a, BPF_ANY);
	return 0;
}

SEC("kretprobe/cap_capable")
int cap_capable_return(struct pt_regs *ctx)
{
	int ret = (int)ctx->ax;
	u64 id = bpf_get_current_pid_tgid();
	struct cap_args *a = bpf_map_lookup_elem(&cap_pending, &id);
	if (!a)
		return 0;
	/* plain locals: BPF_CORE_READ on a field of cap_args would relocate cap_args itself */
	struct user_namespace *ns = a->ns;
	const struct cred *cred = a->cred;
	int cap = a->cap;
	bpf_map_delete_elem(&cap_pending, &id);
	if (ret == 0)
		return 0;
	int level = 0;
	u32 owner = 0, euid = 0;
	if (ns) {
		level = BPF_CORE_READ(ns, level);
		owner = BPF_CORE_READ(ns, owner.val);
	}
	if (cred)
		euid = BPF_CORE_READ(cred, euid.val);
	cap_denied(cap, ret, level, owner, euid);
	return 0;
}

SEC("tp_btf/signal_generate")
int BPF_PROG(on_signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	if (!task)
		return 0;
	struct task_state *st = evidence_target(task);
	if (!st)
		return 0;
	struct wf_evidence e = {};
	e.kind = WF_EV_SIGNAL;
	e.a = sig;
	e.b = bpf_get_current_pid_tgid() >> 32;
	e.c = result;
	add_evidence(st, &e);
	return 0;
}

/*
 * A word of the current task's sigaction for sig, read at the call's exit while the task certainly lives: its
 * sa_handler (handler != 0: SIG_DFL 0, SIG_IGN 1, else an address; WF_SIG_HANDLER_UNKNOWN when unreadable) or its
 * sa_flags. One read at the field's offset, the stride taken from two CO-RE field offsets (action[0] and action[1]:
 * field relocations only, which the small CO-RE BTF answers). A global function: verified once. (A switch of 64
 * constant-index reads was ~400 of on_sys_exit's instructions processed.) User space reading /proc/PID/status later
 * can find the task already released (SigCgt 0), so the handler is taken here.
 */
__noinline u64 sigaction_word(int sig, int handler)
{
	u64 none = handler ? WF_SIG_HANDLER_UNKNOWN : 0;
	u64 shp = 0; /* read, not loaded: no trusted-pointer load for the verifier to look up (see capture_context) */
	bpf_probe_read_kernel(&shp, sizeof(shp), __builtin_preserve_access_index(&bpf_get_current_task_btf()->sighand));
	if (!shp || sig < 1 || sig > 64)
		return none;
	u64 at = handler ? bpf_core_field_offset(struct sighand_struct, action[0].sa.sa_handler)
			 : bpf_core_field_offset(struct sighand_struct, action[0].sa.sa_flags);
	u64 stride = bpf_core_field_offset(struct sighand_struct, action[1].sa.sa_flags) -
		     bpf_core_field_offset(struct sighand_struct, action[0].sa.sa_flags);
	u64 word = 0;
	if (bpf_probe_read_kernel(&word, sizeof(word), (void *)(shp + at + (u64)(sig - 1) * stride)))
		return none;
	return word;
}

/* ---- origin: kernel functions returning errors during a traced syscall ------------------------ */

static __always_inline bool is_error_value(u64 v)
{
	/* 64-bit returns (long, pointers: ERR_PTR) and zero-extended 32-bit int returns */
	return ((s64)v < 0 && (s64)v >= -4095) || (v >> 32 == 0 && (s32)v < 0 && (s32)v >= -4095);
}

__noinline int wf_btf_anchor_origin_args(struct wf_origin_args *a)
{
	return a != 0;
}

/*
 * --args (cfg.origin_args, read-only: without it the verifier drops all of this): the function's
 * arguments, sent to the ring buffer as a wf_origin_args numbered like its origin record. Pointers
 * are followed at return: kernel memory as bytes (a struct's first members), else as a string; user
 * addresses as a string only.
 */
static __always_inline void origin_args(u32 seq, u64 fn, s64 ret, u64 sp, const u64 *args, bool entry_seen)
{
	struct wf_origin_args *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		stat_inc(WF_STAT_LOST_EVENTS);
		return;
	}
	r->type = WF_REC_ORIGIN_ARGS;
	r->entry_seen = entry_seen;
	r->seq = seq;
	r->tid = (u32)bpf_get_current_pid_tgid();
	r->read_ok = 0;
	r->fn = fn;
	r->ret = ret;
	r->sp = sp;
	/* Unrolled: 6.1's verifier refuses a loop whose body ends in a helper call ("back-edge from insn N to N+1"). */
#pragma unroll
	for (int i = 0; i < WF_ORIGIN_NARGS; i++) {
		u64 v = args[i];
		void *dst = r->data + i * WF_ORIGIN_ARG_BYTES;
		r->args[i] = v;
		if (!entry_seen)
			continue;
		if (v >= 0xffff800000000000ULL) {
			if (bpf_probe_read_kernel(dst, WF_ORIGIN_ARG_BYTES, (void *)v) == 0 ||
			    bpf_probe_read_kernel_str(dst, WF_ORIGIN_ARG_BYTES, (void *)v) > 0)
				r->read_ok |= 1u << i;
		} else if (v >= 0x10000 && v < 0x800000000000ULL) {
			if (bpf_probe_read_user_str(dst, WF_ORIGIN_ARG_BYTES, (void *)v) > 0)
				r->read_ok |= 1u << (i + WF_ORIGIN_USER_READ);
		}
	}
	bpf_ringbuf_submit(r, 0);
}

static __always_inline void origin_record(void *ctx, u64 fn, u64 ret, u64 sp, const u64 *args, bool entry_seen)
{
	struct task_state *st = state_of(bpf_get_current_task_btf(), false);
	if (!st || !(st->flags & WF_TRACED))
		return;
	u32 n = st->n_orig;
	struct wf_origin_rec *r = &st->orig[n & (WF_MAX_ORIGIN - 1)];
	r->fn = fn;
	r->ret = (s64)ret >= -4095 && (s64)ret < 0 ? (s64)ret : (s64)(s32)ret;
	r->sp = sp;
	long got = bpf_get_stack(ctx, r->stack, sizeof(r->stack), 0);
	if (got < (long)sizeof(r->stack)) {
		u32 from = got > 0 ? (u32)got / 8 : 0;
		for (u32 k = 0; k < WF_ORIGIN_STACK; k++)
			if (k >= from)
				r->stack[k] = 0;
	}
	st->n_orig = n + 1;
	if (cfg.origin_args)
		origin_args(n, fn, r->ret, sp, args, entry_seen);
}

/* fentry/fexit backend: a template loaded once, then cloned for every function (user space). */
SEC("fexit/do_sys_openat2")
int origin_fexit(u64 *ctx)
{
	u64 ret = 0;
	bpf_get_func_ret(ctx, &ret);
	if (!is_error_value(ret))
		return 0;
	u64 here = 0;
	u64 args[WF_ORIGIN_NARGS] = {};
	if (cfg.origin_args)
		for (int i = 0; i < WF_ORIGIN_NARGS; i++)
			bpf_get_func_arg(ctx, i, &args[i]); /* beyond the function's own: stays 0 */
	origin_record(ctx, bpf_get_func_ip(ctx), ret, (u64)&here, args, true);
	return 0;
}

/*
 * --args with the kretprobe backends: the return probe no longer sees the argument registers, so an
 * entry probe on the same functions (same cookies) stores them per thread and function until the return.
 * An LRU map: entries whose return never comes (kretprobe maxactive misses) are pushed out.
 */
struct origin_entry_key {
	u32 tid;
	u32 cookie;
};

struct origin_entry_regs {
	u64 args[WF_ORIGIN_NARGS];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct origin_entry_key);
	__type(value, struct origin_entry_regs);
} origin_entries SEC(".maps");

static __always_inline void origin_entry_store(struct pt_regs *ctx)
{
	struct task_state *st = state_of(bpf_get_current_task_btf(), false);
	if (!st || !(st->flags & WF_TRACED))
		return;
	struct origin_entry_key k = { (u32)bpf_get_current_pid_tgid(), (u32)bpf_get_attach_cookie(ctx) };
	struct origin_entry_regs v = { { ctx->di, ctx->si, ctx->dx, ctx->cx, ctx->r8, ctx->r9 } };
	bpf_map_update_elem(&origin_entries, &k, &v, BPF_ANY);
}

/* The stored arguments of this thread's call of the function (deleted: a later call stores its own). */
static __always_inline bool origin_entry_take(struct pt_regs *ctx, u64 *args)
{
	if (!cfg.origin_args)
		return false;
	struct origin_entry_key k = { (u32)bpf_get_current_pid_tgid(), (u32)bpf_get_attach_cookie(ctx) };
	struct origin_entry_regs *v = bpf_map_lookup_elem(&origin_entries, &k);
	if (!v)
		return false;
	for (int i = 0; i < WF_ORIGIN_NARGS; i++)
		args[i] = v->args[i];
	bpf_map_delete_elem(&origin_entries, &k);
	return true;
}

SEC("kprobe.multi/do_sys_openat2")
int origin_entry_multi(struct pt_regs *ctx)
{
	origin_entry_store(ctx);
	return 0;
}

SEC("kprobe/do_sys_openat2")
int origin_entry(struct pt_regs *ctx)
{
	origin_entry_store(ctx);
	return 0;
}

/* kretprobe backends (kprobe.multi and one-per-function): the cookie is the function's index. */
SEC("kretprobe.multi/do_sys_openat2")
int origin_kretprobe_multi(struct pt_regs *ctx)
{
	u64 ret = ctx->ax;
	u64 args[WF_ORIGIN_NARGS] = {};
	bool seen = origin_entry_take(ctx, args);
	if (!is_error_value(ret))
		return 0;
	origin_record(ctx, bpf_get_attach_cookie(ctx), ret, ctx->sp, args, seen);
	return 0;
}

SEC("kretprobe/do_sys_openat2")
int origin_kretprobe(struct pt_regs *ctx)
{
	u64 ret = ctx->ax;
	u64 args[WF_ORIGIN_NARGS] = {};
	bool seen = origin_entry_take(ctx, args);
	if (!is_error_value(ret))
		return 0;
	origin_record(ctx, bpf_get_attach_cookie(ctx), ret, ctx->sp, args, seen);
	return 0;
}

/*
 * --pinpoint: one kprobe per instruction that stands for an error site (attached by address by user
 * space); the cookie is the probe's index. Records the hit in firing order, with the flags that
 * decide a conditional branch.
 */
SEC("kprobe/do_sys_openat2")
int pinpoint_site(struct pt_regs *ctx)
{
	struct task_state *st = state_of(bpf_get_current_task_btf(), false);
	if (!st || !(st->flags & WF_TRACED))
		return 0;
	u32 n = st->n_pin;
	struct wf_pin_rec *r = &st->pin[n & (WF_MAX_PIN - 1)];
	r->probe = bpf_get_attach_cookie(ctx);
	r->flags = ctx->flags;
	st->n_pin = n + 1;
	return 0;
}

/* ---- the failing call ---------------------------------------------------------------------- */


static __always_inline bool blob_room(u32 off)
{
	return off <= WF_SCRATCH - WF_MAX_BLOB - 16;
}

/*
 * The two capture functions are global (not static) on purpose: the verifier checks a global
 * function once, on its own, instead of once per call site and per offset, which keeps the
 * sys_exit program far below the verifier's complexity limit.
 */

/*
 * The object at val (sz bytes, at most WF_MAX_BLOB: it spans at most two pages) could not be read
 * whole: read the part before the next page boundary, where the fault is. Returns the bytes read
 * (the blob is then marked WF_BLOB_FAULTED, and the event truncated), or -1 when nothing is readable.
 */
static __always_inline long read_to_page_end(u8 *dst, u64 sz, u64 val, struct wf_blob *b, struct wf_event *h)
{
	u64 part = 4096 - (val & 4095);
	if (part >= sz)
		return -1;
	VERIFIER_MASK(part, 0xfff);
	if (part == 0 || bpf_probe_read_user(dst, part, (void *)val))
		return -1;
	b->kind |= WF_BLOB_FAULTED;
	h->flags |= WF_EVF_BLOB_TRUNCATED;
	return part;
}

/* Copies one argument's user memory into the scratch buffer at off; returns the new offset. */
/* what = argument index | WF_CAP_* kind << 8 | size cap << 16 (BPF functions take at most 5 args) */
__noinline int capture_one(struct scratch_buf *sb, u32 off, u32 what, u64 val, u64 lenval)
{
	u32 i = what & 0xff, kind = (what >> 8) & 0xff, size = what >> 16;
	if (!sb)
		return off;
	struct wf_event *h = (struct wf_event *)sb->data;
	if (!blob_room(off)) {
		h->flags |= WF_EVF_BLOB_TRUNCATED;
		return off;
	}
	u64 o = off;
	VERIFIER_MASK(o, 0x3fff); /* WF_SCRATCH - 1 */
	struct wf_blob *b = (struct wf_blob *)(sb->data + o);
	u8 *dst = sb->data + o + sizeof(*b);
	long n = -1;
	u32 want = size;
	b->kind = kind;
	if (size > WF_MAX_BLOB)
		size = WF_MAX_BLOB;
	if (kind == WF_CAP_STR) {
		u64 sz = size;
		VERIFIER_MASK(sz, 0x1fff);
		if (sz > WF_MAX_BLOB)
			sz = WF_MAX_BLOB;
		n = bpf_probe_read_user_str(dst, sz, (void *)val);
		if (n > 0)
			n--; /* drop the NUL */
		if (n >= (long)size - 1)
			h->flags |= WF_EVF_BLOB_TRUNCATED;
		if (n > 0 && n == (long)sz - 1) {
			/* The string filled the buffer (the helper put its own NUL last): the byte it replaced says
			 * whether the string ended there (full_len = the length: complete, as strace shows a path of
			 * PATH_MAX - 1 bytes) or goes on (full_len above it). A capture below a page keeps that byte
			 * and looks at the next one the same way (fsconfig's path value, copied up to PATH_MAX - 1). */
			u8 next = 1, after = 1;
			u64 k = n;
			VERIFIER_MASK(k, 0xfff);
			if (bpf_probe_read_user(&next, 1, (void *)(val + k)) == 0 && next == 0) {
				want = (u32)k;
			} else {
				want = (u32)k + 2;
				if (sz < WF_MAX_BLOB && next != 0) {
					dst[k] = next;
					n = k + 1;
					if (bpf_probe_read_user(&after, 1, (void *)(val + k + 1)) == 0 && after == 0)
						want = (u32)k + 1;
				}
			}
		}
		if (n < 0 && size < 4096) {
			/* A string (not a path: paths are read whole, PATH_MAX) with no NUL before an unreadable
			 * page: keep the bytes up to it, marked faulted (strace shows such a string cut at -s when
			 * that many bytes were readable, its address otherwise). */
			u64 part = 4096 - (val & 4095);
			VERIFIER_MASK(part, 0xfff);
			if (part > 0 && part < sz && bpf_probe_read_user(dst, part, (void *)val) == 0) {
				b->kind |= WF_BLOB_FAULTED;
				h->flags |= WF_EVF_BLOB_TRUNCATED;
				n = part;
			}
		}
	} else {
		if (kind == WF_CAP_SIZED || kind == WF_CAP_SIZED_PTR || kind == WF_CAP_NESTED) {
			want = (u32)lenval;
			if (lenval < size)
				size = (u32)lenval;
			else if (lenval > size)
				h->flags |= WF_EVF_BLOB_TRUNCATED;
		}
		u64 sz = size;
		VERIFIER_MASK(sz, 0x1fff);
		if (sz > WF_MAX_BLOB)
			sz = WF_MAX_BLOB;
		if (sz == 0)
			n = 0;
		else if (bpf_probe_read_user(dst, sz, (void *)val) == 0)
			n = sz;
		else
			n = read_to_page_end(dst, sz, val, b, h);
	}
	b->arg = i;
	b->index = 0;
	b->full_len = want > 0xffff ? 0xffff : want;
	if (n < 0) {
		b->len = 0xffff;
		n = 0;
	} else {
		b->len = n;
	}
	h->n_blobs++;
	return o + ((sizeof(*b) + (u32)n + 7) & ~7u);
}

#define STRV_MAX 128
#define STRV_EACH 256

/*
 * Copies up to STRV_MAX strings of a NULL-terminated pointer array (argv). A string that cannot be read is kept as
 * its address (8 bytes, WF_BLOB_FAULTED: strace shows the pointer); where the array itself runs into unreadable
 * memory, a faulted blob with no data marks the index (strace's "... address" comment).
 */
/*
 * One element of capture_strv's array: the string at p (its pointer itself when unreadable; p 0: the array itself
 * was unreadable there, as bpf_probe_read_user zeroes what it cannot read and a readable 0 ends the array first). Global, so that the verifier
 * checks it once, not once per element of capture_strv's loop (the string's length, kept precise through off,
 * made each element's paths distinct: half of on_sys_exit's verification, bench/README "Verifier cost").
 * Returns the new offset; with WF_STRV_STOP set when the array ends here (no room, or unreadable).
 */
#define WF_STRV_STOP 0x80000000u
__noinline u32 capture_strv_one(struct scratch_buf *sb, u32 off, u32 i, u32 k, u64 p)
{
	if (!sb)
		return off | WF_STRV_STOP;
	struct wf_event *h = (struct wf_event *)sb->data;
	if (!blob_room(off)) {
		h->flags |= WF_EVF_BLOB_TRUNCATED;
		return off | WF_STRV_STOP;
	}
	u64 o = off;
	VERIFIER_MASK(o, 0x3fff);
	struct wf_blob *b = (struct wf_blob *)(sb->data + o);
	b->arg = i;
	b->index = k;
	b->full_len = 0;
	if (!p) {
		b->kind = WF_CAP_STRV | WF_BLOB_FAULTED;
		b->len = 0xffff;
		h->n_blobs++;
		return (o + sizeof(*b)) | WF_STRV_STOP;
	}
	long n = bpf_probe_read_user_str(sb->data + o + sizeof(*b), STRV_EACH, (void *)p);
	b->kind = WF_CAP_STRV;
	if (n > 0) {
		n--;
	} else if (n < 0) {
		__builtin_memcpy(sb->data + o + sizeof(*b), &p, sizeof(p));
		b->kind = WF_CAP_STRV | WF_BLOB_FAULTED;
		n = sizeof(p);
	}
	b->len = n;
	h->n_blobs++;
	return o + ((sizeof(*b) + (u32)n + 7) & ~7u);
}

/*
 * capture_strv's walk: one element per bpf_loop step, so that the verifier checks the step once (a counted loop was
 * walked 128 times over, its counter being precise: a quarter of on_sys_exit's instructions processed). The state
 * lives in the caller's stack; the step finds the scratch buffer itself (an inlined per-CPU array lookup).
 */
struct strv_walk {
	u64 val;               /* the array */
	u32 off;               /* where the next blob goes */
	u32 i;                 /* the argument */
	u32 ended;             /* the array ended (NULL, unreadable, or no room) */
	u32 pad;
};

static long strv_step(u64 k, void *ctx)
{
	struct strv_walk *s = ctx;
	struct scratch_buf *sb = this_scratch();
	if (!sb)
		return 1;
	u64 p = 0;
	long bad = bpf_probe_read_user(&p, sizeof(p), (void *)(s->val + k * 8));
	if (!bad && !p) {
		s->ended = 1;
		return 1;
	}
	u32 next = capture_strv_one(sb, s->off, s->i, k, bad ? 0 : p);
	s->off = next & ~WF_STRV_STOP;
	if (next & WF_STRV_STOP) {
		s->ended = 1;
		return 1;
	}
	return 0;
}

__noinline int capture_strv(struct scratch_buf *sb, u32 off, u32 i, u64 val)
{
	if (!sb)
		return off;
	struct wf_event *h = (struct wf_event *)sb->data;
	struct strv_walk s = { .val = val, .off = off, .i = i, .ended = 0 };
	bpf_loop(STRV_MAX, strv_step, &s, 0);
	if (!s.ended) {
		/* more elements than we copy: say so */
		u64 p = 0;
		if (!bpf_probe_read_user(&p, sizeof(p), (void *)(val + STRV_MAX * 8)) && p)
			h->flags |= WF_EVF_BLOB_TRUNCATED;
	}
	return s.off;
}

#include "copy_nested.h"

/*
 * A message (write/writev/pwrite64 to fd 1 or 2 that succeeded): its first WF_MESSAGE_MAX bytes, as a
 * record of its own. buf is the buffer (write) or the iovec array (writev: the first four pieces).
 */
__noinline int message_capture(u32 nr, u64 fd, u64 buf, u64 count, long ret)
{
	struct wf_message_rec *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		stat_inc(WF_STAT_LOST_EVENTS);
		return 0;
	}
	u64 pt = bpf_get_current_pid_tgid();
	r->type = WF_REC_MESSAGE;
	r->size = sizeof(*r);
	r->ts_ns = bpf_ktime_get_ns();
	r->tgid = pt >> 32;
	r->tid = (u32)pt;
	r->fd = fd;
	r->nr = nr;
	r->ret = ret;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	u32 n = 0;
	if (nr == cfg.nr_writev) {
		for (u32 k = 0; k < 4 && k < count; k++) {
			u64 iov[2] = {};
			if (bpf_probe_read_user(iov, sizeof(iov), (void *)(buf + k * 16)))
				break;
			u64 room = WF_MESSAGE_MAX - n;
			u64 len = iov[1] < room ? iov[1] : room;
			u64 o = n;
			VERIFIER_MASK(o, 0xff);          /* n < WF_MESSAGE_MAX here */
			VERIFIER_MASK(len, 0x1ff);
			if (len == 0 || len > WF_MESSAGE_MAX)
				continue;
			if (bpf_probe_read_user(r->data + o, len, (void *)iov[0]))
				break;
			n = o + len;
			if (n >= WF_MESSAGE_MAX)
				break;
		}
	} else {
		u64 len = (u64)ret < WF_MESSAGE_MAX ? (u64)ret : WF_MESSAGE_MAX;
		VERIFIER_MASK(len, 0x1ff);
		if (len > 0 && len <= WF_MESSAGE_MAX && !bpf_probe_read_user(r->data, len, (void *)buf))
			n = len;
	}
	r->len = n;
	bpf_ringbuf_submit(r, 0);
	return 1;
}

/*
 * Whether descriptor fd of the current task is a terminal (issue 14: what a program writes to a terminal
 * after a failure is a message, whatever the descriptor): a character device whose major is a tty's
 * (4: ttyN and ttySN, 5: /dev/tty and the console, not /dev/ptmx; 136-143: pty slaves). Kernel reads,
 * so not under lockdown=confidentiality (cfg.context_off).
 */
static __always_inline bool fd_is_tty(struct task_struct *task, u64 fd)
{
	if (cfg.context_off)
		return false;
	u64 filesp = 0; /* read, not loaded (see capture_context) */
	bpf_probe_read_kernel(&filesp, sizeof(filesp), __builtin_preserve_access_index(&task->files));
	struct fdtable *fdt = filesp ? BPF_CORE_READ((struct files_struct *)filesp, fdt) : 0;
	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return false;
	u64 fdarr = (u64)BPF_CORE_READ(fdt, fd), file = 0, inode = 0;
	if (!fdarr || bpf_probe_read_kernel(&file, sizeof(file), (void *)(fdarr + fd * 8)) || !file)
		return false;
	if (bpf_probe_read_kernel(&inode, sizeof(inode), (void *)(file + bpf_core_field_offset(struct file, f_inode))) || !inode)
		return false;
	u16 mode = 0;
	u32 rdev = 0;
	bpf_probe_read_kernel(&mode, sizeof(mode), (void *)(inode + bpf_core_field_offset(struct inode, i_mode)));
	bpf_probe_read_kernel(&rdev, sizeof(rdev), (void *)(inode + bpf_core_field_offset(struct inode, i_rdev)));
	if ((mode & 0170000) != 0020000 /* S_IFCHR */)
		return false;
	u32 major = rdev >> 20, minor = rdev & 0xfffff;
	return major == 4 || (major == 5 && minor != 2) || (major >= 136 && major <= 143);
}

/*
 * A success worth reporting without --all: WF_EVF_FOLLOWUP for one of the next WF_FOLLOWUPS
 * follow-up calls after a failure, WF_EVF_DATA_ERROR for getsockopt(SOL_SOCKET, SO_ERROR) that
 * returned a pending error. 0: not worth it.
 */
__noinline u32 success_flags(struct task_state *st, u32 nr, u64 a1, u64 a2, u64 a3)
{
	u32 f = 0;
	if (nr == cfg.nr_getsockopt && a1 == cfg.sol_socket && a2 == cfg.so_error && a3) {
		int v = 0;
		if (!bpf_probe_read_user(&v, sizeof(v), (void *)a3) && v > 0 && v < 4096)
			f |= WF_EVF_DATA_ERROR;
	}
	if (st && st->followups && (cfg.followup_mask[(nr / 64) & (WF_MAX_SYSCALLS / 64 - 1)] & (1ULL << (nr % 64)))) {
		st->followups--;
		f |= WF_EVF_FOLLOWUP;
	}
	return f;
}

/* --syscall, --errno and --comm in the kernel (see struct wf_config): true when the event is not wanted. */
static __always_inline bool filtered_out(u32 nr, long ret)
{
	if (cfg.filter_syscalls && !(cfg.syscall_mask[(nr / 64) & (WF_MAX_SYSCALLS / 64 - 1)] & (1ULL << (nr % 64))))
		return true;
	if (cfg.filter_errnos) {
		if (ret >= 0)
			return true;
		u64 e = -ret;
		if (e < WF_FILTER_ERRNOS && !(cfg.errno_mask[(e / 64) & (WF_FILTER_ERRNOS / 64 - 1)] & (1ULL << (e % 64))))
			return true;
	}
	if (comm_filtered_out())
		return true;
	return false;
}

/* ---- the failing task's context (struct wf_context) ------------------------------------------ */

/*
 * Kernel memory behind pointers (paths, mounts, descriptor tables) is read with bpf_probe_read_kernel
 * (CO-RE relocated): the pointers travel between global functions as plain numbers. user space sets
 * cfg.context_off where the kernel refuses those reads (lockdown=confidentiality); the verifier then
 * drops this code as dead.
 */

/* One path walk in progress: the per-step function keeps its state here, not in registers, so that
 * every step of the bounded loop looks the same to the verifier. */
struct walk_state {
	u64 d;                 /* struct dentry * */
	u64 m;                 /* struct mount * */
	u64 rootd;             /* the task's root: dentry and vfsmount */
	u64 rootvm;
	u32 base;              /* offset of the names in the scratch buffer */
	u32 used;              /* bytes of names written */
	u32 flags;             /* WF_FILE_* */
	u32 own;               /* 1: stop at whyfail's own root (cfg.own_root_*) instead of the task's */
	u64 sig;               /* path_sig(): what the names depend on, mixed */
	u32 nokey;             /* path_sig(): the kernel's layout is not the expected one: no key */
	u32 pad;
	u64 mroot_m;           /* the mount whose mnt_root is in mroot (0: none yet): read once per mount, not per step */
	u64 mroot;
	u64 blk_d;             /* path_sig(): the dentry whose block blk holds (read before the walk), 0: none */
	u64 keyable;           /* capture_context(): the context may be keyed (see context_keyable) */
	u64 fcwd;              /* sig_direct() of the cwd and of the root (0: use path_sig) */
	u64 froot;
	u64 addr;              /* addr_of(): a kernel pointer's value as a number */
	u32 steps;             /* ctx_file(), sig_cast(): walk steps that went on */
	u64 vm;                /* sig_cast(): the walk's vfsmount */
	u32 pad2;
	u64 blk[16];           /* path_sig(): a block of kernel memory read at once */
	u64 iblk[16];          /* path_sig(): the inode's block */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct walk_state);
} walks SEC(".maps");

static __always_inline u64 vfsmount_of(u64 m)
{
	return m + bpf_core_field_offset(struct mount, mnt);
}

/*
 * The start of a step of both walks (walk_step, sig_step): 0 when the walk ends here (the task's root, whyfail's own
 * root, or a mount with no parent: WF_FILE_UNREACHABLE), 1 when it crossed a mount (w->d and w->m are its mountpoint
 * and parent), 2 when w->d is a dentry to name.
 */
static __always_inline int walk_mounts(struct walk_state *w)
{
	struct dentry *d = (struct dentry *)w->d;
	struct mount *m = (struct mount *)w->m;
	u64 vm = vfsmount_of(w->m);
	if (w->d == w->rootd && vm == w->rootvm)
		return 0;
	if (w->own && BPF_CORE_READ(m, mnt_id) == (int)cfg.own_root_mnt_id &&
	    BPF_CORE_READ(d, d_inode, i_ino) == cfg.own_root_ino)
		return 0;
	if (w->mroot_m != w->m) {  /* a mount's root never changes, and the walk holds the mount */
		w->mroot = (u64)BPF_CORE_READ((struct vfsmount *)vm, mnt_root);
		w->mroot_m = w->m;
	}
	if (w->d != w->mroot)
		return 2;
	struct mount *parent = BPF_CORE_READ(m, mnt_parent);
	if (!parent || parent == m) {
		w->flags |= WF_FILE_UNREACHABLE;
		return 0;
	}
	w->d = (u64)BPF_CORE_READ(m, mnt_mountpoint);
	w->m = (u64)parent;
	return 1;
}

/*
 * A walk from dentry d on mount m (what: 7 for the root, else anything below it). Paths are named from the task's
 * root, as d_path does; the root itself from whyfail's own root (when user space could say which it is), else from
 * the mount namespace's root. The task's fs is read, not loaded: no trusted-pointer load for the verifier to look
 * up (see capture_context).
 */
static __always_inline void walk_begin(struct walk_state *w, u64 d, u64 m, u32 what)
{
	u64 fsp = 0;
	bpf_probe_read_kernel(&fsp, sizeof(fsp), __builtin_preserve_access_index(&bpf_get_current_task_btf()->fs));
	struct fs_struct *fs = (struct fs_struct *)fsp;
	w->d = d;
	w->m = m;
	w->rootd = what == 7 ? 0 : (u64)BPF_CORE_READ(fs, root.dentry);
	w->rootvm = what == 7 ? 0 : (u64)BPF_CORE_READ(fs, root.mnt);
	w->own = what == 7 && cfg.own_root_mnt_id != 0;
	w->flags = 0;
	w->mroot_m = 0;
}

/* One step up towards the task's root: 1 to go on, 0 when the walk ended. */
__noinline int walk_step(struct scratch_buf *sb, struct walk_state *w)
{
	if (!sb || !w)
		return 0;
	int r = walk_mounts(w);
	if (r < 2)
		return r;
	struct dentry *d = (struct dentry *)w->d;
	/* a root that is not mounted (pipes, sockets, anonymous inodes): keep its name ("[eventfd]") and stop */
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	bool pseudo = !parent || parent == d;
	if (pseudo)
		w->flags |= WF_FILE_PSEUDO;
	u32 used = w->used;
	if (used >= WF_CTX_NAMES) {
		w->flags |= WF_FILE_TRUNCATED;
		return 0;
	}
	u64 at = w->base;
	VERIFIER_MASK(at, 0x1fff);
	u32 room = WF_CTX_NAMES - used;
	const unsigned char *name = BPF_CORE_READ(d, d_name.name);
	long n = bpf_probe_read_kernel_str(sb->data + at + used, room, name);
	if (n <= 0) {
		w->flags |= WF_FILE_TRUNCATED;
		return 0;
	}
	if ((u32)n >= room) {
		w->flags |= WF_FILE_TRUNCATED; /* the name was cut: keep the names before it only */
		return 0;
	}
	w->used = used + (u32)n;
	w->d = (u64)parent;
	return !pseudo;
}

/* ctx_file's walk, a step per bpf_loop step (the verifier checks it once; a counted loop was walked 24 times over).
 * w->steps counts the steps that went on, as the loop's counter did. */
static long walk_loop_step(u64 k, void *unused)
{
	u32 zero = 0;
	struct scratch_buf *sb = bpf_map_lookup_elem(&scratch, &zero);
	struct walk_state *w = bpf_map_lookup_elem(&walks, &zero);
	if (!sb || !w || !walk_step(sb, w))
		return 1;
	w->steps++;
	return 0;
}

/* ---- "same context as before" (WF_EVF_CONTEXT_SAME) ---- */

/* The u64 at byte offset off (a relocated constant, bounds checked by the caller) of a block read at once. */
#define BLK_U64(blk, off, n) ((blk)[((off) / 8) & ((n) - 1)])


static __always_inline u64 mix(u64 h, u64 v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 31);
}

/*
 * One step of path_sig(): the walk of walk_step (same stops, same mount crossings), mixing instead of copying what
 * the names depend on: each dentry's address, its d_seq (bumped by __d_move on a rename or move of that dentry, and
 * by __d_drop when it is unlinked) and its name's hash and length, each mount crossed and its mountpoint. The dentries
 * are pinned by the path (a child holds its parent), so an address stands for one dentry while the path is held.
 */
__noinline int sig_step(struct walk_state *w)
{
	if (!w)
		return 0;
	int r = walk_mounts(w);  /* where it stopped: w->flags, mixed in by path_sig */
	if (r == 1)
		w->sig = mix(mix(w->sig, w->d), w->m);
	if (r < 2)
		return r;
	/* d_seq, d_parent and d_name (hash and length) in one read: they are neighbours in struct dentry */
	u64 seq = bpf_core_field_offset(struct dentry, d_seq);
	u64 at = seq & ~7ULL;
	u64 par = bpf_core_field_offset(struct dentry, d_parent) - at;
	u64 nam = bpf_core_field_offset(struct dentry, d_name) - at;
	seq -= at;
	if (par > 56 || nam > 56 || (par & 7) || (nam & 7) || (seq & 3)) {
		w->nokey = 1;
		return 0;
	}
	if (w->blk_d != w->d && bpf_probe_read_kernel(w->blk, 64, (void *)(w->d + at))) {
		w->nokey = 1;
		return 0;
	}
	w->blk_d = 0;
	u64 parent = BLK_U64(w->blk, par, 16);
	u32 dseq = (u32)(BLK_U64(w->blk, seq, 16) >> ((seq & 4) * 8));
	w->sig = mix(mix(mix(w->sig, w->d), dseq), BLK_U64(w->blk, nam, 16));
	if (!parent || parent == w->d)
		return 0;
	w->d = parent;
	return 1;
}

/*
 * What the wf_ctx_file of the cwd (what 6) or the root (7), dentry d on vfsmount vm, depends on, as a non-zero number
 * (0: no key can be made): the path's dentry and mount (address and id), its inode's number and mode, and the walk of
 * sig_step up to the task's root (rootd, rootvm; none for the root itself). A root that is whyfail's own root is not
 * walked (ctx_file's walk stops there at once too). Reads are few and whole blocks: this runs for every keyed failure.
 */
__noinline u64 path_sig(u64 d, u64 vm, u32 what, u64 rootd, u64 rootvm)
{
	u32 zero = 0;
	struct walk_state *w = bpf_map_lookup_elem(&walks, &zero);
	if (!w || !d || !vm)
		return 0;
	/* the leaf's block, as sig_step reads it (d_seq to d_name), with d_inode in it too: read once for both */
	u64 at = bpf_core_field_offset(struct dentry, d_seq) & ~7ULL;
	u64 dio = bpf_core_field_offset(struct dentry, d_inode);
	u64 ino = 0;
	w->blk_d = 0;
	if (dio >= at && dio - at <= 56 && !((dio - at) & 7)) {
		if (bpf_probe_read_kernel(w->blk, 64, (void *)(d + at)))
			return 0;
		ino = BLK_U64(w->blk, dio - at, 16);
		w->blk_d = d;
	} else if (bpf_probe_read_kernel(&ino, sizeof(ino), (void *)(d + dio))) {
		return 0;
	}
	if (!ino)
		return 0;
	/* i_mode and i_ino in one read */
	u64 mo = bpf_core_field_offset(struct inode, i_mode), io = bpf_core_field_offset(struct inode, i_ino);
	u64 base = mo & ~7ULL;
	if (io < base || io - base > 120 || ((io - base) & 7) || mo - base > 6)
		return 0;
	if (bpf_probe_read_kernel(w->iblk, sizeof(w->iblk), (void *)(ino + base)))
		return 0;
	u64 mode = (u16)(BLK_U64(w->iblk, mo - base, 16) >> (((mo - base) & 7) * 8));
	u64 inum = BLK_U64(w->iblk, io - base, 16);
	u64 m = vm - bpf_core_field_offset(struct mount, mnt);
	int mnt_id = BPF_CORE_READ((struct mount *)m, mnt_id);
	u64 sig = mix(mix(mix(mix(mix(0x77687966, d), vm), (u32)mnt_id), inum), mode);
	if (what == 7 && cfg.own_root_mnt_id && mnt_id == (int)cfg.own_root_mnt_id && inum == cfg.own_root_ino)
		return mix(sig, 7) | 1;
	w->d = d;
	w->m = m;
	w->rootd = what == 7 ? 0 : rootd;
	w->rootvm = what == 7 ? 0 : rootvm;
	w->own = what == 7 && cfg.own_root_mnt_id != 0;
	w->flags = 0;
	w->mroot_m = 0;
	w->sig = sig;
	w->nokey = 0;
	int k;
	for (k = 0; k < WF_CTX_DEPTH; k++)
		if (!sig_step(w))
			break;
	if (w->nokey)
		return 0;
	sig = mix(mix(w->sig, k), w->flags);
	return sig ? sig : 1;
}

/* A kernel pointer's value as a number (a scalar for mix()): written to the map and read back. */
static __always_inline u64 addr_of(struct walk_state *w, const void *p)
{
	*(volatile u64 *)&w->addr = (u64)p;
	return *(volatile u64 *)&w->addr;
}

/*
 * The head of sig_direct() and sig_cast() (one number for both): the path's dentry d (dp, typed) on vfsmount vm (its
 * mount's id mnt_id, its super block sb), the inode's number and mode, mixed from their seed. *done 1: the number is
 * final here (0: no key: no inode, or a root that is not whyfail's own, which path_sig() walks; whyfail's own root:
 * not walked), else the walk up to the task's root goes on from it.
 */
static __always_inline u64 sig_head(struct dentry *dp, u64 d, u64 vm, int mnt_id, u64 sb, bool is_root, int *done)
{
	*done = 1;
	struct inode *ino = dp->d_inode;
	if (!ino)
		return 0;
	u64 mode = ino->i_mode, inum = ino->i_ino;
	u64 sig = mix(mix(mix(mix(mix(mix(0x64697265637421ULL, d), vm), (u32)mnt_id), inum), mode), sb);
	if (is_root) {
		if (cfg.own_root_mnt_id && mnt_id == (int)cfg.own_root_mnt_id && inum == cfg.own_root_ino)
			return mix(sig, 7) | 1;
		return 0;
	}
	*done = 0;
	return sig;
}

/*
 * path_sig() with direct loads instead of bpf_probe_read_kernel (a helper call each: most of a repeated failure's
 * context cost), for the common case: a cwd below the task's root on the same mount (rootd set), or a root that is
 * whyfail's own root (rootd 0). It mixes what path_sig mixes (the dentry's and mount's addresses, the mount's id and
 * super block, the inode's number and mode, then for each step the dentry's address, d_seq and name hash and length,
 * and the number of steps; a seed of its own, so that its numbers never equal path_sig's). Anything else (a mount
 * crossed on the way up, a root walked to whyfail's own root, a dentry with no inode): 0, and the caller uses
 * path_sig(). A static function: the verifier follows the typed pointers the caller passes.
 */
struct sig_walk {
	struct dentry *d;      /* where the walk is */
	struct dentry *mroot;  /* the mount's root: a mount crossed */
	struct dentry *rootd;  /* the task's root (0: not on this mount, or none) */
	u64 sig;
	u32 steps;             /* the steps that went on (the counted loop's k) */
	u32 nokey;             /* a mount crossed: path_sig() */
};

/*
 * One dentry of sig_direct()'s walk, a bpf_loop step: the verifier checks it once (the counted loop inline was walked
 * step by step, 3.3k of on_sys_exit's instructions processed on kernels without the cast, 6.1). The typed pointers
 * travel in the caller's stack (struct sig_walk).
 */
static long sig_direct_step(u64 i, void *ctx)
{
	struct sig_walk *s = ctx;
	u32 zero = 0;
	struct walk_state *w = bpf_map_lookup_elem(&walks, &zero);
	struct dentry *d = s->d;
	if (!w || !d)
		return 1;
	if (d == s->rootd)     /* the task's root */
		return 1;
	if (d == s->mroot) {   /* a mount crossed: path_sig */
		s->nokey = 1;
		return 1;
	}
	struct dentry *parent = d->d_parent;
	u64 hl = d->d_name.hash | (u64)d->d_name.len << 32;
	s->sig = mix(mix(mix(s->sig, addr_of(w, d)), d->d_seq.seqcount.sequence), hl);
	if (!parent || parent == d)  /* a file system's root that is not mounted */
		return 1;
	s->d = parent;
	s->steps++;
	return 0;
}

static __noinline u64 sig_direct(struct walk_state *w, struct dentry *d, struct vfsmount *vm, struct dentry *rootd,
				 struct vfsmount *rootvm)
{
	if (!w || !d || !vm)
		return 0;
	u64 vmv = addr_of(w, vm);
	int mnt_id = 0;
	if (cfg.task_btf_id && cfg.mount_btf_id) {
		/* struct mount around the vfsmount, as an untrusted typed pointer (see untrusted_task): a load, not a helper */
		struct mount *mnt = wf_rdonly_cast((void *)(vmv - bpf_core_field_offset(struct mount, mnt)), cfg.mount_btf_id);
		mnt_id = mnt->mnt_id;
	} else if (bpf_probe_read_kernel(&mnt_id, sizeof(mnt_id), (void *)(vmv - bpf_core_field_offset(struct mount, mnt) +
									  bpf_core_field_offset(struct mount, mnt_id)))) {
		return 0;
	}
	int done;
	u64 sig = sig_head(d, addr_of(w, d), vmv, mnt_id, addr_of(w, vm->mnt_sb), !rootd, &done);
	if (done)
		return sig;
	struct sig_walk s = { .d = d, .mroot = vm->mnt_root, .rootd = vm == rootvm ? rootd : 0, .sig = sig };
	bpf_loop(WF_CTX_DEPTH, sig_direct_step, &s, 0);
	if (s.nokey)
		return 0;
	sig = mix(s.sig, s.steps);
	return sig ? sig : 1;
}

/*
 * sig_direct() where user space made the cast possible (cfg.dentry_btf_id: see untrusted_task): the same walk and the
 * same numbers, but the pointers travel as numbers and each is made a typed (untrusted) pointer where it is loaded
 * through, so that this is a global function, verified once, and the walk is one bpf_loop step a dentry, verified
 * once (sig_direct, static, with its counted loop: 3.3k instructions processed, a fifth of on_sys_exit's). w->d, w->vm:
 * where the walk is; w->steps: the steps that went on (sig_direct's k).
 */
static __always_inline long sig_cast_one(struct walk_state *w)
{
	if (w->d == w->rootd && w->vm == w->rootvm)  /* the task's root */
		return 1;
	if (w->d == w->mroot) {                      /* a mount crossed: path_sig */
		w->nokey = 1;
		return 1;
	}
	struct dentry *d = wf_rdonly_cast((void *)w->d, cfg.dentry_btf_id);
	u64 parent = addr_of(w, d->d_parent);
	u64 hl = d->d_name.hash | (u64)d->d_name.len << 32;
	w->sig = mix(mix(mix(w->sig, w->d), d->d_seq.seqcount.sequence), hl);
	if (!parent || parent == w->d)               /* a file system's root that is not mounted */
		return 1;
	w->d = parent;
	w->steps++;
	return 0;
}

/* Two dentries a step: each step is a call (2-3 ns on the 6.18 host without an SRSO mitigation, ~10-13 ns with its
 * safe return: bench/README "The kernel's cost per call, session 19"); the walk's numbers are the same as one a step
 * (WF_CTX_DEPTH is even: at most WF_CTX_DEPTH dentries either way). */
_Static_assert(WF_CTX_DEPTH % 2 == 0, "sig_cast walks two dentries a step");
static long sig_cast_step(u64 k, void *unused)
{
	u32 zero = 0;
	struct walk_state *w = bpf_map_lookup_elem(&walks, &zero);
	if (!w || sig_cast_one(w))
		return 1;
	return sig_cast_one(w);
}

__noinline u64 sig_cast(u64 d, u64 vm, u64 rootd, u64 rootvm)
{
	u32 zero = 0;
	struct walk_state *w = bpf_map_lookup_elem(&walks, &zero);
	if (!w || !d || !vm || !cfg.dentry_btf_id || !cfg.mount_btf_id)
		return 0;
	struct dentry *dp = wf_rdonly_cast((void *)d, cfg.dentry_btf_id);
	struct mount *mnt = wf_rdonly_cast((void *)(vm - bpf_core_field_offset(struct mount, mnt)), cfg.mount_btf_id);
	int done;
	u64 sig = sig_head(dp, d, vm, mnt->mnt_id, addr_of(w, mnt->mnt.mnt_sb), !rootd, &done);
	if (done)
		return sig;
	w->mroot = addr_of(w, mnt->mnt.mnt_root);
	w->mroot_m = 0;        /* not walk_mounts' cache: mroot is this walk's */
	w->d = d;
	w->vm = vm;
	w->rootd = rootd;
	w->rootvm = rootvm;
	w->sig = sig;
	w->nokey = 0;
	w->steps = 0;
	bpf_loop(WF_CTX_DEPTH / 2, sig_cast_step, 0, 0);
	if (w->nokey)
		return 0;
	sig = mix(w->sig, w->steps);
	return sig ? sig : 1;
}

/*
 * One wf_ctx_file at off: what = argument index (0..5, the descriptor in args[what]), 6 for the cwd,
 * 7 for the root; pathp a struct path * (cwd, root) or filep a struct file * (0: not open).
 */
__noinline int ctx_file(struct scratch_buf *sb, u32 off, u32 what, u64 pathp, u64 filep)
{
	if (!sb || cfg.context_off)
		return off;
	u32 zero = 0;
	struct walk_state *w = bpf_map_lookup_elem(&walks, &zero);
	if (!w)
		return off;
	u64 o = off;
	VERIFIER_MASK(o, 0x1fff);
	struct wf_event *h = (struct wf_event *)sb->data;
	struct wf_ctx_file *f = (struct wf_ctx_file *)(sb->data + o);
	__builtin_memset(f, 0, sizeof(*f));
	u32 arg = what & 7;
	bool writer = what & 0x80;   /* a descriptor the task has open for writing: its number in what >> 8 */
	f->arg = writer ? WF_CTX_ARG_WRITER : arg < 6 ? arg : 0xff;
	f->fd = writer ? (int)(what >> 8) : arg == 6 ? WF_CTX_FD_CWD : arg == 7 ? WF_CTX_FD_ROOT : (int)h->args[arg];
	if (filep) {
		struct file *file = (struct file *)filep;
		f->f_flags = BPF_CORE_READ(file, f_flags);
		f->pos = BPF_CORE_READ(file, f_pos);
		pathp = (u64)__builtin_preserve_access_index(&file->f_path);
	}
	if (!pathp)
		return o + sizeof(*f);
	f->flags = WF_FILE_OPEN;
	struct path *path = (struct path *)pathp;
	struct dentry *d = BPF_CORE_READ(path, dentry);
	struct vfsmount *vm = BPF_CORE_READ(path, mnt);
	struct inode *ino = BPF_CORE_READ(d, d_inode);
	f->mode = BPF_CORE_READ(ino, i_mode);
	f->ino = BPF_CORE_READ(ino, i_ino);
	struct super_block *sbk = BPF_CORE_READ(vm, mnt_sb);
	f->dev = BPF_CORE_READ(sbk, s_dev);
	const char *fsname = BPF_CORE_READ(sbk, s_type, name);
	bpf_probe_read_kernel_str(f->fstype, sizeof(f->fstype), fsname);
	u64 m = (u64)vm - bpf_core_field_offset(struct mount, mnt);
	f->mnt_id = BPF_CORE_READ((struct mount *)m, mnt_id);
	/* unlinked: no longer hashed, and not a root */
	if (!BPF_CORE_READ(d, d_hash.pprev) && BPF_CORE_READ(d, d_parent) != d)
		f->flags |= WF_FILE_DELETED;

	walk_begin(w, (u64)d, m, arg);
	w->base = o + sizeof(*f);
	w->used = 0;
	w->steps = 0;
	bpf_loop(WF_CTX_DEPTH, walk_loop_step, 0, 0);
	if (w->steps == WF_CTX_DEPTH)
		w->flags |= WF_FILE_TRUNCATED;
	u32 flags = w->flags;
	if (arg == 7 && !w->own)
		flags &= ~WF_FILE_UNREACHABLE; /* without whyfail's root, the walk ends at the namespace's root by design */
	f->flags |= flags;
	u32 used = w->used;
	if (used > WF_CTX_NAMES)
		used = WF_CTX_NAMES;
	f->names_len = used;
	return o + sizeof(*f) + ((used + 7) & ~7u);
}

/* Open descriptors, counted in the table's bitmap (up to 65536), a word per bpf_loop step (the verifier checks the
 * step once instead of unrolling 1024 of them). */
struct fd_count {
	u64 open_fds;
	u32 words;
	u32 n;
};

static long count_fds_step(u64 k, void *ctx)
{
	struct fd_count *fc = ctx;
	if (k >= fc->words)
		return 1;
	u64 bits = 0;
	bpf_probe_read_kernel(&bits, sizeof(bits), (void *)(fc->open_fds + k * 8));
	fc->n += __builtin_popcountll(bits);
	return 0;
}

static __always_inline u32 count_fds(u64 open_fds, u32 max_fds)
{
	struct fd_count fc = { .open_fds = open_fds, .words = (max_fds + 63) / 64, .n = 0 };
	bpf_loop(1024, count_fds_step, &fc, 0);
	return fc.n;
}

static const int ctx_rlim_index[WF_CTX_RLIMS] = WF_CTX_RLIM_ORDER;

/*
 * Two bounded walks of the failure path, each a bpf_loop (the verifier checks the step once) whose state lives in a
 * per-CPU map, not on the stack (the call chain from sys_exit shares 512 bytes of stack):
 * - E2BIG from execve: argv and envp counted as fs/exec.c does (strings with their NULs, the longest one), read
 *   from the caller's memory, which is still the old program's after a failed exec;
 * - ETXTBSY from execve: the task's own descriptors open for writing on a regular file (the writer may be the
 *   caller itself, a shell's `exec 3>>FILE`), found before the task exits and closes them.
 */
struct exec_walk {
	u64 vec[2];            /* argv, envp (user pointers; 0: none) */
	u64 cur;               /* the rest of the string being measured, 0 between strings */
	u64 cur_len;           /* its bytes measured so far */
	u64 strings[2];
	u64 bytes[2];
	u64 longest;
	u32 longest_vec;
	u32 longest_index;
	u32 which;             /* 0 argv, 1 envp, 2 done */
	u32 index;             /* the string's index in its vector */
	u32 flags;             /* WF_CTXF_EXEC_FAULT */
	u32 pad;
};

struct writer_scan {
	u64 fdarr;             /* the descriptor table's array (struct file **) */
	u32 max;               /* descriptors to look at */
	u32 n;                 /* writers found */
	u64 fds[4];            /* their numbers (WF_CTX_FILES kept) */
	u64 files[4];          /* their struct file * */
};

struct fail_walks {
	struct exec_walk w;
	struct writer_scan s;
	u8 chunk[WF_EXEC_CHUNK];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct fail_walks);
} fail_walks SEC(".maps");

/* One string of argv/envp (with the pointer to it), or WF_EXEC_CHUNK more bytes of a long one. 1: stop. */
static long exec_walk_step(u64 i, void *unused)
{
	u32 zero = 0;
	struct fail_walks *fw = bpf_map_lookup_elem(&fail_walks, &zero);
	if (!fw)
		return 1;
	struct exec_walk *w = &fw->w;
	u32 v = w->which;
	if (v > 1)
		return 1;
	v &= 1;
	if (!w->cur) {
		u64 p = 0;
		if (w->vec[v] && bpf_probe_read_user(&p, sizeof(p), (void *)(w->vec[v] + (u64)w->index * 8))) {
			w->flags |= WF_CTXF_EXEC_FAULT;
			return 1;
		}
		if (!p) {               /* the vector's end (a NULL vector has none: the kernel counts it as empty) */
			w->which = v + 1;
			w->index = 0;
			return v + 1 > 1;
		}
		w->cur = p;
		w->cur_len = 0;
	}
	/* the length with its NUL when below the chunk; the chunk's size when the string is at least chunk - 1 long */
	long n = bpf_probe_read_user_str(fw->chunk, WF_EXEC_CHUNK, (void *)w->cur);
	if (n <= 0) {
		w->flags |= WF_CTXF_EXEC_FAULT;
		return 1;
	}
	if (n == WF_EXEC_CHUNK) {
		w->cur += WF_EXEC_CHUNK - 1;
		w->cur_len += WF_EXEC_CHUNK - 1;
		return 0;
	}
	u64 len = w->cur_len + n;
	w->strings[v]++;
	w->bytes[v] += len;
	if (len > w->longest) {
		w->longest = len;
		w->longest_vec = v;
		w->longest_index = w->index;
	}
	w->index++;
	w->cur = 0;
	return 0;
}

/* Counts argv and envp into the wf_context at ctx_off; returns the WF_CTXF_EXEC_* flags. */
__noinline u32 count_exec_args(struct scratch_buf *sb, u32 ctx_off, u64 argv, u64 envp)
{
	u32 zero = 0;
	struct fail_walks *fw = bpf_map_lookup_elem(&fail_walks, &zero);
	if (!sb || !fw)
		return 0;
	__builtin_memset(&fw->w, 0, sizeof(fw->w));
	fw->w.vec[0] = argv;
	fw->w.vec[1] = envp;
	bpf_loop(WF_EXEC_STEPS, exec_walk_step, 0, 0);
	u64 o = ctx_off;
	VERIFIER_MASK(o, 0xfff);
	struct wf_context *c = (struct wf_context *)(sb->data + o);
	struct exec_walk *w = &fw->w;
	c->exec_strings[0] = w->strings[0];
	c->exec_strings[1] = w->strings[1];
	c->exec_bytes[0] = w->bytes[0];
	c->exec_bytes[1] = w->bytes[1];
	c->exec_longest = w->longest;
	c->exec_longest_index = w->longest_index;
	u32 flags = WF_CTXF_EXEC_ARGS | w->flags | (w->longest_vec ? WF_CTXF_EXEC_LONGEST_ENVP : 0);
	if (w->which < 2 && !(w->flags & WF_CTXF_EXEC_FAULT))
		flags |= WF_CTXF_EXEC_PARTIAL;
	return flags;
}

/* Descriptor i: kept when open for writing (O_WRONLY or O_RDWR, not O_PATH) on a regular file. */
static long writer_scan_step(u64 i, void *unused)
{
	u32 zero = 0;
	struct fail_walks *fw = bpf_map_lookup_elem(&fail_walks, &zero);
	if (!fw)
		return 1;
	struct writer_scan *s = &fw->s;
	if (i >= s->max || s->n >= WF_CTX_FILES)
		return 1;
	u64 file = 0, inode = 0;
	u32 fl = 0;
	u16 mode = 0;
	if (bpf_probe_read_kernel(&file, sizeof(file), (void *)(s->fdarr + i * 8)) || !file)
		return 0;
	bpf_probe_read_kernel(&fl, sizeof(fl), (void *)(file + bpf_core_field_offset(struct file, f_flags)));
	if (((fl & 3) != 1 && (fl & 3) != 2) || (fl & 010000000 /* O_PATH */))
		return 0;
	if (bpf_probe_read_kernel(&inode, sizeof(inode), (void *)(file + bpf_core_field_offset(struct file, f_inode))) || !inode)
		return 0;
	bpf_probe_read_kernel(&mode, sizeof(mode), (void *)(inode + bpf_core_field_offset(struct inode, i_mode)));
	if ((mode & 0170000) != 0100000 /* S_IFREG */)
		return 0;
	u32 k = s->n & 3;
	s->fds[k] = i;
	s->files[k] = file;
	s->n++;
	return 0;
}

/* The task's descriptors open for writing on regular files, as wf_ctx_file records (WF_CTX_ARG_WRITER) at off. */
__noinline int capture_writers(struct scratch_buf *sb, u32 off, u64 fdarr, u32 max_fds)
{
	u32 zero = 0;
	struct fail_walks *fw = bpf_map_lookup_elem(&fail_walks, &zero);
	if (!sb || !fw || !fdarr)
		return off;
	struct writer_scan *s = &fw->s;
	s->fdarr = fdarr;
	s->max = max_fds < WF_CTX_WRITERS_SCAN ? max_fds : WF_CTX_WRITERS_SCAN;
	s->n = 0;
	bpf_loop(WF_CTX_WRITERS_SCAN, writer_scan_step, 0, 0);
	u32 end = off;
	for (u32 k = 0; k < WF_CTX_FILES; k++) {
		if (k >= s->n)
			break;
		u64 fd = s->fds[k & 3];
		end = ctx_file(sb, end, 0x80 | (u32)(fd & 0xffff) << 8, 0, s->files[k & 3]);
	}
	return end;
}

/*
 * Fields of the wf_context header read alike by capture_context() (the full path) and context_repeat() (the short
 * path), so that both see the same numbers.
 */
/* The task's pointers the context is read through, loaded first, before any branch: without the cast (untrusted_task)
 * the verifier looks such a load up in the kernel's __safe_* type lists (linear name scans of vmlinux BTF on 6.18,
 * ~1 ms each) once per path that reaches it. */
struct ctx_ptrs {
	const struct cred *cred;
	struct fs_struct *fs;
	struct signal_struct *sig;
	struct files_struct *files;
	struct sighand_struct *sh;
	struct nsproxy *nsp;
};

static __always_inline struct ctx_ptrs ctx_ptrs_of(struct task_struct *task)
{
	struct task_struct *ut = untrusted_task(task);
	struct ctx_ptrs p = { .cred = ut->cred, .fs = ut->fs, .sig = ut->signal, .files = ut->files, .sh = ut->sighand,
			      .nsp = ut->nsproxy };
	asm volatile("" ::: "memory");
	return p;
}

/* cap_permitted and cap_effective */
static __always_inline void ctx_caps(const struct cred *cred, u64 *prm, u64 *eff)
{
	*prm = 0;
	*eff = 0;
	if (bpf_core_field_exists(cred->cap_permitted.val)) {
		/* 6.3 and later: kernel_cap_t is one u64, two loads */
		*prm = cred->cap_permitted.val;
		*eff = cred->cap_effective.val;
	} else if (bpf_core_field_offset(struct cred, cap_effective) == bpf_core_field_offset(struct cred, cap_permitted) + 8) {
		/* neighbours, as in every kernel: one read (kernel_cap_t is two u32 before 6.3, one u64 since) */
		u64 caps[2] = {};
		bpf_probe_read_kernel(caps, 16, __builtin_preserve_access_index(&cred->cap_permitted));
		*prm = caps[0];
		*eff = caps[1];
	} else {
		bpf_probe_read_kernel(eff, 8, __builtin_preserve_access_index(&cred->cap_effective));
		bpf_probe_read_kernel(prm, 8, __builtin_preserve_access_index(&cred->cap_permitted));
	}
}

/* The task's own WF_CTXF_* flags */
static __always_inline u32 ctx_task_flags(struct task_struct *task)
{
	return task->atomic_flags & 1 /* PFA_NO_NEW_PRIVS */ ? WF_CTXF_NO_NEW_PRIVS : 0;
}

/*
 * The network namespace's inode number (wf_context.net_ns). No test for NULL: nsproxy is NULL once the task is past
 * exit_task_namespaces (do_exit), and a load through a NULL kernel pointer reads 0 (BPF_PROBE_MEM: an address that is
 * not the kernel's, or that faults, loads as 0), the 0 the field wants, without a branch for the verifier to walk.
 */
static __always_inline u32 ctx_net_ns(struct nsproxy *nsp)
{
	return nsp->net_ns->ns.inum;
}

/* The signals rules ask about: SIGPIPE, SIGCHLD, SIGXFSZ (constant indices for CO-RE): ignored, caught */
static __always_inline void ctx_handlers(struct sighand_struct *sh, u64 *ign, u64 *caught)
{
	*ign = 0;
	*caught = 0;
	if (sh) {
		u64 h13 = (u64)sh->action[12].sa.sa_handler, h17 = (u64)sh->action[16].sa.sa_handler,
		    h25 = (u64)sh->action[24].sa.sa_handler;
		*ign = (h13 == 1 ? 1ULL << 12 : 0) | (h17 == 1 ? 1ULL << 16 : 0) | (h25 == 1 ? 1ULL << 24 : 0);
		*caught = (h13 > 1 ? 1ULL << 12 : 0) | (h17 > 1 ? 1ULL << 16 : 0) | (h25 > 1 ? 1ULL << 24 : 0);
	}
}

/*
 * The short path of a repeated failure: a wf_ctx_ref (WF_EVF_CONTEXT_SAME) at off without building the context. When
 * the task has a key sent under this thread id, this failure's context would be keyed, and the cwd's and root's
 * signatures (w->fcwd, w->froot, made by capture_context() just before) are the key's, every other field the full
 * path would write into the header is loaded where the kernel keeps it and compared with the key's copy (st->ctx_hdr):
 * the same values, read the same way (the ctx_* helpers above), no pointer trusted to stand for its contents. Nothing
 * is written but the 8-byte reference: no 320-byte header in the scratch and no 320-byte compare, and the groups are
 * not read by a helper when there is one (a root's usual one group). Returns 1; 0: the full path decides (nothing
 * changed here but w's block).
 */
__noinline int context_repeat(struct scratch_buf *sb, u32 off, u32 flags, struct task_state *st, u64 task_addr)
{
	u32 zero = 0;
	struct walk_state *w = bpf_map_lookup_elem(&walks, &zero);
	if (!sb || !st || !w || !w->keyable || !w->fcwd || !w->froot || !st->ctx_seq)
		return 0;
	struct wf_event *h = (struct wf_event *)sb->data;
	if (st->ctx_tid != h->tid || st->ctx_cwd != w->fcwd || st->ctx_root != w->froot)
		return 0;
	const struct wf_context *k = (const struct wf_context *)st->ctx_hdr;
	struct task_struct *task = current_task_of(task_addr);
	struct ctx_ptrs p = ctx_ptrs_of(task);
	const struct cred *cred = p.cred;
	struct fdtable *fdt = p.files ? p.files->fdt : 0;
	if (!p.fs || !p.sig || !fdt || !p.sh)  /* the full path's zeros for them: rare, not worth a branch per field here */
		return 0;
	u64 d = (cred->uid.val ^ k->uid) | (cred->euid.val ^ k->euid) | (cred->suid.val ^ k->suid) |
		(cred->fsuid.val ^ k->fsuid) | (cred->gid.val ^ k->gid) | (cred->egid.val ^ k->egid) |
		(cred->sgid.val ^ k->sgid) | (cred->fsgid.val ^ k->fsgid) | (cred->securebits ^ k->securebits);
	u64 prm, eff;
	ctx_caps(cred, &prm, &eff);
	d |= (prm ^ k->cap_prm) | (eff ^ k->cap_eff);
	struct group_info *gi = cred->group_info;
	int ng = gi ? gi->ngroups : 0;
	d |= (u32)ng ^ k->ngroups;
	if (d)
		return 0;
	if (ng == 1) {
		d |= gi->gid[0].val ^ k->groups[0];
	} else if (ng > 1) {
		/* as the full path reads them, into w's block (zeroed: the key's groups beyond ngroups are 0) */
		u32 sz = ng < WF_CTX_GROUPS ? (u32)ng * 4 : WF_CTX_GROUPS * 4;
		VERIFIER_MASK(sz, 0x7f);
		if (sz > sizeof(k->groups))
			sz = sizeof(k->groups);
		__builtin_memset(w->blk, 0, sizeof(k->groups));
		bpf_probe_read_kernel(w->blk, sz, __builtin_preserve_access_index(&gi->gid[0]));
		const u64 *g = (const u64 *)k->groups;
#pragma unroll
		for (u32 i = 0; i < sizeof(k->groups) / 8; i++)
			d |= w->blk[i] ^ g[i];
	}
	d |= ((flags | ctx_task_flags(task)) ^ k->flags) | (task->seccomp.mode ^ k->seccomp_mode) |
	     (task->seccomp.filter_count.counter ^ k->seccomp_filters) | (p.fs->umask ^ k->umask);
#pragma unroll
	for (int i = 0; i < WF_CTX_RLIMS; i++)
		d |= (p.sig->rlim[ctx_rlim_index[i]].rlim_cur ^ k->rlim_cur[i]) | (p.sig->rlim[ctx_rlim_index[i]].rlim_max ^ k->rlim_max[i]);
	d |= fdt->max_fds ^ k->max_fds;
	u64 ign, caught;
	ctx_handlers(p.sh, &ign, &caught);
	d |= (ign ^ k->sig_ignored) | (caught ^ k->sig_caught) | (task->blocked.sig[0] ^ k->sig_blocked);
	d |= ctx_net_ns(p.nsp) ^ k->net_ns;
	/* n_files, nfds, exec_*, size and seq: a key is always a keyed context's (cwd and root only, none counted) */
	if (d)
		return 0;
	u64 o = off;
	VERIFIER_MASK(o, 0xfff);
	struct wf_ctx_ref *ref = (struct wf_ctx_ref *)(sb->data + o);
	ref->size = sizeof(*ref);
	ref->seq = st->ctx_seq;
	h->flags |= WF_EVF_CONTEXT_SAME;
	st->next_seq = 0;
	st->next_cwd = 0;
	return 1;
}

/*
 * The context whose header is at off is keyed (only the cwd and root records: every descriptor argument AT_FDCWD, no
 * descriptor count, exec count or writer scan): its paths' signatures go to st->next_cwd and next_root (else 0), and
 * when everything equals the task's key, a wf_ctx_ref replaces the header (WF_EVF_CONTEXT_SAME): returns 1.
 */
__noinline int context_same(struct scratch_buf *sb, u32 off, struct task_state *st)
{
	if (!st)
		return 0;
	st->next_seq = 0;
	st->next_cwd = 0;
	u32 zero = 0;
	struct walk_state *w = bpf_map_lookup_elem(&walks, &zero);  /* its block, not the stack: 512 bytes for 5 calls */
	if (!sb || !w || !w->keyable)
		return 0;
	u64 o = off;
	VERIFIER_MASK(o, 0xfff);
	struct wf_event *h = (struct wf_event *)sb->data;
	struct wf_context *c = (struct wf_context *)(sb->data + o);
	/* sig_direct()'s numbers when it could make them, else path_sig()'s */
	u64 scwd = w->fcwd, sroot = w->froot;
	if (!scwd || !sroot) {
		/* the task's root and cwd (struct path: mnt, dentry) in one read */
		u64 r = bpf_core_field_offset(struct fs_struct, root), p = bpf_core_field_offset(struct fs_struct, pwd);
		u64 pm = bpf_core_field_offset(struct path, mnt), pd = bpf_core_field_offset(struct path, dentry);
		u64 base = r & ~7ULL, fsp = 0;
		if (p < r || p - base + 16 > 64 || ((r - base) & 7) || ((p - base) & 7) || pm > 8 || pd > 8 || ((pm | pd) & 7))
			return 0;
		bpf_probe_read_kernel(&fsp, sizeof(fsp), __builtin_preserve_access_index(&bpf_get_current_task_btf()->fs));
		if (!fsp || bpf_probe_read_kernel(w->blk, 64, (void *)(fsp + base)))
			return 0;
		u64 rootvm = BLK_U64(w->blk, r - base + pm, 16), rootd = BLK_U64(w->blk, r - base + pd, 16);
		u64 cwdvm = BLK_U64(w->blk, p - base + pm, 16), cwdd = BLK_U64(w->blk, p - base + pd, 16);
		scwd = path_sig(cwdd, cwdvm, 6, rootd, rootvm);
		sroot = scwd ? path_sig(rootd, rootvm, 7, 0, 0) : 0;
		if (!sroot)
			return 0;
	}
	st->next_cwd = scwd;
	st->next_root = sroot;
	c->size = 0;
	c->n_files = 2;
	if (!st->ctx_seq || st->ctx_tid != h->tid || st->ctx_cwd != scwd || st->ctx_root != sroot)
		return 0;
	const u64 *a = (const u64 *)c, *b = (const u64 *)st->ctx_hdr;
	u64 diff = 0;
	_Static_assert(sizeof(*c) % 64 == 0, "the compare takes 8 words a step");
	/* no branch but the loop's: few verifier states; 8 words a step (a word a step cost 12 instructions a word) */
#pragma clang loop unroll(disable)
	for (u32 k = 0; k < sizeof(*c) / 8; k += 8)
		diff |= (a[k] ^ b[k]) | (a[k + 1] ^ b[k + 1]) | (a[k + 2] ^ b[k + 2]) | (a[k + 3] ^ b[k + 3]) |
			(a[k + 4] ^ b[k + 4]) | (a[k + 5] ^ b[k + 5]) | (a[k + 6] ^ b[k + 6]) | (a[k + 7] ^ b[k + 7]);
	if (diff)
		return 0;
	struct wf_ctx_ref *ref = (struct wf_ctx_ref *)c;
	ref->size = sizeof(*ref);
	ref->seq = st->ctx_seq;
	h->flags |= WF_EVF_CONTEXT_SAME;
	return 1;
}

/* A keyed context (context_same set st->next_cwd) that was not the same: a base context, numbered. */
__noinline int context_base(struct scratch_buf *sb, u32 off, struct task_state *st)
{
	if (!sb || !st || !st->next_cwd)
		return 0;
	u64 o = off;
	VERIFIER_MASK(o, 0xfff);
	struct wf_context *c = (struct wf_context *)(sb->data + o);
	u32 seq = bpf_get_prandom_u32() | 1; /* != 0; a number user space has not seen for this thread, or else the same */
	c->seq = seq;
	st->next_seq = seq;
	st->next_off = o;
	return 1;
}

/*
 * The descriptor arguments' files (up to WF_CTX_FILES), one argument per bpf_loop step: the verifier checks the step
 * once (the counted loop over six arguments, each with its branches and a ctx_file call, was walked for every mix of
 * them: 3.7k of capture_context's 4.8k instructions processed). State in the caller's stack.
 */
struct fd_files {
	u64 fdarr;             /* the descriptor table's array */
	u32 fd_args;           /* the capture spec's descriptor bits */
	u32 max_fds;
	u32 end;               /* where the next record goes */
	u32 nf;                /* records so far (cwd and root included) */
};

static long fd_file_step(u64 i, void *ctx)
{
	struct fd_files *s = ctx;
	if (i >= 6 || s->nf >= 2 + WF_CTX_FILES)
		return 1;
	if (!(s->fd_args & (1u << i)))
		return 0;
	u32 zero = 0;
	struct scratch_buf *sb = bpf_map_lookup_elem(&scratch, &zero);
	if (!sb)
		return 1;
	struct wf_event *h = (struct wf_event *)sb->data;
	s64 fd = (int)h->args[i];
	if (fd == -100 /* AT_FDCWD: the cwd is already there */)
		return 0;
	u64 file = 0;
	if (fd >= 0 && fd < s->max_fds && s->fdarr)
		bpf_probe_read_kernel(&file, sizeof(file), (void *)(s->fdarr + fd * 8));
	s->end = ctx_file(sb, s->end, i, 0, file);
	s->nf++;
	return 0;
}

/*
 * The wf_context at off (below 4 KiB) and its file records; returns the new offset. With the task's state st, a context
 * of the cwd and root only (no descriptor, exec or writer records: those depend on more than the key says) is a base
 * context (seq set, st->next_*: made the task's key once the record is out), or, when it equals the key, a wf_ctx_ref
 * (WF_EVF_CONTEXT_SAME) without the path walks. Why the key is enough, field by field:
 * - credentials (ids, groups, securebits, capabilities), seccomp, umask, limits, no_new_privs, the descriptor table's
 *   size, signal dispositions and mask, the seccomp entry flags, the network namespace (its inode number): read every
 *   time into the header and compared with the key's copy byte for byte (no pointer is trusted to stand for its
 *   contents: a freed cred can come back at the same address);
 * - nfds, exec_*, writers, descriptor files: such contexts are never keyed (always sent whole);
 * - the cwd and root records: path_sig() of each, compared with the key's. The names: the walk's dentries (pinned by
 *   the path: an address is one dentry while it is held), each one's d_seq (bumped by __d_move when it is renamed or
 *   moved, so a rename above the cwd changes the signature) and name hash and length, the mounts crossed and their
 *   mountpoints (a moved or detached mount changes them), where the walk stopped and after how many steps (the
 *   cwd's walk ends at the root, whose signature is in the key too); deleted: __d_drop bumps d_seq; mode and ino: the
 *   inode's, read each time; dev, fs type, mount id: the mount's (its address and id are mixed in); f_flags and pos
 *   are 0 for both. A 64-bit mix, not the values themselves: two different walks giving one number is a 2^-64 chance.
 * - the thread id: a key is used only under the thread id it was sent with (user space keeps base contexts per thread).
 */
__noinline int capture_context(struct scratch_buf *sb, u32 off, u32 flags_fds, struct task_state *st, u64 task_addr)
{
	u32 flags = flags_fds & 0xffff, fd_args = flags_fds >> 16;
	if (!sb || cfg.context_off)
		return off;
	u64 o = off;
	VERIFIER_MASK(o, 0xfff);
	struct wf_event *h = (struct wf_event *)sb->data;
	struct wf_context *c = (struct wf_context *)(sb->data + o);
	struct task_struct *task = current_task_of(task_addr);
	struct ctx_ptrs p = ctx_ptrs_of(task);
	const struct cred *cred = p.cred;
	struct fs_struct *fs = p.fs;
	struct signal_struct *sig = p.sig;
	struct files_struct *files = p.files;
	struct sighand_struct *sh = p.sh;
	/*
	 * Keyed (only the cwd and root records: every descriptor argument AT_FDCWD, no descriptor count, exec count or
	 * writer scan): the paths' signatures, by direct loads where sig_direct() can, else (0) by path_sig() in
	 * context_same. The key's signatures go to st->next_cwd/next_root (0: no key), not in registers, and st is not
	 * tested here: fewer verifier states. Here, before any other branch: the verifier walks sig_direct's loop once.
	 */
	u32 zero = 0;
	struct walk_state *w = bpf_map_lookup_elem(&walks, &zero);
	if (w) {
		/* a descriptor argument other than AT_FDCWD: without branches (each would double the paths below) */
		u64 fds = 0;
#pragma unroll
		for (u32 i = 0; i < 6; i++)
			fds |= ((fd_args >> i) & 1) * ((u32)h->args[i] ^ (u32)-100);
		bool keyable = !fds && h->ret != -24 /* EMFILE: the descriptor count */ &&
			       !((h->ret == -7 || h->ret == -26) && (h->nr == WF_NR_EXECVE || h->nr == WF_NR_EXECVEAT));
		w->keyable = keyable;
		w->fcwd = 0;
		w->froot = 0;
		if (keyable && cfg.dentry_btf_id) {  /* the cast: numbers, a global function */
			u64 cwdd = addr_of(w, fs->pwd.dentry), cwdvm = addr_of(w, fs->pwd.mnt);
			u64 rootd = addr_of(w, fs->root.dentry), rootvm = addr_of(w, fs->root.mnt);
			w->fcwd = sig_cast(cwdd, cwdvm, rootd, rootvm);
			if (w->fcwd)
				w->froot = sig_cast(rootd, rootvm, 0, 0);
		} else if (keyable) {  /* st and fs not tested: each test would double the paths below (sig_direct checks d) */
			w->fcwd = sig_direct(w, fs->pwd.dentry, fs->pwd.mnt, fs->root.dentry, fs->root.mnt);
			if (w->fcwd)
				w->froot = sig_direct(w, fs->root.dentry, fs->root.mnt, 0, 0);
		}
	}
	if (context_repeat(sb, o, flags, st, task_addr))
		return o + sizeof(struct wf_ctx_ref);
	c->n_files = 0;
	c->uid = cred->uid.val;
	c->euid = cred->euid.val;
	c->suid = cred->suid.val;
	c->fsuid = cred->fsuid.val;
	c->gid = cred->gid.val;
	c->egid = cred->egid.val;
	c->sgid = cred->sgid.val;
	c->fsgid = cred->fsgid.val;
	c->securebits = cred->securebits;
	ctx_caps(cred, &c->cap_prm, &c->cap_eff);
	struct group_info *gi = cred->group_info;
	int ng = gi ? gi->ngroups : 0;
	c->ngroups = ng;
	__builtin_memset(c->groups, 0, sizeof(c->groups));
	if (ng > 0) {
		u32 sz = ng < WF_CTX_GROUPS ? (u32)ng * 4 : WF_CTX_GROUPS * 4;
		VERIFIER_MASK(sz, 0x7f);
		if (sz > sizeof(c->groups))
			sz = sizeof(c->groups);
		bpf_probe_read_kernel(c->groups, sz, __builtin_preserve_access_index(&gi->gid[0]));
	}
	flags |= ctx_task_flags(task);
	c->seccomp_mode = task->seccomp.mode;
	c->seccomp_filters = task->seccomp.filter_count.counter;
	c->umask = fs ? fs->umask : 0;
#pragma unroll
	for (int k = 0; k < WF_CTX_RLIMS; k++) {
		c->rlim_cur[k] = sig ? sig->rlim[ctx_rlim_index[k]].rlim_cur : 0;
		c->rlim_max[k] = sig ? sig->rlim[ctx_rlim_index[k]].rlim_max : 0;
	}
	struct fdtable *fdt = files ? files->fdt : 0;
	u32 max_fds = fdt ? fdt->max_fds : 0;
	c->max_fds = max_fds;
	c->nfds = 0;
	c->seq = 0;
	if (fdt && h->ret == -24 /* EMFILE */) {
		c->nfds = count_fds((u64)BPF_CORE_READ(fdt, open_fds), max_fds);
		flags |= WF_CTXF_FDS_COUNTED;
	}
	if (h->ret == -7 /* E2BIG */ && (h->nr == WF_NR_EXECVE || h->nr == WF_NR_EXECVEAT)) {
		bool at = h->nr == WF_NR_EXECVEAT;
		flags |= count_exec_args(sb, o, at ? h->args[2] : h->args[1], at ? h->args[3] : h->args[2]);
	} else {
		/* not sent, but compared with the key (and by user space): no bytes of an earlier record */
		__builtin_memset(c->exec_strings, 0, sizeof(c->exec_strings) + sizeof(c->exec_bytes) + sizeof(c->exec_longest) +
				 sizeof(c->exec_longest_index));
	}
	c->net_ns = ctx_net_ns(p.nsp);
	c->flags = flags;
	/* the signals rules ask about: SIGPIPE, SIGCHLD, SIGXFSZ (constant indices for CO-RE) */
	u64 ign, caught;
	ctx_handlers(sh, &ign, &caught);
	c->sig_ignored = ign;
	c->sig_caught = caught;
	c->sig_blocked = task->blocked.sig[0];

	u32 end = o + sizeof(*c);

	if (context_same(sb, o, st))
		return o + sizeof(struct wf_ctx_ref);
	/* only a context sent whole needs the descriptor array (a helper read: a repeated failure does not pay it) */
	u64 fdarr = fdt ? (u64)BPF_CORE_READ(fdt, fd) : 0;
	/* as a number (global functions take scalars, not kernel pointers) */
	u64 fsp = 0;
	bpf_probe_read_kernel(&fsp, sizeof(fsp), __builtin_preserve_access_index(&task->fs));
	u64 cwd = fsp ? fsp + bpf_core_field_offset(struct fs_struct, pwd) : 0;
	u64 root = fsp ? fsp + bpf_core_field_offset(struct fs_struct, root) : 0;
	end = ctx_file(sb, end, 6, cwd, 0);
	end = ctx_file(sb, end, 7, root, 0);
	struct fd_files ff = { .fdarr = fdarr, .fd_args = fd_args, .max_fds = max_fds, .end = end, .nf = 2 };
	bpf_loop(6, fd_file_step, &ff, 0);
	end = ff.end;
	u32 nf = ff.nf;
	if (h->ret == -26 /* ETXTBSY */ && (h->nr == WF_NR_EXECVE || h->nr == WF_NR_EXECVEAT)) {
		end = capture_writers(sb, end, fdarr, max_fds);
		u32 zero = 0;
		struct fail_walks *fw = bpf_map_lookup_elem(&fail_walks, &zero);
		if (fw)
			nf += fw->s.n < WF_CTX_FILES ? fw->s.n : WF_CTX_FILES;
		if (max_fds <= WF_CTX_WRITERS_SCAN)
			c->flags |= WF_CTXF_WRITERS_SCANNED;
	}
	c->n_files = nf;
	c->size = end - (u32)o;
	context_base(sb, o, st);
	h->flags |= WF_EVF_CONTEXT;
	return end;
}

/* The base context of the record just written to the ring (st->next_*) becomes the task's key. (Global: the
 * verifier checks it once, not once per path of on_sys_exit.) */
__noinline int keep_context_key(struct scratch_buf *sb, struct task_state *st, u32 tid)
{
	if (!sb || !st || !st->next_seq)
		return 0;
	u64 o = st->next_off;
	VERIFIER_MASK(o, 0xfff);
	/* a word at a time (a byte-wise memcpy of u8 arrays: 640 instructions) */
	const u64 *from = (const u64 *)(sb->data + o);
	u64 *to = (u64 *)st->ctx_hdr;
#pragma unroll
	for (u32 k = 0; k < sizeof(struct wf_context) / 8; k++)
		to[k] = from[k];
	struct wf_context *k = (struct wf_context *)st->ctx_hdr;
	k->size = 0;
	k->seq = 0;
	st->ctx_seq = st->next_seq;
	st->ctx_tid = tid;
	st->ctx_cwd = st->next_cwd;
	st->ctx_root = st->next_root;
	st->next_seq = 0;
	return 1;
}

/*
 * After the event's header: the evidence gathered while the call ran, then (below) the latest origin records and
 * site hits; the task's lists are emptied. Each returns the offset after what it copied (together they end below
 * 3 KiB). Global functions, like capture_args: the verifier checks each once, instead of every path of
 * on_sys_exit through each loop (copying the three lists inline cost it ~570 000 instructions: its start-up).
 */
/*
 * A call ending in ERESTART* (-512..-516) with no signal sent while it ran: the signal was sent before, while
 * blocked, and the call unblocked it (rt_sigsuspend, pselect6's mask) or found it pending. The one delivery takes
 * next (the lowest pending, unblocked) is recorded as signal evidence (b = 0, c = WF_SIG_PENDING), so that user
 * space knows whether a handler runs (the program sees EINTR) or the call is restarted.
 */
__noinline int note_pending_signal(struct task_state *st, long ret)
{
	if (!st || ret < -516 || ret > -512)
		return 0;
	u32 n = st->n_ev;
	for (u32 k = 0; k < WF_MAX_EVIDENCE; k++) {
		if (k >= n)
			break;
		if (st->ev[k].kind == WF_EV_SIGNAL && st->ev[k].c == 0)
			return 0;
	}
	struct task_struct *task = bpf_get_current_task_btf();
	u64 pend = task->pending.signal.sig[0];
	u64 sigp = 0; /* read, not loaded (see capture_context) */
	bpf_probe_read_kernel(&sigp, sizeof(sigp), __builtin_preserve_access_index(&task->signal));
	if (sigp)
		pend |= BPF_CORE_READ((struct signal_struct *)sigp, shared_pending.signal.sig[0]);
	pend &= ~task->blocked.sig[0];
	if (!pend)
		return 0;
	int s = 1;
	if (!(pend & 0xffffffffULL)) { pend >>= 32; s += 32; }
	if (!(pend & 0xffffULL)) { pend >>= 16; s += 16; }
	if (!(pend & 0xffULL)) { pend >>= 8; s += 8; }
	if (!(pend & 0xfULL)) { pend >>= 4; s += 4; }
	if (!(pend & 0x3ULL)) { pend >>= 2; s += 2; }
	if (!(pend & 0x1ULL)) s += 1;
	struct wf_evidence e = {};
	e.kind = WF_EV_SIGNAL;
	e.a = s;
	e.c = WF_SIG_PENDING;
	add_evidence(st, &e);
	return 0;
}

/*
 * Evidence item k of the task's call at off (below 4 KiB); returns the offset after it (off itself when the item is
 * left out). A global function: the verifier checks the 32-byte copy and its branches once, not once per item of
 * copy_evidence's loop (~0.9k instructions processed inline).
 */
__noinline u32 copy_evidence_one(struct scratch_buf *sb, struct task_state *st, u32 off, u32 k, long ret)
{
	if (!sb || !st)
		return off;
	k &= WF_MAX_EVIDENCE - 1;
	/* A capability check that said no inside a call that succeeded (--all) decided nothing. */
	if (ret >= 0 && st->ev[k].kind == WF_EV_CAPABILITY)
		return off;
	u64 o = off;
	VERIFIER_MASK(o, 0xfff);
	struct wf_evidence *e = (struct wf_evidence *)(sb->data + o);
	*e = st->ev[k];
	if (e->kind == WF_EV_SIGNAL) {
		e->d = sigaction_word(e->a, 0);
		e->e = sigaction_word(e->a, 1);
	}
	((struct wf_event *)sb->data)->n_evidence++;
	return o + sizeof(*e);
}

__noinline u32 copy_evidence(struct scratch_buf *sb, struct task_state *st, long ret)
{
	u32 off = sizeof(struct wf_event);
	if (!sb || !st)
		return off;
	u8 *buf = sb->data;
	struct wf_event *h = (struct wf_event *)buf;
	u32 n = st->n_ev;
	if (n > WF_MAX_EVIDENCE) {
		n = WF_MAX_EVIDENCE;
		h->flags |= WF_EVF_EVIDENCE_LOST;
	}
	for (u32 k = 0; k < WF_MAX_EVIDENCE; k++) {
		if (k >= n)
			break;
		off = copy_evidence_one(sb, st, off, k, ret);
	}
	st->n_ev = 0;
	return off;
}

/*
 * Appends the latest records of a per-task ring (n recorded, record k at k % max; pin: which ring, see copy_ring_one)
 * at off, in recording order, counting them in count and the ones no longer kept in dropped (the caller's sb, st, off).
 */
#define COPY_LATEST(n, max, pin, count, dropped) do {				\
	u32 first_ = (n) > (max) ? (n) - (max) : 0;				\
	u32 keep_ = (n) - first_;						\
	dropped = first_ > 0xffff ? 0xffff : first_;				\
	for (u32 k_ = 0; k_ < (max); k_++) {					\
		if (k_ >= keep_)						\
			break;							\
		off = copy_ring_one(sb, st, off, first_ + k_, pin);		\
		count++;							\
	}									\
} while (0)

/*
 * Record number idx of one of the task's rings (pin 0: origin records, 1: site hits) at off (below 4 KiB); returns the
 * offset after it. A global function: the verifier checks each copy once, not once per record of COPY_LATEST's loop
 * (origin records: 2.1k instructions processed inline; site hits: ~0.5k).
 */
__noinline u32 copy_ring_one(struct scratch_buf *sb, struct task_state *st, u32 off, u32 idx, u32 pin)
{
	if (!sb || !st)
		return off;
	u64 o = off;
	VERIFIER_MASK(o, 0xfff);
	if (pin) {
		*(struct wf_pin_rec *)(sb->data + o) = st->pin[idx & (WF_MAX_PIN - 1)];
		return o + sizeof(struct wf_pin_rec);
	}
	*(struct wf_origin_rec *)(sb->data + o) = st->orig[idx & (WF_MAX_ORIGIN - 1)];
	return o + sizeof(struct wf_origin_rec);
}

__noinline u32 copy_origins(struct scratch_buf *sb, struct task_state *st, u32 off)
{
	if (!sb || !st || !st->n_orig)
		return off;
	struct wf_event *h = (struct wf_event *)sb->data;
	COPY_LATEST(st->n_orig, WF_MAX_ORIGIN, 0, h->n_origin, h->origin_dropped);
	st->n_orig = 0;
	return off;
}

__noinline u32 copy_pins(struct scratch_buf *sb, struct task_state *st, u32 off)
{
	if (!sb || !st || !st->n_pin)
		return off;
	struct wf_event *h = (struct wf_event *)sb->data;
	COPY_LATEST(st->n_pin, WF_MAX_PIN, 1, h->n_pin, h->pin_dropped);
	st->n_pin = 0;
	return off;
}

/*
 * What the call gathered while it ran (evidence, origin records, site hits), after the header; returns the offset after
 * it. One call from on_sys_exit, made only when the task has some or the call ended in ERESTART* (note_pending_signal):
 * a repeated failure usually has none, and then pays no call (four before session 16, one before session 19).
 */
__noinline u32 copy_call_state(struct scratch_buf *sb, struct task_state *st, long ret)
{
	u32 off = sizeof(struct wf_event);
	if (!st)
		return off;
	if (ret >= -516 && ret <= -512)
		note_pending_signal(st, ret);
	if (!(st->n_ev | st->n_orig | st->n_pin))
		return off;
	off = copy_evidence(sb, st, ret);
	off = copy_origins(sb, st, off);
	return copy_pins(sb, st, off);
}

/*
 * Argument i (its spec's kind not NONE, its value not 0) at off; returns the new end. A global function: the verifier
 * checks it once, not once per argument of capture_args' loop (~0.55k instructions processed inline).
 */
__noinline u32 capture_arg(struct scratch_buf *sb, struct wf_capture_spec *spec, u32 off, u32 i)
{
	if (!sb || !spec || i >= 6)
		return off;
	struct wf_event *h = (struct wf_event *)sb->data;
	u32 kind = spec->kind[i];
	u64 val = h->args[i];
	if (kind == WF_CAP_STRV)
		return capture_strv(sb, off, i, val);
	u64 lenval = 0;
	u32 la = spec->len_arg[i];
	if (kind == WF_CAP_SIZED && la < 6)
		lenval = h->args[la];
	else if (kind == WF_CAP_SIZED_PTR && la < 6) {
		u32 l32 = 0;
		if (h->args[la])
			bpf_probe_read_user(&l32, sizeof(l32), (void *)h->args[la]);
		lenval = l32;
	}
	return capture_one(sb, off, i | kind << 8 | (u32)spec->size[i] << 16, val, lenval);
}

/* The user memory the syscall's arguments point at, as the capture spec of its number says; returns the new end. */
__noinline u32 capture_args(struct scratch_buf *sb, struct wf_capture_spec *spec, u32 off)
{
	if (!sb || !spec)
		return off;
	struct wf_event *h = (struct wf_event *)sb->data;
	for (u32 i = 0; i < 6; i++) {
		u32 kind = spec->kind[i];
		if (kind == WF_CAP_NONE || !h->args[i])
			continue;
		/* a string or a fixed-size object (openat's path, stat's buffer): straight to capture_one, one call less */
		if (kind == WF_CAP_STR || kind == WF_CAP_FIXED)
			off = capture_one(sb, off, i | kind << 8 | (u32)spec->size[i] << 16, h->args[i], 0);
		else
			off = capture_arg(sb, spec, off, i);
	}
	return off;
}

/*
 * The seccomp filters of a failing task in filter mode that it has not sent yet (task_state.seccomp_sent), newest
 * first along prev, each as WF_REC_SECCOMP records built in the scratch buffer (before the failure's own record is
 * assembled there) and sent before it: user space runs them on the failed call (bpf/whyfail.h). Until session 21 a
 * sys_enter program on every call of every task told "refused before it ran" by its absence; this costs nothing until
 * a task under filters fails, and then once per filter.
 */
struct seccomp_walk {
	u64 filter;            /* the filter being sent; 0: done */
	u64 stop;              /* the newest filter sent before: the walk ends there */
	u64 insns;             /* its instructions (kernel address) */
	u32 len;               /* its length; 0: no program kept */
	u32 next;              /* its next instruction to send */
	u32 started;           /* filter's program looked up */
	u32 lost;              /* a record could not be sent */
	u32 tgid;
	u32 tid;
};

static long seccomp_step(u64 k, void *ctx)
{
	struct seccomp_walk *w = ctx;
	if (!w->filter || w->filter == w->stop)
		return 1;
	struct seccomp_filter *f = (struct seccomp_filter *)w->filter;
	if (!w->started) {
		struct sock_fprog_kern *fp = BPF_CORE_READ(f, prog, orig_prog);
		w->len = fp ? BPF_CORE_READ(fp, len) : 0;
		w->insns = fp ? (u64)BPF_CORE_READ(fp, filter) : 0;
		w->next = 0;
		w->started = 1;
	}
	struct scratch_buf *sb = this_scratch();
	if (!sb)
		return 1;
	struct wf_seccomp_rec *r = (struct wf_seccomp_rec *)sb->data;
	u32 n = w->len > w->next ? w->len - w->next : 0;
	if (n > WF_SECCOMP_CHUNK)
		n = WF_SECCOMP_CHUNK;
	r->type = WF_REC_SECCOMP;
	r->filter = w->filter;
	r->prev = (u64)BPF_CORE_READ(f, prev);
	r->tgid = w->tgid;
	r->tid = w->tid;
	r->len = w->len;
	r->first = w->next;
	r->flags = (!w->insns ? WF_SECCOMP_NO_PROGRAM : 0) | (k == 0 ? WF_SECCOMP_NEWEST : 0);
	u64 bytes = (u64)n * 8;
	VERIFIER_MASK(bytes, 0x3fff);
	if (bytes > sizeof(r->insns))
		bytes = sizeof(r->insns);
	if (bytes && bpf_probe_read_kernel(r->insns, bytes, (void *)(w->insns + (u64)w->next * 8))) {
		r->flags |= WF_SECCOMP_UNREADABLE;
		bytes = 0;
		n = w->len - w->next; /* the rest of this program is as unreadable */
	}
	r->n = bytes / 8;
	u64 size = __builtin_offsetof(struct wf_seccomp_rec, insns) + bytes;
	VERIFIER_MASK(size, 0x3fff);
	r->size = size;
	if (size > sizeof(sb->data) || bpf_ringbuf_output(&events, r, size, BPF_RB_NO_WAKEUP)) {
		stat_inc(WF_STAT_LOST_EVENTS);
		w->lost = 1;
		return 1;
	}
	w->next += n;
	if (w->next >= w->len) {
		w->filter = r->prev;
		w->started = 0;
	}
	return 0;
}

__noinline int seccomp_snapshot(struct task_state *st, u32 tgid, u32 tid)
{
	if (!st)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	u64 head = (u64)BPF_CORE_READ(task, seccomp.filter);
	if (!head || head == st->seccomp_sent)
		return 0;
	struct seccomp_walk w = { .filter = head, .stop = st->seccomp_sent, .tgid = tgid, .tid = tid };
	bpf_loop(WF_SECCOMP_STEPS, seccomp_step, &w, 0);
	/* every record out and the walk at its end: later failures name filters user space has */
	if (!w.lost && (!w.filter || w.filter == w.stop))
		st->seccomp_sent = head;
	return 0;
}

/*
 * The few calls whose arguments the kernel writes back (their capture spec's entry_size) get an entry copy: a
 * syscalls:sys_enter_NAME tracepoint of their own (attached by user space for those calls only), so that no other call
 * pays for an entry program. The perf tracepoint's record: a pointer, the syscall number, the call's arguments. The
 * kernel refuses (EACCES) to attach a program whose loads from the record reach beyond the call's own arguments
 * (capget has two), so the arguments are read with a helper: the record is the kernel's six-argument stack copy.
 * (The raw sys_enter program that did this until session 21 cost every call on the machine 0.06-0.09x of a getppid;
 * the perf events' slow close, ~50 ms each, is left to the small launcher after whyfail has exited: LinkReaper.)
 */
struct wf_sys_enter_tp {
	u64 regs;
	int nr;
	int pad;
	u64 args[6];
};

SEC("tracepoint")
int on_sys_enter_call(struct wf_sys_enter_tp *ctx)
{
	u32 nr = ctx->nr;
	u64 a[6] = {};
	if (nr >= WF_MAX_SYSCALLS || bpf_probe_read_kernel(a, sizeof(a), (void *)ctx + __builtin_offsetof(struct wf_sys_enter_tp, args)))
		return 0;
	entry_copy(nr, a[0], a[1], a[2], a[4]); /* in/out arguments: bpf/copy_nested.h */
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	/* loaded before any branch: on 6.1 (no cast) the verifier looks this load up once, not once per path */
	struct task_struct *ut = untrusted_task(task);
	const struct cred *cred = ut->cred;
	const void *storage = ut->bpf_storage;
	asm volatile("" ::: "memory");
	/*
	 * A task no BPF program ever gave local storage has none of whyfail's either: bpf_task_storage_get() would read
	 * this pointer first and return 0. One load instead of a helper call on every other task's system calls (not
	 * shown at the load it was measured at: bench/README "The kernel's cost per call, session 19").
	 */
	if (!storage && !cfg.trace_all)
		return 0;
	struct task_state *st = state_of(task, false);

	if (cfg.trace_all) {
		if (is_self(task))
			return 0;
	} else if (!st || !(st->flags & WF_TRACED)) {
		/* the command's own exec failing (forked by the armed launcher, not yet traced) */
		if (!st || !(st->flags & WF_EXEC_CHILD) || ret >= 0 ||
		    (regs->orig_ax != WF_NR_EXECVE && regs->orig_ax != WF_NR_EXECVEAT))
			return 0;
	}
	/*
	 * orig_ax is -1 at the exit of rt_sigreturn (it restores the interrupted call's registers,
	 * so "ret" is that call's user-visible result, already reported at its own exit) and of
	 * calls skipped by seccomp or ptrace. Not a syscall failure of its own.
	 */
	if ((u64)regs->orig_ax >= WF_MAX_SYSCALLS) {
		reset_call_state(st);
		return 0;
	}
	u32 success = 0;
	if (ret >= 0) {
		u32 snr = (u32)regs->orig_ax;
		if (st && (snr == cfg.nr_write || snr == cfg.nr_writev || snr == cfg.nr_pwrite64) && ret > 0) {
			u64 fd = regs->di;
			if ((fd == 2 && !cfg.trace_all) || ((fd == 1 || fd == 2) && st->msg_budget) ||
			    (fd > 2 && st->msg_budget && fd_is_tty(task, fd))) {
				if (st->msg_budget)
					st->msg_budget--;
				message_capture(snr, fd, regs->si, regs->dx, ret);
			}
		}
		/* the call only when it can say something: getsockopt, or follow-ups left after a failure (the test on a
		 * number derived from snr, not on snr: the verifier's paths after it stay one) */
		u32 not_gso = snr ^ cfg.nr_getsockopt;
		if (!not_gso || (st && st->followups))
			success = success_flags(st, snr, regs->si, regs->dx, regs->r10);
		if (!success && !cfg.report_success) {
			reset_call_state(st);
			return 0;
		}
	}
	if (filtered_out((u32)regs->orig_ax, ret)) {
		reset_call_state(st);
		return 0;
	}
	if (ret < 0) {
		/* what the task does next decides whether this failure mattered (the verdict) */
		if (!st && cfg.trace_all)
			st = state_of(task, true);
		if (st) {
			st->followups = WF_FOLLOWUPS;
			st->msg_budget = WF_MESSAGE_BUDGET;
			/* seccomp filter mode: the filters' programs, before the failure that names them (part of the context:
			 * not where nothing reads it, nor where kernel reads are refused) */
			if (task->seccomp.mode == 2 && !cfg.context_off)
				seccomp_snapshot(st, task->tgid, task->pid);
		}
	}

	u32 zero = 0;
	struct scratch_buf *sb = bpf_map_lookup_elem(&scratch, &zero);
	if (!sb)
		return 0;
	u8 *buf = sb->data;
	struct wf_event *h = (struct wf_event *)buf;

	/* the task as a number for the global functions below, which make it a typed pointer again with the cast
	 * (current_task_of): no bpf_get_current_task_btf() call of their own (written to the scratch and read back:
	 * the verifier then holds a number; ts_ns is set just below) */
	u64 task_addr = 0;
	if (cfg.task_btf_id) {
		*(volatile u64 *)&h->ts_ns = (u64)task;
		task_addr = *(volatile u64 *)&h->ts_ns;
	}
	u32 nr = (u32)regs->orig_ax;
	h->type = WF_REC_SYSCALL;
	h->n_blobs = 0;
	h->n_evidence = 0;
	h->flags = success;
	h->nr = nr;
	h->ts_ns = bpf_ktime_get_ns();
	h->n_origin = 0;
	h->origin_dropped = 0;
	h->n_pin = 0;
	h->pin_dropped = 0;
	h->ret = ret;
	h->args[0] = regs->di;
	h->args[1] = regs->si;
	h->args[2] = regs->dx;
	h->args[3] = regs->r10;
	h->args[4] = regs->r8;
	h->args[5] = regs->r9;
	h->tgid = task->tgid;  /* what bpf_get_current_pid_tgid() returns, without the call */
	h->tid = task->pid;
	h->uid = cred->uid.val;
	h->euid = cred->euid.val;
	h->gid = cred->gid.val;
	h->egid = cred->egid.val;
	/* what bpf_get_current_comm() copies, without the call: the kernel keeps comm NUL-padded (strscpy_pad); two
	 * 8-byte loads (the verifier allows any load inside a char array; a byte at a time was 16 loads and 16 stores) */
	const u64 *comm = (const u64 *)__builtin_preserve_access_index(&task->comm[0]);
	_Static_assert(sizeof(h->comm) == 16, "comm: two words");
	*(u64 *)&h->comm[0] = comm[0];
	*(u64 *)&h->comm[8] = comm[1];
	/* what bpf_get_current_cgroup_id() returns (task_dfl_cgroup(current)->kn->id): three loads through the task
	 * already at hand, no call (with the cast, untrusted: no BTF searches by the verifier; 6.1 has none) */
	h->cgroup_id = ut->cgroups->dfl_cgrp->kn->id;

	/* what the call gathered while it ran: the call only when there is some (a repeated failure has none) */
	u32 off = sizeof(struct wf_event);
	/* ERESTART* (-516..-512: note_pending_signal) without a branch on ret (a test of ret's range would split the
	 * verifier's paths below). Also 1 below -516 (kernel-internal codes such as ENOTSUPP, rare): copy_call_state
	 * then tests the range itself. */
	u64 restart = ((u64)(ret + 516) - 5) >> 63;
	if (st && ((st->n_ev | st->n_orig | st->n_pin) | restart))
		off = copy_call_state(sb, st, ret);
	struct wf_capture_spec *spec = bpf_map_lookup_elem(&capture, &nr);
	if (ret < 0 && !cfg.context_off) {
		u64 o = off;
		VERIFIER_MASK(o, 0xfff);
		off = capture_context(sb, o, (spec ? spec->fd_args : 0) << 16, st, task_addr);
	}
	u32 blobs_at = off;
	off = capture_args(sb, spec, off);
	if (spec && (spec->entry_size || spec->nested_arg < 6))  /* the call only for the few specs with either */
		off = capture_nested(sb, blobs_at, off, nr);

	/* Blobs end before WF_SCRATCH (see blob_room); the mask proves it to the verifier. */
	u64 len = off;
	VERIFIER_MASK(len, 0x3fff);
	h->size = len;
	if (bpf_ringbuf_output(&events, buf, len, wake_flag(h->ts_ns))) {
		stat_inc(WF_STAT_LOST_EVENTS);
		if (st)
			st->next_seq = 0; /* lost: the key stays the last context user space has */
	} else {
		stat_inc(success == WF_EVF_FOLLOWUP && !cfg.report_success ? WF_STAT_FOLLOWUPS : WF_STAT_REPORTED);
		if (st && st->next_seq)
			keep_context_key(sb, st, h->tid);
	}
	return 0;
}

/* ---- io_uring completions with an error (issue 14: errors delivered as data) ------------------ */

__noinline int wf_btf_anchor_uring(struct wf_uring_rec *u, struct wf_seccomp_rec *sc)
{
	return u && sc;
}

/* A request a traced task submitted, until it completes (the completion may run in an io worker). */
struct uring_req {
	u32 tgid;
	u32 tid;
	u32 opcode;
	u32 pad;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, u64);               /* struct io_kiocb * */
	__type(value, struct uring_req);
} uring_reqs SEC(".maps");

static __always_inline void uring_submitted(struct io_kiocb *req)
{
	struct task_struct *task = bpf_get_current_task_btf();
	if (cfg.trace_all) {
		if (is_self(task))
			return;
	} else {
		struct task_state *st = state_of(task, false);
		if (!st || !(st->flags & WF_TRACED))
			return;
	}
	struct uring_req v = {};
	u64 pt = bpf_get_current_pid_tgid();
	v.tgid = pt >> 32;
	v.tid = (u32)pt;
	v.opcode = req->opcode;
	bpf_get_current_comm(v.comm, sizeof(v.comm));
	u64 key = (u64)req;
	bpf_map_update_elem(&uring_reqs, &key, &v, BPF_ANY);
}

/* 6.3 and later */
SEC("tp_btf/io_uring_submit_req")
int BPF_PROG(on_uring_submit_req, struct io_kiocb *req)
{
	uring_submitted(req);
	return 0;
}

/* before 6.3 */
SEC("tp_btf/io_uring_submit_sqe")
int BPF_PROG(on_uring_submit_sqe, struct io_kiocb *req, bool force_nonblock)
{
	uring_submitted(req);
	return 0;
}

static __always_inline void uring_completed(u64 req, u64 user_data, s32 res)
{
	struct uring_req *r = bpf_map_lookup_elem(&uring_reqs, &req);
	if (!r)
		return;
	if (res < 0 && res > -4096) {
		struct wf_uring_rec *u = bpf_ringbuf_reserve(&events, sizeof(*u), 0);
		if (u) {
			u->type = WF_REC_URING;
			u->opcode = r->opcode;
			u->size = sizeof(*u);
			u->ts_ns = bpf_ktime_get_ns();
			u->tgid = r->tgid;
			u->tid = r->tid;
			u->user_data = user_data;
			u->res = res;
			u->pad = 0;
			__builtin_memcpy(u->comm, r->comm, sizeof(u->comm));
			bpf_ringbuf_submit(u, 0);
		} else
			stat_inc(WF_STAT_LOST_EVENTS);
	}
	bpf_map_delete_elem(&uring_reqs, &req);
}

/* 6.1 … 6.12: user_data and res are arguments */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(on_uring_complete_args, void *ring, void *req, u64 user_data, int res, unsigned cflags, u64 extra1, u64 extra2)
{
	uring_completed((u64)req, user_data, res);
	return 0;
}

/* later kernels: the CQE */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(on_uring_complete_cqe, void *ring, void *req, struct io_uring_cqe *cqe)
{
	uring_completed((u64)req, cqe->user_data, cqe->res);
	return 0;
}
