/* SPDX-License-Identifier: GPL-2.0-only */
/* msealbench probe: is mseal(2) here, did the kernel seal the system mappings at exec, and which
 * operations does sealing deny. Every row that seals runs in a child process: the process
 * that probes (the runner, or `msealbench probe`) never seals anything itself. */
#ifndef MSB_PROBE_H
#define MSB_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "kernel_facts.h"

#define PROBE_MAX_ROWS 48

enum probe_verdict { PROBE_PASS, PROBE_FAIL, PROBE_SKIP };

/* What an operation did: on the sealed target, and on the unsealed control. */
enum probe_outcome { OUTCOME_NONE, OUTCOME_ALLOWED, OUTCOME_DENIED, OUTCOME_NOT_APPLICABLE };

struct probe_row {
	char key[40];			/* stable name: "mseal.bad_flags", "vdso.munmap", ... */
	char text[240];			/* what happened, for people */
	enum probe_verdict verdict;
	bool matrix;			/* a compatibility-matrix row (sealed vs unsealed control) */
	enum probe_outcome outcome, control, expected;
	int err, control_err;		/* errno of the sealed and the control attempt, 0: none */
};

struct probe_report {
	struct kernel_facts kernel;	/* what the rows are checked against */
	int nrows, passed, failed, skipped;
	struct probe_row rows[PROBE_MAX_ROWS];
};

/* Runs every row against the kernel facts k (children for everything that seals). self_exe is
 * re-exec'd for the rows that need a fresh process. */
void probe_collect(struct probe_report *r, const struct kernel_facts *k, const char *self_exe);

/* 0 all rows as expected, 1 a row failed, 4 mseal(2) missing (kselftest's skip). */
int probe_exit_status(const struct probe_report *r);

/* ---- for the files of the rows (probe_contract.c, probe_matrix.c) ---- */

/* What a row's child reports, one line: "ran ERRNO why", "na 0 why" (not applicable here) or
 * "broken ERRNO why" (the probe itself could not set the case up). */
enum probe_child_status { PROBE_CHILD_RAN, PROBE_CHILD_NA, PROBE_CHILD_BROKEN };

struct probe_child_report {
	enum probe_child_status status;
	int err;
	char why[200];
};

/* In a child: write its report line to fd (fmt NULL: no why). */
__attribute__((format(printf, 4, 5)))
void probe_child_say(int fd, enum probe_child_status status, int err, const char *fmt, ...);
/* Run fn(fd, arg) in a child (its report pipe also on out_as when > 0) and read its report; a
 * child that hangs is killed after a minute. */
void probe_run_child(int (*fn)(int fd, const void *arg), const void *arg, int out_as,
		     struct probe_child_report *rep);
/* Append a row; returns it for the matrix's extra fields. */
__attribute__((format(printf, 4, 5)))
struct probe_row *probe_add_row(struct probe_report *r, const char *key, enum probe_verdict v,
				const char *fmt, ...);
/* "EPERM" for EPERM. */
const char *probe_errno_name(int err);
int probe_page_size(void);
/* A private anonymous mapping of len bytes (MAP_FAILED on failure). */
void *probe_map_anon(size_t len, int prot);

#endif
