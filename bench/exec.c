/* SPDX-License-Identifier: GPL-2.0-only */
/* exec family: starting a program, split in two. The helper exec_report writes the
 * CLOCK_MONOTONIC_RAW time it is ready in main to a pipe, so each way of spawning has two
 * benchmarks doing the same work: NAME times spawn to reaped (the parent's wall time) and
 * NAME.to_main times spawn to main (the helper's own clock reading; the reaping is left out).
 *
 * Sealing and exec: exec builds a new mm, so a seal never survives it. In sysmap mode the helper
 * seals its own system mappings first thing in main (and to_main ends after that), the nearest
 * user space gets to what CONFIG_MSEAL_SYSTEM_MAPPINGS does inside exec: these figures are exec
 * plus a user-space seal. The helper finds the mappings without /proc (this cell reads their
 * layout once, untimed, and passes it down), so none is a bare exec plus the time report and
 * sysmap adds the mseal calls alone. NAME.bare execs a twin that does nothing (exit_now), as
 * lmbench's lat_proc exec does: the gap to a bare exec is measured, not assumed. The kernel's own
 * cost of sealing at exec needs two kernels, with and without the option, compared run against
 * run. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "bench.h"
#include "child.h"
#include "family_util.h"
#include "maps.h"
#include "util.h"

enum spawn_how { SPAWN_FORK_EXECVE, SPAWN_VFORK_EXECVE, SPAWN_POSIX_SPAWN };

struct exec_kind {
	enum spawn_how how;
	const char *helper;	/* in the helper directory */
	bool to_main;		/* report spawn-to-main instead of spawn-to-reaped */
	bool bare;		/* the helper does nothing and reports nothing */
};

struct exec_state {
	char helper[PATH_MAX];
	char fd_text[16];
	char layout[512];	/* the system mappings, OFFSET:LENGTH,... from the vDSO */
	char *argv[6];
	int report_rd, report_wr;	/* the helper writes its time to report_wr */
};

static const struct exec_kind *kind_of(const struct bench_ctx *ctx)
{
	return ctx->bench->arg;
}

struct layout {
	uintptr_t vdso;
	char *buf;
	size_t len, used;
};

static bool add_to_layout(const struct mapping *m, void *arg)
{
	struct layout *l = arg;

	/* [uprobes] appears only at a process's first uprobe hit, anywhere: a fresh helper has none. */
	if (is_system_mapping(m->name) && strcmp(m->name, "[uprobes]") != 0)
		l->used += (size_t)snprintf(l->buf + l->used, l->used < l->len ? l->len - l->used : 0,
					    "%s%ld:%lu", l->used ? "," : "", (long)(m->start - l->vdso),
					    (unsigned long)(m->end - m->start));
	return true;
}

/* Where the kernel puts the system mappings, relative to the vDSO: the same in every process of
 * this kernel, so the helper need not read /proc to find its own. */
static int system_layout(struct bench_ctx *ctx, char *buf, size_t len)
{
	struct layout l = { (uintptr_t)getauxval(AT_SYSINFO_EHDR), buf, len, 0 };

	buf[0] = '\0';
	if (!l.vdso)
		return 0;	/* no vDSO (vdso=0): no system mappings to seal */
	if (maps_walk_self_smaps(add_to_layout, &l) < 0)
		return bench_fail(ctx, errno, "reading /proc/self/smaps for the system mappings' layout");
	if (l.used >= len)
		return bench_fail(ctx, 0, "the system mappings' layout does not fit %zu bytes", len);
	return 0;
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
	if (kind_of(ctx)->bare)
		return 0;
	s->argv[1] = seal_modes[ctx->seal].seals_system_mappings ? "sysmap" : "none";
	s->argv[2] = s->fd_text;
	s->argv[3] = s->layout;
	return system_layout(ctx, s->layout, sizeof(s->layout));
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
		[6] = "/proc/self/smaps unreadable",
		[7] = "no vDSO in its auxiliary vector, though this process has one",
	};
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

	if (WIFSIGNALED(status))
		return bench_fail(ctx, 0, "%s killed by signal %d (%s)", path, WTERMSIG(status),
				  strsignal(WTERMSIG(status)));
	if (code == 127)
		return bench_fail(ctx, 0, "execve %s failed in the child", path);
	if (code >= 2 && code <= 7)
		return bench_fail(ctx, 0, "%s: %s (exit %d)", path, meaning[code], code);
	return bench_fail(ctx, 0, "%s exited with status %d", path, code);
}

