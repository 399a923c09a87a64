/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The contract between probe.bpf.c (`whyfail probe FUNCTION`) and user space. Generated into C# by
 * tools/gen-bpf-contract (ProbeContract.g.cs, namespace Whyfail.Capture.Bpf.Probe) like whyfail.h.
 */
#ifndef WHYFAIL_PROBE_H
#define WHYFAIL_PROBE_H

#define WF_PROBE_ENTRY      1     /* a probed function was entered (kprobe at its address) */
#define WF_PROBE_LINE       2     /* a source line's first instruction ran inside a probed call */
#define WF_PROBE_EXIT       3     /* a probed function returned (kretprobe) */
#define WF_PROBE_NARGS      6     /* arguments passed in registers (x86_64 SysV) */
#define WF_PROBE_NREGS      17    /* DWARF x86_64 registers 0..16: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip */
#define WF_PROBE_ARG_BYTES  128   /* bytes read behind one pointer argument at entry */
#define WF_PROBE_STACK      512   /* bytes of stack copied at each line, from the stack pointer up */
#define WF_PROBE_CHUNK      64    /* the stack is copied in chunks of this size, up to the first unreadable one */
#define WF_PROBE_DATA       (WF_PROBE_NARGS * WF_PROBE_ARG_BYTES)
#define WF_PROBE_MAX_FUNCS  16    /* functions probed at once */
#define WF_PROBE_ARG_VALUE  0     /* the register is the value */
#define WF_PROBE_ARG_KERNEL 1     /* read WF_PROBE_ARG_BYTES behind the pointer from kernel memory */
#define WF_PROBE_ARG_STRING 2     /* a NUL-terminated string behind the pointer (kernel, else user memory) */
#define WF_PROBE_MAX_LINES  1024  /* line probes at once */
#define WF_PROBE_READS      8     /* memory reads per line probe (a local kept at register + offset) */
#define WF_PROBE_READS_AT   WF_PROBE_STACK /* line: the reads' values (8 bytes each) follow the stack copy in data */
#define WF_PROBE_STAT_LOST  0     /* events the ring buffer had no room for */
#define WF_PROBE_STAT_MAX   1

/* One event: entry (regs + the memory behind pointer arguments), line (regs + stack), exit (return value). */
struct wf_probe_event {
	unsigned int kind;        /* WF_PROBE_ENTRY / LINE / EXIT */
	unsigned int index;       /* the function's index (entry, exit) or the line probe's (line) */
	unsigned int pid;
	unsigned int tid;
	unsigned long long time;  /* bpf_ktime_get_ns */
	unsigned long long ret;   /* exit: the return value (rax) */
	unsigned long long regs[WF_PROBE_NREGS]; /* DWARF register order */
	unsigned int data_len;    /* line: stack bytes copied to data */
	unsigned int read_ok;     /* entry: bit i set when argument i's memory was read into data[i * WF_PROBE_ARG_BYTES]; line: read i */
	unsigned char comm[16];
	unsigned char data[WF_PROBE_DATA];
};

/* What to read behind each argument of a function (WF_PROBE_ARG_*), by function index. */
struct wf_probe_fn {
	unsigned int kinds[WF_PROBE_NARGS];
};

/* Memory a line probe reads for locals that live at register + offset (DWARF DW_OP_bregN), by line index. */
struct wf_probe_reads {
	unsigned int n;
	unsigned int pad;
	int reg[WF_PROBE_READS];             /* DWARF register number */
	unsigned int size[WF_PROBE_READS];   /* 1..8 bytes */
	long long off[WF_PROBE_READS];
};

#endif
