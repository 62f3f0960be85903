/* SPDX-License-Identifier: GPL-2.0-only */
/* Pure pieces of the harness: statistics, parameter sweeps, the JSON writer (read back by
 * python's json module), number parsing, benchmark name matching. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cell_protocol.h"
#include "env.h"
#include "json.h"
#include "precision.h"
#include "runner.h"
#include "stats.h"
#include "tap.h"

static bool near(double a, double b)
{
	return fabs(a - b) <= 1e-9 * (fabs(b) + 1);
}

static void test_summary(void)
{
	const double x[] = { 4, 1, 3, 2, 5 };
	const double big[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21 };
	struct summary s;

	summarize(x, 5, &s);
	tap_ok(s.n == 5 && near(s.median, 3) && near(s.mean, 3) && near(s.min, 1) && near(s.max, 5),
	       "summary of 1..5: median 3, mean 3, min 1, max 5");
	tap_ok(near(s.stddev, sqrt(2.5)) && near(s.cv, sqrt(2.5) / 3), "sample stddev uses n-1 (sqrt 2.5)");
	summarize(big, 21, &s);
	tap_ok(near(s.p5, 2) && near(s.p95, 20) && near(s.median, 11), "p5/p95 of 1..21 are 2 and 20");
	summarize(x, 0, &s);
	tap_ok(s.n == 0, "an empty sample gives n 0");
}

/* The adaptive rounds' interval: t(n-1) * 1.4826 MAD * 1.2533 / sqrt(n). */
static void test_precision(void)
{
	double x[] = { 5, 1, 4, 2, 3 }, two[] = { 1, 2 }, same[] = { 7, 7, 7, 7 };

	/* median 3, deviations 2 1 1 0 2 -> MAD 1; t(4) = 2.776 */
	tap_ok(near(precision_halfwidth(x, 5), 2.776 * 1.4826 * 1.2533 / sqrt(5.0)),
	       "precision half-width of 1..5: t(4) * 1.4826 MAD * 1.2533 / sqrt(5)");
	tap_ok(isinf(precision_halfwidth(two, 2)), "fewer than 3 rounds are never precise (infinite half-width)");
	tap_ok(precision_halfwidth(same, 4) == 0, "identical rounds have a zero half-width");
	tap_ok(precision_mde_target("vdso") == 0.01 && precision_mde_target("fork") == 0.02 &&
	       precision_mde_target("no-such-family") == 0.02, "targets: vdso 1%%, fork 2%%, others 2%%");
	/* 80% power at the target: the CI half-width is 1.96 / 2.80 of it, the unpaired location's
	 * another 1 / sqrt(2) of that */
	tap_ok(fabs(precision_ratio_halfwidth(0.01) - log(1.01) * 0.6997) < 1e-4 &&
	       fabs(precision_location_halfwidth(0.01) - log(1.01) * 0.6997 / sqrt(2.0)) < 1e-4,
	       "half-widths for a 1%% target: paired 0.70%%, one location 0.49%%");
	{
		double cost[] = { 5, 1, 3, 1, 9 }, rank[] = { 1, 5, 2, 9, 3 },
		       inf[] = { INFINITY, INFINITY, INFINITY, INFINITY, INFINITY };
		bool keep[5];

		tap_ok(precision_fit_budget(cost, cost, 5, 19, keep) == 5 && keep[0] && keep[4],
		       "a budget that takes every open point keeps them all");
		tap_ok(precision_fit_budget(cost, cost, 5, 6, keep) == 3 && keep[1] && keep[3] && keep[2] &&
		       !keep[0] && !keep[4], "ranked by cost, a short budget takes the cheapest points first "
		       "(costs 1, 1 and 3 of 5, 1, 3, 1, 9 in 6)");
		tap_ok(precision_fit_budget(cost, cost, 5, 10.5, keep) == 4 && !keep[4],
		       "ranked by cost, the most expensive point is the first left out");
		tap_ok(precision_fit_budget(cost, cost, 5, 0.5, keep) == 0 && !keep[1],
		       "a budget below every point's round takes none");
		tap_ok(precision_fit_budget(cost, rank, 5, 9, keep) == 3 && keep[0] && keep[2] && keep[1] &&
		       !keep[4] && !keep[3], "points take part in rank order while each fits; one that does not is "
		       "passed over (ranks 1, 5, 2, 9, 3, costs 5, 1, 3, 1, 9 in 9: the first, third and second)");
		tap_ok(precision_fit_budget(cost, inf, 5, 6, keep) == 3 && keep[1] && keep[3] && keep[2],
		       "equal (infinite) ranks go to the cheaper points first");
	}
}

