/* SPDX-License-Identifier: GPL-2.0-only */
/* fork family: creating a process as the parent sees it. fork() copies every VMA and the page
 * tables of touched anonymous memory, so its cost grows with `vmas` and `touched_kb`; sealed
 * VMAs are copied sealed (the seal is a VMA flag). vfork() and posix_spawn() share the parent's
 * mm instead, so they show whether sealing reaches process creation at all.
 * The children do the work: BENCH_F_CHILDREN counts them. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"
#include "child.h"
#include "family_util.h"
#include "maps.h"

struct fork_state {
	struct vma_run extra;		/* the `vmas` extra VMAs, one touched page each */
	char *touched;			/* `touched_kb` of written anonymous memory */
	size_t touched_len;
	char helper[PATH_MAX];
};

static int fork_setup(struct bench_ctx *ctx)
{
	long vmas = bench_param(ctx, "vmas"), touched_kb = bench_param(ctx, "touched_kb");
	struct fork_state *s = calloc(1, sizeof(*s));

	if (!s)
		return bench_fail(ctx, ENOMEM, "fork state");
	ctx->state = s;
	if (vmas > 0 && vma_run_create(ctx, &s->extra, vmas, 1, true) < 0)
		return -1;
	if (touched_kb > 0) {
		s->touched_len = (size_t)touched_kb * 1024;
		s->touched = mmap(NULL, s->touched_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (s->touched == MAP_FAILED) {
			s->touched = NULL;
			return bench_fail(ctx, errno, "mmap of %ld KiB to touch", touched_kb);
		}
		/* Small pages, so the page-table copy is what a typical heap costs. */
		madvise(s->touched, s->touched_len, MADV_NOHUGEPAGE);
		for (size_t off = 0; off < s->touched_len; off += page_size())
			s->touched[off] = (char)(off / page_size() + 1);
	}
	if (ctx->bench->arg && helper_path(ctx, ctx->bench->arg, s->helper, sizeof(s->helper)) < 0)
		return -1;
	return 0;
}

static void fork_teardown(struct bench_ctx *ctx)
{
	struct fork_state *s = ctx->state;

	if (!s)
		return;
	vma_run_release(&s->extra);
	if (s->touched)
		munmap(s->touched, s->touched_len);
	free(s);
	ctx->state = NULL;
}

static int op_fork(struct bench_ctx *ctx, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		if (pid < 0)
			return bench_fail(ctx, errno, "fork");
		if (reap_ok(ctx, pid, "the fork child") < 0)
			return -1;
	}
	return 0;
}

/* Its own function, so no variable of the caller lives across vfork() (-Wclobbered). */
static __attribute__((noinline)) pid_t vfork_and_exit(void)
{
	pid_t pid = vfork();

	if (pid == 0)
		_exit(0);
	return pid;
}

static int op_vfork(struct bench_ctx *ctx, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		pid_t pid = vfork_and_exit();

		if (pid < 0)
			return bench_fail(ctx, errno, "vfork");
		if (reap_ok(ctx, pid, "the vfork child") < 0)
			return -1;
	}
	return 0;
}

static int op_posix_spawn(struct bench_ctx *ctx, uint64_t n)
{
	struct fork_state *s = ctx->state;
	char *argv[] = { s->helper, NULL };

	for (uint64_t i = 0; i < n; i++) {
		pid_t pid;
		int err = posix_spawn(&pid, s->helper, NULL, NULL, argv, helper_env);

		if (err)
			return bench_fail(ctx, err, "posix_spawn %s", s->helper);
		if (reap_ok(ctx, pid, s->helper) < 0)
			return -1;
	}
	return 0;
}

/* What the child of fork() sees: every extra VMA, the touched memory intact, and in sysmap mode
 * its system mappings still sealed (fork keeps the seal). Exit code says which check failed. */
static int child_checks(const struct fork_state *s, enum seal_mode seal)
{
	char names[256];

	if (count_vmas_self() < s->extra.vmas)
		return 3;
	for (size_t off = 0; off < s->touched_len; off += page_size())
		if (s->touched[off] != (char)(off / page_size() + 1))
			return 4;
	if (seal_modes[seal].seals_system_mappings && sealed_system_mappings_self(names, sizeof(names)) < 1)
		return 5;
	return 0;
}

static int fork_verify(struct bench_ctx *ctx)
{
	static const char *const failed[] = {
		[3] = "the child has fewer VMAs than the extra ones made",
		[4] = "the child reads different data in the touched memory",
		[5] = "the child's system mappings are not sealed in sysmap mode (fork must keep seals)",
	};
	struct fork_state *s = ctx->state;
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(child_checks(s, ctx->seal));
	if (pid < 0 || child_reap(pid, &status) < 0)
		return bench_fail(ctx, errno, "fork for the verify child");
	if (WIFEXITED(status) && WEXITSTATUS(status) >= 3 && WEXITSTATUS(status) <= 5)
		return bench_fail(ctx, 0, "%s", failed[WEXITSTATUS(status)]);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return bench_fail(ctx, 0, "the verify child failed (status %#x)", status);
	return 0;
}

const struct bench family_fork[] = {
	{ .name = "fork", .family = "fork", .flags = BENCH_F_CHILDREN,
	  .summary = "fork(), the child _exit(0)s, waitpid(): with `vmas` extra VMAs (one touched page "
		     "each) and `touched_kb` of written memory whose page tables fork copies",
	  .params = "vmas=0,64,1024,8192;touched_kb=0,1024,16384", .quick_params = "vmas=0,1024;touched_kb=0",
	  .supported = needs_native_kernel, .setup = fork_setup, .op = op_fork, .verify = fork_verify, .teardown = fork_teardown },
	{ .name = "vfork", .family = "fork", .flags = BENCH_F_CHILDREN,
	  .summary = "vfork(), the child _exit(0)s, waitpid(): no mm copy, so sealing should not matter",
	  .setup = fork_setup, .op = op_vfork, .verify = fork_verify, .teardown = fork_teardown },
	{ .name = "posix_spawn", .family = "fork", .flags = BENCH_F_CHILDREN, .arg = "exit_now",
	  .summary = "posix_spawn() of the tiny static helper exit_now and waitpid(); the helper seals "
		     "nothing, so only the parent's seal mode differs",
	  .supported = needs_native_kernel, .setup = fork_setup, .op = op_posix_spawn, .verify = fork_verify, .teardown = fork_teardown },
	{ 0 },
};
