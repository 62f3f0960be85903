/* SPDX-License-Identifier: GPL-2.0-only */
/* The harness measuring itself: what an empty operation and a bare syscall cost here. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"
#include "timing.h"

static int op_empty(struct bench_ctx *ctx, uint64_t n)
{
	(void)ctx;
	empty_loop(n);
	return 0;
}

static int op_getppid(struct bench_ctx *ctx, uint64_t n)
{
	pid_t want = getppid();

	for (uint64_t i = 0; i < n; i++)
		if (syscall(SYS_getppid) != want)
			return bench_fail(ctx, 0, "getppid returned an unexpected value");
	return 0;
}

/* Map, write one byte in each of `pages` pages, unmap: exactly `pages` minor faults per
 * operation (too small for a transparent huge page), the known count the perf counters are
 * cross-checked against (tests/t_counters.py). */
static int touch_pages_once(struct bench_ctx *ctx, long pages, long page)
{
	size_t len = (size_t)pages * (size_t)page;
	volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return bench_fail(ctx, errno, "mmap of %ld pages", pages);
	for (long k = 0; k < pages; k++)
		p[k * page] = 1;
	if (munmap((void *)p, len) < 0)
		return bench_fail(ctx, errno, "munmap of %ld pages", pages);
	return 0;
}

static int op_touch_pages(struct bench_ctx *ctx, uint64_t n)
{
	long pages = bench_param(ctx, "pages"), page = sysconf(_SC_PAGESIZE);

	for (uint64_t i = 0; i < n; i++)
		if (touch_pages_once(ctx, pages, page) < 0)
			return -1;
	return 0;
}

/* The faults really happen: getrusage's minor fault count, independent of perf. */
static int verify_touch_pages(struct bench_ctx *ctx)
{
	long pages = bench_param(ctx, "pages");
	struct rusage before, after;

	getrusage(RUSAGE_SELF, &before);
	if (touch_pages_once(ctx, pages, sysconf(_SC_PAGESIZE)) < 0)
		return -1;
	getrusage(RUSAGE_SELF, &after);
	if (after.ru_minflt - before.ru_minflt < pages)
		return bench_fail(ctx, 0, "touching %ld fresh pages took only %ld minor faults", pages,
				  after.ru_minflt - before.ru_minflt);
	return 0;
}

const struct bench family_harness[] = {
	{ .name = "empty", .family = "harness", .op = op_empty,
	  .summary = "one iteration of the runner's empty loop: the floor under every figure" },
	{ .name = "syscall.getppid", .family = "harness", .op = op_getppid,
	  .summary = "raw getppid(2): the cost of entering and leaving the kernel here" },
	{ .name = "touch_pages", .family = "harness", .op = op_touch_pages, .verify = verify_touch_pages,
	  .params = "pages=16,256", .quick_params = "pages=64",
	  .summary = "mmap, write one byte per page, munmap: `pages` page faults, a known count" },
	{ 0 },
};
