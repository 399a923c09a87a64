/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Second-level user memory (issue 19): a pointer and a length found inside a structure an argument
 * already copied (msghdr's msg_control and msg_controllen, io_uring_rsrc_register's data and tags
 * with nr), copied as blobs of their own (WF_CAP_NESTED, wf_blob.index = the nested entry k).
 *
 * Included by whyfail.bpf.c after capture_one(). A global (__noinline) function: the verifier checks
 * it once, on its own; sys_exit calls it once, after the arguments' blobs, with the offset where those
 * blobs start.
 */
#ifndef WHYFAIL_COPY_NESTED_H
#define WHYFAIL_COPY_NESTED_H

#define NESTED_WALK 16  /* blobs looked at for the source argument's (6 arguments + STRV_MAX strings fit) */

/*
 * The blob of argument arg among the blobs between from and end (a readable FIXED or SIZED capture), as an offset into
 * the scratch buffer; 0 when there is none. One blob per bpf_loop step, so that the verifier checks the step once (the
 * counted loop inline was walked 16 times over: ~1.6k of on_sys_exit's instructions processed, bench/README "The load,
 * the maps and the links, session 17"). The state lives in the caller's stack; the step finds the scratch buffer
 * itself (an inlined per-CPU array lookup), as strv_step does.
 */
struct nested_walk {
	u32 p;                 /* the next blob */
	u32 end;
	u32 arg;
	u32 found;             /* the source blob's offset; 0: none (yet) */
};

static long nested_step(u64 k, void *ctx)
{
	struct nested_walk *w = ctx;
	struct scratch_buf *sb = this_scratch();
	if (!sb)
		return 1;
	if (w->p + sizeof(struct wf_blob) > w->end)
		return 1;
	u64 o = w->p;
	VERIFIER_MASK(o, 0x3fff);
	struct wf_blob *b = (struct wf_blob *)(sb->data + o);
	u32 kind = b->kind & ~WF_BLOB_FAULTED;
	u32 len = b->len == 0xffff ? 0 : b->len;
	if (b->arg == w->arg && b->len != 0xffff && (kind == WF_CAP_FIXED || kind == WF_CAP_SIZED)) {
		w->found = o;
		return 1;
	}
	w->p = o + ((sizeof(*b) + len + 7) & ~7u);
	return 0;
}

static __always_inline u32 nested_source(u32 from, u32 end, u32 arg)
{
	struct nested_walk w = { .p = from, .end = end, .arg = arg, .found = 0 };
	bpf_loop(NESTED_WALK, nested_step, &w, 0);
	return w.found;
}

/* A u64 or u32 (size 4) at byte at of the source blob's data, which holds len bytes; 0 when outside. */
static __always_inline u64 nested_field(struct scratch_buf *sb, u64 src, u32 len, u32 at, u32 size)
{
	if (at + size > len)
		return 0;
	u64 i = src + sizeof(struct wf_blob) + (at & 0xff);
	VERIFIER_MASK(i, 0x7fff);
	if (i + 8 > sizeof(sb->data))
		return 0;
	u64 v = 0;
	__builtin_memcpy(&v, sb->data + i, 8);
	return size == 4 ? (u32)v : v;
}

/*
 * In/out arguments (issue 19.2): for the few calls whose structure the kernel writes back (their capture spec's entry_size),
 * the first bytes of argument entry_arg as the program passed them, copied at sys_enter for traced tasks and
 * kept per task until that call's sys_exit, where they become a WF_CAP_ENTRY blob.
 */
struct entry_copy {
	u32 nr;                 /* syscall number + 1 of the call the bytes belong to; 0: none */
	u32 len;                /* bytes read; 0xffff: unreadable */
	u8  data[WF_ENTRY_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, 1 /* BPF_F_NO_PREALLOC */);
	__type(key, int);
	__type(value, struct entry_copy);
} entry_copies SEC(".maps");

