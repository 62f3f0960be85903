/* exec family: starting a program, split in two. The helper exec_report writes the
 * CLOCK_MONOTONIC_RAW time it is ready in main to a pipe, so each way of spawning has two
 * benchmarks doing the same work: NAME times spawn to reaped (the parent's wall time) and
 * NAME.to_main times spawn to main (the helper's own clock reading; the reaping is left out).
 *
 * Sealing and exec: exec builds a new mm, so a seal never survives it. In sysmap mode the helper
 * seals its own system mappings first thing in main (and to_main ends after that), the nearest
 * user space gets to what CONFIG_MSEAL_SYSTEM_MAPPINGS does inside exec: these figures are exec
 * plus a user-space seal. The helper finds the mappings in /proc/self/maps in every mode, so
 * sysmap against none is the cost of the mseal calls alone. The kernel's own cost of sealing at exec needs two kernels, with and
 * without the option, compared run against run. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "child.h"
#include "family_util.h"
#include "util.h"

extern char **environ;

enum spawn_how { SPAWN_FORK_EXECVE, SPAWN_VFORK_EXECVE, SPAWN_POSIX_SPAWN };

struct exec_kind {
	enum spawn_how how;
	const char *helper;	/* in the helper directory */
	bool to_main;		/* report spawn-to-main instead of spawn-to-reaped */
};

struct exec_state {
	char helper[PATH_MAX];
	char fd_text[16];
	char *argv[5];
	int report_rd, report_wr;	/* the helper writes its time to report_wr */
};

static const struct exec_kind *kind_of(const struct bench_ctx *ctx)
{
	return ctx->bench->arg;
}

static int exec_setup(struct bench_ctx *ctx)
{
	struct exec_state *s = calloc(1, sizeof(*s));
	int fds[2];

	if (!s)
		return bench_fail(ctx, ENOMEM, "exec state");
	s->report_rd = s->report_wr = -1;
	ctx->state = s;
	if (helper_path(ctx, kind_of(ctx)->helper, s->helper, sizeof(s->helper)) < 0)
		return -1;
	/* The read end stays in this process; the write end is inherited through exec. */
	if (pipe(fds) < 0 || fcntl(fds[0], F_SETFD, FD_CLOEXEC) < 0 || fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0)
		return bench_fail(ctx, errno, "pipe for the helper's report");
	s->report_rd = fds[0];
	s->report_wr = fds[1];
	snprintf(s->fd_text, sizeof(s->fd_text), "%d", s->report_wr);
	s->argv[0] = s->helper;
	s->argv[1] = seal_modes[ctx->seal].seals_system_mappings ? "sysmap" : "none";
	s->argv[2] = s->fd_text;
	s->argv[3] = NULL;
	return 0;
}

static void exec_teardown(struct bench_ctx *ctx)
{
	struct exec_state *s = ctx->state;

	if (!s)
		return;
	if (s->report_rd >= 0)
		close(s->report_rd);
	if (s->report_wr >= 0)
		close(s->report_wr);
	free(s);
	ctx->state = NULL;
}

/* The helper's exit status as words (see bench/helpers/exec_report.c). */
static int helper_failed(struct bench_ctx *ctx, const char *path, int status)
{
	static const char *const meaning[] = {
		[2] = "bad usage", [3] = "a system mapping is not sealed in sysmap mode",
		[4] = "mseal of a system mapping failed", [5] = "writing its time to the pipe failed",
		[6] = "/proc/self/maps or smaps unreadable",
	};
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

	if (WIFSIGNALED(status))
		return bench_fail(ctx, 0, "%s killed by signal %d (%s)", path, WTERMSIG(status),
				  strsignal(WTERMSIG(status)));
	if (code == 127)
		return bench_fail(ctx, 0, "execve %s failed in the child", path);
	if (code >= 2 && code <= 6)
		return bench_fail(ctx, 0, "%s: %s (exit %d)", path, meaning[code], code);
	return bench_fail(ctx, 0, "%s exited with status %d", path, code);
}

/* Its own function, so no variable of the caller lives across vfork() (-Wclobbered). */
static __attribute__((noinline)) pid_t vfork_execve(const char *path, char **argv)
{
	pid_t pid = vfork();

	if (pid == 0) {
		execve(path, argv, environ);
		_exit(127);
	}
	return pid;
}

