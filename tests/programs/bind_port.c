/* bind_port PORT [N]: N times (default 1), binds a new TCP socket to 127.0.0.1:PORT and closes it;
 * between two attempts it reads one line from standard input (EOF: goes on at once).
 * Prints "pid N" first. Exit status: the number of binds that failed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bind_port PORT [N]\n");
		return 100;
	}
	int n = argc > 2 ? atoi(argv[2]) : 1, failed = 0;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	printf("pid %d\n", getpid());
	fflush(stdout);
	for (int i = 0; i < n; i++) {
		if (i > 0) {
			char line[64];
			if (!fgets(line, sizeof line, stdin))
				clearerr(stdin);
		}
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0)
			failed++;
		if (s >= 0)
			close(s);
	}
	return failed;
}
