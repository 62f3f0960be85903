/* SPDX-License-Identifier: GPL-2.0-only */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch.h"
#include "json.h"
#include "probe_output.h"
#include "precision.h"
#include "results.h"
#include "runner.h"
#include "stats.h"

static const char *const cell_status_names[] = { "pending", "ok", "skipped", "failed" };

static void write_dvec(struct json *j, const char *key, const struct dvec *d)
{
	json_array_begin(j, key);
	for (size_t i = 0; i < d->n; i++)
		json_number(j, NULL, d->v[i]);
	json_array_end(j);
}

static void write_options(struct json *j, const struct run *run)
{
	const struct run_options *o = &run->opt;

	json_object_begin(j, "options");
	json_integer(j, "repetitions", o->repetitions);
	json_integer(j, "max_rounds", o->max_rounds > o->repetitions ? o->max_rounds : o->repetitions);
	if (o->time_budget_s > 0)
		json_number(j, "time_budget_s", o->time_budget_s);
	else
		json_null(j, "time_budget_s");
	json_object_begin(j, "precision_targets");	/* the detectable change each family aims at */
	{
		double mde;
		const char *family;

		for (size_t i = 0; (family = precision_target_at(i, &mde)); i++)
			json_number(j, family, o->precision > 0 ? o->precision : mde);
	}
	json_object_end(j);
	json_number(j, "min_time_s", o->min_time_s);
	json_bool(j, "quick", o->quick);
	json_bool(j, "gate", o->gate);
	json_string(j, "reference", o->reference ? "getppid" : NULL);
	if (o->cpu >= 0)
		json_integer(j, "cpu", o->cpu);
	else
		json_null(j, "cpu");
	json_array_begin(j, "seal_modes");
	for (int m = 0; m < SEAL_MODE_COUNT; m++)
		if (o->seal_modes[m])
			json_string(j, NULL, seal_mode_name((enum seal_mode)m));
	json_array_end(j);
	json_string(j, "filter", o->filter);
	json_string(j, "events", o->events);
	if (o->inject > 0) {
		json_object_begin(j, "inject_delay");
		json_number(j, "fraction", o->inject);
		json_string(j, "seal", o->inject_mode < 0 ? "all" : seal_mode_name((enum seal_mode)o->inject_mode));
		json_object_end(j);
	} else {
		json_null(j, "inject_delay");
	}
	json_object_end(j);
}

/* The seal modes this build knows, in their order (none first: the baseline), and what the
 * numbers of each mean. */
