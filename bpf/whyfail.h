/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The contract between whyfail's BPF programs and user space.
 *
 * User space does not mirror it by hand: tools/gen-bpf-contract generates the C# side at build time
 * (BpfContract.g.cs: every struct wf_* with the layout from the object's BTF, every integer #define WF_*,
 * the program and map names), so a changed field changes or breaks the C# code that reads it.
 * All multi-byte fields are little endian (x86_64), all records 8-byte aligned.
 */
#ifndef WHYFAIL_H
#define WHYFAIL_H

#define WF_MAX_SYSCALLS   512   /* x86_64 numbers are < 512 (x32 variants are not traced) */
#define WF_MAX_EVIDENCE   4     /* evidence items kept per in-flight syscall */
#define WF_MAX_BLOB       4096  /* one captured user buffer / string (PATH_MAX) */
#define WF_SCRATCH        16384 /* per-CPU event assembly buffer */
#define WF_MAX_ORIGIN     16    /* error returns kept per in-flight syscall (the latest ones) */
#define WF_ORIGIN_STACK   16    /* kernel stack frames kept per error return (fexit: BPF frames included) */
#define WF_MAX_PIN        8     /* error-site kprobe hits kept per in-flight syscall (the latest ones) */

/* task_state.flags */
#define WF_TRACED         1u    /* report this task's failing syscalls */
#define WF_ARMED_ON_EXEC  2u    /* becomes TRACED at its next successful execve */
#define WF_FOLLOW         4u    /* children inherit the flags */
#define WF_EXEC_CHILD     8u    /* forked by an armed task: its failing execve is reported (the command's own exec) */

#define WF_NR_EXECVE      59    /* x86_64 */
#define WF_NR_EXECVEAT    322

/* capture kinds, one per argument (capture_spec.kind[i]) */
#define WF_CAP_NONE       0
#define WF_CAP_STR        1     /* NUL-terminated string, up to size[i] bytes */
#define WF_CAP_FIXED      2     /* size[i] bytes */
#define WF_CAP_SIZED      3     /* arg[len_arg[i]] bytes, capped at size[i] */
#define WF_CAP_STRV       4     /* NULL-terminated array of strings (argv): up to 8 strings */
#define WF_CAP_SIZED_PTR  5     /* *(u32 *)arg[len_arg[i]] bytes (socklen_t *), capped at size[i] */
#define WF_CAP_NESTED     6     /* blob kind only: memory a pointer inside argument nested_arg's blob points to
                                 * (wf_blob.index = the nested entry; see bpf/copy_nested.h) */

#define WF_MAX_NESTED     8     /* second-level copies per syscall (8: the data of a written iovec array's first 8 elements) */
#define WF_CAP_ENTRY      7     /* blob kind only: argument entry_arg's first bytes as they were at sys_enter (in/out
                                 * structures the kernel writes back: perf_event_attr.size, the capability header) */
#define WF_ENTRY_MAX      16    /* bytes copied at entry */

/* record order after the header: evidence, origin records, site hits, the context (WF_EVF_CONTEXT), blobs */

/* record types */
#define WF_REC_SYSCALL    1
#define WF_REC_EXIT       2     /* struct wf_exit_rec: a traced thread group ended */
#define WF_REC_MESSAGE    3     /* struct wf_message_rec: a traced task wrote to standard error (or stdout after a failure) */

/* evidence kinds */
#define WF_EV_CAPABILITY  1     /* a = cap, b = ret, c = userns level, d = userns owner uid, e = euid */
#define WF_EV_SIGNAL      2     /* a = sig, b = sender tgid, c = result, d = sa_flags, e = sa_handler (both at exit) */
#define WF_SIG_PENDING    5     /* WF_EV_SIGNAL's c when the signal was pending at exit, sent before the call (b = 0) */
#define WF_SIG_HANDLER_UNKNOWN 0xffffffffffffffffULL /* WF_EV_SIGNAL's e when the handler could not be read */

