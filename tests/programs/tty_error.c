/* Reports a failure on a terminal that is not standard error: opens a pseudo-terminal pair (posix_openpt), then
 * fails to open argv[1] and writes "tty_error: PATH: <strerror>" to the terminal's slave side (a descriptor
 * above 2), and exits 1. Prints "pid N" first (standard output) and writes nothing to standard error.
 * Exit 3 when no pseudo-terminal could be had, 2 on bad usage. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	printf("pid %d\n", getpid());
	fflush(stdout);
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0)
		return 3;
	const char *name = ptsname(master);
	int tty = name ? open(name, O_RDWR | O_NOCTTY) : -1;
	if (tty < 0)
		return 3;
	if (open(argv[1], O_RDONLY) >= 0)
		return 0;
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "tty_error: %s: %s\r\n", argv[1], strerror(errno));
	if (write(tty, msg, (size_t)n) != n)
		return 3;
	return 1;
}
