/* SPDX-License-Identifier: GPL-2.0-only */
/* The contract between a benchmark and the runner. A family file under bench/ defines an array
 * of these descriptors, ended by an empty one, and bench/families.h lists the family once. */
#ifndef MSB_BENCH_H
#define MSB_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seal.h"

#define BENCH_MAX_PARAMS 3

/* The children of the measured process do the work: count them too (inherit=1). */
#define BENCH_F_CHILDREN 0x1

/* prepare()'s answer when the cell cannot take another sample (see struct bench). */
#define BENCH_NO_ROOM 1

struct bench;

/* What one cell's benchmark sees: its descriptor, its parameter values, the seal mode and a
 * place for state. The runner owns everything else. */
struct bench_ctx {
	const struct bench *bench;
	long param[BENCH_MAX_PARAMS];	/* values, in the order the descriptor's params names them */
	char param_name[BENCH_MAX_PARAMS][32];	/* their names, filled once when the cell starts */
	enum seal_mode seal;
	const char *self_exe;		/* absolute path of the msealbench binary */
	const char *helper_dir;		/* directory of the project's helper programs */
	void *state;			/* owned by the benchmark, from setup to teardown */
	char note[256];			/* something the results should say about this cell */
	/* op() may time itself (a latency a child reports, say): it sets own_ns to the total for
	 * its n operations and the sample is that instead of the wall time around op(). */
	uint64_t own_ns;
	char error[256];		/* why a call failed: set through bench_fail() */
};

struct bench {
	const char *name;	/* within its family: "clock_gettime.monotonic" */
	const char *family;	/* "vdso"; the full name is family.name */
	const char *summary;	/* one line: what one operation is */
	const char *params;	/* sweep, e.g. "pages=1,16,512;vmas=1,8,64"; NULL: none */
	const char *quick_params; /* smaller sweep for --quick; NULL: same as params */
	unsigned flags;		/* BENCH_F_* */
	uint64_t max_batch;	/* most operations one sample may hold (address space); 0: no limit */
	const void *arg;	/* benchmark-specific constant, e.g. which clock */

	/* NULL when it can run here, else why not (static or in why[]). May be NULL. */
	const char *(*supported)(const struct bench *b, char *why, size_t len);
	/* Before the first sample, after sealing. 0, or -1 after bench_fail(). May be NULL. */
	int (*setup)(struct bench_ctx *ctx);
	/* Untimed, before every sample of n operations (e.g. fresh targets). 0; BENCH_NO_ROOM
	 * when the cell has no room for n more operations (e.g. sealed mappings used up the map
	 * count): calibration keeps the last batch that fitted and measuring ends with the
	 * samples taken; or -1 after bench_fail(). May be NULL. */
	int (*prepare)(struct bench_ctx *ctx, uint64_t n);
	/* Timed: n operations. 0, or -1 after bench_fail(). */
	int (*op)(struct bench_ctx *ctx, uint64_t n);
	/* Check that the operation really does what it claims (after setup, and after the last
	 * sample). 0, or -1 after bench_fail(). May be NULL. */
	int (*verify)(struct bench_ctx *ctx);
	void (*teardown)(struct bench_ctx *ctx);
};

/* Record why a call failed: "what: strerror (ENAME)"; returns -1 for "return bench_fail(...)". */
__attribute__((format(printf, 3, 4))) int bench_fail(struct bench_ctx *ctx, int err, const char *fmt, ...);

/* Value of the named parameter of this cell (the descriptor must declare it). Cheap: no
 * parsing, no allocation, so op() may call it. */
long bench_param(const struct bench_ctx *ctx, const char *name);

/* Fill ctx->param_name from the descriptor's declaration (the cell does this once). */
void bench_ctx_name_params(struct bench_ctx *ctx);

/* Keep the compiler from removing a computation whose result is unused. */
#define bench_keep(x) __asm__ volatile("" : : "g"(x) : "memory")

/* The registry: every benchmark of every family, in family order. */
struct bench_iter {
	int family, index;
};
const struct bench *bench_next(struct bench_iter *it);	/* NULL at the end */
const struct bench *bench_find(const char *full_name);
/* "family.name" into buf. */
const char *bench_full_name(const struct bench *b, char *buf, size_t len);
/* Its parameter sweep, the smaller one when quick. */
const char *bench_params(const struct bench *b, bool quick);
/* Whether b's full name matches pattern: a shell glob when it has *?[, else a substring;
 * comma-separated alternatives. NULL matches everything. */
bool bench_matches(const struct bench *b, const char *pattern);

/* Parameter sweeps: "a=1,2;b=3" parsed into names and value lists. */
struct param_sweep {
	int nparams;
	char name[BENCH_MAX_PARAMS][32];
	long *values[BENCH_MAX_PARAMS];
	int nvalues[BENCH_MAX_PARAMS];
};
/* 0, or -1 with err set. An empty or NULL spec gives nparams 0 (one combination). */
int param_sweep_parse(const char *spec, struct param_sweep *s, char *err, size_t errlen);
void param_sweep_free(struct param_sweep *s);
/* Number of combinations, and combination k's values into out[]. */
long param_sweep_count(const struct param_sweep *s);
void param_sweep_combination(const struct param_sweep *s, long k, long *out);
/* "vmas=16,pages=1" for values of s's params. */
void param_format(const struct param_sweep *s, const long *values, char *buf, size_t len);

#endif
