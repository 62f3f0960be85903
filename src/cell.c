/* SPDX-License-Identifier: GPL-2.0-only */
/* One cell run, `msealbench __cell KEY=VALUE...`: a fresh exec'd child that seals (per its
 * mode), sets up, calibrates, measures and writes its report (cell_protocol.h) to REPORT_FD.
 * Nothing else is shared with the process that started it. When events are asked for, a
 * counting twin forked after sealing takes the counted samples (below). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "cell_protocol.h"
#include "child.h"
#include "counters.h"
#include "main.h"
#include "maps.h"
#include "timing.h"
#include "util.h"

static uint64_t window_ns;	/* time with perf sampling switched on (profile) */

/* Under `profile`, perf samples only while op() runs: perf record starts with its events
 * disabled (-D -1) and the cell switches them through perf's control descriptor, waiting for
 * each ack so that no sample of the set-up around op() gets in. */
static void perf_sampling(const struct cell_config *c, bool on)
{
	static uint64_t since;
	const char *cmd = on ? "enable\n" : "disable\n";
	char ack[16];

	if (c->control_fd < 0)
		return;
	if (write((int)c->control_fd, cmd, strlen(cmd)) < 0 || read((int)c->ack_fd, ack, sizeof(ack)) <= 0)
		die(1, "perf record's control descriptors: %s", errno_text(errno));
	if (on)
		since = now_ns();
	else
		window_ns += now_ns() - since;
}

#define SAMPLE_FAILED (-1.0)
/* Timed samples between two turns of the counting twin, which takes one counted sample a turn:
 * the first timed sample after a turn finds the caches and TLB full of the twin's data, the rest
 * do not, so the median is of warm samples. */
#define COUNT_BLOCK 8
#define SAMPLE_NO_ROOM (-2.0)	/* prepare() said BENCH_NO_ROOM: this sample was not taken */

/* Time one block of n operations; untimed preparation first, g (when it has events open) read
 * outside the timed region. Returns the block's length in ns, SAMPLE_FAILED when an operation
 * failed or SAMPLE_NO_ROOM; fills s (may be NULL) per operation. */
static double one_sample(struct bench_ctx *ctx, const struct cell_config *c, struct counter_group *g,
			 uint64_t n, struct cell_sample *s)
{
	const struct bench *b = ctx->bench;
	struct counter_reading before, after;
	uint64_t t0, t1, c0, c1;
	double took, cycles;
	int ready = b->prepare ? b->prepare(ctx, n) : 0;

	if (ready < 0)
		return SAMPLE_FAILED;
	if (ready == BENCH_NO_ROOM)
		return SAMPLE_NO_ROOM;
	ctx->own_ns = 0;
	counters_read(g, &before);
	perf_sampling(c, true);
	c0 = arch_cycles_begin();
	t0 = now_ns();
	if (b->op(ctx, n) < 0)
		return perf_sampling(c, false), SAMPLE_FAILED;
	t1 = now_ns();
	if (c->inject > 0) {
		spin_until_ns(t1 + (uint64_t)((double)(ctx->own_ns ? ctx->own_ns : t1 - t0) * c->inject));
		if (ctx->own_ns)
			ctx->own_ns += now_ns() - t1;
		t1 = now_ns();
	}
	c1 = arch_cycles_end();
	perf_sampling(c, false);
	counters_read(g, &after);
	took = ctx->own_ns ? (double)ctx->own_ns : (double)(t1 - t0);
	/* A self-timed op gets the cycles of its share of the wall time. */
	cycles = (double)(c1 - c0) * (t1 > t0 ? took / (double)(t1 - t0) : 1.0);
	if (s) {
		s->ns = took / (double)n;
		s->cycles = cycles / (double)n;
		s->running_ratio = counters_running_ratio(&before, &after);
		for (int i = 0; i < COUNTERS_MAX; i++)
			s->values[i] = i < g->n ? counters_delta_per_op(g, i, &before, &after, n) : NAN;
	}
	return took;
}

