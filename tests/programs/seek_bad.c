/*
 * lseek calls the kernel refuses with EINVAL, on FILE (at least 5 bytes): a negative position with SEEK_SET,
 * one before the start with SEEK_END, and an unknown whence (7). Exits at once after them.
 *
 * Usage: seek_bad FILE     prints "einval N" (how many failed with EINVAL) and exits 0 when all three did.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = 0, fd = argc > 1 ? open(argv[1], O_RDONLY) : -1;
	if (fd < 0)
		return 2;
	n += lseek(fd, -1, SEEK_SET) < 0 && errno == EINVAL;
	n += lseek(fd, -1000000, SEEK_END) < 0 && errno == EINVAL;
	n += lseek(fd, 0, 7) < 0 && errno == EINVAL;
	printf("einval %d\n", n);
	return n != 3;
}
