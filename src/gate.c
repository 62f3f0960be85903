/* SPDX-License-Identifier: GPL-2.0-only */
/* The contention gate (gate.h). */
#define _GNU_SOURCE
#include "gate.h"

#include <math.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stats.h"
#include "util.h"

#define GATE_BURST 8	/* getppid calls in one burst: about 1.5 us on a 2026 x86-64 guest */

double gate_probe_ns(void)
{
	uint64_t best = UINT64_MAX;

	for (int k = 0; k < 3; k++) {
		uint64_t t0 = now_ns(), t;

		for (int i = 0; i < GATE_BURST; i++)
			syscall(SYS_getppid);
		t = now_ns() - t0;
		best = t < best ? t : best;
	}
	return (double)best / GATE_BURST;
}

/* The 5th percentile of v[0..n) (sorts v); 0 when n is 0. */
static double low_of(double *v, size_t n)
{
	if (n == 0)
		return 0;
	sort_doubles(v, n);
	return quantile_sorted(v, n, 0.05);
}

double gate_calibrate(uint64_t ns)
{
	double *v = xmalloc(4 * GATE_LOG * sizeof(*v)), low;
	uint64_t end = now_ns() + ns;
	size_t n = 0;

	do
		v[n++] = gate_probe_ns();
	while (n < 4 * GATE_LOG && now_ns() < end);
	low = low_of(v, n);
	free(v);
	return low;
}

int gate_init(struct gate *g, bool on, bool reference, double floor_ns, uint64_t allowance_ns,
	      long every)
{
	*g = (struct gate){ .on = on, .reference = reference, .floor_ns = floor_ns,
			    .allowance_ns = allowance_ns, .every = every, .ref_ns = NAN };
	if (!on)
		return 0;
	if (g->floor_ns <= 0)
		g->floor_ns = gate_calibrate(5000000ull);
	g->log = malloc(GATE_LOG * sizeof(*g->log));
	return g->log ? 0 : -1;
}

void gate_finish(struct gate *g)
{
	g->low_ns = g->log ? low_of(g->log, g->nlog) : 0;
	free(g->log);
	g->log = NULL;
	g->nlog = 0;
}

bool gate_spent(const struct gate *g)
{
	return g->spent_ns >= g->allowance_ns;
}

/* One probe, counted and logged (the round's low_ns). */
static double probe(struct gate *g)
{
	double p = gate_probe_ns();

	g->probes++;
	if (g->log && g->nlog < GATE_LOG)
		g->log[g->nlog++] = p;
	return p;
}

/* Whether the probe that was just taken, p, says the machine is at speed. */
static bool at_speed(const struct gate *g, double p)
{
	if (g->every > 0)	/* the test hook alone decides, whatever the machine does */
		return g->probes % g->every != 0;
	return p <= g->floor_ns * GATE_FACTOR;
}

void gate_before(struct gate *g)
{
	uint64_t t0, waited;

	g->before_ns = 0;
	if (!g->on || gate_spent(g)) {
		if (g->reference)
			g->before_ns = probe(g);
		return;
	}
	t0 = now_ns();
	while (!at_speed(g, g->before_ns = probe(g)) && g->spent_ns + (now_ns() - t0) < g->allowance_ns)
		;
	waited = now_ns() - t0;
	g->waited_ns += waited;
	g->spent_ns += waited;
}

enum gate_verdict gate_after(struct gate *g, uint64_t took_ns, bool need)
{
	double after = g->on || g->reference ? probe(g) : 0;
	bool keep = !g->on || at_speed(g, after);

	/* The mean of the probes around the sample (gate_before always takes one when the reference
	 * is on); NaN, written as null, when a probe read 0 ns (a clock too coarse to time it). */
	g->ref_ns = g->reference && g->before_ns > 0 && after > 0 ? (g->before_ns + after) / 2 : NAN;
	if (keep)
		return GATE_KEEP;
	g->set_aside++;
	if (gate_spent(g))
		return need ? GATE_ROUND_LOST : GATE_ENOUGH;
	g->spent_ns += took_ns;
	return GATE_SET_ASIDE;
}
