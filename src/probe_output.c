/* SPDX-License-Identifier: GPL-2.0-only */
/* The probe's report for people and programs: TAP as kselftest prints it, one JSON object, and
 * the compact "probe" member of a results file's context. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "arch.h"
#include "json.h"
#include "kernel_facts.h"
#include "probe.h"
#include "probe_output.h"
#include "seal.h"
#include "version.h"

static const char *const outcome_words[] = { NULL, "allowed", "denied", "not_applicable" };
static const char *const verdict_words[] = { "ok", "not ok", "skip" };

void probe_print_tap(const struct probe_report *r, FILE *f)
{
	fprintf(f, "TAP version 13\n1..%d\n", r->nrows);
	for (int i = 0; i < r->nrows; i++) {
		const struct probe_row *row = &r->rows[i];

		if (row->verdict == PROBE_SKIP)
			fprintf(f, "ok %d %s # SKIP %s\n", i + 1, row->key, row->text);
		else
			fprintf(f, "%s %d %s: %s\n", row->verdict == PROBE_FAIL ? "not ok" : "ok", i + 1,
				row->key, row->text);
	}
	fprintf(f, "# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n", r->passed, r->failed,
		r->skipped);
}

static void write_errno(struct json *j, const char *key, enum probe_outcome o, int err)
{
	json_string(j, key, o == OUTCOME_DENIED && err ? probe_errno_name(err) : NULL);
}

static void write_row(struct json *j, const struct probe_row *row, int number)
{
	json_object_begin(j, NULL);
	json_integer(j, "number", number);
	json_string(j, "key", row->key);
	json_string(j, "result", verdict_words[row->verdict]);
	json_string(j, "text", row->text);
	if (row->matrix) {
		json_string(j, "sealed", outcome_words[row->outcome]);
		write_errno(j, "sealed_errno", row->outcome, row->err);
		json_string(j, "unsealed", outcome_words[row->control]);
		write_errno(j, "unsealed_errno", row->control, row->control_err);
		json_string(j, "documented", outcome_words[row->expected]);
	}
	json_object_end(j);
}

void probe_print_json(const struct probe_report *r, FILE *f)
{
	struct utsname u;
	struct json j;

	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	json_init(&j, f);
	json_object_begin(&j, NULL);
	json_string(&j, "schema", "msealbench-probe");
	json_integer(&j, "schema_version", 1);
	json_string(&j, "tool_version", MSB_VERSION);
	json_string(&j, "kernel_release", u.release);
	json_string(&j, "arch", ARCH_NAME);
	kernel_facts_write_mseal(&j, &r->kernel);
	kernel_facts_write_config(&j, &r->kernel);
	if (r->kernel.sysmap_known) {
		json_array_begin(&j, "system_mappings");
		for (int i = 0; system_mapping_names[i]; i++) {
			if (!r->kernel.sysmap_present[i])
				continue;
			json_object_begin(&j, NULL);
			json_string(&j, "name", system_mapping_names[i]);
			json_bool(&j, "sealed_at_exec", r->kernel.sysmap_sealed[i]);
			json_object_end(&j);
		}
		json_array_end(&j);
	} else {
		json_null(&j, "system_mappings");
	}
	json_array_begin(&j, "rows");
	for (int i = 0; i < r->nrows; i++)
		write_row(&j, &r->rows[i], i + 1);
	json_array_end(&j);
	json_integer(&j, "passed", r->passed);
	json_integer(&j, "failed", r->failed);
	json_integer(&j, "skipped", r->skipped);
	json_integer(&j, "exit_status", probe_exit_status(r));
	json_object_end(&j);
	fputc('\n', f);
}

static void write_keys(struct json *j, const char *key, const struct probe_report *r, enum probe_outcome o)
{
	json_array_begin(j, key);
	for (int i = 0; i < r->nrows; i++)
		if (r->rows[i].matrix && r->rows[i].outcome == o)
			json_string(j, NULL, r->rows[i].key);
	json_array_end(j);
}

void probe_write_context(struct json *j, const struct probe_report *r)
{
	json_object_begin(j, "probe");
	json_bool(j, "mseal_available", r->kernel.mseal_errno == 0);
	kernel_facts_write_config(j, &r->kernel);
	write_keys(j, "denied", r, OUTCOME_DENIED);
	write_keys(j, "allowed", r, OUTCOME_ALLOWED);
	write_keys(j, "not_applicable", r, OUTCOME_NOT_APPLICABLE);
	json_array_begin(j, "mismatches");
	for (int i = 0; i < r->nrows; i++)
		if (r->rows[i].verdict == PROBE_FAIL)
			json_string(j, NULL, r->rows[i].key);
	json_array_end(j);
	json_integer(j, "passed", r->passed);
	json_integer(j, "failed", r->failed);
	json_integer(j, "skipped", r->skipped);
	json_object_end(j);
}
