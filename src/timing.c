/* SPDX-License-Identifier: GPL-2.0-only */
#define _GNU_SOURCE
#include "timing.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "arch.h"
#include "util.h"

void empty_loop(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		__asm__ volatile("" ::: "memory");
}

void spin_until_ns(uint64_t deadline_ns)
{
	while (now_ns() < deadline_ns)
		arch_cpu_relax();
}

static double measure_clock_overhead(void)
{
	const int reads = 100000;
	uint64_t t0 = now_ns(), t1;

	for (int i = 0; i < reads; i++)
		{ uint64_t v = now_ns(); __asm__ volatile("" : : "r"(v) : "memory"); }
	t1 = now_ns();
	return (double)(t1 - t0) / reads;
}

static double measure_resolution(void)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 1000; i++) {
		uint64_t a = now_ns(), b;

		while ((b = now_ns()) == a)
			;
		if (b - a < best)
			best = b - a;
	}
	return (double)best;
}

static double measure_loop_overhead(void)
{
	const uint64_t n = 10000000;
	uint64_t t0 = now_ns();

	empty_loop(n);
	return (double)(now_ns() - t0) / (double)n;
}

/* The cycle counter is a clock only when the CPU says it runs at a constant rate. */
static bool cycle_counter_flags_ok(char *why, size_t len)
{
	static const char *const need[] = ARCH_CYCLE_COUNTER_CPUINFO_FLAGS;
	char buf[65536];
	const char *flags;

	if (!need[0])
		return true;
	if (!read_text_file("/proc/cpuinfo", buf, sizeof(buf))) {
		snprintf(why, len, "cannot read /proc/cpuinfo");
		return false;
	}
	flags = strstr(buf, "\nflags");
	for (size_t i = 0; i < ARRAY_SIZE(need); i++) {
		char word[48];
		const char *eol = flags ? strchr(flags + 1, '\n') : NULL;
		const char *hit;

		snprintf(word, sizeof(word), " %s", need[i]);
		hit = flags ? strstr(flags, word) : NULL;
		if (!hit || (eol && hit > eol)) {
			snprintf(why, len, "cpu flag %s missing: %s not invariant", need[i],
				 ARCH_CYCLE_COUNTER_NAME);
			return false;
		}
	}
	return true;
}

static double measure_cycles_hz(void)
{
	uint64_t t0 = now_ns(), c0 = arch_cycles_begin(), t1, c1;

	spin_until_ns(t0 + 20 * 1000 * 1000);
	c1 = arch_cycles_end();
	t1 = now_ns();
	return (double)(c1 - c0) * 1e9 / (double)(t1 - t0);
}

/* An architecture that states its counter's rate (arm64: cntfrq_el0) gets that exact figure;
 * the estimate above stays as the check against firmware that programs the rate wrongly. */
static double cycle_counter_hz(void)
{
	double measured = measure_cycles_hz();
#ifdef ARCH_CYCLE_COUNTER_HZ
	double stated = (double)ARCH_CYCLE_COUNTER_HZ();

	if (stated > 0 && fabs(measured - stated) < 0.02 * stated)
		return stated;
#endif
	return measured;
}

void timer_measure(struct timer_info *t)
{
	memset(t, 0, sizeof(*t));
	t->overhead_ns = measure_clock_overhead();
	t->resolution_ns = measure_resolution();
	t->loop_overhead_ns = measure_loop_overhead();
	t->cycles_reliable = cycle_counter_flags_ok(t->cycles_why, sizeof(t->cycles_why));
	t->cycles_hz = cycle_counter_hz();
}
