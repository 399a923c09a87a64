// SPDX-License-Identifier: GPL-2.0
/*
 * `whyfail deny`: BPF LSM programs that refuse operations matching the user's rules, system-wide,
 * while whyfail runs. Each refusal is counted per rule and written to a ring buffer before the refused
 * call returns, so that whyfail can pair it with the call's sys_exit event from its own trace.
 *
 * Loaded only for the hooks the rules need; attached with links whyfail holds (never pinned), so the
 * kernel detaches everything when whyfail exits, however it exits.
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "deny.h"

char LICENSE[] SEC("license") = "GPL";

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
struct linux_binprm {
	struct file *file;
};
struct sockaddr {
	unsigned short sa_family;
};
struct socket;
#pragma clang attribute pop

#define AF_INET  2
#define AF_INET6 10

const volatile struct wfd_config dcfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WFD_MAX_RULES);
	__type(key, u32);
	__type(value, struct wfd_rule);
} rules SEC(".maps");

/* Refusals per rule, then those the ring buffer had no room for (WFD_COUNT_LOST). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WFD_MAX_RULES + 1);
	__type(key, u32);
	__type(value, u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 << 10);
} refusals SEC(".maps");

/* The name or path being checked (too large for the BPF stack). */
struct wfd_path {
	char s[WFD_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct wfd_path);
} scratch SEC(".maps");

/* Keeps the contract's structs in BTF (gen-bpf-contract reads them from there). */
__noinline int wfd_btf_anchor(struct wfd_event *e, struct wfd_rule *r, struct wfd_config *c)
{
	return e && r && c;
}

/*
 * The glob automaton (struct wfd_glob in deny.h) over the first len bytes of p. A global function:
 * the verifier checks it once, whatever the number of rules and hooks calling it.
 */
__noinline int wfd_glob_match(const struct wfd_glob *g, const struct wfd_path *p, u32 len)
{
	if (!g || !p)
		return 0;
	u64 d = g->start;
	u64 eps = g->star | g->globstar;
	for (u32 i = 0; i < WFD_PATH_MAX; i++) {
		if (i >= len)
			break;
		u8 c = p->s[i];
		u64 loop = g->globstar | (c != '/' ? g->star : 0);
		d = ((d << 1) & g->accept[c]) | (d & loop);
		d |= (d & g->jump) << 2;
		d |= (d << 1) & eps;
		if (!d)
			return 0;
	}
	return (d & g->final) != 0;
}

/*
 * An LSM program returns 0 or a negative errno, and the 6.12 verifier wants the range proven at exit. In C
 * the compiler drops the clamp or makes it branchless ((r >> 63) & r), which the verifier cannot bound: the
 * two comparisons are written as instructions.
 */
static __always_inline int lsm_ret(long ret)
{
	long r = ret;
	asm volatile("if %[r] s<= 0 goto +1;"
		     "%[r] = 0;"
		     "if %[r] s>= -4095 goto +1;"
		     "%[r] = -4095;"
		     : [r] "+r"(r));
	return r;
}

static __always_inline bool rule_applies(const struct wfd_rule *r, u32 euid, const char *comm)
{
	if (r->users_mode != WFD_USERS_ANY) {
		bool listed = false;
		for (int k = 0; k < WFD_MAX_USERS; k++)
			if (k < r->n_users && r->users[k] == euid)
				listed = true;
		if (listed != (r->users_mode == WFD_USERS_ONLY))
			return false;
	}
	if (r->comm_len) {
		for (int k = 0; k < WFD_COMM_LEN; k++) {
			if (comm[k] != r->comm[k])
				return false;
			if (!comm[k])
				break;
		}
	}
	return true;
}

static __always_inline void count(u32 idx)
{
	u64 *n = bpf_map_lookup_elem(&counts, &idx);
	if (n)
		__sync_fetch_and_add(n, 1);
}

/*
 * The first rule of kind `what` that applies to the current task and matches (the path in p, or the
 * port): counted, reported, and its errno returned (negative). 0 when none does.
 */
static __always_inline int decide(u32 what, u32 hook, const struct wfd_path *p, u32 len, u32 port)
{
	u64 id = bpf_get_current_pid_tgid();
	if ((u32)(id >> 32) == dcfg.self_tgid)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	u32 euid = task->cred->euid.val;
	char comm[WFD_COMM_LEN];
	bpf_get_current_comm(comm, sizeof(comm));

	for (u32 i = 0; i < WFD_MAX_RULES; i++) {
		if (i >= dcfg.n_rules)
			break;
		u32 key = i;
		struct wfd_rule *r = bpf_map_lookup_elem(&rules, &key);
		if (!r || r->what != what || !rule_applies(r, euid, comm))
			continue;
		if (what == WFD_WHAT_BIND ? r->port != port : !wfd_glob_match(&r->glob, p, len))
			continue;

		s32 err = r->err;
		if (err < 1 || err > 4095)
			err = 13; /* EACCES */
		count(i);
		struct wfd_event *e = bpf_ringbuf_reserve(&refusals, sizeof(*e), 0);
		if (!e) {
			count(WFD_COUNT_LOST);
			return -err;
		}
		e->ts_ns = bpf_ktime_get_ns();
		e->pid = id >> 32;
		e->tid = (u32)id;
		e->euid = euid;
		e->rule = i;
		e->err = err;
		e->hook = hook;
		e->port = port;
		e->len = p && len < WFD_PATH_MAX ? len : 0;
		__builtin_memcpy(e->comm, comm, sizeof(comm));
		if (p)
			__builtin_memcpy(e->text, p->s, sizeof(e->text));
		bpf_ringbuf_submit(e, 0);
		return -err;
	}
	return 0;
}