/* One spawn of the helper; the times of spawn, main and reaped in ns. */
static int spawn_once(struct bench_ctx *ctx, char **argv, uint64_t *spawned, uint64_t *in_main,
		      uint64_t *reaped)
{
	struct exec_state *s = ctx->state;
	int status, err = 0;
	pid_t pid = -1;

	*spawned = now_ns();
	switch (kind_of(ctx)->how) {
	case SPAWN_FORK_EXECVE:
		pid = fork();
		if (pid == 0) {
			execve(s->helper, argv, environ);
			_exit(127);
		}
		break;
	case SPAWN_VFORK_EXECVE:
		pid = vfork_execve(s->helper, argv);
		break;
	case SPAWN_POSIX_SPAWN:
		err = posix_spawn(&pid, s->helper, NULL, NULL, argv, environ);
		break;
	}
	if (pid < 0 || err)
		return bench_fail(ctx, err ? err : errno, "spawning %s", s->helper);
	if (child_reap(pid, &status) < 0)
		return bench_fail(ctx, errno, "waitpid for %s", s->helper);
	*reaped = now_ns();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return helper_failed(ctx, s->helper, status);
	if (read(s->report_rd, in_main, sizeof(*in_main)) != sizeof(*in_main))
		return bench_fail(ctx, errno, "%s exited 0 but reported no time", s->helper);
	if (*in_main < *spawned || *in_main > *reaped)
		return bench_fail(ctx, 0, "%s reports reaching main at %llu ns, outside spawn %llu .. reaped %llu",
				  s->helper, (unsigned long long)*in_main, (unsigned long long)*spawned,
				  (unsigned long long)*reaped);
	return 0;
}

static int op_exec(struct bench_ctx *ctx, uint64_t n)
{
	struct exec_state *s = ctx->state;
	uint64_t spawned, in_main, reaped, to_main = 0;

	for (uint64_t i = 0; i < n; i++) {
		if (spawn_once(ctx, s->argv, &spawned, &in_main, &reaped) < 0)
			return -1;
		to_main += in_main - spawned;
	}
	if (kind_of(ctx)->to_main)
		ctx->own_ns = to_main ? to_main : 1;
	return 0;
}

/* The helper runs with "verify": it checks its own smaps (in sysmap mode every system mapping
 * sealed) before it reports; a time inside the spawn window proves the report path works. */
static int exec_verify(struct bench_ctx *ctx)
{
	struct exec_state *s = ctx->state;
	char *argv[] = { s->argv[0], s->argv[1], s->argv[2], "verify", NULL };
	uint64_t spawned, in_main, reaped;

	return spawn_once(ctx, argv, &spawned, &in_main, &reaped);
}

#define EXEC_BENCH(nm, how_, helper_, what)                                                        \
	{ .name = nm, .family = "exec", .flags = BENCH_F_CHILDREN,                                  \
	  .arg = &(const struct exec_kind){ how_, helper_, false },                                 \
	  .summary = what ", to reaped: until waitpid() returns (sysmap: the helper seals its system " \
		     "mappings first)",                                                              \
	  .supported = needs_native_kernel, .setup = exec_setup, .op = op_exec,                      \
	  .verify = exec_verify, .teardown = exec_teardown },                                       \
	{ .name = nm ".to_main", .family = "exec", .flags = BENCH_F_CHILDREN,                       \
	  .arg = &(const struct exec_kind){ how_, helper_, true },                                  \
	  .summary = what ", to main: until the helper is in main (sysmap: and has sealed its "      \
		     "system mappings), by the helper's CLOCK_MONOTONIC_RAW",                         \
	  .supported = needs_native_kernel, .setup = exec_setup, .op = op_exec,                      \
	  .verify = exec_verify, .teardown = exec_teardown }

const struct bench family_exec[] = {
	EXEC_BENCH("fork_execve.static", SPAWN_FORK_EXECVE, "exec_report",
		   "fork() + execve() of the static helper exec_report"),
	EXEC_BENCH("fork_execve.dynamic", SPAWN_FORK_EXECVE, "exec_report_dynamic",
		   "fork() + execve() of the dynamically linked helper exec_report_dynamic"),
	EXEC_BENCH("vfork_execve.static", SPAWN_VFORK_EXECVE, "exec_report",
		   "vfork() + execve() of the static helper exec_report"),
	EXEC_BENCH("posix_spawn.static", SPAWN_POSIX_SPAWN, "exec_report",
		   "posix_spawn() of the static helper exec_report"),
	{ 0 },
};
