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

/* capture kinds, one per argument (capture_spec.kind[i]) */
#define WF_CAP_NONE       0
#define WF_CAP_STR        1     /* NUL-terminated string, up to size[i] bytes */
#define WF_CAP_FIXED      2     /* size[i] bytes */
#define WF_CAP_SIZED      3     /* arg[len_arg[i]] bytes, capped at size[i] */
#define WF_CAP_STRV       4     /* NULL-terminated array of strings (argv): up to 8 strings */
#define WF_CAP_SIZED_PTR  5     /* *(u32 *)arg[len_arg[i]] bytes (socklen_t *), capped at size[i] */

/* record order after the header: evidence, origin records, site hits, blobs */

/* record types */
#define WF_REC_SYSCALL    1

/* evidence kinds */
#define WF_EV_CAPABILITY  1     /* a = cap, b = ret, c = userns level, d = userns owner uid, e = euid */
#define WF_EV_SIGNAL      2     /* a = sig, b = sender tgid, c = result, d = sa_flags (at exit), e = code */

/* indexes of the per-CPU statistics map (stats) */
#define WF_STAT_LOST_EVENTS   0 /* records the ring buffer had no room for */
#define WF_STAT_LOST_EVIDENCE 1 /* evidence items beyond WF_MAX_EVIDENCE */
#define WF_STAT_REPORTED      2 /* records written to the ring buffer */
#define WF_STAT_MAX           4

struct wf_capture_spec {
	unsigned char  kind[6];
	unsigned char  len_arg[6];
	unsigned short size[6];
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
};                                      /* 128 bytes */

#define WF_EVF_BLOB_TRUNCATED 1         /* some blob was cut at its cap */
#define WF_EVF_EVIDENCE_LOST  2         /* more evidence than WF_MAX_EVIDENCE */

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

#define WF_FILTER_ERRNOS  512 /* errnos below this can be filtered in the kernel; above (ERESTARTSYS …) user space decides */
#define WF_FILTER_COMMS   8   /* --comm names the kernel compares; more: user space alone filters */

/* Read-only configuration, set by user space before load. */
struct wf_config {
	unsigned int trace_all;         /* --system */
	unsigned int report_success;    /* --all */
	unsigned int self_tgid;         /* never trace whyfail itself */
	unsigned int pad;
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
};

#endif
