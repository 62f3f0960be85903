/* SPDX-License-Identifier: GPL-2.0-only */
#define _GNU_SOURCE
#include "runner.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "options.h"
#include "precision.h"
#include "stats.h"

#define CELL_TIMEOUT_BASE_S 120.0	/* a cell run is killed after this plus 10x its budget */

static volatile int stop_signal;	/* int: child_output watches it */

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

/* splitmix64: small, seedable, good enough to shuffle the order of cells. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void shuffle(int *a, int n, uint64_t *state)
{
	for (int i = n - 1; i > 0; i--) {
		int j = (int)(next_random(state) % (uint64_t)(i + 1)), t = a[i];

		a[i] = a[j];
		a[j] = t;
	}
}

/* ---- planning ---- */

static void add_point_cells(struct run *run, const struct bench *b, struct param_sweep *sweep, long k)
{
	long values[BENCH_MAX_PARAMS] = { 0 };

	param_sweep_combination(sweep, k, values);
	for (int m = 0; m < SEAL_MODE_COUNT; m++) {
		struct cell *c;

		if (!run->opt.seal_modes[m])
			continue;
		run->cells = xrealloc(run->cells, (size_t)(run->ncells + 1) * sizeof(*run->cells));
		c = &run->cells[run->ncells++];
		memset(c, 0, sizeof(*c));
		c->bench = b;
		memcpy(c->param, values, sizeof(values));
		param_format(sweep, values, c->param_text, sizeof(c->param_text));
		c->sweep = sweep;
		c->seal = (enum seal_mode)m;
		c->point = run->npoints;
	}
	run->npoints++;
}

static void plan_cells(struct run *run)
{
	struct bench_iter it = { 0 };
	const struct bench *b;

	while ((b = bench_next(&it))) {
		struct param_sweep *sweep;
		char err[160];

		if (!bench_matches(b, run->opt.filter))
			continue;
		sweep = xcalloc(1, sizeof(*sweep));
		if (param_sweep_parse(bench_params(b, run->opt.quick), sweep, err, sizeof(err)) < 0)
			die(1, "benchmark %s.%s declares bad parameters: %s", b->family, b->name, err);
		for (long k = 0; k < param_sweep_count(sweep); k++)
			add_point_cells(run, b, sweep, k);
	}
	if (run->ncells == 0)
		usage_error("--filter '%s' matches no benchmark (see 'msealbench list')",
			    run->opt.filter ? run->opt.filter : "");
}

/* ---- one cell run ---- */

/* A cell round's low probe joins the others; once 8 have come, the floor is lowered to their
 * lower quartile (gate.h): a host's fast speed that most cells see, not one cell's rare one. */
static void gate_floor_update(struct run *run, double low)
{
	double *sorted, quartile;

	if (!(low > 0))
		return;
	if (run->gate_nlows == run->gate_lows_cap) {
		size_t cap = run->gate_lows_cap ? 2 * run->gate_lows_cap : 256;

		run->gate_lows = xrealloc(run->gate_lows, cap * sizeof(*run->gate_lows));
		run->gate_lows_cap = cap;
	}
	run->gate_lows[run->gate_nlows++] = low;
	if (run->gate_nlows < 8)
		return;
	sorted = xmalloc(run->gate_nlows * sizeof(*sorted));
	memcpy(sorted, run->gate_lows, run->gate_nlows * sizeof(*sorted));
	sort_doubles(sorted, run->gate_nlows);
	quartile = quantile_sorted(sorted, run->gate_nlows, 0.25);
	free(sorted);
	if (quartile < run->gate_floor_ns)
		run->gate_floor_ns = quartile;
}

