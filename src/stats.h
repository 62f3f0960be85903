/* SPDX-License-Identifier: GPL-2.0-only */
/* Summary statistics of one cell's samples (the compare scripts do the inferential part). */
#ifndef MSB_STATS_H
#define MSB_STATS_H

#include <stddef.h>

struct summary {
	size_t n;
	double median, mean, stddev, cv, min, max, p5, p95;
};

/* Fills s from x[0..n); n == 0 gives s->n == 0 and zeros elsewhere. */
void summarize(const double *x, size_t n, struct summary *s);

/* Sorts x[0..n) ascending. */
void sort_doubles(double *x, size_t n);

/* Quantile q in [0,1] of sorted data, linear interpolation between order statistics. */
double quantile_sorted(const double *sorted, size_t n, double q);

#endif