static void test_sweeps(void)
{
	struct param_sweep s;
	char err[128], text[64];
	long v[BENCH_MAX_PARAMS];

	tap_ok(param_sweep_parse("pages=1,16,512;vmas=1,8", &s, err, sizeof(err)) == 0 && s.nparams == 2 &&
		       param_sweep_count(&s) == 6,
	       "pages=1,16,512;vmas=1,8 gives 6 combinations");
	param_sweep_combination(&s, 5, v);
	param_format(&s, v, text, sizeof(text));
	tap_ok(strcmp(text, "pages=512,vmas=8") == 0, "last combination is pages=512,vmas=8 (got %s)", text);
	param_sweep_free(&s);
	tap_ok(param_sweep_parse(NULL, &s, err, sizeof(err)) == 0 && param_sweep_count(&s) == 1,
	       "no parameters: one combination");
	tap_ok(param_sweep_parse("pages=1,x", &s, err, sizeof(err)) < 0 && strstr(err, "'x'"),
	       "a bad value is named in the error (%s)", err);
	tap_ok(param_sweep_parse("pages", &s, err, sizeof(err)) < 0, "a parameter without values is refused");
}

static void test_numbers(void)
{
	long l;
	double d;

	tap_ok(parse_long("42", 0, 100, &l) && l == 42, "parse_long 42");
	tap_ok(!parse_long("42x", 0, 100, &l) && !parse_long("", 0, 100, &l) && !parse_long("101", 0, 100, &l),
	       "parse_long refuses trailing junk, empty and out of range");
	tap_ok(parse_double("0.5", 0, 1, &d) && near(d, 0.5) && !parse_double("nan", 0, 1, &d),
	       "parse_double 0.5, refuses nan");
}

static void test_matching(void)
{
	const struct bench *b = bench_find("vdso.clock_gettime.monotonic");

	tap_ok(b != NULL, "bench_find finds vdso.clock_gettime.monotonic");
	if (!b)
		return;
	tap_ok(bench_matches(b, "monotonic") && bench_matches(b, "vdso.*") && bench_matches(b, "x,clock_gettime") &&
		       !bench_matches(b, "fork") && !bench_matches(b, "vdso.time*"),
	       "filters: substring, glob, alternatives");
}