/* sys_enter of a call with an entry copy (on_sys_enter_call, on its own tracepoint): a0, a1, a2, a4 are the arguments an entry copy may take its pointer from. */
__noinline int entry_copy(u32 nr, u64 a0, u64 a1, u64 a2, u64 a4)
{
	struct task_struct *task = bpf_get_current_task_btf();
	if (cfg.trace_all) {
		if (is_self(task))
			return 0;
	} else {
		struct task_state *st = state_of(task, false);
		if (!st || !(st->flags & WF_TRACED))
			return 0;
	}
	struct wf_capture_spec *spec = bpf_map_lookup_elem(&capture, &nr);
	if (!spec || !spec->entry_size)
		return 0;
	u32 a = spec->entry_arg;
	u64 ptr = a == 0 ? a0 : a == 1 ? a1 : a == 2 ? a2 : a == 4 ? a4 : 0;
	if (!ptr)
		return 0;
	struct entry_copy *e = bpf_task_storage_get(&entry_copies, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!e)
		return 0;
	u64 n = spec->entry_size;
	VERIFIER_MASK(n, 0x1f);
	if (n > WF_ENTRY_MAX)
		n = WF_ENTRY_MAX;
	if (n == 0)
		return 0;
	e->len = bpf_probe_read_user(e->data, n, (void *)ptr) ? 0xffff : n;
	e->nr = nr + 1;
	return 0;
}

/* At sys_exit: the entry copy of this call (if any) as a blob at off; returns the new end. */
static __always_inline u32 entry_blob(struct scratch_buf *sb, u32 off, u32 nr, u32 arg)
{
	struct wf_event *h = (struct wf_event *)sb->data;
	struct entry_copy *e = bpf_task_storage_get(&entry_copies, bpf_get_current_task_btf(), 0, 0);
	if (!e || e->nr != nr + 1)
		return off;
	e->nr = 0;
	if (!blob_room(off)) {
		h->flags |= WF_EVF_BLOB_TRUNCATED;
		return off;
	}
	u64 o = off;
	VERIFIER_MASK(o, 0x3fff);
	struct wf_blob *b = (struct wf_blob *)(sb->data + o);
	u32 n = e->len > WF_ENTRY_MAX ? 0 : e->len;
	b->arg = arg;
	b->kind = WF_CAP_ENTRY;
	b->index = 0;
	b->full_len = n;
	b->len = e->len > WF_ENTRY_MAX ? 0xffff : n;
	__builtin_memcpy(sb->data + o + sizeof(*b), e->data, WF_ENTRY_MAX);
	h->n_blobs++;
	return o + ((sizeof(*b) + n + 7) & ~7u);
}

/*
 * Nested entry k of syscall nr's spec, whose source blob (holding len bytes) is at src: copied as a blob at off.
 * Returns the new end. A global function: the verifier checks it once, not once per entry of capture_nested's loop
 * (7.6k instructions processed when the body was inline).
 */
__noinline int capture_nested_one(struct scratch_buf *sb, u32 src, u32 off, u32 nr, u32 k)
{
	if (!sb)
		return off;
	struct wf_capture_spec *spec = bpf_map_lookup_elem(&capture, &nr);
	if (!spec)
		return off;
	k &= WF_MAX_NESTED - 1;
	u32 cap = spec->nested_size[k];
	if (!cap)
		return off;
	u64 s = src & 0x3fff;
	struct wf_blob *sb_blob = (struct wf_blob *)(sb->data + s);
	u32 len = sb_blob->len;
	u64 ptr = nested_field(sb, s, len, spec->nested_ptr[k], 8);
	u64 n = nested_field(sb, s, len, spec->nested_len[k], spec->nested_len_size[k] == 4 ? 4 : 8);
	if (!ptr || !n)
		return off;
	if (n > 0x10000)
		n = 0x10000;
	n *= spec->nested_elem[k] ? spec->nested_elem[k] : 1;
	u32 end = capture_one(sb, off, spec->nested_arg | WF_CAP_NESTED << 8 | cap << 16, ptr, n);
	if (end != off) {
		struct wf_blob *b = (struct wf_blob *)(sb->data + (off & 0x3fff));
		b->index = k;
	}
	return end;
}

/*
 * Copies the nested entries of syscall nr's capture spec, and its entry copy; blobs start at from, end at off.
 * Returns the new end.
 */
__noinline int capture_nested(struct scratch_buf *sb, u32 from, u32 off, u32 nr)
{
	if (!sb)
		return off;
	struct wf_capture_spec *spec = bpf_map_lookup_elem(&capture, &nr);
	if (!spec)
		return off;
	if (spec->entry_size)
		off = entry_blob(sb, off, nr, spec->entry_arg);
	if (spec->nested_arg >= 6)
		return off;
	u32 src = nested_source(from, off, spec->nested_arg);
	if (!src)
		return off;
	for (u32 k = 0; k < WF_MAX_NESTED; k++)
		off = capture_nested_one(sb, src, off, nr, k);
	return off;
}

#endif
