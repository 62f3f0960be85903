/* SPDX-License-Identifier: GPL-2.0-only */
/* A bare loop of clock_gettime(CLOCK_MONOTONIC) outside the harness: the reference that
 * tools/targets.py checks the harness's vDSO figure against. It calls the vDSO entry point the
 * dynamic loader resolves (dlsym on linux-vdso.so.1), the same code the harness calls through
 * its own lookup, and libc's clock_gettime for information (libc adds its wrapper's cost).
 * Built dynamically (its name says so) because dlopen of the vDSO needs the loader.
 * usage: bare_vdso_loop_dynamic vdso|libc ITERATIONS REPEATS [CPU]; prints ns per call. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arch.h"

typedef int (*clock_fn)(clockid_t, struct timespec *);

static double ns_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e9 + (double)(b->tv_nsec - a->tv_nsec);
}

static clock_fn pick(const char *which)
{
	void *vdso;

	if (strcmp(which, "libc") == 0)
		return clock_gettime;
	vdso = dlopen("linux-vdso.so.1", RTLD_NOW | RTLD_NOLOAD);
	return vdso ? (clock_fn)dlsym(vdso, ARCH_VDSO_CLOCK_GETTIME) : NULL;
}

static void pin(const char *cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(atoi(cpu), &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		perror("bare_vdso_loop_dynamic: sched_setaffinity");
}

int main(int argc, char **argv)
{
	long iterations, repeats;
	struct timespec t0, t1, ts;
	clock_fn fn;

	if (argc < 4 || (iterations = atol(argv[2])) <= 0 || (repeats = atol(argv[3])) <= 0) {
		fprintf(stderr, "usage: bare_vdso_loop_dynamic vdso|libc ITERATIONS REPEATS [CPU]\n");
		return 2;
	}
	fn = pick(argv[1]);
	if (!fn) {
		fprintf(stderr, "bare_vdso_loop_dynamic: no vDSO clock_gettime here\n");
		return 1;
	}
	if (argc > 4)
		pin(argv[4]);
	for (long r = 0; r < repeats; r++) {
		clock_gettime(CLOCK_MONOTONIC_RAW, &t0);
		for (long i = 0; i < iterations; i++)
			fn(CLOCK_MONOTONIC, &ts);
		clock_gettime(CLOCK_MONOTONIC_RAW, &t1);
		printf("%.4f\n", ns_between(&t0, &t1) / (double)iterations);
	}
	return 0;
}