static void test_json(void)
{
	char path[] = "/tmp/msb-unit-json-XXXXXX", cmd[512];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct json j;

	json_init(&j, f);
	json_object_begin(&j, NULL);
	json_string(&j, "tricky", "quote\" backslash\\ newline\n tab\t bell\a utf8 \xc3\xa9");
	json_number(&j, "nan", NAN);
	json_number(&j, "inf", INFINITY);
	json_number(&j, "small", 1.25e-7);
	json_integer(&j, "int", -5);
	json_null(&j, "nothing");
	json_array_begin(&j, "list");
	json_number(&j, NULL, 1);
	json_object_begin(&j, NULL);
	json_bool(&j, "b", true);
	json_object_end(&j);
	json_array_end(&j);
	json_object_begin(&j, "empty");
	json_object_end(&j);
	json_object_end(&j);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys; d=json.load(open(\"%s\")); "
		 "ok = d[\"tricky\"] == \"quote\\\" backslash\\\\ newline\\n tab\\t bell\\x07 utf8 \\u00e9\" "
		 "and d[\"nan\"] is None and d[\"inf\"] is None and d[\"small\"] == 1.25e-7 and d[\"int\"] == -5 "
		 "and d[\"nothing\"] is None and d[\"list\"] == [1, {\"b\": True}] and d[\"empty\"] == {}; "
		 "sys.exit(0 if ok else 1)'",
		 path);
	tap_ok(system(cmd) == 0, "JSON writer output reads back in python with every value intact");
	unlink(path);
}

/* The cell protocol: what the writer puts on the pipe, the parser reads back, round by round. */
static void test_cell_protocol(void)
{
	struct cell_results out = { .batch = 64, .vmas = 7, .sealed = 2, .nevents = 2 }, in = { 0 };
	struct cell_sample s = { .ns = 1.5, .cycles = 3, .running_ratio = 1, .counted_ns = 1.75,
				 .ref_ns = 2.5, .values = { 10, 20 } };
	struct counter_group g = { .n = 2 };
	char status[16], reason[64], *text;
	size_t len;
	FILE *f;

	str_copy(g.ev[0].name, sizeof(g.ev[0].name), "instructions");
	str_copy(g.ev[1].name, sizeof(g.ev[1].name), "cycles");
	g.ev[1].status = COUNTER_COUNTED;
	str_copy(out.notes, sizeof(out.notes), "a note\nsplit");
	cell_results_add_sample(&out, &s, 0);
	for (int round = 0; round < 2; round++) {
		f = open_memstream(&text, &len);
		cell_report_events(f, &g);
		cell_report_measurements(f, &out);
		fflush(f);
		cell_report_end(f, "ok", NULL);
		tap_ok(cell_report_parse(text, round, &in, status, sizeof(status), reason, sizeof(reason)) &&
		       strcmp(status, "ok") == 0 && reason[0] == '\0', "cell protocol: round %d reports ok", round);
		free(text);
	}
	tap_ok(in.batch == 64 && in.vmas == 7 && in.sealed == 2 && in.nevents == 2 && in.ns.n == 2 &&
	       in.round.v[1] == 1 && in.values[1].v[1] == 20 && in.cycles.v[0] == 3 &&
	       in.counted_ns.v[1] == 1.75 && in.ns.v[1] == 1.5 && in.ref_ns.v[1] == 2.5 && in.ref_ns.n == 2 &&
	       strcmp(in.event[0].name, "instructions") == 0 && strcmp(in.notes, "a note split") == 0,
	       "cell protocol: events once, every round's samples (timed and counted times and the reference "
	       "apart), one note "
	       "(newline kept out of the framing)");
	cell_results_drop_rounds(&in, 1, false);
	tap_ok(in.ns.n == 1 && in.values[1].n == 1 && in.batch == 64, "cell protocol: a dropped round takes its samples");
	f = open_memstream(&text, &len);
	cell_report_end(f, "skipped", "why\nnot");
	tap_ok(cell_report_parse(text, 0, NULL, status, sizeof(status), reason, sizeof(reason)) &&
	       strcmp(status, "skipped") == 0 && strcmp(reason, "why not") == 0,
	       "cell protocol: status and reason alone, for profile");
	free(text);
}

/* run's warning: busy above ENV_BUSY_LOAD_PER_CPU per CPU, never when the load is unknown. */
static void test_env_busy(void)
{
	struct env_info e = { .cpu_count = 2, .loadavg_known = true, .loadavg = { 1.1, 0, 0 } };

	tap_ok(env_busy(&e), "load 1.1 on 2 CPUs is busy");
	e.loadavg[0] = 0.9;
	tap_ok(!env_busy(&e), "load 0.9 on 2 CPUs is not");
	e.loadavg[0] = 5;
	e.loadavg_known = false;
	tap_ok(!env_busy(&e), "an unknown load is not called busy");
}

/* Steal from two /proc/stat "cpu" lines: the 8th value over the first eight's sum. */
static void test_env_steal(void)
{
	struct env_cpu_times a, b, guest;
	struct env_info e = { .steal_run = NAN };

	tap_ok(env_parse_cpu_times("cpu  100 0 100 700 0 0 0 100 50 0", &a) && a.steal == 100 && a.total == 1000,
	       "/proc/stat: steal is the 8th value, guest time is not counted twice");
	tap_ok(env_parse_cpu_times("cpu 150 0 150 1550 0 0 0 150 0 0", &b) &&
	       near(env_steal_share(&a, &b), 50.0 / 1000), "steal share: 50 of 1000 ticks is 5%%");
	tap_ok(!env_parse_cpu_times("cpu 1 2 3 4 5 6 7", &guest) && !guest.known &&
	       isnan(env_steal_share(&a, &guest)), "a line without steal is unknown, and so is the share");
	tap_ok(!env_parse_cpu_times("cpu0 1 2 3 4 5 6 7 8", &guest), "only the line of all CPUs counts");
	tap_ok(isnan(env_steal_share(&a, &a)), "no tick passed: no share");
	tap_ok(!env_stolen(&e), "an unknown steal is not warned about");
	e.steal_run = 0.5;
	tap_ok(env_stolen(&e), "steal of 50%% during the run is warned about");
	e.steal_run = ENV_STEAL_WARN_SHARE / 2;
	tap_ok(!env_stolen(&e), "steal below the threshold is not");
}

int main(void)
{
	test_env_busy();
	test_env_steal();
	test_cell_protocol();
	test_summary();
	test_precision();
	test_sweeps();
	test_numbers();
	test_matching();
	test_json();
	return tap_done();
}
