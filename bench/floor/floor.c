/*
 * bench/floor: run a command with empty BPF programs attached to the raw sys_exit tracepoint (and,
 * with --both, sys_enter too), the way whyfail attaches its own; see floor.bpf.c and bench/README.md.
 *
 *   floor [--both] OBJECT -- COMMAND [ARG...]
 *
 * Exits with the command's status (128 + signal when killed). The programs are detached when floor
 * exits, however it exits: the links are file descriptors of this process.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int both = 0, i = 1;
	if (i < argc && !strcmp(argv[i], "--both")) { both = 1; i++; }
	if (argc - i < 3 || strcmp(argv[i + 1], "--")) {
		fprintf(stderr, "usage: floor [--both] OBJECT -- COMMAND [ARG...]\n");
		return 2;
	}
	const char *path = argv[i];
	char **cmd = argv + i + 2;
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (!obj) { fprintf(stderr, "floor: cannot open %s: %s\n", path, strerror(errno)); return 1; }
	struct bpf_program *enter = bpf_object__find_program_by_name(obj, "floor_enter");
	struct bpf_program *exitp = bpf_object__find_program_by_name(obj, "floor_exit");
	if (!enter || !exitp) { fprintf(stderr, "floor: %s lacks floor_enter/floor_exit\n", path); return 1; }
	if (!both) bpf_program__set_autoload(enter, false);
	if (bpf_object__load(obj)) { fprintf(stderr, "floor: cannot load %s: %s\n", path, strerror(errno)); return 1; }
	if (!bpf_program__attach(exitp) || (both && !bpf_program__attach(enter))) {
		fprintf(stderr, "floor: cannot attach: %s\n", strerror(errno));
		return 1;
	}
	pid_t pid = fork();
	if (pid < 0) { perror("floor: fork"); return 1; }
	if (pid == 0) {
		execvp(cmd[0], cmd);
		fprintf(stderr, "floor: cannot run %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) { perror("floor: waitpid"); return 1; }
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
