/* SPDX-License-Identifier: GPL-2.0-only */
/* The probe's report as TAP, JSON and a results context member (probe_output.c). */
#ifndef MSB_PROBE_OUTPUT_H
#define MSB_PROBE_OUTPUT_H

#include <stdio.h>

#include "json.h"
#include "probe.h"

/* TAP version 13 (kselftest's dialect), or one JSON object (schema msealbench-probe, version 1). */
void probe_print_tap(const struct probe_report *r, FILE *f);
void probe_print_json(const struct probe_report *r, FILE *f);

/* The results context's "probe" member: denied/allowed/not_applicable/mismatches, kernel
 * config, counts. */
void probe_write_context(struct json *j, const struct probe_report *r);

#endif