/* indexes of the per-CPU statistics map (stats) */
#define WF_STAT_LOST_EVENTS   0 /* records the ring buffer had no room for */
#define WF_STAT_LOST_EVIDENCE 1 /* evidence items beyond WF_MAX_EVIDENCE */
#define WF_STAT_REPORTED      2 /* syscall records written to the ring buffer (follow-ups not counted) */
#define WF_STAT_FOLLOWUPS     3 /* successes reported only because they followed a failure (the verdict's) */
#define WF_STAT_MAX           4

struct wf_capture_spec {
	unsigned char  kind[6];
	unsigned char  len_arg[6];
	unsigned short size[6];
	unsigned char  fd_args;         /* bit i: argument i is a descriptor (its file goes into the context) */
	unsigned char  nested_arg;      /* the argument whose copied structure holds the nested pointers (>= 6: none) */
	unsigned char  entry_arg;       /* the argument copied at entry too (entry_size bytes, by on_sys_enter_call) */
	unsigned char  entry_size;      /* at most WF_ENTRY_MAX; 0: none */
	unsigned char  pad[4];
	/*
	 * Nested entry k (used when nested_size[k] != 0): the u64 at byte nested_ptr[k] of nested_arg's copy is a
	 * pointer; the nested_len_size[k]-byte (4 or 8) integer at byte nested_len[k] times nested_elem[k] is its
	 * length in bytes; copied up to nested_size[k] bytes (at most WF_MAX_BLOB).
	 */
	unsigned char  nested_ptr[WF_MAX_NESTED];
	unsigned char  nested_len[WF_MAX_NESTED];
	unsigned char  nested_len_size[WF_MAX_NESTED];
	unsigned char  nested_pad[WF_MAX_NESTED];
	unsigned short nested_elem[WF_MAX_NESTED];
	unsigned short nested_size[WF_MAX_NESTED];
};

struct wf_evidence {
	unsigned short kind;
	unsigned short pad;
	int            a;
	int            b;
	int            c;
	unsigned long long d;
	unsigned long long e;
};                                      /* 32 bytes */

/* Fixed header of every syscall record; followed by n_evidence wf_evidence, then n_blobs blobs. */
struct wf_event {
	unsigned short type;            /* WF_REC_SYSCALL */
	unsigned short n_blobs;
	unsigned short n_evidence;
	unsigned short flags;           /* WF_EVF_* */
	unsigned int   size;            /* total record size in bytes */
	unsigned int   nr;              /* syscall number */
	unsigned long long ts_ns;       /* bpf_ktime_get_ns() at exit */
	unsigned short n_origin;        /* wf_origin_rec records after the evidence */
	unsigned short origin_dropped;  /* error returns not kept (more than WF_MAX_ORIGIN) */
	unsigned short n_pin;           /* wf_pin_rec records after the origin records */
	unsigned short pin_dropped;     /* site hits not kept (more than WF_MAX_PIN) */
	long long      ret;
	unsigned long long args[6];
	unsigned int   tgid;
	unsigned int   tid;
	unsigned int   uid;
	unsigned int   euid;
	unsigned int   gid;
	unsigned int   egid;
	char           comm[16];
	unsigned long long cgroup_id;   /* bpf_get_current_cgroup_id(): the cgroup v2 directory's inode */
};                                      /* 136 bytes */

#define WF_EVF_BLOB_TRUNCATED 1         /* some blob was cut at its cap */
#define WF_EVF_EVIDENCE_LOST  2         /* more evidence than WF_MAX_EVIDENCE */
#define WF_EVF_FOLLOWUP       4         /* a success reported because it follows a failure of the task (not --all) */
#define WF_EVF_DATA_ERROR     8         /* a success whose data is an error (getsockopt SO_ERROR != 0) */

