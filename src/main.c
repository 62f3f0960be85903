/* SPDX-License-Identifier: GPL-2.0-only */
/* msealbench: the command table (perf style: each command a row, in its own file). */
#define _GNU_SOURCE
#include "main.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define COMMAND(n) extern const struct command cmd_##n;
#include "commands.h"
#undef COMMAND

static const struct command *const commands[] = {
#define COMMAND(n) &cmd_##n,
#include "commands.h"
#undef COMMAND
};

const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

const struct command *command_at(size_t i)
{
	return i < ARRAY_SIZE(commands) ? commands[i] : NULL;
}

/* The binary's absolute path: cells and the seal check re-exec it. */
static void find_self_exe(char *buf, size_t len, const char *argv0)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	if (n > 0) {
		buf[n] = '\0';
		return;
	}
	if (!realpath(argv0, buf))
		die(1, "cannot find my own path (/proc/self/exe: %s); is /proc mounted?", errno_text(errno));
}

/* A closed standard descriptor would be reused by the next pipe, which dup2() onto it then
 * leaves close-on-exec: hold 0, 1 and 2 open on /dev/null when they are closed. */
static void keep_standard_fds_open(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF && open("/dev/null", O_RDWR) != fd)
			die(1, "cannot open /dev/null for the closed descriptor %d: %s", fd, errno_text(errno));
}

int main(int argc, char **argv)
{
	static char self_exe[PATH_MAX], stdout_buffer[1 << 16];
	static char *help_argv[] = { "help", NULL };
	const char *name = argc > 1 ? argv[1] : "help";
	const struct command *c;

	keep_standard_fds_open();
	/* Not a terminal: one buffer holds any help text or table, so that a failed write (a full
	 * disk) is seen at the exit's flush with its own errno, not as an earlier write whose errno
	 * is gone (check_stdout_at_exit). */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, stdout_buffer, _IOFBF, sizeof(stdout_buffer));	/* glibc sizes a NULL one itself */
	atexit(check_stdout_at_exit);
	find_self_exe(self_exe, sizeof(self_exe), argv[0]);
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
		name = "help";
	if (strcmp(name, "--version") == 0)
		name = "version";
	if (!(c = command_find(name)))
		die(2, "unknown command '%s' (try 'msealbench help')", name);
	if (argc < 2)
		return c->main(1, help_argv, self_exe);
	return c->main(argc - 1, argv + 1, self_exe);
}
