/* SPDX-License-Identifier: GPL-2.0-only */
#define _GNU_SOURCE
#include "precision.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "util.h"

/* The detectable changes the suite aims at: vDSO calls and the mremap paths are cheap and
 * steady, so 1%; fork and exec move more from process to process, so 2%. */
static const struct {
	const char *family;
	double mde;
} targets[] = {
	{ "harness", 0.01 }, { "vdso", 0.01 }, { "mremap", 0.01 },
	{ "fork", 0.02 }, { "exec", 0.02 }, { "mseal", 0.02 },
};
#define DEFAULT_MDE 0.02

double precision_mde_target(const char *family)
{
	for (size_t i = 0; i < ARRAY_SIZE(targets); i++)
		if (strcmp(targets[i].family, family) == 0)
			return targets[i].mde;
	return DEFAULT_MDE;
}

const char *precision_target_at(size_t i, double *mde)
{
	if (i >= ARRAY_SIZE(targets))
		return NULL;
	*mde = targets[i].mde;
	return targets[i].family;
}

/* An interval of half-width h (at 95%, 1.96 standard errors) detects a change of
 * (1.96 + 0.84) / 1.96 h = 1.43 h with 80% power. */
#define POWER_FACTOR ((1.959964 + 0.841621) / 1.959964)

double precision_ratio_halfwidth(double mde)
{
	return log1p(mde) / POWER_FACTOR;
}

double precision_location_halfwidth(double mde)
{
	return log1p(mde) / POWER_FACTOR / sqrt(2.0);
}

/* Student's t, two-sided 95%, for df degrees of freedom. */
static double t975(size_t df)
{
	static const double t[] = { 0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262,
				    2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093,
				    2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045,
				    2.042 };

	if (df < ARRAY_SIZE(t))
		return t[df];
	return 1.959964 + 2.4 / (double)df;	/* within 0.002 of the table from 30 on */
}

double precision_halfwidth(double *x, size_t n)
{
	double med, *dev, mad;

	if (n < 3)
		return INFINITY;
	sort_doubles(x, n);
	med = quantile_sorted(x, n, 0.5);
	dev = xmalloc(n * sizeof(*dev));
	for (size_t i = 0; i < n; i++)
		dev[i] = fabs(x[i] - med);
	sort_doubles(dev, n);
	mad = quantile_sorted(dev, n, 0.5);
	free(dev);
	/* 1.4826 MAD estimates sigma; the median of n normal values has sqrt(pi/2) the standard
	 * error of their mean. */
	return t975(n - 1) * 1.4826 * mad * 1.2533 / sqrt((double)n);
}

int precision_fit_budget(const double *cost, const double *rank, int n, double left, bool *keep)
{
	int *order = xmalloc((size_t)(n > 0 ? n : 1) * sizeof(int)), kept = 0;
	double sum = 0;

	for (int i = 0; i < n; i++) {
		order[i] = i;
		keep[i] = false;
	}
	/* Insertion sort by rank, equal ranks (infinite ones too) by cost, then in index order. */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0; j--) {
			int a = order[j - 1], b = order[j], t;

			if (rank[a] < rank[b] || (rank[a] == rank[b] && cost[a] <= cost[b]))
				break;
			t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (int i = 0; i < n; i++)
		if (sum + cost[order[i]] <= left) {
			sum += cost[order[i]];
			keep[order[i]] = true;
			kept++;
		}
	free(order);
	return kept;
}