/*
 * What a task does after a failure (issue 14, the verdict): its next WF_FOLLOWUPS successful calls
 * among wf_config.followup_mask are reported with WF_EVF_FOLLOWUP, and its next WF_MESSAGE_BUDGET
 * writes to standard output are reported as messages (writes to standard error always are, except
 * with --system, where they too need a failure first).
 */
#define WF_FOLLOWUPS       4
#define WF_MESSAGE_BUDGET  16
#define WF_MESSAGE_MAX     256          /* bytes of a message kept */

/* The end of a thread group (the last thread's exit), for traced groups (--system: non-zero exits only). */
struct wf_exit_rec {
	unsigned short type;            /* WF_REC_EXIT */
	unsigned short pad;
	unsigned int   size;
	unsigned long long ts_ns;
	unsigned int   tgid;
	unsigned int   tid;             /* the thread that ended last */
	unsigned int   ppid;            /* the parent's thread group at exit */
	int            exit_code;       /* as wait(2) reports it: status << 8, or the signal (| 0x80: core) */
	char           comm[16];
};                                      /* 48 bytes */

/* A successful write/writev/pwrite64 to fd 1 or 2, or after a failure to any fd that is a terminal
 * (see WF_MESSAGE_BUDGET), with its first bytes. */
struct wf_message_rec {
	unsigned short type;            /* WF_REC_MESSAGE */
	unsigned short len;             /* bytes in data (at most WF_MESSAGE_MAX) */
	unsigned int   size;
	unsigned long long ts_ns;
	unsigned int   tgid;
	unsigned int   tid;
	unsigned int   fd;
	unsigned int   nr;
	long long      ret;
	char           comm[16];
	unsigned char  data[2 * WF_MESSAGE_MAX]; /* twice the kept size: the verifier's bound for writev pieces */
};                                      /* 568 bytes */

/*
 * An io_uring request submitted by a traced task completed with an error (res < 0): an error delivered
 * as data (issue 14). opcode is the request's IORING_OP_* from the submit tracepoint.
 */
#define WF_REC_URING      4

struct wf_uring_rec {
	unsigned short type;            /* WF_REC_URING */
	unsigned short opcode;          /* IORING_OP_* */
	unsigned int   size;
	unsigned long long ts_ns;
	unsigned int   tgid;            /* the submitting task (the completion may run in an io worker) */
	unsigned int   tid;
	unsigned long long user_data;   /* the submitter's tag of the request */
	int            res;             /* the completion's result: -errno */
	unsigned int   pad;
	char           comm[16];        /* the submitter's */
};                                      /* 56 bytes */

/*
 * The classic BPF programs of the seccomp filters a traced thread holds (filter mode), sent before its first failure
 * under them, so that user space can run the filters on the failed call (SECCOMP_RET_ERRNO with the call's errno: it
 * never ran) also after the task has exited. A thread's filters change only by growing (a new filter's prev is the
 * old newest; TSYNC gives a thread a chain its own is part of): at a failure, when the thread's newest filter is not
 * the one it sent last (task_state.seccomp_sent), it sends the new ones, newest first along prev, the first record
 * flagged WF_SECCOMP_NEWEST; user space keeps each thread's newest filter from them, and a thread that sent nothing
 * new fails under the filters it sent last. A filter longer than WF_SECCOMP_CHUNK instructions takes several records
 * (first: the index of the record's first instruction). The address names a filter while some task holds it: read
 * in ring order, an address a later filter reuses is sent again, by the thread that holds it, before it fails.
 */
#define WF_REC_SECCOMP    6
#define WF_SECCOMP_CHUNK  1024          /* instructions per record (BPF_MAXINSNS is 4096) */
#define WF_SECCOMP_STEPS  64            /* records sent at most per failure (the walk of the task's chain) */
#define WF_SECCOMP_NO_PROGRAM 1         /* flags: the kernel kept no copy of the program (orig_prog NULL) */
#define WF_SECCOMP_UNREADABLE 2         /* flags: the instructions could not be read */
#define WF_SECCOMP_NEWEST     4         /* flags: the thread's newest filter (the walk's first record) */

