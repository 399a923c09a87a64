/* Counts the kernel's capabilities as libcap does: prctl(PR_CAPBSET_READ, n) upward from 0 until EINVAL (one failed
 * call, past the last capability), prints the count, then exits with the status argv[1] names (default 0) without
 * another failing call: a bad end that the probe does not explain. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>

int main(int argc, char **argv)
{
	int n = 0;
	while (n < 1024 && prctl(PR_CAPBSET_READ, n, 0, 0, 0) >= 0)
		n++;
	if (errno != EINVAL)
		return 2;
	printf("%d capabilities\n", n);
	return argc > 1 ? atoi(argv[1]) : 0;
}
