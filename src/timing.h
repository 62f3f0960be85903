/* SPDX-License-Identifier: GPL-2.0-only */
/* The clocks a sample is timed with, and what they cost. */
#ifndef MSB_TIMING_H
#define MSB_TIMING_H

#include <stdbool.h>
#include <stdint.h>

struct timer_info {
	double overhead_ns;	/* one CLOCK_MONOTONIC_RAW read */
	double resolution_ns;	/* smallest non-zero step seen between two reads */
	bool cycles_reliable;	/* the arch cycle counter may be used as a clock here */
	char cycles_why[128];	/* why not, when it is not */
	double cycles_hz;	/* its rate, measured against CLOCK_MONOTONIC_RAW */
	double loop_overhead_ns;/* one iteration of the harness's empty loop */
};

/* Measures all of the above; takes about 50 ms. */
void timer_measure(struct timer_info *t);

/* Busy-wait until CLOCK_MONOTONIC_RAW reaches deadline_ns (used for --inject-delay). */
void spin_until_ns(uint64_t deadline_ns);

/* The empty loop the `harness.empty` benchmark times: n iterations of nothing. */
void empty_loop(uint64_t n);

#endif