struct wf_seccomp_rec {
	unsigned short type;            /* WF_REC_SECCOMP */
	unsigned short n;               /* instructions in this record */
	unsigned int   size;            /* header and n instructions */
	unsigned long long filter;      /* the struct seccomp_filter's address */
	unsigned long long prev;        /* the filter installed before it (0: the task's first) */
	unsigned int   tgid;
	unsigned int   tid;
	unsigned int   len;             /* the program's instructions */
	unsigned short first;           /* the index of this record's first instruction */
	unsigned short flags;           /* WF_SECCOMP_* */
	unsigned long long insns[WF_SECCOMP_CHUNK]; /* struct sock_filter (u16 code, u8 jt, u8 jf, u32 k) each */
};                                      /* 40 bytes + 8 per instruction */

#define WF_EVF_CONTEXT        0x100     /* a wf_context section follows the site hits (before the blobs) */
#define WF_EVF_CONTEXT_SAME   0x200     /* instead of it, a wf_ctx_ref: the context is the task's base context number seq */

/*
 * "Same context as before" (a flood of one failure copies one context, not one per failure): a wf_context whose
 * seq is not 0 is its task's base context (cwd and root files only: no descriptor, exec or writer records); the
 * kernel keeps a key of it in the task's storage once the record is in the ring buffer, and while the task's
 * context stays equal to that key its later failures carry a wf_ctx_ref with the same seq instead (WF_EVF_CONTEXT_SAME).
 * User space keeps the last base context per thread and attaches it; a seq it has not seen means the context is
 * unknown (never another one). seq numbers are unique over the run (a global counter), never 0.
 */
struct wf_ctx_ref {
	unsigned int   size;            /* bytes of the section: 8 */
	unsigned int   seq;             /* the base context's wf_context.seq */
};

/*
 * The failing task's context as of its sys_exit (failures only): credentials, limits, seccomp, umask,
 * and the files that matter (cwd, root, each descriptor argument), so that explanations do not depend on
 * the process still being alive when user space reads the event. Followed by n_files wf_ctx_file records.
 */
#define WF_CTX_GROUPS     16            /* supplementary groups kept (ngroups says how many there are) */
#define WF_CTX_FILES      3             /* descriptor arguments kept */
#define WF_CTX_NAMES      384           /* bytes of one path's names */
#define WF_CTX_DEPTH      24            /* path components walked */
#define WF_CTX_RLIMS      6             /* rlimits kept, in this order: */
#define WF_CTX_RLIM_ORDER { 7 /* NOFILE */, 1 /* FSIZE */, 6 /* NPROC */, 3 /* STACK */, 8 /* MEMLOCK */, 9 /* AS */ }

#define WF_CTXF_NO_NEW_PRIVS  1         /* task->atomic_flags PFA_NO_NEW_PRIVS */
/* (2 and 4 were "sys_enter seen" flags: seccomp_filter and WF_REC_SECCOMP answer what they did, for every call) */
#define WF_CTXF_FDS_COUNTED   8         /* nfds holds the number of open descriptors */
#define WF_CTXF_EXEC_ARGS     16        /* E2BIG from execve/execveat: exec_* hold argv and envp as counted at the failure */
#define WF_CTXF_EXEC_PARTIAL  32        /* ... the count stopped early (WF_EXEC_STEPS reached): the numbers are lower bounds */
#define WF_CTXF_EXEC_FAULT    64        /* ... a pointer or string could not be read: the numbers stop there */
#define WF_CTXF_WRITERS_SCANNED 128     /* ETXTBSY from execve: every descriptor of the task was looked at for writers */
#define WF_CTXF_EXEC_LONGEST_ENVP 256   /* ... the longest string is envp's (else argv's): was a u32 field, see net_ns */

