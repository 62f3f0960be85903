/* SPDX-License-Identifier: GPL-2.0-only */
/* vDSO calls: each time function through the vDSO entry point (found with our own ELF lookup)
 * and as a raw syscall, so the saving the vDSO brings shows beside it. With the system mappings
 * sealed ([vdso], [vvar]), a call must cost the same: sealing changes VMA flags, not the code. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"
#include "bench.h"
#include "child.h"
#include "vdso_sym.h"

enum vdso_kind { K_CLOCK_GETTIME, K_GETTIMEOFDAY, K_TIME, K_GETCPU, K_CLOCK_GETRES };

struct vdso_call {
	enum vdso_kind kind;
	clockid_t clock;
	bool via_syscall;
};

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, struct timezone *);
typedef time_t (*time_fn)(time_t *);
typedef int (*getcpu_fn)(unsigned *, unsigned *, void *);

static const char *const vdso_symbol[] = {
	[K_CLOCK_GETTIME] = ARCH_VDSO_CLOCK_GETTIME, [K_GETTIMEOFDAY] = ARCH_VDSO_GETTIMEOFDAY,
	[K_TIME] = ARCH_VDSO_TIME, [K_GETCPU] = ARCH_VDSO_GETCPU, [K_CLOCK_GETRES] = ARCH_VDSO_CLOCK_GETRES,
};

static const long syscall_nr[] = {
	[K_CLOCK_GETTIME] = SYS_clock_gettime, [K_GETTIMEOFDAY] = SYS_gettimeofday,
#ifdef SYS_time
	[K_TIME] = SYS_time,
#else
	[K_TIME] = -1,
#endif
	[K_GETCPU] = SYS_getcpu, [K_CLOCK_GETRES] = SYS_clock_getres,
};

static const struct vdso_call *call_of(const struct bench_ctx *ctx)
{
	return ctx->bench->arg;
}

static const char *vdso_supported(const struct bench *b, char *why, size_t len)
{
	const struct vdso_call *c = b->arg;

	if (c->via_syscall) {
		if (syscall_nr[c->kind] < 0)
			return "this architecture has no such syscall";
		return NULL;
	}
	if (!vdso_base())
		return "no vDSO in this process (AT_SYSINFO_EHDR is 0: qemu-user or vdso=0)";
	if (!vdso_symbol[c->kind])
		return "this architecture's vDSO has no such entry point";
	if (!vdso_lookup(vdso_symbol[c->kind])) {
		snprintf(why, len, "the vDSO does not export %s", vdso_symbol[c->kind]);
		return why;
	}
	return NULL;
}

/* Does the vDSO entry make the syscall after all (a clocksource the vDSO cannot read)?
 * Run it in a child whose seccomp filter makes that syscall fail with a marker errno: a
 * vDSO function returns -errno from its fallback, so the marker shows the fallback happened. */
static bool vdso_falls_back(const struct vdso_call *c, void *fn)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)syscall_nr[c->kind], 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOTRECOVERABLE),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec ts;
		struct timeval tv;
		long r = 0;

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
			_exit(2);
		if (c->kind == K_CLOCK_GETTIME)
			r = ((clock_gettime_fn)fn)(c->clock, &ts);
		else if (c->kind == K_GETTIMEOFDAY)
			r = ((gettimeofday_fn)fn)(&tv, NULL);
		else if (c->kind == K_CLOCK_GETRES)
			r = ((clock_gettime_fn)fn)(c->clock, &ts);
		_exit(r == -ENOTRECOVERABLE ? 1 : 0);
	}
	if (pid < 0 || child_reap(pid, &status) < 0)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 1;
}

static int vdso_setup(struct bench_ctx *ctx)
{
	const struct vdso_call *c = call_of(ctx);

	if (c->via_syscall)
		return 0;
	ctx->state = vdso_lookup(vdso_symbol[c->kind]);
	if (!ctx->state)
		return bench_fail(ctx, 0, "vDSO symbol %s not found", vdso_symbol[c->kind]);
	if ((c->kind == K_CLOCK_GETTIME || c->kind == K_GETTIMEOFDAY || c->kind == K_CLOCK_GETRES) &&
	    vdso_falls_back(c, ctx->state))
		snprintf(ctx->note, sizeof(ctx->note),
			 "the vDSO serves this call by falling back to the syscall (clocksource not "
			 "readable from user space)");
	return 0;
}

