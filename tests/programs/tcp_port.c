/* tcp_port bind|connect PORT: binds a TCP socket to, or connects one to, 127.0.0.1:PORT. Prints "pid N" first.
 * Exit status: 0 when the call succeeded, 1 when it failed, 100 on a usage error. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[1], "bind") && strcmp(argv[1], "connect"))) {
		fprintf(stderr, "usage: tcp_port bind|connect PORT\n");
		return 100;
	}
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	printf("pid %d\n", getpid());
	fflush(stdout);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 1;
	if (!strcmp(argv[1], "bind"))
		return bind(s, (struct sockaddr *)&a, sizeof a) < 0;
	return connect(s, (struct sockaddr *)&a, sizeof a) < 0;
}