struct wf_context {
	unsigned int   size;            /* bytes of the section: this header and the file records */
	unsigned short n_files;
	unsigned short flags;           /* WF_CTXF_* */
	unsigned int   uid, euid, suid, fsuid, gid, egid, sgid, fsgid;
	unsigned int   ngroups;
	unsigned int   securebits;
	unsigned int   groups[WF_CTX_GROUPS];
	unsigned long long cap_eff;
	unsigned long long cap_prm;
	unsigned int   seccomp_mode;
	unsigned int   seccomp_filters;
	unsigned int   umask;
	unsigned int   nfds;            /* open descriptors (with WF_CTXF_FDS_COUNTED: counted for EMFILE only) */
	unsigned int   max_fds;         /* size of the descriptor table */
	unsigned int   seq;             /* != 0: the task's base context number (see WF_EVF_CONTEXT_SAME) */
	unsigned long long rlim_cur[WF_CTX_RLIMS];
	unsigned long long rlim_max[WF_CTX_RLIMS];
	unsigned long long sig_ignored;   /* bit sig-1: handler SIG_IGN, for WF_CTX_SIGNALS only */
	unsigned long long sig_caught;    /* bit sig-1: a handler, for WF_CTX_SIGNALS only */
	unsigned long long sig_blocked;   /* the blocked mask (signals 1..64) */
	/* WF_CTXF_EXEC_ARGS only: [0] argv, [1] envp, as fs/exec.c counts them (strings with their NULs) */
	unsigned long long exec_strings[2];
	unsigned long long exec_bytes[2];
	unsigned long long exec_longest;  /* bytes of the longest string, NUL included (its vector: WF_CTXF_EXEC_LONGEST_ENVP) */
	unsigned int   exec_longest_index;
	/*
	 * The task's network namespace: task->nsproxy->net_ns->ns.inum, the inode number /proc/PID/ns/net shows (0: none,
	 * the task is past exit_task_namespaces). User space reads sockets (/proc/PID/net) in that namespace, not its own,
	 * when the process is gone. It took the place of exec_longest_vec (a 0/1 now in flags), not new bytes: the header
	 * stays 320 bytes, a multiple of 64 (context_same compares 8 words a step; keep_context_key copies it, and each
	 * task's storage holds a copy), so a repeated failure costs what it did. Compared with the key by context_same
	 * (the whole header) and by context_repeat (a task can setns() or unshare() between two failures).
	 */
	unsigned int   net_ns;
};                                      /* 320 bytes */

#define WF_EXEC_STEPS     (1 << 20)     /* bpf_loop steps of the argv/envp count: a string, or 16 KiB more of a long one */
#define WF_EXEC_CHUNK     16384         /* bytes read at once when measuring a string */

/* wf_ctx_file.arg of a descriptor the failing task itself has open for writing (ETXTBSY from execve: a possible writer) */
#define WF_CTX_ARG_WRITER 0xfe
#define WF_CTX_WRITERS_SCAN 1024        /* descriptors looked at for writers */

#define WF_CTX_SIGNALS    ((1ULL << 12) | (1ULL << 16) | (1ULL << 24)) /* SIGPIPE, SIGCHLD, SIGXFSZ: the ones rules ask about */

#define WF_CTX_FD_CWD   -100            /* wf_ctx_file.fd of the working directory (AT_FDCWD) */
#define WF_CTX_FD_ROOT  -101            /* of the root directory */

#define WF_FILE_OPEN        1           /* the descriptor was open (else only fd and arg are set) */
#define WF_FILE_UNREACHABLE 2           /* the path is not below the task's root (names end at a mount namespace root) */
#define WF_FILE_TRUNCATED   4           /* more than WF_CTX_DEPTH components or WF_CTX_NAMES bytes */
#define WF_FILE_DELETED     8           /* the file was unlinked */
#define WF_FILE_PSEUDO      16          /* no path: a pipe, socket or anonymous inode (a file system root that is not mounted) */

