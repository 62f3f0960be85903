/* SPDX-License-Identifier: GPL-2.0-only */
/* `msealbench maps PID | [--seal MODE] -- COMMAND ARGS...`: a program's mappings, which are
 * sealed now (smaps VmFlags "sl"), which each seal mode and the kernel option would seal, and
 * the critical ones: those whose sealing denies what known software does to them.
 *
 * With a COMMAND, the program is started under ptrace with libmsealbench-seal.so preloaded; the
 * library seals what --seal asks (nothing by default) and stops the program after its libraries
 * are mapped, before main: the moment `msealbench try` seals. A static program (no loader: AT_BASE
 * 0 in its auxv) is read at its exec stop instead. The program is then killed. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "main.h"
#include "maps.h"
#include "options.h"
#include "seal.h"
#include "util.h"

extern const struct command cmd_maps;

#define PRELOAD_LIBRARY "libmsealbench-seal.so"

static const char maps_usage[] =
	"usage: msealbench maps PID\n"
	"       msealbench maps [--seal none|sysmap|all] -- COMMAND [ARGS...]\n"
	"A program's mappings: which are sealed now (VmFlags sl in /proc/PID/smaps), which the seal\n"
	"modes sysmap and all and the kernel option CONFIG_MSEAL_SYSTEM_MAPPINGS would seal, and the\n"
	"critical ones (marked !): mappings that known software moves or unmaps, which sealing denies.\n"
	"With a COMMAND, it runs with " PRELOAD_LIBRARY " preloaded, which seals what --seal\n"
	"asks (default none) and stops it once its libraries are mapped, before main; it is read\n"
	"then and killed. A static program is read at its exec instead (nothing can seal it there).\n"
	"\n"
	"  --seal MODE   seal before reading (COMMAND only), as msealbench try does\n"
	"\n"
	"Exit status: 0 shown, 1 the program could not be started or read, 2 bad usage.\n";

static void maps_help(FILE *f)
{
	fputs(maps_usage, f);
}

/* Why a mapping matters to an admin deciding on sealing; NULL when it does not stand out. */
static const char *critical_reason(const struct mapping *m)
{
	if (!strcmp(m->name, "[vdso]") || !strcmp(m->name, "[vvar]") || !strcmp(m->name, "[vvar_vclock]"))
		return "CRIU restore, rr, gVisor and user-mode Linux move or unmap it; sealed, that fails (EPERM)";
	if (!strcmp(m->name, "[vsyscall]"))
		return "cannot be sealed (a fixed legacy page outside the process's VMAs)";
	if (!strcmp(m->name, "[uprobes]"))
		return "uprobes' instruction slots; the kernel option seals it";
	if (!strcmp(m->name, "[sigpage]") || !strcmp(m->name, "[vectors]"))
		return "arm compat signal return page; the kernel option seals it";
	return NULL;
}

struct maps_table {
	long shown, sealed_now, would[SEAL_MODE_COUNT], kernel, critical;
};

static const char *yes(bool b)
{
	return b ? "yes" : "-";
}

static bool print_mapping(const struct mapping *m, void *arg)
{
	struct maps_table *t = arg;
	bool now = vmflags_has(m->vmflags, "sl");
	bool sysmap = seal_mode_covers(m, SEAL_SYSMAP), all = seal_mode_covers(m, SEAL_ALL);
	bool kernel = is_system_mapping(m->name);	/* what CONFIG_MSEAL_SYSTEM_MAPPINGS seals */
	const char *why = critical_reason(m);

	printf("%012lx-%012lx %s %-3s %-6s %-3s %-6s %s %s\n", (unsigned long)m->start, (unsigned long)m->end,
	       m->perms, yes(now), yes(sysmap), yes(all), yes(kernel), why ? "!" : " ",
	       m->name[0] ? m->name : "(anonymous)");
	t->shown++;
	t->sealed_now += now;
	t->would[SEAL_SYSMAP] += sysmap;
	t->would[SEAL_ALL] += all;
	t->kernel += kernel;
	t->critical += why != NULL;
	return true;
}

static bool print_critical(const struct mapping *m, void *arg)
{
	const char *why = critical_reason(m);

	(void)arg;
	if (why)
		printf("  ! %s%s: %s\n", m->name, vmflags_has(m->vmflags, "sl") ? " (sealed now)" : "", why);
	return true;
}

static int show_pid(pid_t pid, const char *what)
{
	char path[64];
	struct maps_table t = { 0 };
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	if (!(f = fopen(path, "re"))) {
		warnx_msb("%s: %s", path, errno_text(errno));
		return 1;
	}
	printf("mappings of %s, pid %d (sl: sealed now; would seal: sysmap, all, kernel option)\n", what, (int)pid);
	printf("%-25s %-4s %-3s %-6s %-3s %-6s %s %s\n", "address", "perm", "sl", "sysmap", "all", "kernel",
	       "!", "name");
	if (maps_walk(f, print_mapping, &t) < 0) {
		fclose(f);
		warnx_msb("%s: not in the smaps format", path);
		return 1;
	}
	printf("%ld mappings: %ld sealed now; sysmap would seal %ld, all %ld, the kernel option %ld\n", t.shown,
	       t.sealed_now, t.would[SEAL_SYSMAP], t.would[SEAL_ALL], t.kernel);
	if (t.critical) {
		printf("critical:\n");
		rewind(f);
		maps_walk(f, print_critical, NULL);
	}
	fclose(f);
	return 0;
}

