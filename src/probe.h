/* msealbench probe: is mseal(2) here, did the kernel seal the system mappings at exec, and which
 * operations does sealing deny. Every row that seals runs in a child process: the process
 * that probes (the runner, or `msealbench probe`) never seals anything itself. */
#ifndef MSB_PROBE_H
#define MSB_PROBE_H

#include <stdbool.h>
#include <stdio.h>

#include "json.h"
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

/* The results context's "probe" member: denied/allowed/not_applicable/mismatches, kernel
 * config, counts. */
void probe_write_context(struct json *j, const struct probe_report *r);

/* The report as TAP version 13 (kselftest's dialect), or as one JSON object (schema
 * msealbench-probe, version 1). */
void probe_print_tap(const struct probe_report *r, FILE *f);
void probe_print_json(const struct probe_report *r, FILE *f);

#endif