struct wf_ctx_file {
	int            fd;              /* descriptor number, or WF_CTX_FD_CWD / WF_CTX_FD_ROOT */
	unsigned char  arg;             /* argument index, 0xff for cwd and root */
	unsigned char  pad;
	unsigned short flags;           /* WF_FILE_* */
	unsigned int   mode;            /* i_mode */
	unsigned int   f_flags;         /* open flags (0 for cwd and root) */
	unsigned int   dev;             /* s_dev, the kernel's encoding (major << 20 | minor) */
	int            mnt_id;
	unsigned int   names_len;       /* bytes in names, padded up to 8 after them */
	unsigned int   pad2;
	unsigned long long ino;
	long long      pos;
	char           fstype[16];
	/* names: the path's components leaf first, each NUL-terminated (user space reverses them) */
};                                      /* 64 bytes + names */

/*
 * A kernel function that returned an error value while the traced syscall ran (origin backends:
 * fexit, kretprobe). In return order: innermost functions first.
 */
struct wf_origin_rec {
	unsigned long long fn;          /* function address (fexit: a kernel address, top bit set), or the
	                                 * function's index in the attach list (kprobes: the cookie, small) */
	long long      ret;             /* the value returned */
	unsigned long long sp;          /* a stack address at return: lower = deeper */
	unsigned long long stack[WF_ORIGIN_STACK]; /* return addresses, innermost first (0 = none) */
};                                      /* 152 bytes */

/*
 * --args: the arguments of a function whose error return was recorded (sent with the record, before the
 * syscall's own record): the six argument registers at entry (fexit: the trampoline's copy; kretprobe
 * backends: what an entry kprobe stored for this task and function), and up to WF_ORIGIN_ARG_BYTES read
 * at return behind each one that points somewhere (kernel memory, else a user string). User space pairs
 * it with origin record number seq of the same thread's next syscall record (seq counts every error
 * return of the call: origin_dropped + k for the record k kept).
 */
#define WF_REC_ORIGIN_ARGS  5
#define WF_ORIGIN_NARGS     6     /* arguments passed in registers (x86_64 SysV) */
#define WF_ORIGIN_ARG_BYTES 128   /* bytes read behind one pointer argument */
#define WF_ORIGIN_USER_READ 8     /* read_ok bit (i + this): argument i's bytes are a user string */

struct wf_origin_args {
	unsigned short type;            /* WF_REC_ORIGIN_ARGS */
	unsigned short entry_seen;      /* 1: the values are the arguments (0: kretprobe whose entry was not seen) */
	unsigned int   seq;             /* this error return's number in the call (task_state.n_orig before it) */
	unsigned int   tid;
	unsigned int   read_ok;         /* bit i: data[i] read from kernel memory; bit i + WF_ORIGIN_USER_READ: a user string */
	unsigned long long fn;          /* as wf_origin_rec.fn */
	long long      ret;             /* as wf_origin_rec.ret */
	unsigned long long sp;          /* as wf_origin_rec.sp */
	unsigned long long args[WF_ORIGIN_NARGS];
	unsigned char  data[WF_ORIGIN_NARGS * WF_ORIGIN_ARG_BYTES];
};                                      /* 848 bytes */

/*
 * --pinpoint: a kprobe on an instruction that stands for one error site (the errno constant, or a
 * branch into a shared "return -E..." block) fired while the traced syscall ran. In firing order,
 * the latest WF_MAX_PIN kept. The kprobe fires before its instruction runs, so for a conditional
 * branch user space decides from flags whether the branch went to the error.
 */
struct wf_pin_rec {
	unsigned long long probe;       /* the kprobe's bpf cookie: its index in user space's probe list */
	unsigned long long flags;       /* RFLAGS when it fired */
};                                      /* 16 bytes */

