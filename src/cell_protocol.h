/* SPDX-License-Identifier: GPL-2.0-only */
/* The cell protocol: what goes down to a cell (key=value arguments of `msealbench __cell`) and
 * what comes back up (report lines on REPORT_FD), with the writer, the one parser and the
 * defaults. A new field of a sample line is added here (and in results.c when it is stored).
 *
 * Report lines, one key each, newlines in values turned into spaces:
 *   event NAME\tSTATUS\tREASON     one per perf event, in the order of the sample values
 *   batch N / vmas N / sealed N    operations per sample, VMAs at the start, mappings sealed
 *   sample NS CYCLES RATIO CNS REF V...  per operation: NS and CYCLES of a timed sample (no
 *                                  perf event open), then of the counted sample the counting
 *                                  twin took right after it (the event group open): RATIO its
 *                                  counters' running time share, CNS its time; REF the host-speed
 *                                  reference around the timed sample (gate.h); V... the counts
 *                                  ("nan" when not counted or not probed)
 *   gate FLOOR ASIDE LOST WAITED LOW  the contention gate (gate.h): the floor gated against
 *                                  (ns per call), samples set aside, 1 when the round was lost,
 *                                  ns waited, the 5th percentile of the round's probes
 *   window SHARE                   under `profile`: the share of the cell's run time spent in
 *                                  op(), the only time perf samples
 *   note TEXT / reason TEXT        what a reader should know; why a cell skipped or failed
 *   status ok|skipped|failed       last line */
#ifndef MSB_CELL_PROTOCOL_H
#define MSB_CELL_PROTOCOL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bench.h"
#include "counters.h"
#include "gate.h"
#include "util.h"

#define REPORT_FD 3			/* where a cell writes its report */
#define CELL_SAMPLE_TARGET_NS 1e6	/* one sample of a fast operation lasts about 1 ms */
#define CELL_MIN_SAMPLES 5
#define CELL_MAX_SAMPLES 1000000L

struct cell_config {
	const struct bench *bench;
	long param[BENCH_MAX_PARAMS];
	enum seal_mode seal;
	uint64_t batch;			/* operations per sample; 0: calibrate */
	double time_s;			/* measured time to aim for in this run */
	long min_samples, max_samples;
	double sample_target_ns;	/* calibration aims one sample at this length */
	const char *events;		/* comma-separated perf events, "" for none */
	double inject;			/* extra busy time per sample, fraction of the measured time */
	long cpu;			/* pin to this CPU, -1: do not pin */
	bool gate;			/* the contention gate (gate.h) */
	double gate_floor_ns;		/* the run's floor (gate.h), 0: unknown */
	long gate_every;		/* test hook: every Nth probe reads as contended */
	bool reference;			/* probe around every sample for its reference (gate.h) */
	const char *helper_dir;
	/* `perf record --control=fd:CTL,ACK` (profile): the cell enables sampling around each op()
	 * and waits for perf's ack; -1: not profiled. */
	long control_fd, ack_fd;
};

/* The defaults every cell starts from: calibrate, CELL_* sample bounds, no events, no pinning. */
void cell_config_init(struct cell_config *c, const struct bench *b);

/* argv for `msealbench __cell ...`; free with cell_argv_free(). */
char **cell_argv_build(const char *self_exe, const struct cell_config *c);
void cell_argv_free(char **argv);
/* The cell's side: argv (argv[0] "__cell") into c; a bad argument exits 2 naming it. */
void cell_config_parse(int argc, char **argv, struct cell_config *c);

/* One sample: one timed block of `batch` operations with no perf event open, and the counted
 * block after it (same batch, in the counting twin with its events open), both per operation. */
struct cell_sample {
	double ns, cycles;		/* the timed block */
	double running_ratio, counted_ns;	/* the counted block; NaN when nothing counts */
	double ref_ns;			/* the host-speed reference (gate.h); NaN when not probed */
	double values[COUNTERS_MAX];	/* per event, in the order of the event lines */
};

struct cell_event {
	char name[64], status[24], reason[200];
};

/* What a cell's reports carry, over all its rounds: the cell fills it for one report, the
 * runner accumulates every round's into one. */
struct cell_results {
	uint64_t batch;
	long vmas;
	int sealed;
	double window_share;		/* profiled cells: the share of their run spent in op() */
	struct gate gate;		/* the gate's floor and counts, summed over rounds */
	char notes[512];		/* distinct notes, one a line */
	int nevents;
	struct cell_event event[COUNTERS_MAX];
	/* One entry a sample: */
	struct dvec ns, cycles, running_ratio, counted_ns, ref_ns, round, values[COUNTERS_MAX];
};

void cell_results_add_sample(struct cell_results *r, const struct cell_sample *s, int round);
/* Forget the samples of round `round` and later; all: everything the reports said. */
void cell_results_drop_rounds(struct cell_results *r, int round, bool all);

/* The writer, in the cell: events, then measurements (batch, vmas, sealed, samples, notes),
 * then the end (reason and status), which closes out. Returns 0, or 1 when out failed. */
void cell_report_events(FILE *out, const struct counter_group *g);
void cell_report_measurements(FILE *out, const struct cell_results *r);
int cell_report_end(FILE *out, const char *status, const char *reason);

/* The parser: one report (modified in place) into r (NULL: ignore everything but the status),
 * its samples marked with round; the events are taken from the first report only (they are
 * the same every round). status and reason get the report's last ones ("" when none). Returns
 * false when the report has no status line (the cell died). */
bool cell_report_parse(char *report, int round, struct cell_results *r, char *status, size_t slen,
		       char *reason, size_t rlen);

#endif
