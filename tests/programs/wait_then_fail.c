/* Prints its pid, waits until the file argv[1] exists, then fails openat(argv[2]) and exits.
 * For -p: whyfail attaches while this sleeps. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	printf("pid %d\n", getpid());
	fflush(stdout);
	for (int i = 0; i < 6000 && access(argv[1], F_OK) != 0; i++)
		usleep(10000);
	int fd = openat(AT_FDCWD, argv[2], O_RDONLY);
	return fd < 0 ? 0 : 1;
}