static __always_inline struct wfd_path *scratch_path(void)
{
	u32 zero = 0;
	return bpf_map_lookup_elem(&scratch, &zero);
}

/* create=: the last component of a new name. */
static __always_inline int decide_name(u32 hook, struct dentry *dentry)
{
	struct wfd_path *p = scratch_path();
	if (!p)
		return 0;
	const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
	long n = bpf_probe_read_kernel_str(p->s, sizeof(p->s), name);
	if (n <= 0)
		return 0;
	return decide(WFD_WHAT_CREATE, hook, p, (u32)(n - 1), 0);
}

/* open= and exec=: the absolute path of a file. */
static __always_inline int decide_path(u32 what, u32 hook, struct path *path)
{
	struct wfd_path *p = scratch_path();
	if (!p)
		return 0;
	long n = bpf_d_path(path, p->s, sizeof(p->s));
	if (n <= 0)
		return 0; /* -ENAMETOOLONG: longer than WFD_PATH_MAX, matches no rule */
	return decide(what, hook, p, (u32)(n - 1), 0);
}

SEC("lsm/inode_create")
int BPF_PROG(deny_inode_create, struct inode *dir, struct dentry *dentry, unsigned short mode, int ret)
{
	if (ret)
		return lsm_ret(ret);
	return lsm_ret(decide_name(WFD_HOOK_INODE_CREATE, dentry));
}

SEC("lsm/inode_mkdir")
int BPF_PROG(deny_inode_mkdir, struct inode *dir, struct dentry *dentry, unsigned short mode, int ret)
{
	if (ret)
		return lsm_ret(ret);
	return lsm_ret(decide_name(WFD_HOOK_INODE_MKDIR, dentry));
}

SEC("lsm/inode_mknod")
int BPF_PROG(deny_inode_mknod, struct inode *dir, struct dentry *dentry, unsigned short mode, unsigned int dev, int ret)
{
	if (ret)
		return lsm_ret(ret);
	return lsm_ret(decide_name(WFD_HOOK_INODE_MKNOD, dentry));
}

SEC("lsm/inode_symlink")
int BPF_PROG(deny_inode_symlink, struct inode *dir, struct dentry *dentry, const char *old_name, int ret)
{
	if (ret)
		return lsm_ret(ret);
	return lsm_ret(decide_name(WFD_HOOK_INODE_SYMLINK, dentry));
}

SEC("lsm/inode_link")
int BPF_PROG(deny_inode_link, struct dentry *old_dentry, struct inode *dir, struct dentry *new_dentry, int ret)
{
	if (ret)
		return lsm_ret(ret);
	return lsm_ret(decide_name(WFD_HOOK_INODE_LINK, new_dentry));
}

SEC("lsm/inode_rename")
int BPF_PROG(deny_inode_rename, struct inode *old_dir, struct dentry *old_dentry, struct inode *new_dir,
	     struct dentry *new_dentry, int ret)
{
	if (ret)
		return lsm_ret(ret);
	return lsm_ret(decide_name(WFD_HOOK_INODE_RENAME, new_dentry));
}

SEC("lsm/file_open")
int BPF_PROG(deny_file_open, struct file *file, int ret)
{
	if (ret)
		return lsm_ret(ret);
	return lsm_ret(decide_path(WFD_WHAT_OPEN, WFD_HOOK_FILE_OPEN, &file->f_path));
}

SEC("lsm/bprm_check_security")
int BPF_PROG(deny_bprm_check, struct linux_binprm *bprm, int ret)
{
	if (ret)
		return lsm_ret(ret);
	return lsm_ret(decide_path(WFD_WHAT_EXEC, WFD_HOOK_BPRM_CHECK, &bprm->file->f_path));
}

SEC("lsm/socket_bind")
int BPF_PROG(deny_socket_bind, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	if (ret)
		return lsm_ret(ret);
	if (addrlen < 4)
		return 0;
	unsigned short family = address->sa_family;
	if (family != AF_INET && family != AF_INET6)
		return 0;
	__be16 port = 0; /* sin_port and sin6_port are both at offset 2 */
	if (bpf_probe_read_kernel(&port, sizeof(port), (char *)address + 2))
		return 0;
	return lsm_ret(decide(WFD_WHAT_BIND, WFD_HOOK_SOCKET_BIND, 0, 0, (u32)__builtin_bswap16(port)));
}
