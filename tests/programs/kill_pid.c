/* kill_pid PID SIGNAL: sends SIGNAL (a number) to PID with kill(2). Prints "pid N" first.
 * Exit status: 0 when kill succeeded, 1 when it failed. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: kill_pid PID SIGNAL\n");
		return 100;
	}
	printf("pid %d\n", getpid());
	fflush(stdout);
	return kill(atoi(argv[1]), atoi(argv[2])) < 0;
}
