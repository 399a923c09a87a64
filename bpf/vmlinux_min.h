/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The few kernel types whyfail's BPF programs touch, declared with preserve_access_index so that
 * libbpf relocates every field access (CO-RE) against the running kernel's BTF. Offsets here do
 * not matter; names and nesting do. Keeping this small (instead of a multi-megabyte generated
 * vmlinux.h) makes the build independent of the build machine's kernel.
 */
#ifndef WHYFAIL_VMLINUX_MIN_H
#define WHYFAIL_VMLINUX_MIN_H

typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef short __s16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __s32 s32;
typedef __u64 u64;
typedef __s64 s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef int pid_t;
typedef unsigned int uid_t;
typedef unsigned int gid_t;
typedef _Bool bool;
#define true 1
#define false 0

enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_RINGBUF = 27,
	BPF_MAP_TYPE_TASK_STORAGE = 29,
	BPF_MAP_TYPE_LRU_HASH = 9,
};

enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
};

enum {
	BPF_LOCAL_STORAGE_GET_F_CREATE = 1,
};

enum { /* bpf_ringbuf_output/submit flags (enum in include/uapi/linux/bpf.h) */
	BPF_RB_NO_WAKEUP = 1,
	BPF_RB_FORCE_WAKEUP = 2,
};

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip, cs,
		flags, sp, ss;
};

typedef struct { uid_t val; } kuid_t;
typedef struct { gid_t val; } kgid_t;

struct user_namespace {
	int level;
	kuid_t owner;
};

/* 6.1: struct kernel_cap_struct { __u32 cap[2]; }; 6.3+: { u64 val; }: 8 bytes either way */
typedef struct { u64 val; } kernel_cap_t;

struct group_info {
	int ngroups;
	kgid_t gid[0];
};

struct cred {
	kuid_t uid;
	kgid_t gid;
	kuid_t suid;
	kgid_t sgid;
	kuid_t euid;
	kgid_t egid;
	kuid_t fsuid;
	kgid_t fsgid;
	unsigned int securebits;
	kernel_cap_t cap_permitted;
	kernel_cap_t cap_effective;
	struct user_namespace *user_ns;
	struct group_info *group_info;
};

struct qstr {
	u32 hash;
	u32 len;
	const unsigned char *name;
};

struct hlist_bl_node {
	struct hlist_bl_node *next, **pprev;
};

struct file_system_type {
	const char *name;
};

struct super_block {
	u32 s_dev;
	struct file_system_type *s_type;
};

struct inode {
	unsigned short i_mode;
	unsigned int i_rdev;
	unsigned long i_ino;
	struct super_block *i_sb;
};

typedef struct seqcount {
	unsigned int sequence;
} seqcount_t;

typedef struct seqcount_spinlock {
	seqcount_t seqcount;
} seqcount_spinlock_t;

struct dentry {
	seqcount_spinlock_t d_seq;
	struct hlist_bl_node d_hash;
	struct dentry *d_parent;
	struct qstr d_name;
	struct inode *d_inode;
};

struct vfsmount {
	struct dentry *mnt_root;
	struct super_block *mnt_sb;
};

struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
	int mnt_id;
};

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
};

struct file {
	struct inode *f_inode;
	unsigned int f_flags;
	struct path f_path;
	long long f_pos;
};

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
	unsigned long *open_fds;
};

struct files_struct {
	struct fdtable *fdt;
};

struct fs_struct {
	int umask;
	struct path root;
	struct path pwd;
};

struct rlimit {
	unsigned long rlim_cur;
	unsigned long rlim_max;
};

typedef struct { int counter; } atomic_t;

/* the signals queued for a task (pending) or its thread group (shared_pending) */
struct sigpending {
	struct { unsigned long sig[1]; } signal;
};

struct signal_struct {
	atomic_t live;
	struct rlimit rlim[16];
	struct sigpending shared_pending;
};

/* A filter's classic BPF program as the task installed it (bpf_prog.orig_prog: kept when CONFIG_CHECKPOINT_RESTORE is,
 * which is what PTRACE_SECCOMP_GET_FILTER reads too). */
struct sock_filter {
	u16 code;
	u8 jt;
	u8 jf;
	u32 k;
};

struct sock_fprog_kern {
	u16 len;
	struct sock_filter *filter;
};

struct bpf_prog {
	struct sock_fprog_kern *orig_prog;
};

struct seccomp_filter {
	struct seccomp_filter *prev;
	struct bpf_prog *prog;
};

struct seccomp {
	int mode;
	struct { int counter; } filter_count;
	struct seccomp_filter *filter;
};

struct sigaction {
	void *sa_handler;
	unsigned long sa_flags;
};

struct k_sigaction {
	struct sigaction sa;
};

struct sighand_struct {
	struct k_sigaction action[64];
};


/* the task's cgroup v2 id as bpf_get_current_cgroup_id() gives it: task->cgroups->dfl_cgrp->kn->id */
struct kernfs_node {
	u64 id;
};

struct cgroup {
	struct kernfs_node *kn;
};

struct css_set {
	struct cgroup *dfl_cgrp;
};

struct bpf_local_storage;

/* A task's namespaces (nsproxy is NULL once it is past exit_task_namespaces in do_exit); the network one's inode
 * number is ns.inum of struct net (6.1 .. 6.18). */
struct ns_common {
	unsigned int inum;
};
struct net {
	struct ns_common ns;
};
struct nsproxy {
	struct net *net_ns;
};

struct task_struct {
	pid_t pid;
	pid_t tgid;
	int exit_code;
	unsigned long atomic_flags;
	const struct cred *cred;
	struct fs_struct *fs;
	struct files_struct *files;
	struct signal_struct *signal;
	struct sighand_struct *sighand;
	struct nsproxy *nsproxy;
	struct task_struct *real_parent;
	struct css_set *cgroups;
	struct seccomp seccomp;
	struct { unsigned long sig[1]; } blocked;
	struct sigpending pending;
	char comm[16];
	struct bpf_local_storage *bpf_storage;
};

/* io_uring (issue 14: completions with res < 0). The submit tracepoints pass the request; completions
 * pass it as void * (6.1 … 6.12: with user_data and res as arguments; later: with the CQE). */
struct io_kiocb {
	u8 opcode;
};
struct io_uring_cqe {
	__u64 user_data;
	__s32 res;
	__u32 flags;
};

struct kernel_siginfo;
struct linux_binprm;

struct bpf_iter_meta {
	void *seq;
	u64 session_id;
	u64 seq_num;
};

struct bpf_iter__task {
	union {
		struct bpf_iter_meta *meta;
	};
	union {
		struct task_struct *task;
	};
};

#pragma clang attribute pop

#endif
