/* SPDX-License-Identifier: GPL-2.0-only */
/* The contention gate: timed samples are taken only while the machine runs at its own speed.
 *
 * On a shared host (a cloud guest, a CI runner) the same kernel path runs at two or more speeds
 * over periods of a fraction of a second to seconds, as the host gives this guest's CPU a busy or
 * an idle neighbour; a round that falls into a slow period moves its median by tens of percent,
 * and the share of slow time differs from run to run. The gate times a short probe (a few
 * getppid(2) calls, a kernel entry and exit and nothing else) before and after every timed
 * sample: a sample is clean when both probes ran within GATE_FACTOR of the fastest probe the run
 * has seen. A slow probe before a sample makes the cell wait (probing) until the machine is back
 * to speed; a sample with a slow probe after it is set aside. Each cell may spend a bounded extra
 * time on this (see gate_init); past it, samples are kept as they come and counted as contended,
 * so a machine that is never at speed still gets measured, and says so. */
#ifndef MSB_GATE_H
#define MSB_GATE_H

#include <stdbool.h>
#include <stdint.h>

/* A probe slower than GATE_FACTOR times the floor means a contended machine: above the spread of
 * probes at one speed, below the gap between a shared host's speeds (README, "How a run
 * measures", has the run that chose it). */
#define GATE_FACTOR 1.2

struct gate {
	bool on;
	double floor_ns;		/* the fastest probe seen (ns per call); 0: none yet */
	uint64_t allowance_ns;		/* extra time this cell may spend waiting and setting aside */
	uint64_t spent_ns;		/* extra time spent so far */
	long set_aside;			/* samples taken while contended and dropped */
	long kept_contended;		/* samples taken while contended and kept (allowance spent) */
	uint64_t waited_ns;		/* time spent waiting for the machine before samples */
	long every;			/* test hook: every Nth probe reads as contended, the others at
				 * speed (0: off, the probes decide) */
	long probes;
};

/* ns per call of one probe: the fastest of three short bursts of getppid(2). */
double gate_probe_ns(void);

/* floor_ns: the run's floor so far (0: unknown, the cell finds its own); allowance_ns: how much
 * extra time the cell may spend on the gate. */
void gate_init(struct gate *g, bool on, double floor_ns, uint64_t allowance_ns, long every);

/* Before a sample: wait, probing, until the machine is at speed or the allowance is spent. */
void gate_before(struct gate *g);

/* After a sample that took took_ns: true to keep it, false when it was taken while contended
 * and is set aside (its time is counted against the allowance). */
bool gate_after(struct gate *g, uint64_t took_ns);

#endif