/* A captured argument: header then len bytes, padded to 8. len == 0xffff: unreadable. */
struct wf_blob {
	unsigned char  arg;             /* argument index 0..5 */
	unsigned char  kind;            /* WF_CAP_* */
	unsigned short len;
	unsigned short full_len;        /* what was asked for (before the cap), for SIZED */
	unsigned short index;           /* for STRV: element index */
};

#define WF_BLOB_FAULTED   0x80  /* in wf_blob.kind: the object ran into an unreadable page; len bytes before it were read */

/*
 * A helper number no kernel has: the placeholder call that user space (BtfAttachTargets) turns into a call of the
 * kfunc bpf_rdonly_cast(obj, btf_id) before the program is loaded, when cfg.task_btf_id is set (else its code is dead).
 */
#define WF_CAST_HELPER    0x7f57

#define WF_FILTER_ERRNOS  512 /* errnos below this can be filtered in the kernel; above (ERESTARTSYS …) user space decides */
#define WF_FILTER_COMMS   8   /* --comm names the kernel compares; more: user space alone filters */

/* Read-only configuration, set by user space before load. */
struct wf_config {
	unsigned int trace_all;         /* --system */
	unsigned int report_success;    /* --all */
	unsigned int self_tgid;         /* never trace whyfail itself */
	unsigned int origin_args;       /* --args: every origin record also sends its function's arguments (wf_origin_args) */
	/*
	 * Filters (--syscall, --errno, --comm), applied before an event is built: what they drop never
	 * reaches the ring buffer. User space applies the same filters again (they decide what is shown);
	 * these only spare the kernel's and the ring buffer's work, which matters for --system.
	 */
	unsigned int filter_syscalls;   /* 1: only syscalls whose bit is set in syscall_mask */
	unsigned int filter_errnos;     /* 1: only failures whose errno bit is set (and no successes) */
	unsigned int n_comms;           /* 0: any command name */
	unsigned int pad2;
	unsigned long long syscall_mask[WF_MAX_SYSCALLS / 64];
	unsigned long long errno_mask[WF_FILTER_ERRNOS / 64];
	char comms[WF_FILTER_COMMS][16]; /* NUL-padded, as the kernel's comm */
	/* The verdict's inputs (issue 14): syscall numbers from user space's table, and the follow-up set. */
	unsigned int nr_write;
	unsigned int nr_writev;
	unsigned int nr_pwrite64;
	unsigned int nr_getsockopt;
	unsigned int sol_socket;        /* getsockopt level and option whose value is a pending error */
	unsigned int so_error;
	unsigned long long followup_mask[WF_MAX_SYSCALLS / 64]; /* successes worth reporting after a failure */

	unsigned int context_off;       /* 1: no wf_context nor seccomp copies (nothing reads them: --no-explain; or kernel reads refused: lockdown=confidentiality) */
	unsigned int pad3;
	/*
	 * whyfail's own root (statx of "/": mount id and inode; 0: unknown): the walk of a task's root stops
	 * there, so that the root is named as whyfail sees it (a chrooted whyfail, as in the lab, sees its
	 * root as "/", not as its place in the mount namespace).
	 */
	unsigned long long own_root_ino;
	unsigned int own_root_mnt_id;
	/*
	 * The kernel's BTF id of struct task_struct when user space turned every WF_CAST_HELPER call into a call of the
	 * kfunc bpf_rdonly_cast (6.2 and later; see untrusted_task() in whyfail.bpf.c); 0: no cast, the task's pointer
	 * fields are loaded through the trusted task pointer.
	 */
	unsigned int task_btf_id;
	unsigned int mount_btf_id;      /* with task_btf_id: struct mount's (the mount id read by a load, not a helper call) */
	unsigned int dentry_btf_id;     /* with both: struct dentry's (the cwd's signature walked one bpf_loop step a dentry) */
};

#endif
