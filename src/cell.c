#define _GNU_SOURCE
#include "cell.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "counters.h"
#include "maps.h"
#include "timing.h"
#include "util.h"

#define REPORT_FD 3

static char *kv(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *kv(const char *key, const char *fmt, ...)
{
	char *value, *out;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&value, fmt, ap);	/* whole: a cut event list would lose events unnoticed */
	va_end(ap);
	if (r < 0 || asprintf(&out, "%s=%s", key, value) < 0)
		die(1, "out of memory");
	free(value);
	return out;
}

char **cell_argv_build(const char *self_exe, const struct cell_config *c)
{
	char **argv = xcalloc(20, sizeof(char *));
	char name[160];
	int i = 0;

	argv[i++] = xstrdup(self_exe);
	argv[i++] = xstrdup("__cell");
	argv[i++] = kv("bench", "%s", bench_full_name(c->bench, name, sizeof(name)));
	argv[i++] = kv("params", "%ld,%ld,%ld", c->param[0], c->param[1], c->param[2]);
	argv[i++] = kv("seal", "%s", seal_mode_name(c->seal));
	argv[i++] = kv("batch", "%llu", (unsigned long long)c->batch);
	argv[i++] = kv("time", "%.9g", c->time_s);
	argv[i++] = kv("samples", "%ld,%ld", c->min_samples, c->max_samples);
	argv[i++] = kv("target", "%.9g", c->sample_target_ns);
	argv[i++] = kv("events", "%s", c->events ? c->events : "");
	argv[i++] = kv("inject", "%.9g", c->inject);
	argv[i++] = kv("cpu", "%ld", c->cpu);
	argv[i++] = kv("helpers", "%s", c->helper_dir ? c->helper_dir : "");
	argv[i] = NULL;
	return argv;
}

