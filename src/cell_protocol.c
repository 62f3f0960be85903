/* SPDX-License-Identifier: GPL-2.0-only */
/* The cell protocol (cell_protocol.h): arguments down, report lines up. */
#define _GNU_SOURCE
#include "cell_protocol.h"

#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void cell_config_init(struct cell_config *c, const struct bench *b)
{
	memset(c, 0, sizeof(*c));
	c->bench = b;
	c->min_samples = CELL_MIN_SAMPLES;
	c->max_samples = CELL_MAX_SAMPLES;
	c->sample_target_ns = CELL_SAMPLE_TARGET_NS;
	c->events = "";
	c->cpu = -1;
	c->control_fd = c->ack_fd = -1;
}

static char *kv(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *kv(const char *key, const char *fmt, ...)
{
	char *value, *out;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&value, fmt, ap);	/* whole: a cut event list would lose events unnoticed */
	va_end(ap);
	if (r < 0 || asprintf(&out, "%s=%s", key, value) < 0)
		die(1, "out of memory");
	free(value);
	return out;
}

char **cell_argv_build(const char *self_exe, const struct cell_config *c)
{
	char **argv = xcalloc(20, sizeof(char *));
	char name[160];
	int i = 0;

	argv[i++] = xstrdup(self_exe);
	argv[i++] = xstrdup("__cell");
	argv[i++] = kv("bench", "%s", bench_full_name(c->bench, name, sizeof(name)));
	argv[i++] = kv("params", "%ld,%ld,%ld", c->param[0], c->param[1], c->param[2]);
	argv[i++] = kv("seal", "%s", seal_mode_name(c->seal));
	argv[i++] = kv("batch", "%llu", (unsigned long long)c->batch);
	argv[i++] = kv("time", "%.9g", c->time_s);
	argv[i++] = kv("samples", "%ld,%ld", c->min_samples, c->max_samples);
	argv[i++] = kv("target", "%.9g", c->sample_target_ns);
	argv[i++] = kv("events", "%s", c->events ? c->events : "");
	argv[i++] = kv("inject", "%.9g", c->inject);
	argv[i++] = kv("cpu", "%ld", c->cpu);
	argv[i++] = kv("gate", "%d", c->gate);
	argv[i++] = kv("gate_floor", "%.9g", c->gate_floor_ns);
	argv[i++] = kv("gate_every", "%ld", c->gate_every);
	argv[i++] = kv("reference", "%d", c->reference);
	argv[i++] = kv("helpers", "%s", c->helper_dir ? c->helper_dir : "");
	argv[i++] = kv("control", "%ld,%ld", c->control_fd, c->ack_fd);
	argv[i] = NULL;
	return argv;
}