static char *run_cell_child(struct run *run, struct cell *c, double timeout_s, int *wstatus, bool *timed_out)
{
	struct cell_config cfg;
	char **argv, why[160], *report;
	bool gave_up;

	cell_config_init(&cfg, c->bench);
	memcpy(cfg.param, c->param, sizeof(cfg.param));
	cfg.seal = c->seal;
	cfg.batch = c->res.batch;
	cfg.time_s = run->opt.min_time_s / (double)run->opt.repetitions;
	if (run->opt.quick)
		cfg.min_samples = 3;
	cfg.events = run->opt.events;
	if (run->opt.inject_mode < 0 || run->opt.inject_mode == (int)c->seal)
		cfg.inject = run->opt.inject;
	cfg.cpu = run->opt.cpu;
	cfg.gate = run->opt.gate;
	cfg.reference = run->opt.reference;
	cfg.gate_floor_ns = run->gate_floor_ns;
	cfg.gate_every = run->opt.gate_every;
	cfg.helper_dir = run->opt.helper_dir;
	argv = cell_argv_build(run->self_exe, &cfg);
	report = child_output(&(struct child_spec){ .run = child_exec_self, .arg = argv, .out_as = REPORT_FD },
			      now_ns() + (uint64_t)(timeout_s * 1e9), &stop_signal, wstatus, &gave_up, why,
			      sizeof(why));
	if (!report)
		die(1, "%s", why);
	cell_argv_free(argv);
	*timed_out = gave_up && !stop_signal;
	return report;
}

static void run_cell_once(struct run *run, struct cell *c, int round, uint64_t *point_batch)
{
	double budget = run->opt.min_time_s / (double)run->opt.repetitions;
	char reason[512], exit_text[128], status[16];
	bool timed_out, reported;
	int wstatus;
	char *report;
	uint64_t start = now_ns();

	c->res.batch = *point_batch;
	report = run_cell_child(run, c, CELL_TIMEOUT_BASE_S + 10 * budget, &wstatus, &timed_out);
	if (stop_signal) {
		free(report);
		return;	/* an interrupted cell run is dropped, never half-recorded */
	}
	c->wall_ns += (double)(now_ns() - start);
	c->wall_runs++;
	reported = cell_report_parse(report, round, &c->res, status, sizeof(status), reason, sizeof(reason));
	free(report);
	child_describe_exit(wstatus, "cell process", exit_text, sizeof(exit_text));
	if (timed_out) {
		c->status = CELL_FAILED;
		snprintf(c->reason, sizeof(c->reason), "timed out after %.0f s and was killed",
			 CELL_TIMEOUT_BASE_S + 10 * budget);
	} else if (!reported) {
		c->status = CELL_FAILED;
		snprintf(c->reason, sizeof(c->reason), "%s%s", exit_text,
			 WIFSIGNALED(wstatus) ? "" : " and no report");
	} else if (strcmp(status, "ok") == 0) {
		c->status = CELL_OK;
		if (run->opt.gate)
			gate_floor_update(run, c->res.gate.low_ns);	/* later cells gate against it */
		if (!*point_batch)
			*point_batch = c->res.batch;
	} else {
		c->status = strcmp(status, "skipped") == 0 ? CELL_SKIPPED : CELL_FAILED;
		snprintf(c->reason, sizeof(c->reason), "%s", reason[0] ? reason : "no reason given");
	}
}

/* ---- rounds ---- */

static void progress(const struct run *run, int round, int done, int total, const struct cell *c)
{
	char name[160];

	if (run->opt.quiet || !isatty(STDERR_FILENO))
		return;
	if (!c) {
		fputs("\r\033[K", stderr);
		return;
	}
	if (round < run->opt.repetitions)
		fprintf(stderr, "\r\033[K[round %d/%ld] %d/%d %s %s %s", round + 1, run->opt.repetitions, done,
			total, bench_full_name(c->bench, name, sizeof(name)), c->param_text, seal_mode_name(c->seal));
	else
		fprintf(stderr, "\r\033[K[round %d, at most %ld: %d cells not yet precise] %d/%d %s %s %s", round + 1,
			run->opt.max_rounds, total, done, total, bench_full_name(c->bench, name, sizeof(name)),
			c->param_text, seal_mode_name(c->seal));
}

