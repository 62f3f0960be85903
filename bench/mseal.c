/* SPDX-License-Identifier: GPL-2.0-only */
/* mseal family: the cost of mseal(2) itself, one call over a fresh range spanning `vmas`
 * one-page VMAs (per VMA: divide a sample by `vmas`).
 *
 * Sealing is irreversible, and that shapes the cell's address space:
 * - every operation needs a range never sealed before: prepare() maps the sample's ranges,
 *   untimed, and op() only seals them;
 * - a sealed VMA can never be unmapped, so every VMA sealed stays until the cell process exits
 *   (each round runs in a fresh process, so rounds start clean);
 * - VMAs are bounded by vm.max_map_count (65530 by default), sealed or not. setup() takes the
 *   room left (minus a reserve for the harness, vma_room()); prepare() counts what the samples
 *   use and answers BENCH_NO_ROOM before a sample would overrun it, which ends the cell's
 *   measurement with the samples taken and a note saying so. At vmas=4096 that is about 15
 *   operations per round.
 * - one sample seals at most SAMPLE_VMAS VMAs (prepare refuses larger batches, so calibration
 *   settles below it): many smaller samples rather than a few that eat the budget.
 * The process's VMA count grows during the cell (up to the budget), so later operations walk a
 * larger maple tree; the cost of that is logarithmic and the same in both seal modes. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"
#include "family_util.h"
#include "seal.h"

#define SAMPLE_VMAS 1024	/* VMAs one sample may seal */
#define CHECK_VMAS 64		/* VMAs of the range verify() seals and reads back from smaps */

struct mseal_state {
	long vmas;
	long room, used;		/* VMAs this cell may still create, and has */
	struct vma_run *runs;		/* the current sample's ranges */
	uint64_t nruns, cap;
	struct vma_run last;		/* the range sealed last: verify() tries to undo it */
};

static int mseal_setup(struct bench_ctx *ctx)
{
	struct mseal_state *s = calloc(1, sizeof(*s));

	if (!s)
		return bench_fail(ctx, ENOMEM, "mseal state");
	ctx->state = s;
	s->vmas = bench_param(ctx, "vmas");
	s->room = vma_room();
	if (s->room < 0)
		return bench_fail(ctx, errno, "reading vm.max_map_count and this process's VMA count");
	if (s->room < 8 * s->vmas)
		return bench_fail(ctx, 0, "vm.max_map_count leaves room for %ld VMAs, too few for 8 ranges of %ld",
				  s->room, s->vmas);
	return 0;
}

static void mseal_teardown(struct bench_ctx *ctx)
{
	struct mseal_state *s = ctx->state;

	/* Sealed ranges stay mapped until the cell exits: that is the point of sealing. */
	if (s)
		free(s->runs);
	free(s);
	ctx->state = NULL;
}

static int mseal_prepare(struct bench_ctx *ctx, uint64_t n)
{
	struct mseal_state *s = ctx->state;
	long need = (long)n * s->vmas;

	if (n > 1 && need > SAMPLE_VMAS)
		return bench_fail(ctx, 0, "a sample of %llu ranges would seal more than %d VMAs",
				  (unsigned long long)n, SAMPLE_VMAS), BENCH_NO_ROOM;
	if (s->used + need > s->room) {
		/* The same words every round, so the results keep one note. */
		snprintf(ctx->note, sizeof(ctx->note),
			 "rounds stopped measuring early: sealed VMAs cannot be unmapped and vm.max_map_count "
			 "bounds how many one cell process holds (about %ld here)", s->room / 1000 * 1000);
		return bench_fail(ctx, 0, "no room for %ld more sealed VMAs under vm.max_map_count", need),
		       BENCH_NO_ROOM;
	}
	if (n > s->cap) {
		struct vma_run *more = realloc(s->runs, n * sizeof(*more));

		if (!more)
			return bench_fail(ctx, ENOMEM, "room for %llu ranges", (unsigned long long)n);
		s->runs = more;
		s->cap = n;
	}
	for (s->nruns = 0; s->nruns < n; s->nruns++) {
		if (vma_run_create(ctx, &s->runs[s->nruns], s->vmas, 1, false) < 0)
			return -1;
		s->used += s->vmas;
	}
	return 0;
}

static int op_mseal(struct bench_ctx *ctx, uint64_t n)
{
	struct mseal_state *s = ctx->state;

	for (uint64_t i = 0; i < n; i++)
		if (sys_mseal(s->runs[i].base, s->runs[i].len, 0) < 0)
			return bench_fail(ctx, errno, "mseal of %ld VMAs", s->vmas);
	s->last = s->runs[n - 1];
	s->nruns = 0;
	return 0;
}

/* Before measuring: seal a range of up to CHECK_VMAS VMAs and read every VMA's "sl" back from
 * smaps (reading smaps is cheap only while the process is small). Every time: the last range
 * sealed refuses munmap and mprotect with EPERM and is still mapped. */
static int mseal_verify(struct bench_ctx *ctx)
{
	struct mseal_state *s = ctx->state;
	long check = s->vmas < CHECK_VMAS ? s->vmas : CHECK_VMAS;

	if (!s->last.base) {
		if (mseal_prepare(ctx, 1) != 0)
			return -1;
		vma_run_release(&s->runs[0]);
		s->used -= s->vmas;
		if (vma_run_create(ctx, &s->runs[0], check, 1, false) < 0)
			return -1;
		s->used += check;
		if (op_mseal(ctx, 1) < 0 || range_check(ctx, s->last.base, s->last.len, check, "rw-", true) < 0)
			return -1;
	}
	if (munmap(s->last.base, s->last.len) == 0 || errno != EPERM)
		return bench_fail(ctx, errno, "munmap of a sealed range did not fail with EPERM");
	if (mprotect(s->last.base, s->last.len, PROT_READ) == 0 || errno != EPERM)
		return bench_fail(ctx, errno, "mprotect of a sealed range did not fail with EPERM");
	return range_check(ctx, s->last.base, s->last.len, s->last.vmas, "rw-", false);
}

const struct bench family_mseal[] = {
	{ .name = "range", .family = "mseal",
	  .summary = "one mseal() over a fresh range of `vmas` one-page VMAs (per VMA: divide by vmas); "
		     "the cell stops early when sealed VMAs reach vm.max_map_count",
	  .params = "vmas=1,16,256,4096", .quick_params = "vmas=1,256", .max_batch = SAMPLE_VMAS,
	  .supported = needs_mseal, .setup = mseal_setup, .prepare = mseal_prepare, .op = op_mseal, .verify = mseal_verify,
	  .teardown = mseal_teardown },
	{ 0 },
};
