/* fork → fork → exec argv[1..]: the failure happens two generations down.
 * Prints "grandchild N" with the pid that execs. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	pid_t c = fork();
	if (c == 0) {
		pid_t g = fork();
		if (g == 0) {
			printf("grandchild %d\n", getpid());
			fflush(stdout);
			execv(argv[1], argv + 1);
			_exit(127);
		}
		int st;
		waitpid(g, &st, 0);
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	return 0;
}