/* The counting twin: a child forked right after sealing, before setup, that sets the benchmark
 * up again in its own copy of the cell and takes the counted samples, with the event group open
 * on it alone. The measured process never opens a perf event: an open event (inherit: copied
 * into every child at fork), and even the empty perf context a closed one leaves on the task,
 * change what fork and exec cost. */
struct twin {
	pid_t pid;
	int to, from;		/* requests (batch sizes) down, replies up */
};

struct twin_reply {
	double took;		/* one_sample()'s answer */
	struct cell_sample s;
	char error[256];
};

/* Read (or write, when out) all len bytes; false at EOF or on an error. */
static bool move_whole(int fd, void *buf, size_t len, bool out)
{
	for (size_t done = 0; done < len;) {
		char *at = (char *)buf + done;
		ssize_t r = out ? write(fd, at, len - done) : read(fd, at, len - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		done += (size_t)r;
	}
	return true;
}

static __attribute__((noreturn)) void twin_main(struct bench_ctx *ctx, const struct cell_config *c,
						 int in, int out)
{
	struct counter_group g;
	struct twin_reply reply = { 0 };
	bool warm = false;
	uint64_t n;

	counters_open(&g, c->events, ctx->bench->flags & BENCH_F_CHILDREN);
	counters_enable(&g);
	if (!move_whole(out, &g, sizeof(g), true))
		_exit(1);
	if (ctx->bench->setup && ctx->bench->setup(ctx) < 0)
		str_copy(reply.error, sizeof(reply.error), ctx->error);
	while (move_whole(in, &n, sizeof(n), false)) {
		/* The first block warms this process up as the warm-up did the measured one. */
		reply.took = reply.error[0] ? SAMPLE_FAILED : warm ? 0 : one_sample(ctx, c, &g, n, NULL);
		warm = true;
		if (reply.took >= 0)
			reply.took = one_sample(ctx, c, &g, n, &reply.s);
		if (reply.took < 0 && !reply.error[0])
			str_copy(reply.error, sizeof(reply.error), ctx->error);
		if (!move_whole(out, &reply, sizeof(reply), true))
			_exit(1);
	}
	if (ctx->bench->teardown)
		ctx->bench->teardown(ctx);
	_exit(0);
}

/* Start the twin when events are asked for; g gets the statuses of its events (n 0: none). */
static int twin_start(struct bench_ctx *ctx, const struct cell_config *c, struct twin *t,
		      struct counter_group *g)
{
	int down[2], up[2];

	memset(g, 0, sizeof(*g));
	g->leader_fd = -1;
	t->pid = -1;
	if (!c->events || !*c->events)
		return 0;
	if (pipe2(down, O_CLOEXEC) < 0 || pipe2(up, O_CLOEXEC) < 0)
		return bench_fail(ctx, errno, "pipe for the counting process");
	fflush(NULL);	/* nothing buffered is written twice */
	t->pid = fork_child(SIGKILL);
	if (t->pid < 0)
		return bench_fail(ctx, errno, "fork of the counting process");
	if (t->pid == 0) {
		close(down[1]);
		close(up[0]);
		twin_main(ctx, c, down[0], up[1]);
	}
	close(down[0]);
	close(up[1]);
	t->to = down[1];
	t->from = up[0];
	if (!move_whole(t->from, g, sizeof(*g), false))
		return bench_fail(ctx, 0, "the counting process died before it opened its events");
	return 0;
}

static void twin_stop(struct twin *t)
{
	int status;

	if (t->pid <= 0)
		return;
	close(t->to);
	close(t->from);
	child_reap(t->pid, &status);
	t->pid = -1;
}

/* The counted sample of a block of k timed ones, taken by the twin after them: its per-op
 * values go into every sample of the block. One counted sample per block keeps what counting
 * adds to a cell's run time to about 1/COUNT_BLOCK; the statistics count rounds, not samples, so
 * the copies add no evidence. Returns k, 0 when the twin ran out of room, or -1 after
 * bench_fail(). */
static int count_block(struct bench_ctx *ctx, struct twin *tw, uint64_t n, struct cell_sample *block, int k)
{
	struct twin_reply reply;

	if (tw->pid <= 0 || k == 0)
		return k;
	if (!move_whole(tw->to, &n, sizeof(n), true) || !move_whole(tw->from, &reply, sizeof(reply), false))
		return bench_fail(ctx, 0, "the counting process died");
	if (reply.took == SAMPLE_NO_ROOM)
		return 0;
	if (reply.took < 0)
		return bench_fail(ctx, 0, "counted sample: %s", reply.error);
	for (int i = 0; i < k; i++) {
		block[i].running_ratio = reply.s.running_ratio;
		block[i].counted_ns = reply.s.ns;
		memcpy(block[i].values, reply.s.values, sizeof(block[i].values));
	}
	return k;
}

static int no_room_at_all(struct bench_ctx *ctx, uint64_t n)
{
	if (ctx->error[0])
		return -1;
	return bench_fail(ctx, 0, "no room for a sample of %llu operation(s)", (unsigned long long)n);
}

/* Grow the batch until one sample is long against the timer (lmbench's approach). */
static int calibrate(struct bench_ctx *ctx, const struct cell_config *c, struct counter_group *g,
		     uint64_t *batch)
{
	uint64_t n = 1, limit = ctx->bench->max_batch ? ctx->bench->max_batch : (1ull << 32);
	uint64_t deadline = now_ns() + (uint64_t)(5e9), fitted = 0;

	for (;;) {
		double t = one_sample(ctx, c, g, n, NULL);
		double grow;

		if (t == SAMPLE_NO_ROOM && fitted) {
			n = fitted;
			break;
		}
		if (t == SAMPLE_NO_ROOM)
			return no_room_at_all(ctx, n);
		if (t < 0)
			return -1;
		fitted = n;
		if (t >= c->sample_target_ns || n >= limit || now_ns() > deadline)
			break;
		/* Aim a little past the target, growing at most 16x per step. */
		grow = t > 0 ? 1.2 * c->sample_target_ns / t : 16;
		grow = grow < 2 ? 2 : grow > 16 ? 16 : grow;
		n = (uint64_t)((double)n * grow);
		if (n > limit)
			n = limit;
	}
	*batch = n;
	return 0;
}

static int measure_samples(struct bench_ctx *ctx, const struct cell_config *c, struct twin *tw,
			   struct counter_group *g, struct cell_results *d, uint64_t budget)
{
	uint64_t measured = 0, start, warm_end;
	long samples = 0;

	/* Warm-up: caches, TLB, page tables and the branch predictor reach their steady state. */
	start = now_ns();
	warm_end = start + budget / 10;
	do {
		double t = one_sample(ctx, c, g, d->batch, NULL);

		if (t == SAMPLE_NO_ROOM)
			break;
		if (t < 0)
			return -1;
	} while (now_ns() < warm_end);
	start = now_ns();
	while (samples < c->max_samples) {
		struct cell_sample block[COUNT_BLOCK];
		double t = 0;
		bool enough = false;
		int k = 0, timed;
		enum gate_verdict verdict;

		while (k < COUNT_BLOCK && samples + k < c->max_samples && !enough) {
			gate_before(&d->gate);
			t = one_sample(ctx, c, g, d->batch, &block[k]);
			if (t < 0)
				break;
			verdict = gate_after(&d->gate, (uint64_t)t, samples + k < c->min_samples);
			block[k].ref_ns = d->gate.ref_ns;
			switch (verdict) {
			case GATE_KEEP:
				break;
			case GATE_SET_ASIDE:
				continue;
			case GATE_ENOUGH:
				enough = true;
				continue;
			case GATE_ROUND_LOST:	/* gate.h: never a round of mixed periods */
				d->gate.set_aside += samples + k;
				d->gate.rounds_lost++;
				cell_results_drop_rounds(d, 0, false);
				return 0;
			}
			block[k++].counted_ns = NAN;
			measured += (uint64_t)t;	/* the timed blocks: counting adds its own time */
			enough = samples + k >= c->min_samples &&
				 (measured >= budget || now_ns() - start >= 4 * budget + 1000000000ull);
		}
		if (t < 0 && t != SAMPLE_NO_ROOM)
			return -1;
		timed = k;
		if ((k = count_block(ctx, tw, d->batch, block, k)) < 0)
			return -1;
		for (int i = 0; i < k; i++)
			cell_results_add_sample(d, &block[i], 0);
		samples += k;
		if ((t == SAMPLE_NO_ROOM || k < timed) && samples > 0)
			break;	/* the benchmark says why in its note */
		if (t == SAMPLE_NO_ROOM || k < timed)
			return no_room_at_all(ctx, d->batch);
		if (enough)
			break;
	}
	return 0;
}

static int measure(struct bench_ctx *ctx, const struct cell_config *c, struct twin *tw,
		   struct counter_group *g, struct cell_results *d)
{
	uint64_t budget = (uint64_t)(c->time_s * 1e9);
	int rc;

	if (!d->batch && calibrate(ctx, c, g, &d->batch) < 0)
		return -1;
	/* The gate may at most triple the cell's measuring time (gate.h). */
	if (gate_init(&d->gate, c->gate, c->reference, c->gate_floor_ns, 2 * budget + 20000000ull,
		      c->gate_every) < 0)
		return bench_fail(ctx, errno, "the contention gate's probe log");
	rc = measure_samples(ctx, c, tw, g, d, budget);
	gate_finish(&d->gate);
	return rc;
}

static void pin_cpu(long cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET((int)cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		warnx_msb("cannot pin to CPU %ld: %s", cpu, errno_text(errno));
}

static int run_cell(const struct cell_config *c, struct bench_ctx *ctx, FILE *out)
{
	const struct bench *b = c->bench;
	struct counter_group g, none = { .leader_fd = -1 };
	struct twin tw;
	struct cell_results d = { .batch = c->batch };
	char why[512] = "", err[256];
	const char *reason;
	uint64_t start = now_ns();
	int r;

	if (b->supported && (reason = b->supported(b, why, sizeof(why))))
		return cell_report_end(out, "skipped", reason);
	r = seal_apply(c->seal, err, sizeof(err));
	if (r == -ENOSYS) {
		snprintf(why, sizeof(why), "seal mode %s needs mseal(2), which this kernel lacks: %s",
			 seal_mode_name(c->seal), err);
		return cell_report_end(out, "skipped", why);
	}
	if (r < 0)
		return cell_report_end(out, "failed", err);
	d.sealed = r;
	if (twin_start(ctx, c, &tw, &g) < 0)
		return cell_report_end(out, "failed", ctx->error);
	if (!counters_any_counted(&g))
		twin_stop(&tw);
	d.nevents = g.n;
	cell_report_events(out, &g);
	if (b->setup && b->setup(ctx) < 0)
		return cell_report_end(out, "failed", ctx->error);
	if (b->verify && b->verify(ctx) < 0)
		return cell_report_end(out, "failed", ctx->error);
	d.vmas = count_vmas_self();
	r = measure(ctx, c, &tw, &none, &d);
	twin_stop(&tw);
	if (r < 0)
		return cell_report_end(out, "failed", ctx->error);
	d.window_share = (double)window_ns / (double)(now_ns() - start);
	if (b->verify && b->verify(ctx) < 0)
		return cell_report_end(out, "failed", ctx->error);
	if (b->teardown)
		b->teardown(ctx);
	str_copy(d.notes, sizeof(d.notes), ctx->note);
	cell_report_measurements(out, &d);
	return cell_report_end(out, "ok", NULL);
}

static int cell_main(int argc, char **argv, const char *self_exe)
{
	struct cell_config c;
	struct bench_ctx ctx = { 0 };
	FILE *out = fdopen(REPORT_FD, "w");

	if (!out)
		die(2, "__cell is internal: run by `msealbench run` with a report pipe on fd 3");
	cell_config_parse(argc, argv, &c);
	pin_cpu(c.cpu);
	ctx.bench = c.bench;
	memcpy(ctx.param, c.param, sizeof(ctx.param));
	bench_ctx_name_params(&ctx);
	ctx.seal = c.seal;
	ctx.self_exe = self_exe;
	ctx.helper_dir = c.helper_dir;
	return run_cell(&c, &ctx, out);
}

const struct command cmd_cell = { "__cell", cell_main, NULL, NULL };
