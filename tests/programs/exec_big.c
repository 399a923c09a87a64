/* Executes /bin/true with arguments or an environment execve refuses with E2BIG, then exits 1 at once.
 * Modes: "long" -> argv[1] is 131,072 bytes ("a"…, 131,073 with its NUL: one more than MAX_ARG_STRLEN);
 * "env" -> RLIMIT_STACK lowered to 256 KiB (execve then allows ARG_MAX, 128 KiB), and an environment of
 * 40 variables of 4,096 bytes each. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	char *args[3] = { "true", NULL, NULL };
	char *env[41] = { NULL };
	if (!strcmp(argv[1], "long")) {
		size_t n = 131072;
		char *big = malloc(n + 1);
		memset(big, 'a', n);
		big[n] = 0;
		args[1] = big;
		execve("/bin/true", args, env);
	} else if (!strcmp(argv[1], "env")) {
		struct rlimit rl = { 256 * 1024, 256 * 1024 };
		if (setrlimit(RLIMIT_STACK, &rl))
			return 2;
		for (int i = 0; i < 40; i++) {
			env[i] = malloc(4096);
			snprintf(env[i], 4096, "V%02d=", i);
			memset(env[i] + 4, 'x', 4095 - 4);
			env[i][4095] = 0;
		}
		execve("/bin/true", args, env);
	} else
		return 2;
	perror("execve /bin/true");
	return 1;
}