/* Where the terminal line above is not shown (a CI log, a file): one line per round, with the
 * time so far and an estimate of the rest of the --repetitions rounds from the rounds done;
 * further rounds (open >= 0: the points still open) say how many points they are for, and how
 * many the time budget has stopped. */
static void round_progress(const struct run *run, int round, int open, int budget_stopped)
{
	double elapsed = (double)(now_ns() - run->rounds_start_ns) / 1e9;
	double left = elapsed / (round + 1) * (double)(run->opt.repetitions - round - 1);
	char budget_note[64] = "";

	if (run->opt.time_budget_s > 0)
		snprintf(budget_note, sizeof(budget_note), " (%d stopped by the time budget)", budget_stopped);
	if (run->opt.quiet || isatty(STDERR_FILENO))
		return;
	if (open < 0)
		fprintf(stderr, "%s: round %d/%ld done, %.1f s elapsed, about %.1f s to go%s\n", msb_prog, round + 1,
			run->opt.repetitions, elapsed, left,
			run->opt.max_rounds > run->opt.repetitions ? " (then further rounds for imprecise cells)" : "");
	else
		fprintf(stderr, "%s: round %d (at most %ld) done for %d imprecise point(s) of %d%s, %.1f s elapsed\n",
			msb_prog, round + 1, run->opt.max_rounds, open, run->npoints, budget_note, elapsed);
	fflush(stderr);
}

/* A point's cells run back to back, its seal modes in a random order, so drift of a noisy
 * machine hits both modes alike; the order of points is shuffled too. open: the points that
 * take part (NULL: all). */
static void run_round(struct run *run, int round, uint64_t *rng, uint64_t *point_batch, const bool *open)
{
	int *order = xmalloc((size_t)run->npoints * sizeof(int));
	int done = 0, total = 0;

	for (int p = 0; p < run->npoints; p++)
		order[p] = p;
	shuffle(order, run->npoints, rng);
	for (int i = 0; i < run->ncells; i++)
		total += !open || open[run->cells[i].point];
	for (int k = 0; k < run->npoints && !stop_signal; k++) {
		int idx[SEAL_MODE_COUNT], n = 0;

		if (open && !open[order[k]])
			continue;

		for (int i = 0; i < run->ncells; i++)
			if (run->cells[i].point == order[k])
				idx[n++] = i;
		shuffle(idx, n, rng);
		for (int j = 0; j < n && !stop_signal; j++) {
			struct cell *c = &run->cells[idx[j]];

			done++;
			if (c->status == CELL_SKIPPED || c->status == CELL_FAILED)
				continue;
			progress(run, round, done, total, c);
			run_cell_once(run, c, round, &point_batch[order[k]]);
		}
	}
	progress(run, round, 0, 0, NULL);
	free(order);
}

/* ---- adaptive rounds (precision.h) ---- */

/* The logs of a cell's round medians, one a round that has samples, into out (rounds[] gets
 * each one's round); returns how many. Samples come in round order. */
static size_t round_log_medians(const struct cell *c, double *out, int *rounds)
{
	const struct dvec *ns = &c->res.ns, *rd = &c->res.round;
	size_t n = 0, i = 0;

	while (i < ns->n) {
		size_t j = i;

		while (j < ns->n && rd->v[j] == rd->v[i])
			j++;
		{
			double *v = xmalloc((j - i) * sizeof(*v)), median;

			memcpy(v, ns->v + i, (j - i) * sizeof(*v));
			sort_doubles(v, j - i);
			median = quantile_sorted(v, j - i, 0.5);
			free(v);
			if (median > 0) {
				out[n] = log(median);
				rounds[n++] = (int)rd->v[i];
			}
		}
		i = j;
	}
	return n;
}

/* How far point p is from answering to its family's target: the largest ratio of an interval's
 * half-width to what precision_*_halfwidth allows, over each mode's location and the paired
 * ratio of each mode against the point's first mode (none, the baseline); -1 when no cell of it
 * has a sample yet (skipped, failed, or every round lost to the gate). Above 1 the point is
 * still open. *n gets the rounds of its baseline. */
