// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of a syscall tracer on this kernel: programs on the raw sys_enter / sys_exit tracepoints
 * (tp_btf, as whyfail attaches them) that return at once. What they cost a getppid loop is what any
 * tracer that sees one or both ends of every system call pays before it does any work of its own.
 */
typedef unsigned long long u64;
#define SEC(name) __attribute__((section(name), used))

SEC("tp_btf/sys_enter")
int floor_enter(u64 *ctx)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int floor_exit(u64 *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