/* Its own function, so no variable of the caller lives across vfork() (-Wclobbered). */
static __attribute__((noinline)) pid_t vfork_execve(const char *path, char **argv)
{
	pid_t pid = vfork();

	if (pid == 0) {
		execve(path, argv, helper_env);
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
			execve(s->helper, argv, helper_env);
			_exit(127);
		}
		break;
	case SPAWN_VFORK_EXECVE:
		pid = vfork_execve(s->helper, argv);
		break;
	case SPAWN_POSIX_SPAWN:
		err = posix_spawn(&pid, s->helper, NULL, NULL, argv, helper_env);
		break;
	}
	if (pid < 0 || err)
		return bench_fail(ctx, err ? err : errno, "spawning %s", s->helper);
	if (child_reap(pid, &status) < 0)
		return bench_fail(ctx, errno, "waitpid for %s", s->helper);
	*reaped = now_ns();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return helper_failed(ctx, s->helper, status);
	if (kind_of(ctx)->bare)
		return *in_main = *reaped, 0;
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
 * sealed) before it reports; a time inside the spawn window proves the report path works. The
 * bare twin only has to exit 0. */
static int exec_verify(struct bench_ctx *ctx)
{
	struct exec_state *s = ctx->state;
	char *argv[] = { s->argv[0], s->argv[1], s->argv[2], s->argv[3], "verify", NULL };
	uint64_t spawned, in_main, reaped;

	return spawn_once(ctx, argv, &spawned, &in_main, &reaped);
}

#define EXEC_BENCH(nm, how_, helper_, what)                                                        \
	{ .name = nm, .family = "exec", .flags = BENCH_F_CHILDREN,                                  \
	  .arg = &(const struct exec_kind){ how_, helper_, false, false },                          \
	  .summary = what ", to reaped: until waitpid() returns (sysmap: the helper seals its system " \
		     "mappings first)",                                                              \
	  .supported = needs_native_kernel, .setup = exec_setup, .op = op_exec,                      \
	  .verify = exec_verify, .teardown = exec_teardown },                                       \
	{ .name = nm ".to_main", .family = "exec", .flags = BENCH_F_CHILDREN,                       \
	  .arg = &(const struct exec_kind){ how_, helper_, true, false },                           \
	  .summary = what ", to main: until the helper is in main (sysmap: and has sealed its "      \
		     "system mappings), by the helper's CLOCK_MONOTONIC_RAW",                         \
	  .supported = needs_native_kernel, .setup = exec_setup, .op = op_exec,                      \
	  .verify = exec_verify, .teardown = exec_teardown }

/* The bare twin: the same spawn of a helper that exits at once, in every mode. */
#define EXEC_BARE(nm, how_, helper_, what)                                                         \
	{ .name = nm ".bare", .family = "exec", .flags = BENCH_F_CHILDREN,                          \
	  .arg = &(const struct exec_kind){ how_, helper_, false, true },                           \
	  .summary = what ", to reaped; the helper exits at once in every mode (a bare exec)",       \
	  .supported = needs_native_kernel, .setup = exec_setup, .op = op_exec,                      \
	  .verify = exec_verify, .teardown = exec_teardown }

const struct bench family_exec[] = {
	EXEC_BENCH("fork_execve.static", SPAWN_FORK_EXECVE, "exec_report",
		   "fork() + execve() of the static helper exec_report"),
	EXEC_BARE("fork_execve.static", SPAWN_FORK_EXECVE, "exit_now",
		  "fork() + execve() of the static helper exit_now"),
	EXEC_BENCH("fork_execve.dynamic", SPAWN_FORK_EXECVE, "exec_report_dynamic",
		   "fork() + execve() of the dynamically linked helper exec_report_dynamic"),
	EXEC_BARE("fork_execve.dynamic", SPAWN_FORK_EXECVE, "exit_now_dynamic",
		  "fork() + execve() of the dynamically linked helper exit_now_dynamic"),
	EXEC_BENCH("vfork_execve.static", SPAWN_VFORK_EXECVE, "exec_report",
		   "vfork() + execve() of the static helper exec_report"),
	EXEC_BENCH("posix_spawn.static", SPAWN_POSIX_SPAWN, "exec_report",
		   "posix_spawn() of the static helper exec_report"),
	{ 0 },
};
