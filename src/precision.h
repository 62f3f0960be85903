/* SPDX-License-Identifier: GPL-2.0-only */
/* When a point has been measured enough: the runner's rule for adaptive rounds.
 *
 * Every point (a benchmark and its parameter values) runs --repetitions rounds. After that, a
 * point keeps getting rounds, up to --max-rounds, only while it cannot yet answer to its
 * family's precision target: the 95% interval of each seal mode's location (for a comparison
 * against another run) or of the paired ratio between the modes (within this run) is still
 * wider than the target allows. The rule looks at the spread of the rounds, never at the
 * estimate itself (a fixed-width sequential interval, as Chow and Robbins'), so a point is not
 * stopped because it happened to look like a regression or like no change, and the intervals
 * compare computes keep their level without a correction for the looks. */
#ifndef MSB_PRECISION_H
#define MSB_PRECISION_H

#include <stdbool.h>
#include <stddef.h>

/* The smallest relative change a family's cells should detect at 80% power (0.01: 1%). */
double precision_mde_target(const char *family);

/* Half-widths a point's intervals may have to meet the target mde: the paired ratio between
 * two seal modes of one run, and one mode's own location (compared unpaired against another
 * run, whose location is as uncertain: sqrt(2) more). */
double precision_ratio_halfwidth(double mde);
double precision_location_halfwidth(double mde);

/* The half-width of the 95% interval of the median of x[0..n) (logs of round medians, or
 * their paired differences): a robust spread (1.4826 MAD), the median's efficiency, and
 * Student's t for n - 1 degrees of freedom. INFINITY below 3 values. x is reordered. */
double precision_halfwidth(double *x, size_t n);

/* Which of n open points a round can take within left: cost[i] is what a round of point i
 * takes, rank[i] the order they are offered it in (the runner's: what each would still cost to
 * reach its target; equal ranks go to the cheaper first, then in index order). Each point in
 * that order takes part if its cost still fits; one that does not is passed over. keep[i] says
 * whether point i takes part; returns how many do (0: none fits). */
int precision_fit_budget(const double *cost, const double *rank, int n, double left, bool *keep);

/* The table of targets, for the results file: family i's name and target; NULL past the end. */
const char *precision_target_at(size_t i, double *mde);

#endif
