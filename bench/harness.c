/* The harness measuring itself: what an empty operation and a bare syscall cost here. */
#define _GNU_SOURCE
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

const struct bench family_harness[] = {
	{ .name = "empty", .family = "harness", .op = op_empty,
	  .summary = "one iteration of the runner's empty loop: the floor under every figure" },
	{ .name = "syscall.getppid", .family = "harness", .op = op_getppid,
	  .summary = "raw getppid(2): the cost of entering and leaving the kernel here" },
	{ 0 },
};