static double point_shortfall(const struct run *run, int p, size_t *n)
{
	size_t cap = (size_t)run->rounds_done + 1, nbase = 0;
	double *base = xmalloc(cap * sizeof(double)), *x = xmalloc(cap * sizeof(double)),
	       *d = xmalloc(cap * sizeof(double)), worst = -1;
	int *base_rounds = xmalloc(cap * sizeof(int)), *rounds = xmalloc(cap * sizeof(int));
	bool have_base = false, measured = false;

	*n = 0;
	for (int i = 0; i < run->ncells; i++) {
		const struct cell *c = &run->cells[i];
		double mde, ratio;
		size_t nx, nd = 0;

		if (c->point != p || c->status != CELL_OK)
			continue;
		mde = run->opt.precision > 0 ? run->opt.precision : precision_mde_target(c->bench->family);
		nx = round_log_medians(c, x, rounds);
		measured |= nx > 0;
		if (!have_base) {	/* cells of a point come in seal mode order: none first */
			memcpy(base, x, nx * sizeof(double));
			memcpy(base_rounds, rounds, nx * sizeof(int));
			nbase = *n = nx;
			have_base = true;
		} else {
			for (size_t a = 0, b = 0; a < nx && b < nbase;) {
				if (rounds[a] == base_rounds[b])
					d[nd++] = x[a++] - base[b++];
				else if (rounds[a] < base_rounds[b])
					a++;
				else
					b++;
			}
			ratio = precision_halfwidth(d, nd) / precision_ratio_halfwidth(mde);
			worst = ratio > worst ? ratio : worst;
		}
		ratio = precision_halfwidth(x, nx) / precision_location_halfwidth(mde);
		worst = ratio > worst ? ratio : worst;
	}
	free(base), free(x), free(d), free(base_rounds), free(rounds);
	return measured ? worst : -1;
}

/* Marks which of the points still open stay open; returns how many do. A point none of whose
 * cells is measured (all skipped or failed) closes without a reason: it was never precise.
 * lacking (NULL: not wanted) gets the rounds each open point still lacks, as its intervals
 * narrow with 1/sqrt(rounds): fit_open_points ranks by it. */
static int update_open_points(const struct run *run, bool *open, const char **stopped, double *lacking)
{
	int n = 0;

	for (int p = 0; p < run->npoints; p++) {
		size_t rounds;
		double shortfall = open[p] ? point_shortfall(run, p, &rounds) : 0;

		if (open[p] && shortfall <= 1) {
			open[p] = false;
			stopped[p] = shortfall < 0 ? NULL : "precise";
		}
		if (open[p] && lacking)
			lacking[p] = (double)rounds * (shortfall * shortfall - 1);
		n += open[p];
	}
	return n;
}

/* What a round of point p takes: the mean wall time of each of its measured cells' runs,
 * summed. */
static double point_round_ns(const struct run *run, int p)
{
	double ns = 0;

	for (int i = 0; i < run->ncells; i++) {
		const struct cell *c = &run->cells[i];

		if (c->point == p && c->wall_runs > 0 && c->status == CELL_OK)
			ns += c->wall_ns / (double)c->wall_runs;
	}
	return ns;
}

/* The wall time of every cell run so far. */
static double cells_wall_ns(const struct run *run)
{
	double ns = 0;

	for (int i = 0; i < run->ncells; i++)
		ns += run->cells[i].wall_ns;
	return ns;
}

/* Of the open points, keep open those a further round can take before the time budget ends
 * (left_ns: what is left of it, less what a round takes besides its cells: the results file),
 * in the order of what each would still cost to reach its target (precision_fit_budget): the
 * rounds it lacks, as intervals narrow with 1/sqrt(rounds), times what one round of it takes;
 * one that does not fit is passed over. Those passed over stop ("time budget"): the budget only
 * shrinks, and the points ahead of them, still short of their targets, would take their share
 * again. Returns how many stay open. */
