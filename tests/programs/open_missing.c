/* Opens each argument with openat(AT_FDCWD, path, O_RDONLY|O_CLOEXEC); prints "pid N" first.
 * Exit status: the number of opens that failed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int failed = 0;
	printf("pid %d\n", getpid());
	fflush(stdout);
	for (int i = 1; i < argc; i++) {
		int fd = openat(AT_FDCWD, argv[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			failed++;
		else
			close(fd);
	}
	return failed;
}
