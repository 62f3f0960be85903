/* msealbench: command dispatch, one function per command (perf bench style). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cell.h"
#include "env.h"
#include "kernel_facts.h"
#include "events.h"
#include "json.h"
#include "probe.h"
#include "runner.h"
#include "util.h"
#include "vm.h"

static int env_main(int argc, char **argv, const char *self_exe)
{
	struct env_info e;
	struct json j;

	msb_prog = "msealbench env";
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		puts("usage: msealbench env\nPrints the environment block of a results file (JSON): kernel,\n"
		     "CPU, clocksource, virtualisation, perf_event_paranoid, mseal availability, which\n"
		     "system mappings the kernel sealed at exec and the kernel config that governs it.");
		return 0;
	}
	if (argc > 1)
		die(2, "unexpected argument '%s' (try 'msealbench env --help')", argv[1]);
	env_collect(&e, self_exe);
	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	env_write_json(&j, &e);
	json_object_end(&j);
	return 0;
}

static int version_main(int argc, char **argv, const char *self_exe)
{
	(void)self_exe;
	msb_prog = "msealbench version";
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		puts("usage: msealbench version\nPrints the version.");
		return 0;
	}
	if (argc > 1)
		die(2, "unexpected argument '%s' (try 'msealbench help')", argv[1]);
	printf("msealbench %s\n", MSB_VERSION);
	return 0;
}

static int help_main(int argc, char **argv, const char *self_exe);

struct command {
	const char *name;
	int (*fn)(int argc, char **argv, const char *self_exe);
	const char *summary;	/* NULL: internal, not listed */
};

static const struct command commands[] = {
	{ "run", run_main, "run benchmarks in each seal mode and write a results file" },
	{ "list", list_main, "list benchmarks, their parameters and whether they run here" },
	{ "env", env_main, "print the environment block (kernel, CPU, mseal, kernel sealing)" },
	{ "probe", probe_main, "check mseal(2), kernel sealing at exec and what sealing denies (TAP)" },
	{ "events", events_main, "perf events: what the PMUs offer and what counts for you here" },
	{ "profile", profile_main, "run one cell under perf record and show the top kernel symbols" },
	{ "vm", vm_main, "boot kernels under qemu, run the suite inside each and compare them" },
	{ "version", version_main, "print the version" },
	{ "help", help_main, "this text" },
	{ "__cell", NULL, NULL },
	{ "__sealed-at-exec", NULL, NULL },
	{ "__probe-exec", NULL, NULL },
	{ "__sealed-maps", NULL, NULL },
	{ "__seccomp-nomseal", NULL, NULL },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (commands[i].fn && strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* `help` lists the commands; `help COMMAND` is `COMMAND --help`. */
static int help_main(int argc, char **argv, const char *self_exe)
{
	const struct command *c = argc > 1 ? find_command(argv[1]) : NULL;

	msb_prog = "msealbench help";
	if (argc > 2)
		die(2, "unexpected argument '%s' (try 'msealbench help')", argv[2]);
	if (argc > 1 && !c && strcmp(argv[1], "--help") != 0)
		die(2, "unknown command '%s' (try 'msealbench help')", argv[1]);
	if (c && c->fn != help_main) {
		char *args[] = { argv[1], "--help", NULL };

		return c->fn(2, args, self_exe);
	}
	printf("usage: msealbench COMMAND [options]\n"
	       "Benchmarks what memory sealing (mseal(2), CONFIG_MSEAL_SYSTEM_MAPPINGS) costs.\n\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (commands[i].summary)
			printf("  %-9s %s\n", commands[i].name, commands[i].summary);
	printf("\n'msealbench COMMAND --help' or 'msealbench help COMMAND' tells more. Start with: make bench\n");
	return 0;
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
	static char self_exe[PATH_MAX];
	const char *name = argc > 1 ? argv[1] : "help";

	keep_standard_fds_open();
	atexit(check_stdout_at_exit);
	find_self_exe(self_exe, sizeof(self_exe), argv[0]);
	if (strcmp(name, "__cell") == 0)
		return cell_main(argc - 1, argv + 1, self_exe);
	if (strcmp(name, "__sealed-at-exec") == 0)
		return sealed_at_exec_main(argc - 1, argv + 1, self_exe);
	if (strcmp(name, "__probe-exec") == 0)
		return probe_exec_main(argc - 1, argv + 1);
	if (strcmp(name, "__sealed-maps") == 0)
		return sealed_maps_main(argc - 1, argv + 1);
	if (strcmp(name, "__seccomp-nomseal") == 0)
		return seccomp_nomseal_main(argc - 1, argv + 1);
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
		name = "help";
	if (strcmp(name, "--version") == 0)
		name = "version";
	if (find_command(name))
		return find_command(name)->fn(argc > 1 ? argc - 1 : argc, argc > 1 ? argv + 1 : argv, self_exe);
	die(2, "unknown command '%s' (try 'msealbench help')", name);
}
