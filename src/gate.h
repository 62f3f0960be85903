/* SPDX-License-Identifier: GPL-2.0-only */
/* The contention gate: timed samples are taken only while the machine runs at its own speed.
 *
 * On a shared host (a cloud guest, a CI runner) the same kernel path runs at two or more speeds
 * over periods of a fraction of a second to seconds, as the host gives this guest's CPU a busy or
 * an idle neighbour; a round that falls into a slow period moves its median by tens of percent,
 * and the share of slow time differs from run to run. The gate times a short probe (a few
 * getppid(2) calls, a kernel entry and exit and nothing else) before and after every timed
 * sample: a sample is clean when both probes ran within GATE_FACTOR of the run's floor. The
 * floor is a low quantile of probes, never the single fastest: a host can show a rarer, faster
 * speed for a moment, and gating against it would count every sample as contended. The run
 * starts from the 5th percentile of its probes over 100 ms (gate_calibrate); each cell round
 * reports the 5th percentile of its own probes (gate_finish), and once 8 have, the floor is
 * lowered to the lower quartile of those (runner.c), so a run that starts in a slow period
 * still gates the rest against the host's fast one.
 *
 * A slow probe before a sample makes the cell wait (probing) until the machine is back to speed;
 * a sample with a slow probe after it is set aside. Each cell round may spend a bounded extra
 * time on this (see gate_init). Past it, a round that has its minimum of clean samples ends with
 * them; one that has fewer is lost (its samples set aside, the round counted), never filled up
 * with samples of a slow period: a round's median is then always one of the machine at speed,
 * where a round of mixed periods would move it by the gap between the host's speeds. Further
 * rounds (adaptive rounds, run --max-rounds) make up for lost ones; a cell that loses every
 * round is skipped and says why.
 *
 * The same probe is the host-speed reference of every sample (run --reference, on by default):
 * the mean of the probe just before and the one just after the sample, outside its timed region,
 * recorded beside it (reference_ns in the results). A sample taken while the host runs slow has
 * a slow reference too, so compare --per-reference can scale each sample by it and take the
 * host's speed out of a comparison; whether the gate is on or off. */
#ifndef MSB_GATE_H
#define MSB_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A probe slower than GATE_FACTOR times the floor means a contended machine: chosen above the
 * spread of probes at one speed and below the gap between a shared host's speeds. */
#define GATE_FACTOR 1.2

struct gate {
	bool on;
	bool reference;			/* probe around every sample for its reference (ref_ns) */
	double before_ns;		/* the probe before the current sample (0: none) */
	double ref_ns;			/* the last sample's reference; NaN when it had no probe */
	double floor_ns;		/* the floor gated against (ns per call) */
	uint64_t allowance_ns;		/* extra time this cell may spend waiting and setting aside */
	uint64_t spent_ns;		/* extra time spent so far */
	long set_aside;			/* samples taken and not kept (contended, or of a lost round) */
	long rounds_lost;		/* rounds without their minimum of clean samples */
	uint64_t waited_ns;		/* time spent waiting for the machine before samples */
	long every;			/* test hook: every Nth probe reads as contended, the others at
				 * speed (0: off, the probes decide) */
	long probes;
	double *log;			/* this round's probes (the first GATE_LOG), for low_ns */
	size_t nlog;
	double low_ns;			/* the 5th percentile of a round's probes (gate_finish); 0: none */
};

#define GATE_LOG 8192

/* ns per call of one probe: the fastest of three short bursts of getppid(2). */
double gate_probe_ns(void);

/* The 5th percentile of probes taken for ns nanoseconds (ns per call). */
double gate_calibrate(uint64_t ns);

/* floor_ns: the run's floor (0: unknown, the cell calibrates its own over 5 ms); allowance_ns:
 * how much extra time the cell may spend on the gate. 0 on success, -1 (errno set) when the
 * probe log cannot be allocated. */
int gate_init(struct gate *g, bool on, bool reference, double floor_ns, uint64_t allowance_ns,
	      long every);

/* At the end of a round: low_ns from the probes it logged, the log freed. */
void gate_finish(struct gate *g);

/* True once the cell has spent its allowance. */
bool gate_spent(const struct gate *g);

/* Before a sample: wait, probing, until the machine is at speed or the allowance is spent; with
 * the reference on, at least one probe. */
void gate_before(struct gate *g);

enum gate_verdict {
	GATE_KEEP,		/* taken at speed */
	GATE_SET_ASIDE,		/* taken while contended: not kept (its time counts against the allowance) */
	GATE_ENOUGH,		/* taken while contended, the allowance spent: the round ends with the
				 * samples it has */
	GATE_ROUND_LOST,	/* the same, short of the round's minimum: the round is lost */
};

/* After a sample that took took_ns; need: the round still lacks its minimum of samples. Sets
 * ref_ns to the sample's reference (the mean of its probes before and after). */
enum gate_verdict gate_after(struct gate *g, uint64_t took_ns, bool need);

#endif
