/* SPDX-License-Identifier: GPL-2.0-only */
/* The contention gate (gate.h). */
#define _GNU_SOURCE
#include "gate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

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

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

/* The 5th percentile of v[0..n) (sorts v). */
static double low_of(float *v, int n)
{
	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_float);
	return v[n / 20];
}

double gate_calibrate(uint64_t ns)
{
	static float v[4 * GATE_LOG];
	uint64_t end = now_ns() + ns;
	int n = 0;

	do
		v[n++] = (float)gate_probe_ns();
	while (n < (int)(sizeof(v) / sizeof(*v)) && now_ns() < end);
	return low_of(v, n);
}

int gate_init(struct gate *g, bool on, double floor_ns, uint64_t allowance_ns, long every)
{
	*g = (struct gate){ .on = on, .floor_ns = floor_ns, .allowance_ns = allowance_ns, .every = every };
	if (!on)
		return 0;
	if (g->floor_ns <= 0)
		g->floor_ns = gate_calibrate(5000000ull);
	g->log = malloc(GATE_LOG * sizeof(*g->log));
	return g->log ? 0 : -1;
}

double gate_low_ns(const struct gate *g)
{
	float *v;
	double low;

	if (!g->log || g->nlog == 0)
		return 0;
	v = malloc((size_t)g->nlog * sizeof(*v));
	if (!v)
		return 0;
	memcpy(v, g->log, (size_t)g->nlog * sizeof(*v));
	low = low_of(v, g->nlog);
	free(v);
	return low;
}

void gate_free(struct gate *g)
{
	free(g->log);
	g->log = NULL;
	g->nlog = 0;
}

bool gate_spent(const struct gate *g)
{
	return g->spent_ns >= g->allowance_ns;
}

/* One probe, logged; true when the machine is at speed. */
static bool at_speed(struct gate *g)
{
	double p = gate_probe_ns();

	g->probes++;
	if (g->log && g->nlog < GATE_LOG)
		g->log[g->nlog++] = (float)p;
	if (g->every > 0)	/* the test hook alone decides, whatever the machine does */
		return g->probes % g->every != 0;
	return p <= g->floor_ns * GATE_FACTOR;
}

void gate_before(struct gate *g)
{
	uint64_t t0, waited;

	if (!g->on || gate_spent(g))
		return;
	t0 = now_ns();
	while (!at_speed(g) && g->spent_ns + (now_ns() - t0) < g->allowance_ns)
		;
	waited = now_ns() - t0;
	g->waited_ns += waited;
	g->spent_ns += waited;
}

enum gate_verdict gate_after(struct gate *g, uint64_t took_ns, bool need)
{
	if (!g->on || at_speed(g))
		return GATE_KEEP;
	g->set_aside++;
	if (gate_spent(g))
		return need ? GATE_ROUND_LOST : GATE_ENOUGH;
	g->spent_ns += took_ns;
	return GATE_SET_ASIDE;
}
