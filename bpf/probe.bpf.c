// SPDX-License-Identifier: GPL-2.0
/*
 * `whyfail probe FUNCTION`: every call of a few kernel functions by the traced tasks, with their
 * arguments at entry, the source lines they executed (one kprobe per line address, set by user space
 * from the function's DWARF line table) with the registers and the stack at each, and the return
 * value. Everything is streamed to user space, which keeps it per call and prints it only when the
 * --when condition holds at the return (speculative tracing).
 *
 * Which tasks are traced is the `tasks` task-storage map of whyfail.bpf.c, reused by descriptor
 * (same declaration: task_state.h), so children, exec and -p work as in any whyfail session.
 * kprobes rather than fentry: the entry's stack pointer gives the frame's CFA (DWARF's frame base),
 * one program serves any number of functions (bpf cookie = index), and the line probes need kprobes anyway.
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "task_state.h"
#include "probe.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} probe_events SEC(".maps");

/* Threads inside a probed call: tid -> depth. Lines count only inside one. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, u32);
	__type(value, u32);
} probe_active SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WF_PROBE_MAX_FUNCS);
	__type(key, u32);
	__type(value, struct wf_probe_fn);
} probe_fns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WF_PROBE_MAX_LINES);
	__type(key, u32);
	__type(value, struct wf_probe_reads);
} probe_reads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WF_PROBE_STAT_MAX);
	__type(key, u32);
	__type(value, u64);
} probe_stats SEC(".maps");

__noinline int wf_probe_anchor(struct wf_probe_event *e, struct wf_probe_fn *f, struct wf_probe_reads *r)
{
	return e && f && r;
}

static __always_inline bool traced(void)
{
	struct task_state *st = bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), 0, 0);
	return st && (st->flags & WF_TRACED);
}

static __always_inline struct wf_probe_event *start(u32 kind, u32 index, struct pt_regs *r)
{
	struct wf_probe_event *e = bpf_ringbuf_reserve(&probe_events, sizeof(*e), 0);
	if (!e) {
		u32 k = WF_PROBE_STAT_LOST;
		u64 *v = bpf_map_lookup_elem(&probe_stats, &k);
		if (v)
			(*v)++;
		return 0;
	}
	u64 id = bpf_get_current_pid_tgid();
	e->kind = kind;
	e->index = index;
	e->pid = id >> 32;
	e->tid = (u32)id;
	e->time = bpf_ktime_get_ns();
	e->ret = 0;
	e->data_len = 0;
	e->read_ok = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	/* DWARF x86_64 numbering */
	e->regs[0] = r->ax;  e->regs[1] = r->dx;  e->regs[2] = r->cx;  e->regs[3] = r->bx;
	e->regs[4] = r->si;  e->regs[5] = r->di;  e->regs[6] = r->bp;  e->regs[7] = r->sp;
	e->regs[8] = r->r8;  e->regs[9] = r->r9;  e->regs[10] = r->r10; e->regs[11] = r->r11;
	e->regs[12] = r->r12; e->regs[13] = r->r13; e->regs[14] = r->r14; e->regs[15] = r->r15;
	e->regs[16] = r->ip;
	return e;
}

SEC("kprobe")
int probe_entry(struct pt_regs *ctx)
{
	if (!traced())
		return 0;
	u32 tid = (u32)bpf_get_current_pid_tgid();
	u32 one = 1, *depth = bpf_map_lookup_elem(&probe_active, &tid);
	if (depth)
		(*depth)++;
	else
		bpf_map_update_elem(&probe_active, &tid, &one, BPF_ANY);
	u32 index = (u32)bpf_get_attach_cookie(ctx);
	struct wf_probe_event *e = start(WF_PROBE_ENTRY, index, ctx);
	if (!e)
		return 0;
	struct wf_probe_fn *fn = bpf_map_lookup_elem(&probe_fns, &index);
	if (fn) {
		u64 args[WF_PROBE_NARGS] = { ctx->di, ctx->si, ctx->dx, ctx->cx, ctx->r8, ctx->r9 };
		for (int i = 0; i < WF_PROBE_NARGS; i++) {
			void *dst = e->data + i * WF_PROBE_ARG_BYTES;
			long n = -1;
			if (fn->kinds[i] == WF_PROBE_ARG_KERNEL)
				n = bpf_probe_read_kernel(dst, WF_PROBE_ARG_BYTES, (void *)args[i]);
			else if (fn->kinds[i] == WF_PROBE_ARG_STRING) {
				n = bpf_probe_read_kernel_str(dst, WF_PROBE_ARG_BYTES, (void *)args[i]);
				if (n < 0)
					n = bpf_probe_read_user_str(dst, WF_PROBE_ARG_BYTES, (void *)args[i]);
			}
			if (n >= 0)
				e->read_ok |= 1u << i;
		}
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("kretprobe")
int probe_exit(struct pt_regs *ctx)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	u32 *depth = bpf_map_lookup_elem(&probe_active, &tid);
	if (!depth)
		return 0; /* entered before the probes, or not traced */
	if (*depth <= 1)
		bpf_map_delete_elem(&probe_active, &tid);
	else
		(*depth)--;
	struct wf_probe_event *e = start(WF_PROBE_EXIT, (u32)bpf_get_attach_cookie(ctx), ctx);
	if (!e)
		return 0;
	e->ret = ctx->ax;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("kprobe")
int probe_line(struct pt_regs *ctx)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	if (!bpf_map_lookup_elem(&probe_active, &tid))
		return 0;
	struct wf_probe_event *e = start(WF_PROBE_LINE, (u32)bpf_get_attach_cookie(ctx), ctx);
	if (!e)
		return 0;
	u64 sp = ctx->sp;
	u32 len = 0;
	for (int i = 0; i < WF_PROBE_STACK / WF_PROBE_CHUNK; i++) {
		if (bpf_probe_read_kernel(e->data + i * WF_PROBE_CHUNK, WF_PROBE_CHUNK, (void *)(sp + i * WF_PROBE_CHUNK)) < 0)
			break;
		len += WF_PROBE_CHUNK;
	}
	e->data_len = len;
	u32 index = e->index;
	struct wf_probe_reads *rd = bpf_map_lookup_elem(&probe_reads, &index);
	if (rd) {
		for (int i = 0; i < WF_PROBE_READS; i++) {
			if (i >= rd->n)
				break;
			u32 reg = rd->reg[i], size = rd->size[i];
			if (reg >= WF_PROBE_NREGS || size == 0 || size > 8)
				continue;
			u64 v = 0;
			if (bpf_probe_read_kernel(&v, size, (void *)(e->regs[reg] + rd->off[i])) == 0)
				e->read_ok |= 1u << i;
			*(u64 *)(e->data + WF_PROBE_READS_AT + i * 8) = v;
		}
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}