void cell_argv_free(char **argv)
{
	for (int i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* Bounds of what the runner passes: anything past them is not from `msealbench run`. */
#define CELL_MAX_PARAM (1L << 40)	/* as param_sweep_parse() */
#define CELL_MAX_BATCH (1L << 32)	/* calibrate()'s limit */
#define CELL_MAX_SAMPLES 1000000L

static void cell_config_parse(int argc, char **argv, struct cell_config *c)
{
	long batch = 0, samples[2] = { 5, CELL_MAX_SAMPLES };
	char why[300] = "";

	memset(c, 0, sizeof(*c));
	c->cpu = -1;
	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		const char *v = eq ? eq + 1 : "";
		bool good = true;

		if (!eq)
			die(2, "__cell: argument '%s' is not key=value", argv[i]);
		*eq = '\0';
		if (strcmp(argv[i], "bench") == 0)
			good = (c->bench = bench_find(v)) != NULL;
		else if (strcmp(argv[i], "params") == 0)
			good = parse_long_list(v, BENCH_MAX_PARAMS, 0, CELL_MAX_PARAM, c->param);
		else if (strcmp(argv[i], "seal") == 0)
			good = seal_mode_parse(v, &c->seal);
		else if (strcmp(argv[i], "batch") == 0)
			good = parse_long(v, 0, CELL_MAX_BATCH, &batch);
		else if (strcmp(argv[i], "time") == 0)
			good = parse_double(v, 0, 86400, &c->time_s);
		else if (strcmp(argv[i], "samples") == 0)
			good = parse_long_list(v, 2, 1, CELL_MAX_SAMPLES, samples) && samples[0] <= samples[1];
		else if (strcmp(argv[i], "target") == 0)
			good = parse_double(v, 1, 1e10, &c->sample_target_ns);
		else if (strcmp(argv[i], "events") == 0)
			good = counters_check_list(c->events = v, why, sizeof(why));
		else if (strcmp(argv[i], "inject") == 0)
			good = parse_double(v, 0, 100, &c->inject);
		else if (strcmp(argv[i], "cpu") == 0)
			good = parse_long(v, -1, CPU_SETSIZE - 1, &c->cpu);
		else if (strcmp(argv[i], "helpers") == 0)
			c->helper_dir = v;
		else
			die(2, "__cell: unknown key '%s'", argv[i]);
		if (!good)
			die(2, "__cell: bad value '%s' for %s%s%s", v, argv[i], why[0] ? ": " : "", why);
	}
	if (!c->bench)
		die(2, "__cell: no bench= given");
	c->batch = (uint64_t)batch;
	c->min_samples = samples[0];
	c->max_samples = samples[1];
}

/* What one measured run collects before it is reported. */
struct cell_data {
	struct dvec ns, cycles, ratio, values[COUNTERS_MAX];
	uint64_t batch;
	long vmas;
	int sealed;	/* mappings the seal mode sealed in this process */
};

static void report_line(FILE *out, const char *key, const char *text)
{
	/* One line per key: newlines in a message would break the framing. */
	fprintf(out, "%s ", key);
	for (const char *p = text; *p; p++)
		fputc(*p == '\n' ? ' ' : *p, out);
	fputc('\n', out);
}

static int report_end(FILE *out, const char *status, const char *reason)
{
	if (reason && *reason)
		report_line(out, "reason", reason);
	fprintf(out, "status %s\n", status);
	return fclose(out) == 0 ? 0 : 1;
}

static void report_events(FILE *out, const struct counter_group *g)
{
	for (int i = 0; i < g->n; i++) {
		char line[320];

		snprintf(line, sizeof(line), "%s\t%s\t%s", g->ev[i].name,
			 counter_status_name(g->ev[i].status), g->ev[i].reason);
		report_line(out, "event", line);
	}
}

static void report_samples(FILE *out, const struct cell_data *d, int nevents)
{
	fprintf(out, "batch %llu\nvmas %ld\nsealed %d\n", (unsigned long long)d->batch, d->vmas, d->sealed);
	for (size_t s = 0; s < d->ns.n; s++) {
		fprintf(out, "sample %.9g %.9g %.9g", d->ns.v[s], d->cycles.v[s], d->ratio.v[s]);
		for (int i = 0; i < nevents; i++)
			fprintf(out, " %.9g", d->values[i].v[s]);
		fputc('\n', out);
	}
}

#define SAMPLE_FAILED (-1.0)
#define SAMPLE_NO_ROOM (-2.0)	/* prepare() said BENCH_NO_ROOM: this sample was not taken */

/* Time one sample of n operations; untimed preparation first, counters read outside the
 * timed region. Returns the sample's length in ns, SAMPLE_FAILED when an operation failed or
 * SAMPLE_NO_ROOM. */
static double one_sample(struct bench_ctx *ctx, const struct cell_config *c, struct counter_group *g,
			 uint64_t n, struct cell_data *d)
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
	c0 = arch_cycles_begin();
	t0 = now_ns();
	if (b->op(ctx, n) < 0)
		return SAMPLE_FAILED;
	t1 = now_ns();
	if (c->inject > 0) {
		spin_until_ns(t1 + (uint64_t)((double)(ctx->own_ns ? ctx->own_ns : t1 - t0) * c->inject));
		if (ctx->own_ns)
			ctx->own_ns += now_ns() - t1;
		t1 = now_ns();
	}
	c1 = arch_cycles_end();
	counters_read(g, &after);
	took = ctx->own_ns ? (double)ctx->own_ns : (double)(t1 - t0);
	/* A self-timed op gets the cycles of its share of the wall time. */
	cycles = (double)(c1 - c0) * (t1 > t0 ? took / (double)(t1 - t0) : 1.0);
	if (d) {
		dvec_push(&d->ns, took / (double)n);
		dvec_push(&d->cycles, cycles / (double)n);
		dvec_push(&d->ratio, counters_running_ratio(&before, &after));
		for (int i = 0; i < g->n; i++)
			dvec_push(&d->values[i], counters_delta_per_op(g, i, &before, &after, n));
	}
	return took;
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

static int measure(struct bench_ctx *ctx, const struct cell_config *c, struct counter_group *g,
		   struct cell_data *d)
{
	uint64_t budget = (uint64_t)(c->time_s * 1e9), measured = 0, start, warm_end;
	long samples = 0;

	if (!d->batch && calibrate(ctx, c, g, &d->batch) < 0)
		return -1;
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
		double t = one_sample(ctx, c, g, d->batch, d);

		if (t == SAMPLE_NO_ROOM && samples > 0)
			break;	/* the benchmark says why in its note */
		if (t == SAMPLE_NO_ROOM)
			return no_room_at_all(ctx, d->batch);
		if (t < 0)
			return -1;
		measured += (uint64_t)t;
		samples++;
		if (samples >= c->min_samples &&
		    (measured >= budget || now_ns() - start >= 4 * budget + 1000000000ull))
			break;
	}
	return 0;
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
	struct counter_group g;
	struct cell_data d = { .batch = c->batch };
	char why[512] = "", err[256];
	const char *reason;
	int r;

	if (b->supported && (reason = b->supported(b, why, sizeof(why))))
		return report_end(out, "skipped", reason);
	r = seal_apply(c->seal, err, sizeof(err));
	if (r == -ENOSYS) {
		snprintf(why, sizeof(why), "seal mode %s needs mseal(2), which this kernel lacks: %s",
			 seal_mode_name(c->seal), err);
		return report_end(out, "skipped", why);
	}
	if (r < 0)
		return report_end(out, "failed", err);
	d.sealed = r;
	counters_open(&g, c->events ? c->events : "", b->flags & BENCH_F_CHILDREN);
	report_events(out, &g);
	if (b->setup && b->setup(ctx) < 0)
		return report_end(out, "failed", ctx->error);
	if (b->verify && b->verify(ctx) < 0)
		return report_end(out, "failed", ctx->error);
	d.vmas = count_vmas_self();
	counters_enable(&g);
	if (measure(ctx, c, &g, &d) < 0)
		return report_end(out, "failed", ctx->error);
	if (b->verify && b->verify(ctx) < 0)
		return report_end(out, "failed", ctx->error);
	if (b->teardown)
		b->teardown(ctx);
	counters_close(&g);
	report_samples(out, &d, g.n);
	if (ctx->note[0])
		report_line(out, "note", ctx->note);
	return report_end(out, "ok", NULL);
}

int cell_main(int argc, char **argv, const char *self_exe)
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
