/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The value of the `tasks` task-storage map, shared by whyfail.bpf.c (which owns the map) and
 * probe.bpf.c (which reuses the same map by descriptor to see which tasks are traced): both must
 * declare the same value size, so the map itself is declared here too.
 */
#ifndef WHYFAIL_TASK_STATE_H
#define WHYFAIL_TASK_STATE_H
#include "whyfail.h"

/* Per-task state: the traced flag and evidence gathered during the current syscall. */
struct task_state {
	u32 flags;
	u32 n_ev;
	struct wf_evidence ev[WF_MAX_EVIDENCE];
	u32 n_orig;            /* error returns recorded during the current syscall (may exceed the ring) */
	u32 pad;
	struct wf_origin_rec orig[WF_MAX_ORIGIN]; /* ring: record k lives at k % WF_MAX_ORIGIN */
	u32 n_pin;             /* error-site kprobe hits during the current syscall (may exceed the ring) */
	u32 pad2;
	struct wf_pin_rec pin[WF_MAX_PIN]; /* ring: hit k lives at k % WF_MAX_PIN */
	u32 followups;         /* successes still to report after the latest failure (WF_FOLLOWUPS) */
	u32 msg_budget;        /* writes to standard output still to report after the latest failure */
	/*
	 * "Same context as before" (WF_EVF_CONTEXT_SAME): the key of the task's last base context that is in the ring
	 * buffer. Set only after bpf_ringbuf_output succeeded, so user space has every context a later wf_ctx_ref names.
	 */
	u32 ctx_seq;           /* its seq; 0: none yet */
	u32 ctx_tid;           /* the thread id it went out under (an exec from another thread takes the leader's) */
	u64 ctx_cwd;           /* path_sig() of the cwd and of the root then */
	u64 ctx_root;
	u8 ctx_hdr[sizeof(struct wf_context)]; /* its wf_context with size and seq 0 */
	/* the call being reported: a base context at scratch offset next_off, made the key once the record is out */
	u32 next_seq;          /* 0: none */
	u32 next_off;
	u64 next_cwd;
	u64 next_root;
	u64 seccomp_sent;      /* the newest seccomp filter whose program this task sent (WF_REC_SECCOMP); 0: none */
};

/* The traced tasks: whyfail.bpf.c owns the map; probe.bpf.c's copy is replaced by it (bpf_map__reuse_fd) before
 * loading, so both objects declare it alike from here. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, 1 /* BPF_F_NO_PREALLOC */);
	__type(key, int);
	__type(value, struct task_state);
} tasks SEC(".maps");

#endif
