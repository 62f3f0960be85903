/* SPDX-License-Identifier: GPL-2.0-only */
/* The runner: plans cells, runs them in rounds as fresh children, keeps every sample. */
#ifndef MSB_RUNNER_H
#define MSB_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "bench.h"
#include "cell_protocol.h"
#include "counters.h"
#include "env.h"
#include "probe.h"
#include "results.h"
#include "timing.h"
#include "util.h"

struct run_options {
	const char *filter;		/* NULL: everything */
	bool seal_modes[SEAL_MODE_COUNT];
	long repetitions;		/* rounds every point gets */
	long max_rounds;		/* rounds a point may get while it is not precise enough (precision.h) */
	double precision;		/* the change to detect in every family (0: precision.h's per family) */
	double time_budget_s;		/* no further round that would end past this (0: none) */
	double min_time_s;		/* measured time per cell, over all rounds */
	bool quick;
	long cpu;			/* -1: do not pin */
	bool gate;			/* the contention gate (gate.h) */
	bool reference;			/* a getppid probe around each sample (gate.h) */
	long gate_every;		/* test hook (MSEALBENCH_TEST_CONTENTION): every Nth probe contended */
	const char *out;		/* NULL: results/<host>-<kernel>-<time>.json */
	bool quiet;
	uint64_t seed;
	const char *events;
	double inject;			/* fraction, 0 for none */
	int inject_mode;		/* seal mode the delay applies to, -1: all */
	const char *label;
	const char *helper_dir;
	const char *format;		/* NULL, or a format of `msealbench export` for the results */
	const char *format_out;		/* where that goes: "-" standard output */
};

/* One (benchmark, parameter values, seal mode) and everything measured for it. */
struct cell {
	const struct bench *bench;
	long param[BENCH_MAX_PARAMS];
	char param_text[128];
	struct param_sweep *sweep;	/* parameter names (shared by the benchmark's cells) */
	enum seal_mode seal;
	int point;			/* index of its (benchmark, parameters): cells of one point are compared */
	enum { CELL_PENDING, CELL_OK, CELL_SKIPPED, CELL_FAILED } status,
		status_done;		/* status at the end of the last finished round */
	char reason[512];
	const char *stopped;		/* why its point got no more rounds: precise, max rounds, time
					 * budget, not adaptive */
	struct cell_results res;	/* what its reports said, every round's samples */
	double wall_ns, wall_ns_done;	/* wall time of its cell runs, set-up and counting included */
	long wall_runs, wall_runs_done;	/* how many runs that was; _done: at the last finished round */
};

struct run {
	struct run_options opt;
	struct env_info env;
	struct probe_report probe;	/* the probe's rows, against env.kernel */
	struct timer_info timer;
	double gate_floor_ns;		/* the gate's floor (ns per call, gate.h), 0: gate off */
	double *gate_lows;		/* the 5th percentile of each cell round's probes */
	size_t gate_nlows, gate_lows_cap;
	double counter_read_ns;		/* one group read of opt.events (outside timed regions); NaN: none */
	char date[32];
	char out_path[4096];
	struct out_target out;
	struct cell *cells;
	int ncells, npoints;
	int rounds_done;
	uint64_t rounds_start_ns;	/* now_ns() when the first round began */
	bool interrupted;
	const char *self_exe;
};

/* Measures what opt selects and writes the results: the whole of `msealbench run` after its
 * options. Returns its exit status (0, 1 a cell failed or the results could not be written,
 * 130 interrupted). */
int runner_run(const struct run_options *opt, const char *self_exe);

/* Directory of the helper programs benchmarks exec, beside self_exe (build/helpers) or
 * installed (<prefix>/libexec/msealbench). */
void runner_helper_dir(const char *self_exe, char *buf, size_t len);

#endif
