/*
 * Descriptor failures of a process that exits right after them: read from a descriptor that is not open (EBADF),
 * write to a descriptor open read-only (EBADF), and lseek on a pipe (ESPIPE).
 *
 * Usage: fd_errors     prints "pipe R W" and exits 0.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	char c;
	int p[2];
	if (read(77, &c, 1) >= 0)
		return 2;
	int ro = open("/dev/null", O_RDONLY);
	if (ro < 0 || write(ro, "x", 1) >= 0)
		return 2;
	if (pipe(p) != 0 || lseek(p[0], 0, SEEK_CUR) >= 0)
		return 2;
	printf("pipe %d %d\n", p[0], p[1]);
	return 0;
}