static int fit_open_points(const struct run *run, bool *open, const char **stopped, const double *lacking,
			   double left_ns)
{
	int *index = xmalloc((size_t)run->npoints * sizeof(int)), n = 0, kept;
	double *cost = xmalloc((size_t)run->npoints * sizeof(double)),
	       *rank = xmalloc((size_t)run->npoints * sizeof(double));
	bool *keep = xmalloc((size_t)run->npoints * sizeof(bool));

	for (int p = 0; p < run->npoints; p++)
		if (open[p]) {
			index[n] = p;
			cost[n] = point_round_ns(run, p);
			rank[n] = isfinite(lacking[p]) ? cost[n] * (lacking[p] > 1 ? lacking[p] : 1) : INFINITY;
			n++;
		}
	kept = precision_fit_budget(cost, rank, n, left_ns, keep);
	for (int i = 0; i < n; i++)
		if (!keep[i]) {
			open[index[i]] = false;
			stopped[index[i]] = "time budget";
		}
	free(index), free(cost), free(rank), free(keep);
	return kept;
}

static void default_out_path(struct run *run)
{
	char stamp[32];
	time_t t = time(NULL);
	struct tm tm;

	if (run->opt.out) {
		snprintf(run->out_path, sizeof(run->out_path), "%s", run->opt.out);
		return;
	}
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (mkdir("results", 0755) < 0 && errno != EEXIST)
		die(1, "cannot create results/: %s (use --out FILE)", errno_text(errno));
	snprintf(run->out_path, sizeof(run->out_path), "results/%s-%s-%s.json", run->env.host,
		 run->env.release, stamp);
}

/* Fail before measuring anything when the results could not be written. */
static void check_out(struct run *run)
{
	char why[PATH_MAX + 128];

	if (results_check_out(run->out_path, &run->out, why, sizeof(why)) < 0)
		die(2, "%s '%s': %s", run->opt.out ? "--out" : "results file", run->out_path, why);
}

/* What an interrupted run keeps: the rounds that finished, so that every seal mode of a
 * benchmark has the same rounds (the cells of the unfinished one are dropped). */
static void drop_unfinished_round(struct run *run)
{
	for (int i = 0; i < run->ncells; i++) {
		struct cell *c = &run->cells[i];

		/* A cell still pending first ran in the dropped round: nothing of it stays. */
		cell_results_drop_rounds(&c->res, run->rounds_done, c->status_done == CELL_PENDING);
		if (c->status != c->status_done && c->status_done != CELL_FAILED && c->status_done != CELL_SKIPPED)
			c->reason[0] = '\0';	/* the reason came with the dropped round */
		c->status = c->status_done;
		c->wall_ns = c->wall_ns_done;
		c->wall_runs = c->wall_runs_done;
	}
}

static void round_finished(struct run *run, int round)
{
	run->rounds_done = round + 1;
	for (int i = 0; i < run->ncells; i++) {
		struct cell *c = &run->cells[i];

		c->status_done = c->status;
		c->wall_ns_done = c->wall_ns;
		c->wall_runs_done = c->wall_runs;
	}
}