static void write_seal_modes(struct json *j)
{
	json_array_begin(j, "seal_modes");
	for (int m = 0; m < SEAL_MODE_COUNT; m++) {
		json_object_begin(j, NULL);
		json_string(j, "name", seal_modes[m].name);
		json_string(j, "seals", seal_modes[m].seals);
		json_bool(j, "seals_system_mappings", seal_modes[m].seals_system_mappings);
		json_bool(j, "seals_file_mappings", seal_modes[m].seals_file_mappings);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_begin(j, "sealing_notes");
	for (int m = 0; m < SEAL_MODE_COUNT; m++)
		json_string(j, seal_modes[m].name, seal_modes[m].note);
	json_string(j, "kernel_sealing", "the cost of the kernel sealing at exec is measured by running the "
		    "suite on two kernels, with and without CONFIG_MSEAL_SYSTEM_MAPPINGS, and comparing the two "
		    "result files (plots/compare.py A.json B.json); probe.kernel_config and "
		    "kernel_sealed_system_mappings say which kernel a file comes from");
	json_object_end(j);
}

struct gate_totals {
	long taken, aside, lost;
	uint64_t waited;
};

/* The contention gate's counts summed over every cell. */
static void gate_totals(const struct run *run, struct gate_totals *t)
{
	*t = (struct gate_totals){ 0 };
	for (int i = 0; i < run->ncells; i++) {
		const struct gate *g = &run->cells[i].res.gate;

		t->taken += (long)run->cells[i].res.ns.n + g->set_aside;
		t->aside += g->set_aside;
		t->lost += g->rounds_lost;
		t->waited += g->waited_ns;
	}
}

/* The contention gate over the whole run: its floor, and samples set aside, rounds lost and the
 * time waited, over every cell; null when the gate was off. */
static void write_gate_totals(struct json *j, const struct run *run)
{
	struct gate_totals t;

	if (!run->opt.gate) {
		json_null(j, "gate");
		return;
	}
	gate_totals(run, &t);
	json_object_begin(j, "gate");
	json_string(j, "probe", "getppid(2)");
	json_number(j, "factor", GATE_FACTOR);
	json_number(j, "floor_ns", run->gate_floor_ns);
	json_integer(j, "samples_taken", t.taken);
	json_integer(j, "set_aside", t.aside);
	json_integer(j, "rounds_lost", t.lost);
	json_number(j, "waited_s", (double)t.waited / 1e9);
	json_object_end(j);
}

/* What the contention gate did over the run, in a line under the table. */
static void print_gate_line(FILE *f, const struct run *run)
{
	struct gate_totals t;

	if (!run->opt.gate)
		return;
	gate_totals(run, &t);
	fprintf(f, "gate: %ld of %ld samples set aside as taken while the machine was slow (probe over %.0f%% of its "
		   "floor, %.1f ns), %.1f s waited for it; %ld cell round(s) lost, short of their minimum of "
		   "clean samples\n",
		t.aside, t.taken, (GATE_FACTOR - 1) * 100, run->gate_floor_ns, (double)t.waited / 1e9, t.lost);
}

static void write_context(struct json *j, const struct run *run)
{
	const struct timer_info *t = &run->timer;

	json_object_begin(j, "context");
	json_string(j, "date", run->date);
	json_string(j, "label", run->opt.label);
	env_write_json(j, &run->env);
	probe_write_context(j, &run->probe);
	write_seal_modes(j);
	json_integer(j, "seed", (long long)run->opt.seed);
	write_options(j, run);
	json_object_begin(j, "timer");
	json_string(j, "clock", "CLOCK_MONOTONIC_RAW");
	json_number(j, "overhead_ns", t->overhead_ns);
	json_number(j, "resolution_ns", t->resolution_ns);
	json_object_begin(j, "cycle_counter");
	json_string(j, "name", ARCH_CYCLE_COUNTER_NAME);
	json_bool(j, "reliable", t->cycles_reliable);
	json_string(j, "why_not", t->cycles_reliable ? NULL : t->cycles_why);
	json_number(j, "hz", t->cycles_hz);
	json_object_end(j);
	json_object_end(j);
	json_number(j, "loop_overhead_ns", t->loop_overhead_ns);
	json_string(j, "event_naming", counters_naming());
	json_number(j, "counter_read_ns", run->counter_read_ns);
	write_gate_totals(j, run);
	json_object_end(j);
}

static void write_params(struct json *j, const struct cell *c)
{
	json_object_begin(j, "params");
	for (int i = 0; i < c->sweep->nparams; i++)
		json_integer(j, c->sweep->name[i], c->param[i]);
	json_object_end(j);
}

static void write_notes(struct json *j, const struct cell *c)
{
	char copy[sizeof(c->res.notes)], *save = NULL;

	json_array_begin(j, "notes");
	snprintf(copy, sizeof(copy), "%s", c->res.notes);
	for (char *t = strtok_r(copy, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
		json_string(j, NULL, t);
	json_array_end(j);
}

static void write_counters(struct json *j, const struct cell *c)
{
	json_object_begin(j, "counters");
	json_array_begin(j, "events");
	for (int i = 0; i < c->res.nevents; i++) {
		json_object_begin(j, NULL);
		json_string(j, "name", c->res.event[i].name);
		json_string(j, "status", c->res.event[i].status);
		json_string(j, "reason", c->res.event[i].reason[0] ? c->res.event[i].reason : NULL);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_begin(j, "values");
	for (int i = 0; i < c->res.nevents; i++)
		if (strcmp(c->res.event[i].status, "counted") == 0)
			write_dvec(j, c->res.event[i].name, &c->res.values[i]);
	json_object_end(j);
	write_dvec(j, "running_ratio", &c->res.running_ratio);
	/* The counts come from their own blocks, one after each timed sample (src/cell.c). */
	json_string(j, "sampling", "separate");
	write_dvec(j, "samples", &c->res.counted_ns);
	json_object_end(j);
}

static void write_summary(struct json *j, const struct cell *c)
{
	struct summary s;

	if (c->res.ns.n == 0) {
		json_null(j, "summary");
		return;
	}
	summarize(c->res.ns.v, c->res.ns.n, &s);
	json_object_begin(j, "summary");
	json_integer(j, "n", (long long)s.n);
	json_number(j, "median", s.median);
	json_number(j, "mean", s.mean);
	json_number(j, "stddev", s.stddev);
	json_number(j, "cv", s.cv);
	json_number(j, "min", s.min);
	json_number(j, "max", s.max);
	json_number(j, "p5", s.p5);
	json_number(j, "p95", s.p95);
	json_object_end(j);
}

static void write_cell(struct json *j, const struct run *run, const struct cell *c)
{
	char name[160];

	json_object_begin(j, NULL);
	json_string(j, "benchmark", bench_full_name(c->bench, name, sizeof(name)));
	json_string(j, "family", c->bench->family);
	json_string(j, "summary_text", c->bench->summary);
	write_params(j, c);
	json_string(j, "seal", seal_mode_name(c->seal));
	json_string(j, "unit", "ns/op");
	json_string(j, "status", cell_status_names[c->status == CELL_PENDING ? CELL_SKIPPED : c->status]);
	json_string(j, "reason", c->status == CELL_PENDING ? "not run: the run was interrupted first"
			       : c->reason[0] ? c->reason : NULL);
	write_notes(j, c);
	json_integer(j, "batch", (long long)c->res.batch);
	json_integer(j, "vma_count", c->res.vmas);
	json_integer(j, "sealed_mappings", c->res.sealed);
	write_dvec(j, "samples", &c->res.ns);
	write_dvec(j, "rounds", &c->res.round);
	json_string(j, "stopped", c->stopped);
	if (c->wall_runs > 0)
		json_number(j, "round_s", c->wall_ns / (double)c->wall_runs / 1e9);
	else
		json_null(j, "round_s");
	if (c->res.gate.on) {
		json_object_begin(j, "gate");
		json_number(j, "floor_ns", c->res.gate.floor_ns);
		json_integer(j, "set_aside", c->res.gate.set_aside);
		json_integer(j, "rounds_lost", c->res.gate.rounds_lost);
		json_number(j, "waited_s", (double)c->res.gate.waited_ns / 1e9);
		json_object_end(j);
	} else {
		json_null(j, "gate");
	}
	if (run->opt.reference)
		write_dvec(j, "reference_ns", &c->res.ref_ns);
	else
		json_null(j, "reference_ns");
	if (run->timer.cycles_reliable)
		write_dvec(j, "cycles", &c->res.cycles);
	else
		json_null(j, "cycles");
	write_counters(j, c);
	write_summary(j, c);
	json_object_end(j);
}

static int write_json(FILE *f, const struct run *run, bool partial)
{
	struct json j;

	json_init(&j, f);
	json_object_begin(&j, NULL);
	json_string(&j, "schema", "msealbench-results");
	json_integer(&j, "schema_version", 1);
	json_bool(&j, "partial", partial);
	write_context(&j, run);
	json_array_begin(&j, "cells");
	for (int i = 0; i < run->ncells; i++)
		write_cell(&j, run, &run->cells[i]);
	json_array_end(&j);
	json_object_end(&j);
	errno = json_error(&j);
	return errno ? -1 : 0;
}

/* Follows the symlinks at path to the last name of the chain, which may not exist yet
 * (realpath() refuses that): the name a results file is renamed onto, so a link stays a link. */
static int follow_links(const char *path, char *buf, size_t len)
{
	char cur[PATH_MAX], next[PATH_MAX], target[PATH_MAX];

	str_copy(cur, sizeof(cur), path);
	for (int hops = 0; hops < 40; hops++) {
		ssize_t n = readlink(cur, target, sizeof(target) - 1);
		const char *slash = strrchr(cur, '/');
		int w;

		if (n < 0 && (errno == EINVAL || errno == ENOENT)) {	/* not a link, or nothing there */
			if (strlen(cur) >= len)
				return errno = ENAMETOOLONG, -1;
			str_copy(buf, len, cur);
			return 0;
		}
		if (n < 0)
			return -1;
		target[n] = '\0';
		if (target[0] == '/' || !slash)
			w = snprintf(next, sizeof(next), "%s", target);
		else	/* relative to the link's directory */
			w = snprintf(next, sizeof(next), "%.*s/%s", (int)(slash - cur), cur, target);
		if (w < 0 || (size_t)w >= sizeof(next))
			return errno = ENAMETOOLONG, -1;
		memcpy(cur, next, (size_t)w + 1);
	}
	return errno = ELOOP, -1;
}

static int refuse(char *why, size_t len, const char *text)
{
	snprintf(why, len, "%s", text);
	return -1;
}

/* Where --out PATH sends the results. "-" is standard output; a character device or a FIFO (or
 * a link to one) is a stream, written in place; a regular file or nothing (through links) is
 * written to a temporary file beside it and renamed, never anything else. */
static int out_resolve(const char *path, struct out_target *t, char *why, size_t len)
{
	struct stat st;

	t->stream = true;
	str_copy(t->path, sizeof(t->path), path);
	if (!*path)
		return refuse(why, len, "an empty file name");
	if (strcmp(path, "-") == 0)
		return 0;
	if (stat(path, &st) == 0) {
		if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
			return 0;
		if (S_ISDIR(st.st_mode))
			return refuse(why, len, "is a directory; give a file name");
		if (!S_ISREG(st.st_mode))
			return refuse(why, len, S_ISBLK(st.st_mode) ? "is a block device; give a file name" :
						 S_ISSOCK(st.st_mode) ? "is a socket; give a file name" :
						 "is not a regular file; give a file name");
	} else if (errno != ENOENT) {
		return refuse(why, len, errno_text(errno));
	}
	t->stream = false;
	if (follow_links(path, t->path, sizeof(t->path)) < 0)
		return refuse(why, len, errno_text(errno));
	return 0;
}

/* A new temporary file beside path (same directory, so rename() is atomic), name in tmp. */
static int temp_beside(const char *path, char *tmp, size_t len)
{
	int w = snprintf(tmp, len, "%s.tmp.XXXXXX", path);

	if (w < 0 || (size_t)w >= len)
		return errno = ENAMETOOLONG, -1;
	return mkstemp(tmp);
}

int results_check_out(const char *path, struct out_target *t, char *why, size_t len)
{
	char tmp[PATH_MAX + 16];
	int fd;

	if (out_resolve(path, t, why, len) < 0)
		return -1;
	if (t->stream)
		return strcmp(path, "-") == 0 || access(path, W_OK) == 0 ? 0 : refuse(why, len, errno_text(errno));
	fd = temp_beside(t->path, tmp, sizeof(tmp));
	if (fd < 0) {
		snprintf(why, len, "cannot create a file beside %s: %s", t->path, errno_text(errno));
		return -1;
	}
	close(fd);
	unlink(tmp);
	return 0;
}

/* Standard output or a device/FIFO: written once, at the end, where it is. */
static int write_in_place(const struct run *run, const char *path, bool partial)
{
	bool std = strcmp(path, "-") == 0;
	const char *name = std ? "standard output" : path;
	int fd;
	FILE *f;

	fflush(stdout);
	fd = std ? dup(STDOUT_FILENO) : open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		warnx_msb("cannot open %s: %s", name, errno_text(errno));
		return -1;
	}
	if (write_json(f, run, partial) < 0 || fflush(f) != 0) {
		warnx_msb("writing %s: %s", name, errno_text(errno));
		fclose(f);
		return -1;
	}
	if (fclose(f) != 0) {
		warnx_msb("writing %s: %s", name, errno_text(errno));
		return -1;
	}
	return 0;
}

int results_write(const struct run *run, const char *path, bool partial)
{
	char tmp[PATH_MAX + 16], why[PATH_MAX + 128];
	struct out_target t;
	FILE *f;
	int fd;

	/* Resolved again at every write: what path names may have changed since the start. */
	if (out_resolve(path, &t, why, sizeof(why)) < 0) {
		warnx_msb("--out %s: %s; results not written", path, why);
		return -1;
	}
	if (t.stream)
		return write_in_place(run, path, partial);
	fd = temp_beside(t.path, tmp, sizeof(tmp));
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		warnx_msb("cannot create a file beside %s: %s", t.path, errno_text(errno));
		return -1;
	}
	if (write_json(f, run, partial) < 0 || fflush(f) != 0 || fsync(fd) != 0) {
		warnx_msb("writing %s: %s", tmp, errno_text(errno));
		fclose(f);
		unlink(tmp);
		return -1;
	}
	fchmod(fd, 0644);
	if (fclose(f) != 0 || rename(tmp, t.path) < 0) {
		warnx_msb("cannot rename %s to %s: %s", tmp, t.path, errno_text(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static const struct cell *cell_of_point(const struct run *run, int point, enum seal_mode m)
{
	for (int i = 0; i < run->ncells; i++)
		if (run->cells[i].point == point && run->cells[i].seal == m)
			return &run->cells[i];
	return NULL;
}

static double cell_median(const struct cell *c)
{
	struct summary s;

	if (!c || c->status != CELL_OK || c->res.ns.n == 0)
		return NAN;
	summarize(c->res.ns.v, c->res.ns.n, &s);
	return s.median;
}

/* One value column: median and CV of a seal mode, or what kept it from running. */
static void print_mode_column(FILE *f, const struct cell *c)
{
	struct summary s;

	if (!c || c->status != CELL_OK || c->res.ns.n == 0) {
		fprintf(f, " %16s", !c ? "-" : c->status == CELL_SKIPPED ? "skipped" :
				     c->status == CELL_FAILED ? "FAILED" : "not run");
		return;
	}
	summarize(c->res.ns.v, c->res.ns.n, &s);
	fprintf(f, " %10.1f %4.1f%%", s.median, 100 * s.cv);
}

static void print_reasons(FILE *f, const struct run *run, int point)
{
	for (int m = 0; m < SEAL_MODE_COUNT; m++) {
		const struct cell *c = cell_of_point(run, point, (enum seal_mode)m);

		if (c && c->reason[0] && c->status != CELL_OK)
			fprintf(f, "    %s: %s\n", seal_mode_name(c->seal), c->reason);
		if (c && c->res.notes[0] && m == SEAL_NONE)
			fprintf(f, "    note: %s\n", c->res.notes);
	}
}

void results_print_table(const struct run *run, FILE *f)
{
	bool has_base = run->opt.seal_modes[SEAL_NONE];

	fprintf(f, "%-44s %-18s", "benchmark (ns/op: median, CV)", "params");
	for (int m = 0; m < SEAL_MODE_COUNT; m++)
		if (run->opt.seal_modes[m])
			fprintf(f, " %16s", seal_mode_name((enum seal_mode)m));
	for (int m = SEAL_NONE + 1; has_base && m < SEAL_MODE_COUNT; m++)
		if (run->opt.seal_modes[m])
			fprintf(f, " %9s", seal_modes[m].ratio_label);
	fputc('\n', f);
	for (int p = 0; p < run->npoints; p++) {
		const struct cell *first = NULL;
		char name[160];
		double base;

		for (int m = 0; m < SEAL_MODE_COUNT && !first; m++)
			first = cell_of_point(run, p, (enum seal_mode)m);
		fprintf(f, "%-44s %-18s", bench_full_name(first->bench, name, sizeof(name)),
			first->param_text[0] ? first->param_text : "-");
		for (int m = 0; m < SEAL_MODE_COUNT; m++)
			if (run->opt.seal_modes[m])
				print_mode_column(f, cell_of_point(run, p, (enum seal_mode)m));
		base = has_base ? cell_median(cell_of_point(run, p, SEAL_NONE)) : NAN;
		for (int m = SEAL_NONE + 1; has_base && m < SEAL_MODE_COUNT; m++) {
			double v = cell_median(cell_of_point(run, p, (enum seal_mode)m));

			if (!run->opt.seal_modes[m])
				continue;
			if (isnan(v / base))
				fprintf(f, " %9s", "-");
			else
				fprintf(f, " %9.3f", v / base);
		}
		fputc('\n', f);
		print_reasons(f, run, p);
	}
	fprintf(f, "timer: CLOCK_MONOTONIC_RAW read %.1f ns, empty loop %.2f ns/op (nothing subtracted); "
		   "ratios are medians, see msealbench compare for confidence intervals\n",
		run->timer.overhead_ns, run->timer.loop_overhead_ns);
	print_gate_line(f, run);
}
