/* SPDX-License-Identifier: GPL-2.0-only */
/* The contention gate (gate.h). */
#define _GNU_SOURCE
#include "gate.h"

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

void gate_init(struct gate *g, bool on, double floor_ns, uint64_t allowance_ns, long every)
{
	*g = (struct gate){ .on = on, .floor_ns = floor_ns, .allowance_ns = allowance_ns, .every = every };
}

/* One probe, the floor lowered by it; true when the machine is at speed. */
static bool at_speed(struct gate *g)
{
	double p = gate_probe_ns();

	g->probes++;
	if (g->floor_ns <= 0 || p < g->floor_ns)
		g->floor_ns = p;
	if (g->every > 0)	/* the test hook alone decides, whatever the machine does */
		return g->probes % g->every != 0;
	return p <= g->floor_ns * GATE_FACTOR;
}

void gate_before(struct gate *g)
{
	uint64_t t0, waited;

	if (!g->on || g->spent_ns >= g->allowance_ns)
		return;
	t0 = now_ns();
	while (!at_speed(g) && g->spent_ns + (now_ns() - t0) < g->allowance_ns)
		;
	waited = now_ns() - t0;
	g->waited_ns += waited;
	g->spent_ns += waited;
}

bool gate_after(struct gate *g, uint64_t took_ns)
{
	if (!g->on)
		return true;
	if (at_speed(g))
		return true;
	if (g->spent_ns >= g->allowance_ns) {
		g->kept_contended++;
		return true;
	}
	g->set_aside++;
	g->spent_ns += took_ns;
	return false;
}