/* clock_gettime and clock_getres share a signature, so one loop serves both. */
static int op_clock_vdso(struct bench_ctx *ctx, uint64_t n)
{
	clock_gettime_fn fn = (clock_gettime_fn)ctx->state;
	clockid_t clock = call_of(ctx)->clock;
	struct timespec ts;
	int bad = 0;

	for (uint64_t i = 0; i < n; i++)
		bad |= fn(clock, &ts);
	return bad ? bench_fail(ctx, -bad, "vDSO %s(%d)", vdso_symbol[call_of(ctx)->kind], (int)clock) : 0;
}

static int op_gettimeofday_vdso(struct bench_ctx *ctx, uint64_t n)
{
	gettimeofday_fn fn = (gettimeofday_fn)ctx->state;
	struct timeval tv;
	int bad = 0;

	for (uint64_t i = 0; i < n; i++)
		bad |= fn(&tv, NULL);
	return bad ? bench_fail(ctx, -bad, "vDSO gettimeofday") : 0;
}

static int op_time_vdso(struct bench_ctx *ctx, uint64_t n)
{
	time_fn fn = (time_fn)ctx->state;
	time_t acc = 0;

	for (uint64_t i = 0; i < n; i++)
		acc |= fn(NULL);
	bench_keep(acc);
	return 0;
}

static int op_getcpu_vdso(struct bench_ctx *ctx, uint64_t n)
{
	getcpu_fn fn = (getcpu_fn)ctx->state;
	unsigned cpu, node;
	int bad = 0;

	for (uint64_t i = 0; i < n; i++)
		bad |= fn(&cpu, &node, NULL);
	return bad ? bench_fail(ctx, -bad, "vDSO getcpu") : 0;
}

/* Raw syscalls, one loop for all: the arguments fit every kind. */
static int op_syscall(struct bench_ctx *ctx, uint64_t n)
{
	const struct vdso_call *c = call_of(ctx);
	long nr = syscall_nr[c->kind];
	struct timespec ts;
	unsigned cpu, node;
	long bad = 0;

	for (uint64_t i = 0; i < n; i++) {
		switch (c->kind) {
		case K_CLOCK_GETTIME:
		case K_CLOCK_GETRES: bad |= syscall(nr, c->clock, &ts); break;
		case K_GETTIMEOFDAY: bad |= syscall(nr, &ts, NULL); break;
		case K_TIME: bad |= syscall(nr, NULL) < 0; break;
		case K_GETCPU: bad |= syscall(nr, &cpu, &node, NULL); break;
		}
	}
	return bad ? bench_fail(ctx, errno, "syscall %ld", nr) : 0;
}

static double ts_seconds(const struct timespec *ts)
{
	return (double)ts->tv_sec + (double)ts->tv_nsec * 1e-9;
}

/* The vDSO's answer must agree with the kernel's: the same clock read both ways is within
 * 50 ms (coarse clocks lag by up to a tick), resolutions and CPU numbers are equal. */
