/*
 * A ptrace request (PTRACE_GETREGS) on a child that cannot take it, then a 3 s wait (the child still there)
 * and exit: "untraced" asks without attaching, "running" after PTRACE_SEIZE but without stopping the child.
 * Both fail with ESRCH.
 *
 * Usage: ptrace_request untraced|running     prints "errno E" and exits 1 when the request failed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	pid_t child = fork();
	if (child == 0) {
		for (;;)
			pause();
	}
	if (strcmp(argv[1], "running") == 0 && ptrace(PTRACE_SEIZE, child, 0, 0) != 0)
		return 3;
	usleep(100000); /* the child is asleep in pause() */
	struct user_regs_struct regs;
	long r = ptrace(PTRACE_GETREGS, child, 0, &regs);
	int e = r < 0 ? errno : 0;
	printf("errno %d\n", e);
	fflush(stdout);
	sleep(3); /* while whyfail reads the child's state (1 s was too short in the 6.1 lab under TCG) */
	kill(child, SIGKILL);
	waitpid(child, 0, 0);
	return r < 0;
}
