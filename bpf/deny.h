/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The contract between `whyfail deny`'s BPF LSM programs (deny.bpf.c) and user space.
 *
 * As for whyfail.h, the C# side is generated at build time by tools/gen-bpf-contract (namespace
 * Whyfail.Capture.Deny.Bpf): every struct wfd_* with its layout from the object's BTF, every integer
 * #define WFD_* as a constant of WfdConst, the program and map names. Little endian, 8-byte aligned.
 */
#ifndef WHYFAIL_DENY_H
#define WHYFAIL_DENY_H

#define WFD_MAX_RULES     8     /* rules per `whyfail deny` */
#define WFD_MAX_USERS     8     /* uids per rule (user=) */
#define WFD_PATH_MAX      512   /* bytes of a path or name the glob sees; a longer path matches no rule */
#define WFD_COMM_LEN      16    /* TASK_COMM_LEN */
#define WFD_GLOB_TOKENS   63    /* tokens of a compiled glob: state bit i = the first i tokens matched */

/* wfd_rule.what */
#define WFD_WHAT_CREATE   1     /* a new name's last component (the glob sees the name only) */
#define WFD_WHAT_OPEN     2     /* an opened file's absolute path (bpf_d_path) */
#define WFD_WHAT_EXEC     3     /* an executed file's absolute path (bpf_d_path) */
#define WFD_WHAT_BIND     4     /* an IPv4 or IPv6 port */

/* wfd_rule.users_mode */
#define WFD_USERS_ANY     0
#define WFD_USERS_ONLY    1     /* only the effective uids listed */
#define WFD_USERS_EXCEPT  2     /* every effective uid but those listed */

/* wfd_event.hook: the LSM hook that refused */
#define WFD_HOOK_INODE_CREATE  1
#define WFD_HOOK_INODE_MKDIR   2
#define WFD_HOOK_INODE_MKNOD   3
#define WFD_HOOK_INODE_SYMLINK 4
#define WFD_HOOK_INODE_LINK    5
#define WFD_HOOK_INODE_RENAME  6
#define WFD_HOOK_FILE_OPEN     7
#define WFD_HOOK_BPRM_CHECK    8
#define WFD_HOOK_SOCKET_BIND   9

/* index of the refusals the ring buffer had no room for, in the counts map (after the rules') */
#define WFD_COUNT_LOST    WFD_MAX_RULES

/*
 * A glob compiled to a bit-parallel automaton (Shift-And with loops): bit i of the state means "the
 * first i tokens matched". For a byte c the next state is
 *   ((d << 1) & accept[c]) | (d & (globstar | (c != '/' ? star : 0)))
 * then (d & jump) << 2, then (d << 1) & (star | globstar) (a star may match nothing). The start state
 * already has that closure; the glob matches when the state at the end has a bit of final.
 */
struct wfd_glob {
	__u64 accept[256];  /* bit i+1: token i is this byte (or '?' and the byte is not '/') */
	__u64 star;         /* bit i+1: token i is '*' (loops on any byte but '/') */
	__u64 globstar;     /* bit i+1: token i is '**' (loops on any byte) */
	__u64 jump;         /* bit i+1: token i is a slash followed by a globstar and a slash (the pair may match nothing) */
	__u64 start;
	__u64 final;
};

struct wfd_rule {
	__u32 what;                  /* WFD_WHAT_* */
	__s32 err;                   /* the errno the refused call gets (1 .. 4095) */
	__u32 users_mode;            /* WFD_USERS_* */
	__u32 n_users;
	__u32 users[WFD_MAX_USERS];  /* effective uids */
	__u32 port;                  /* bind= */
	__u32 comm_len;              /* 0: any process; else the length of comm (without the NUL) */
	char  comm[WFD_COMM_LEN];
	struct wfd_glob glob;        /* create=, open=, exec= */
};

struct wfd_config {
	__u32 self_tgid;             /* whyfail itself: never refused */
	__u32 n_rules;
};

/* One refusal, written to the ring buffer before the refused call returns. */
struct wfd_event {
	__u64 ts_ns;                 /* bpf_ktime_get_ns(), the clock of whyfail's own events */
	__u32 pid;                   /* thread group */
	__u32 tid;
	__u32 euid;
	__u32 rule;                  /* index in the rules map (0-based) */
	__s32 err;
	__u32 hook;                  /* WFD_HOOK_* */
	__u32 port;                  /* bind: the port asked for */
	__u32 len;                   /* bytes of text (the name or path that matched), without a NUL */
	char  comm[WFD_COMM_LEN];
	char  text[WFD_PATH_MAX];
};

#endif