static int vdso_verify(struct bench_ctx *ctx)
{
	const struct vdso_call *c = call_of(ctx);
	struct timespec a, b;
	struct timeval tv;
	unsigned cpu_v, cpu_s, node;

	if (c->via_syscall)
		return 0;
	switch (c->kind) {
	case K_CLOCK_GETTIME:
		if (((clock_gettime_fn)ctx->state)(c->clock, &a) != 0 || syscall(SYS_clock_gettime, c->clock, &b))
			return bench_fail(ctx, errno, "clock_gettime(%d)", (int)c->clock);
		if (ts_seconds(&a) - ts_seconds(&b) > 0.05 || ts_seconds(&b) - ts_seconds(&a) > 0.05)
			return bench_fail(ctx, 0, "vDSO clock %d reads %.6f s, the syscall %.6f s", (int)c->clock,
					  ts_seconds(&a), ts_seconds(&b));
		return 0;
	case K_CLOCK_GETRES:
		if (((clock_gettime_fn)ctx->state)(c->clock, &a) != 0 || syscall(SYS_clock_getres, c->clock, &b) ||
		    a.tv_sec != b.tv_sec || a.tv_nsec != b.tv_nsec)
			return bench_fail(ctx, 0, "vDSO and syscall clock_getres(%d) disagree", (int)c->clock);
		return 0;
	case K_GETTIMEOFDAY:
		if (((gettimeofday_fn)ctx->state)(&tv, NULL) != 0 || syscall(SYS_clock_gettime, CLOCK_REALTIME, &b))
			return bench_fail(ctx, errno, "gettimeofday");
		if (tv.tv_sec + 1 < b.tv_sec || tv.tv_sec > b.tv_sec + 1)
			return bench_fail(ctx, 0, "vDSO gettimeofday is %ld s, CLOCK_REALTIME %ld s", (long)tv.tv_sec,
					  (long)b.tv_sec);
		return 0;
	case K_TIME:
		syscall(SYS_clock_gettime, CLOCK_REALTIME, &b);
		if (((time_fn)ctx->state)(NULL) + 1 < b.tv_sec)
			return bench_fail(ctx, 0, "vDSO time() lags CLOCK_REALTIME");
		return 0;
	case K_GETCPU:
		if (((getcpu_fn)ctx->state)(&cpu_v, &node, NULL) || syscall(SYS_getcpu, &cpu_s, &node, NULL) ||
		    cpu_v != cpu_s)
			return bench_fail(ctx, 0, "vDSO getcpu and the syscall disagree");
		return 0;
	}
	return 0;
}

#define VDSO_BENCH(nm, kind_, clock_, opfn, what)                                                  \
	{ .name = nm, .family = "vdso", .summary = what " through the vDSO",                         \
	  .arg = &(const struct vdso_call){ kind_, clock_, false }, .supported = vdso_supported,      \
	  .setup = vdso_setup, .op = opfn, .verify = vdso_verify },                                    \
	{ .name = nm ".syscall", .family = "vdso", .summary = what " as a raw syscall",                \
	  .arg = &(const struct vdso_call){ kind_, clock_, true }, .supported = vdso_supported,       \
	  .setup = vdso_setup, .op = op_syscall, .verify = vdso_verify }

const struct bench family_vdso[] = {
	VDSO_BENCH("clock_gettime.realtime", K_CLOCK_GETTIME, CLOCK_REALTIME, op_clock_vdso,
		   "clock_gettime(CLOCK_REALTIME)"),
	VDSO_BENCH("clock_gettime.monotonic", K_CLOCK_GETTIME, CLOCK_MONOTONIC, op_clock_vdso,
		   "clock_gettime(CLOCK_MONOTONIC)"),
	VDSO_BENCH("clock_gettime.monotonic_raw", K_CLOCK_GETTIME, CLOCK_MONOTONIC_RAW, op_clock_vdso,
		   "clock_gettime(CLOCK_MONOTONIC_RAW)"),
	VDSO_BENCH("clock_gettime.boottime", K_CLOCK_GETTIME, CLOCK_BOOTTIME, op_clock_vdso,
		   "clock_gettime(CLOCK_BOOTTIME)"),
	VDSO_BENCH("clock_gettime.realtime_coarse", K_CLOCK_GETTIME, CLOCK_REALTIME_COARSE,
		   op_clock_vdso, "clock_gettime(CLOCK_REALTIME_COARSE)"),
	VDSO_BENCH("clock_gettime.monotonic_coarse", K_CLOCK_GETTIME, CLOCK_MONOTONIC_COARSE,
		   op_clock_vdso, "clock_gettime(CLOCK_MONOTONIC_COARSE)"),
	VDSO_BENCH("gettimeofday", K_GETTIMEOFDAY, 0, op_gettimeofday_vdso, "gettimeofday()"),
	VDSO_BENCH("time", K_TIME, 0, op_time_vdso, "time()"),
	VDSO_BENCH("getcpu", K_GETCPU, 0, op_getcpu_vdso, "getcpu()"),
	VDSO_BENCH("clock_getres.monotonic", K_CLOCK_GETRES, CLOCK_MONOTONIC, op_clock_vdso,
		   "clock_getres(CLOCK_MONOTONIC)"),
	{ 0 },
};