void cell_argv_free(char **argv)
{
	for (int i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* Bounds of what the runner passes: anything past them is not from `msealbench run`. */
#define CELL_MAX_PARAM (1L << 40)	/* as param_sweep_parse() */
#define CELL_MAX_BATCH (1L << 32)	/* calibrate()'s limit */

void cell_config_parse(int argc, char **argv, struct cell_config *c)
{
	long batch = 0, gate = 0, reference = 0, samples[2] = { CELL_MIN_SAMPLES, CELL_MAX_SAMPLES }, control[2] = { -1, -1 };
	char why[300] = "";

	cell_config_init(c, NULL);
	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		const char *v = eq ? eq + 1 : "";
		bool good = true;

		if (!eq)
			die(2, "__cell: argument '%s' is not key=value", argv[i]);
		*eq = '\0';
		if (strcmp(argv[i], "bench") == 0)
			good = (c->bench = bench_find(v)) != NULL;
		else if (strcmp(argv[i], "params") == 0)
			good = parse_long_list(v, BENCH_MAX_PARAMS, 0, CELL_MAX_PARAM, c->param);
		else if (strcmp(argv[i], "seal") == 0)
			good = seal_mode_parse(v, &c->seal);
		else if (strcmp(argv[i], "batch") == 0)
			good = parse_long(v, 0, CELL_MAX_BATCH, &batch);
		else if (strcmp(argv[i], "time") == 0)
			good = parse_double(v, 0, 86400, &c->time_s);
		else if (strcmp(argv[i], "samples") == 0)
			good = parse_long_list(v, 2, 1, CELL_MAX_SAMPLES, samples) && samples[0] <= samples[1];
		else if (strcmp(argv[i], "target") == 0)
			good = parse_double(v, 1, 1e10, &c->sample_target_ns);
		else if (strcmp(argv[i], "events") == 0)
			good = counters_check_list(c->events = v, why, sizeof(why));
		else if (strcmp(argv[i], "inject") == 0)
			good = parse_double(v, 0, 100, &c->inject);
		else if (strcmp(argv[i], "cpu") == 0)
			good = parse_long(v, -1, CPU_SETSIZE - 1, &c->cpu);
		else if (strcmp(argv[i], "gate") == 0)
			good = parse_long(v, 0, 1, &gate);
		else if (strcmp(argv[i], "reference") == 0)
			good = parse_long(v, 0, 1, &reference);
		else if (strcmp(argv[i], "gate_floor") == 0)
			good = parse_double(v, 0, 1e9, &c->gate_floor_ns);
		else if (strcmp(argv[i], "gate_every") == 0)
			good = parse_long(v, 0, LONG_MAX, &c->gate_every);
		else if (strcmp(argv[i], "helpers") == 0)
			c->helper_dir = v;
		else if (strcmp(argv[i], "control") == 0)
			good = parse_long_list(v, 2, -1, INT_MAX, control) && (control[0] < 0) == (control[1] < 0);
		else
			die(2, "__cell: unknown key '%s'", argv[i]);
		if (!good)
			die(2, "__cell: bad value '%s' for %s%s%s", v, argv[i], why[0] ? ": " : "", why);
	}
	if (!c->bench)
		die(2, "__cell: no bench= given");
	c->batch = (uint64_t)batch;
	c->gate = gate != 0;
	c->reference = reference != 0;
	c->min_samples = samples[0];
	c->max_samples = samples[1];
	c->control_fd = control[0];
	c->ack_fd = control[1];
}

void cell_results_add_sample(struct cell_results *r, const struct cell_sample *s, int round)
{
	dvec_push(&r->ns, s->ns);
	dvec_push(&r->cycles, s->cycles);
	dvec_push(&r->running_ratio, s->running_ratio);
	dvec_push(&r->counted_ns, s->counted_ns);
	dvec_push(&r->ref_ns, s->ref_ns);
	dvec_push(&r->round, round);
	for (int i = 0; i < r->nevents; i++)
		dvec_push(&r->values[i], s->values[i]);
}

void cell_results_drop_rounds(struct cell_results *r, int round, bool all)
{
	size_t n = 0;

	while (!all && n < r->round.n && r->round.v[n] < round)
		n++;
	r->ns.n = r->cycles.n = r->running_ratio.n = r->counted_ns.n = r->ref_ns.n = r->round.n = n;
	for (int e = 0; e < COUNTERS_MAX; e++)
		r->values[e].n = r->values[e].n < n ? r->values[e].n : n;
	if (all) {
		r->batch = 0;
		r->vmas = r->sealed = r->nevents = 0;
		r->gate = (struct gate){ 0 };
		r->notes[0] = '\0';
	}
}

/* ---- the writer ---- */

static void report_line(FILE *out, const char *key, const char *text)
{
	/* One line per key: newlines in a message would break the framing. */
	fprintf(out, "%s ", key);
	for (const char *p = text; *p; p++)
		fputc(*p == '\n' ? ' ' : *p, out);
	fputc('\n', out);
}

void cell_report_events(FILE *out, const struct counter_group *g)
{
	for (int i = 0; i < g->n; i++) {
		char line[320];

		snprintf(line, sizeof(line), "%s\t%s\t%s", g->ev[i].name,
			 counter_status_name(g->ev[i].status), g->ev[i].reason);
		report_line(out, "event", line);
	}
}

void cell_report_measurements(FILE *out, const struct cell_results *r)
{
	fprintf(out, "batch %llu\nvmas %ld\nsealed %d\n", (unsigned long long)r->batch, r->vmas, r->sealed);
	for (size_t s = 0; s < r->ns.n; s++) {
		fprintf(out, "sample %.9g %.9g %.9g %.9g %.9g", r->ns.v[s], r->cycles.v[s],
			r->running_ratio.v[s], r->counted_ns.v[s], r->ref_ns.v[s]);
		for (int i = 0; i < r->nevents; i++)
			fprintf(out, " %.9g", r->values[i].v[s]);
		fputc('\n', out);
	}
	if (r->gate.on)
		fprintf(out, "gate %.9g %ld %ld %llu %.9g\n", r->gate.floor_ns, r->gate.set_aside,
			r->gate.rounds_lost, (unsigned long long)r->gate.waited_ns, r->gate.low_ns);
	if (r->window_share > 0)
		fprintf(out, "window %.9g\n", r->window_share);
	if (r->notes[0])
		report_line(out, "note", r->notes);
}

int cell_report_end(FILE *out, const char *status, const char *reason)
{
	if (reason && *reason)
		report_line(out, "reason", reason);
	fprintf(out, "status %s\n", status);
	return fclose(out) == 0 ? 0 : 1;
}

/* ---- the parser ---- */

static void parse_event(struct cell_results *r, char *rest)
{
	char *name = rest, *status = strchr(name, '\t'), *reason;
	struct cell_event *e;

	if (!status || r->nevents == COUNTERS_MAX)
		return;
	*status++ = '\0';
	reason = strchr(status, '\t');
	if (reason)
		*reason++ = '\0';
	e = &r->event[r->nevents++];
	str_copy(e->name, sizeof(e->name), name);
	str_copy(e->status, sizeof(e->status), status);
	str_copy(e->reason, sizeof(e->reason), reason ? reason : "");
}

/* "FLOOR ASIDE LOST WAITED LOW" of one round, added to the rounds before: the lowest floor, the
 * sums of the counts, this round's low probe. */
static void parse_gate(struct gate *g, char *rest)
{
	double floor_ns = 0, low = 0;
	long aside = 0, lost = 0;
	unsigned long long waited = 0;

	if (sscanf(rest, "%lf %ld %ld %llu %lf", &floor_ns, &aside, &lost, &waited, &low) != 5)
		return;
	g->low_ns = low;
	g->on = true;
	if (floor_ns > 0 && (g->floor_ns <= 0 || floor_ns < g->floor_ns))
		g->floor_ns = floor_ns;
	g->set_aside += aside;
	g->rounds_lost += lost;
	g->waited_ns += waited;
}

static void parse_sample(struct cell_results *r, char *rest, int round)
{
	char *save = NULL, *tok = strtok_r(rest, " ", &save);
	double v[5 + COUNTERS_MAX];
	struct cell_sample s;
	int n = 0;

	for (; tok && n < 5 + COUNTERS_MAX; tok = strtok_r(NULL, " ", &save))
		v[n++] = strtod(tok, NULL);
	if (n < 5)
		return;
	s.ns = v[0];
	s.cycles = v[1];
	s.running_ratio = v[2];
	s.counted_ns = v[3];
	s.ref_ns = v[4];
	for (int i = 0; i < COUNTERS_MAX; i++)
		s.values[i] = 5 + i < n ? v[5 + i] : NAN;
	cell_results_add_sample(r, &s, round);
}

static void add_note(struct cell_results *r, const char *note)
{
	size_t used = strlen(r->notes);

	if (strstr(r->notes, note))
		return;
	snprintf(r->notes + used, sizeof(r->notes) - used, "%s%s", used ? "\n" : "", note);
}

bool cell_report_parse(char *report, int round, struct cell_results *r, char *status, size_t slen,
		       char *reason, size_t rlen)
{
	bool first_report = r && r->nevents == 0 && r->ns.n == 0;
	char *save = NULL;

	status[0] = reason[0] = '\0';
	for (char *line = strtok_r(report, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *rest = strchr(line, ' ');

		rest = rest ? rest + 1 : line + strlen(line);
		if (strncmp(line, "status ", 7) == 0)
			str_copy(status, slen, rest);
		else if (strncmp(line, "reason ", 7) == 0)
			str_copy(reason, rlen, rest);
		else if (!r)
			continue;
		else if (strncmp(line, "event ", 6) == 0 && first_report)
			parse_event(r, rest);
		else if (strncmp(line, "sample ", 7) == 0)
			parse_sample(r, rest, round);
		else if (strncmp(line, "batch ", 6) == 0)
			r->batch = strtoull(rest, NULL, 10);
		else if (strncmp(line, "vmas ", 5) == 0)
			r->vmas = strtol(rest, NULL, 10);
		else if (strncmp(line, "sealed ", 7) == 0)
			r->sealed = (int)strtol(rest, NULL, 10);
		else if (strncmp(line, "gate ", 5) == 0)
			parse_gate(&r->gate, rest);
		else if (strncmp(line, "window ", 7) == 0)
			r->window_share = strtod(rest, NULL);
		else if (strncmp(line, "note ", 5) == 0)
			add_note(r, rest);
	}
	return status[0] != '\0';
}
