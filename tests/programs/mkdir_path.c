/* mkdir_path PATH [N]: N times (default 1), reads one line from standard input (EOF: goes on at once),
 * then calls mkdir(PATH, 0755) (the mkdir syscall, not mkdirat). Prints "pid N" first, so a test can
 * attach to it before the first attempt. Exit status: the number of mkdir calls that failed. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: mkdir_path PATH [N]\n");
		return 100;
	}
	int n = argc > 2 ? atoi(argv[2]) : 1, failed = 0;
	printf("pid %d\n", getpid());
	fflush(stdout);
	for (int i = 0; i < n; i++) {
		char line[64];
		if (!fgets(line, sizeof line, stdin))
			clearerr(stdin);
		if (syscall(SYS_mkdir, argv[1], 0755) < 0)
			failed++;
	}
	return failed;
}