static void install_stop_handlers(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Helper programs that benchmarks exec: build/helpers/ beside a built binary, or
 * <prefix>/libexec/msealbench/ beside an installed one. */
void runner_helper_dir(const char *self_exe, char *buf, size_t len)
{
	char dir[2048], *slash;

	str_copy(dir, sizeof(dir), self_exe);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	snprintf(buf, len, "%s/helpers", dir);
	if (access(buf, X_OK) < 0)
		snprintf(buf, len, "%s/../libexec/msealbench", dir);
}

static void find_helper_dir(struct run *run, char *buf, size_t len)
{
	runner_helper_dir(run->self_exe, buf, len);
	run->opt.helper_dir = buf;
}

/* run --format: `msealbench export --format F RESULTS --out FORMAT_OUT`, the one writer of the
 * run formats, on the file just written. Returns 0, or 1 with the reason on stderr. */
static int export_results(const struct run *run)
{
	const char *argv[] = { run->self_exe, "export", "--format", run->opt.format, run->out_path,
			       "--out", run->opt.format_out, NULL };
	struct child_spec spec = { .run = child_exec_self, .arg = argv, .death_signal = SIGTERM };
	char why[512];
	int wstatus;
	pid_t pid = child_start(&spec, NULL, why, sizeof(why));

	if (pid < 0 || child_reap(pid, &wstatus) < 0) {
		fprintf(stderr, "%s: --format %s: %s\n", msb_prog, run->opt.format, pid < 0 ? why : errno_text(errno));
		return 1;
	}
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
		return 0;
	child_describe_exit(wstatus, "msealbench export", why, sizeof(why));
	fprintf(stderr, "%s: --format %s: %s; the results are in %s\n", msb_prog, run->opt.format, why,
		run->out_path);
	return 1;
}

/* A cell that lost every round to the gate (gate.h) has no sample: skipped, and says why. */
static void skip_cells_never_at_speed(struct run *run)
{
	for (int i = 0; i < run->ncells; i++) {
		struct cell *c = &run->cells[i];

		if (c->status != CELL_OK || c->res.ns.n > 0 || c->res.gate.rounds_lost == 0)
			continue;
		c->status = CELL_SKIPPED;
		snprintf(c->reason, sizeof(c->reason),
			 "the machine was never at speed for long enough: the contention gate lost all %ld of its "
			 "rounds (a probe over %.0f%% of the floor, %.1f ns); measure this host with --gate off",
			 c->res.gate.rounds_lost, (GATE_FACTOR - 1) * 100, run->gate_floor_ns);
	}
}

static int finish(struct run *run)
{
	bool stdout_taken = strcmp(run->out_path, "-") == 0 ||
			    (run->opt.format && strcmp(run->opt.format_out, "-") == 0);
	int failed = 0;

	for (int i = 0; i < run->ncells; i++)
		failed += run->cells[i].status == CELL_FAILED;
	if (run->interrupted)
		drop_unfinished_round(run);
	skip_cells_never_at_speed(run);
	env_steal_update(&run->env);
	if (results_write(run, run->out_path, run->interrupted) < 0)
		return 1;
	if (!run->opt.quiet)	/* the table goes to stderr when the results go to stdout */
		results_print_table(run, stdout_taken ? stderr : stdout);
	if (env_stolen(&run->env) && !run->opt.quiet)
		warnx_msb("warning: the hypervisor took %.1f%% of the CPU time during the run (above %.0f%%): the "
			  "figures include time this guest waited for the host; measure when the host is quieter",
			  100 * run->env.steal_run, 100 * ENV_STEAL_WARN_SHARE);
	if (run->interrupted) {
		fprintf(stderr, "%s: interrupted after %d of %s%ld rounds; %s holds what finished (partial)\n",
			msb_prog, run->rounds_done, run->opt.max_rounds > run->opt.repetitions ? "at most " : "",
			run->opt.max_rounds > run->opt.repetitions ? run->opt.max_rounds : run->opt.repetitions,
			run->out_path);
		return 130;
	}
	if (!run->opt.quiet)
		fprintf(stderr, "results: %s\n", strcmp(run->out_path, "-") == 0 ? "standard output" : run->out_path);
	if (failed)
		fprintf(stderr, "%s: %d cell(s) failed; their reasons are in the table and the results\n",
			msb_prog, failed);
	if (run->opt.format && export_results(run) != 0)
		return 1;
	return failed ? 1 : 0;
}

int runner_run(const struct run_options *opt, const char *self_exe)
{
	struct run run = { .opt = *opt, .self_exe = self_exe };
	char helper_dir[4096];
	uint64_t rng, *point_batch;
	long last = opt->max_rounds > opt->repetitions ? opt->max_rounds : opt->repetitions;
	int rc, nbudget;
	const char **stopped;
	double round_besides_ns = 0, cells_before, besides;	/* the most a round took besides its cells */
	double *lacking;	/* rounds each open point lacks (update_open_points) */
	bool *open;
	time_t t = time(NULL);
	struct tm tm;

	install_stop_handlers();
	find_helper_dir(&run, helper_dir, sizeof(helper_dir));
	plan_cells(&run);
	gmtime_r(&t, &tm);
	strftime(run.date, sizeof(run.date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	env_collect(&run.env, self_exe);
	probe_collect(&run.probe, &run.env.kernel, self_exe);
	default_out_path(&run);
	check_out(&run);
	if (run.opt.format && run.out.stream)
		die(2, "--format: --out '%s' is not a regular file, so it cannot be read back; give a file",
		    run.out_path);
	if (env_busy(&run.env) && !run.opt.quiet)
		warnx_msb("warning: the machine is busy (load average %.2f over 1 minute, %ld CPUs; above %.1f "
			  "per CPU): other work will show as noise; measure when it is idle",
			  run.env.loadavg[0], run.env.cpu_count, ENV_BUSY_LOAD_PER_CPU);
	timer_measure(&run.timer);
	if (run.opt.gate)
		run.gate_floor_ns = gate_calibrate(100000000ull);
	run.counter_read_ns = counters_read_cost_ns(run.opt.events);
	if (stop_signal) {
		fprintf(stderr, "%s: interrupted before the first cell; nothing written\n", msb_prog);
		return 130;
	}
	rng = run.opt.seed;
	env_steal_start(&run.env);
	run.rounds_start_ns = now_ns();
	point_batch = xcalloc((size_t)run.npoints, sizeof(*point_batch));
	open = xmalloc((size_t)run.npoints * sizeof(*open));
	lacking = xmalloc((size_t)run.npoints * sizeof(*lacking));
	stopped = xmalloc((size_t)run.npoints * sizeof(*stopped));
	for (int p = 0; p < run.npoints; p++) {
		open[p] = true;
		stopped[p] = run.opt.max_rounds > run.opt.repetitions ? "max rounds" : "not adaptive";
	}
	for (int r = 0; r < last && !stop_signal; r++) {
		bool extra = r >= run.opt.repetitions;
		uint64_t round_start = now_ns();
		int nopen = run.npoints;

		if (extra && (nopen = update_open_points(&run, open, stopped, lacking)) == 0)
			break;
		if (extra && run.opt.time_budget_s > 0 &&
		    (nopen = fit_open_points(&run, open, stopped, lacking, run.opt.time_budget_s * 1e9 -
					     round_besides_ns - (double)(round_start - run.rounds_start_ns))) == 0)
			break;
		cells_before = cells_wall_ns(&run);
		run_round(&run, r, &rng, point_batch, extra ? open : NULL);
		if (stop_signal)
			break;
		round_finished(&run, r);
		nbudget = 0;
		for (int p = 0; p < run.npoints; p++)
			nbudget += stopped[p] && strcmp(stopped[p], "time budget") == 0;
		round_progress(&run, r, extra ? nopen : -1, nbudget);
		for (int i = 0; i < run.ncells; i++)
			run.cells[i].stopped = stopped[run.cells[i].point];
		/* A stream is written once, at the end; a file after every round. */
		if (r + 1 < last && !run.out.stream) {
			env_steal_update(&run.env);
			if (results_write(&run, run.out_path, true) < 0)
				return 1;
		}
		besides = (double)(now_ns() - round_start) - (cells_wall_ns(&run) - cells_before);
		if (besides > round_besides_ns)
			round_besides_ns = besides;
	}
	if (!stop_signal && last > run.opt.repetitions && run.rounds_done == last)
		update_open_points(&run, open, stopped, NULL);
	for (int i = 0; i < run.ncells; i++)
		run.cells[i].stopped = stopped[run.cells[i].point];
	run.interrupted = stop_signal != 0;
	free(point_batch), free(open), free(stopped), free(lacking);
	rc = finish(&run);
	free(run.gate_lows);
	return rc;
}