/* The preload library beside this binary (build/), or where make install puts it. */
static bool find_library(const char *self_exe, char *out, size_t len)
{
	char dir[PATH_MAX], *slash;

	str_copy(dir, sizeof(dir), self_exe);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	snprintf(out, len, "%s/%s", dir, PRELOAD_LIBRARY);
	if (access(out, R_OK) == 0)
		return true;
	snprintf(out, len, "%s/../libexec/msealbench/%s", dir, PRELOAD_LIBRARY);
	return access(out, R_OK) == 0;
}

/* AT_BASE of the process's auxv: where its loader is; 0 for a static program. -1: unreadable. */
static long loader_base(pid_t pid)
{
	char path[64];
	unsigned long aux[2];
	long base = -1;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	while (read(fd, aux, sizeof(aux)) == (ssize_t)sizeof(aux) && aux[0] != AT_NULL)
		if (aux[0] == AT_BASE)
			base = (long)aux[1];
	close(fd);
	return base;
}

static int show_command(char **argv, enum seal_mode mode, const char *self_exe)
{
	char library[PATH_MAX + 64], what[300];
	int status, rc = 1;
	pid_t pid;

	if (!find_library(self_exe, library, sizeof(library)))
		die(1, "%s is missing beside %s and in ../libexec/msealbench (build it: make)", PRELOAD_LIBRARY,
		    self_exe);
	fflush(stdout);
	pid = fork_child(SIGKILL);
	if (pid < 0)
		die(1, "fork: %s", errno_text(errno));
	if (pid == 0) {
		const char *old = getenv("LD_PRELOAD");
		char preload[sizeof(library) + 1024];

		snprintf(preload, sizeof(preload), "%s%s%s", library, old ? " " : "", old ? old : "");
		setenv("LD_PRELOAD", preload, 1);
		setenv("MSEALBENCH_SEAL", seal_mode_name(mode), 1);
		setenv("MSEALBENCH_SEAL_STOP", "1", 1);
		unsetenv("MSEALBENCH_SEAL_REPORT");
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
			_exit(126);
		execvp(argv[0], argv);
		fprintf(stderr, "msealbench maps: exec %s: %s\n", argv[0], errno_text(errno));
		_exit(127);
	}
	/* The exec stop (SIGTRAP): a static program has all its mappings now; a dynamic one goes on
	 * to the library's SIGSTOP. Other signals are passed on. */
	for (bool at_exec = true;;) {
		if (child_reap(pid, &status) < 0)
			die(1, "waitpid: %s", errno_text(errno));
		if (!WIFSTOPPED(status)) {
			char how[200];

			child_describe_exit(status, argv[0], how, sizeof(how));
			warnx_msb("%s before its mappings could be read%s", how,
				  at_exec ? "" : " (did the library run? setuid programs ignore LD_PRELOAD)");
			return 1;
		}
		if (at_exec && WSTOPSIG(status) == SIGTRAP) {
			at_exec = false;
			if (loader_base(pid) == 0) {
				snprintf(what, sizeof(what), "%s at exec (a static program: LD_PRELOAD cannot reach it%s)",
					 argv[0], mode != SEAL_NONE ? ", so it cannot be sealed this way" : "");
				break;
			}
			ptrace(PTRACE_CONT, pid, NULL, NULL);
			continue;
		}
		if (WSTOPSIG(status) == SIGSTOP) {
			snprintf(what, sizeof(what), "%s with its libraries loaded, before main, sealed by the "
				 "library: %s", argv[0], mode == SEAL_NONE ? "nothing" : seal_mode_name(mode));
			break;
		}
		ptrace(PTRACE_CONT, pid, NULL, (void *)(long)WSTOPSIG(status));
	}
	rc = show_pid(pid, what);
	kill(pid, SIGKILL);
	child_reap(pid, &status);
	return rc;
}

static int maps_main(int argc, char **argv, const char *self_exe)
{
	static const struct option longopts[] = { { "seal", required_argument, NULL, 's' }, OPTION_HELP,
						  { 0, 0, 0, 0 } };
	enum seal_mode mode = SEAL_NONE;
	bool seal_given = false;
	long pid;
	int c;

	msb_prog = "msealbench maps";
	while ((c = options_next(argc, argv, longopts, &cmd_maps)) != -1) {
		if (c == 's') {
			if (!seal_mode_parse(optarg, &mode))
				usage_error("--seal '%s': the modes are none, sysmap, all", optarg);
			seal_given = true;
		}
	}
	if (optind >= argc)
		usage_error("give a PID, or -- COMMAND [ARGS...]");
	if (strcmp(argv[optind - 1], "--") == 0)
		return show_command(argv + optind, mode, self_exe);
	options_no_more_operands(argc, argv, 1);
	if (!parse_long(argv[optind], 1, INT_MAX, &pid))
		usage_error("'%s' is not a process id (for a command: msealbench maps -- COMMAND)", argv[optind]);
	if (seal_given)
		usage_error("--seal applies to a COMMAND it starts, not to a running process");
	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		die(1, "no process %ld", pid);
	return show_pid((pid_t)pid, "process");
}

const struct command cmd_maps = { "maps", maps_main,
				  "a program's mappings: sealed now, what each seal mode and the kernel option would seal",
				  maps_help };
