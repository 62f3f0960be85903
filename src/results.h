/* SPDX-License-Identifier: GPL-2.0-only */
/* The run as a schema-v1 JSON file (results/README.md), written atomically, and as a table for
 * people. */
#ifndef MSB_RESULTS_H
#define MSB_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct run;

/* Where --out sends the results. */
struct out_target {
	bool stream;		/* "-", a character device or a FIFO: written once, in place */
	char path[4096];	/* else the regular file (links followed) renamed onto */
};

/* What is wrong with --out PATH (why, one phrase, returns -1), found before
 * measuring: a file must be creatable beside its target. */
int results_check_out(const char *path, struct out_target *t, char *why, size_t len);
/* Write the run as schema-v1 JSON to path: a regular file through a temporary file
 * beside it and rename, a stream in place. */
int results_write(const struct run *run, const char *path, bool partial);
/* The table for people, on f. */
void results_print_table(const struct run *run, FILE *f);

#endif
