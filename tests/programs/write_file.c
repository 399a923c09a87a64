/* write_file PATH DATA [N]: N times (default 1), opens PATH write-only, writes DATA once and closes it;
 * between two attempts it reads one line from standard input (EOF: goes on at once), so a test can
 * decide when the next attempt happens. Prints "pid N" first. Exit status: the number of opens or
 * writes that failed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: write_file PATH DATA [N]\n");
		return 100;
	}
	int n = argc > 3 ? atoi(argv[3]) : 1, failed = 0;
	printf("pid %d\n", getpid());
	fflush(stdout);
	for (int i = 0; i < n; i++) {
		if (i > 0) {
			char line[64];
			if (!fgets(line, sizeof line, stdin))
				clearerr(stdin);
		}
		int fd = open(argv[1], O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			failed++;
			continue;
		}
		if (write(fd, argv[2], strlen(argv[2])) < 0)
			failed++;
		close(fd);
	}
	return failed;
}
