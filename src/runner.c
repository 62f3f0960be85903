#define _GNU_SOURCE
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cell.h"
#include "child.h"
#include "emulation.h"

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

bool bench_matches(const struct bench *b, const char *pattern)
{
	char name[160], *copy, *save = NULL;
	bool hit = false;

	if (!pattern || !*pattern)
		return true;
	bench_full_name(b, name, sizeof(name));
	copy = xstrdup(pattern);
	for (char *p = strtok_r(copy, ",", &save); p && !hit; p = strtok_r(NULL, ",", &save)) {
		if (strpbrk(p, "*?["))
			hit = fnmatch(p, name, 0) == 0;
		else
			hit = strstr(name, p) != NULL;
	}
	free(copy);
	return hit;
}

/* ---- options ---- */

static const char run_usage_format[] =
	"usage: msealbench run [options]\n"
	"Runs every selected benchmark in each seal mode, interleaved in rounds, one fresh child\n"
	"process per cell, and writes all samples to a results file (JSON schema v1).\n"
	"\n"
	"  --filter PATTERN     benchmarks whose name contains PATTERN, or matches it as a glob\n"
	"                       (*?[]); comma-separated alternatives (default: all)\n"
	"  --seal MODES         comma-separated seal modes (default %s):\n"
	"%s"
	"  --repetitions N      rounds; each round runs every cell once (default 15, quick 3)\n"
	"  --min-time SECONDS   measured time per cell over all rounds (default 0.5, quick 0.06)\n"
	"  --quick              fewer rounds, less time, smaller parameter sweeps\n"
	"  --cpu N|none         pin cells to CPU N (default: the last CPU this process may use)\n"
	"  --events LIST|none   perf events per sample (default " COUNTERS_DEFAULT ";\n"
	"                       'msealbench events' shows which count here)\n"
	"  --out FILE           results file (default results/<host>-<kernel>-<UTC time>.json);\n"
	"                       '-' is standard output (the table then goes to stderr); a device or\n"
	"                       FIFO is written in place, once at the end; a symlink is followed\n"
	"  --label TEXT         label stored in the results (a kernel or commit, for history plots);\n"
	"                       --label, --filter and --events must be UTF-8 text\n"
	"  --seed N             seed of the per-round order (default: from the clock; recorded)\n"
	"  --inject-delay P%%[:MODE]  add a busy delay of P%% of each sample's time, in MODE's cells\n"
	"                       only (default all): a known slowdown to validate the statistics\n"
	"  --quiet              no table on stdout, no progress on stderr\n"
	"  --help               this text\n"
	"Exit status: 0 all cells ran or were skipped with a reason, 1 a cell failed, 2 bad usage,\n"
	"130 interrupted (the results file then holds the finished rounds, marked partial).\n";

/* The seal modes, one a line, as the help texts of run and profile list them. */
static void print_run_usage(void)
{
	char modes[1024] = "", defaults[128];
	size_t used = 0;

	for (int m = 0; m < SEAL_MODE_COUNT; m++)
		used += (size_t)snprintf(modes + used, used < sizeof(modes) ? sizeof(modes) - used : 0,
					 "                         %-7s %s\n", seal_modes[m].name, seal_modes[m].seals);
	printf(run_usage_format, seal_mode_names(defaults, sizeof(defaults), ",", true), modes);
}

/* One line naming the problem, then exit 2. */
__attribute__((noreturn, format(printf, 1, 2))) static void usage_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	die(2, "%s (try '%s --help')", msg, msb_prog);
}

static void parse_seal_modes(const char *s, bool *modes)
{
	char *copy = xstrdup(s), *save = NULL;
	int n = 0;

	memset(modes, 0, sizeof(bool) * SEAL_MODE_COUNT);
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		enum seal_mode m;

		if (!seal_mode_parse(t, &m)) {
			char known[128];

			usage_error("--seal: unknown seal mode '%s' (known: %s)", t,
				     seal_mode_names(known, sizeof(known), ", ", false));
		}
		modes[m] = true;
		n++;
	}
	if (!n)
		usage_error("--seal: no seal mode in '%s'", s);
	free(copy);
}

static void parse_inject(const char *s, struct run_options *o)
{
	char *copy = xstrdup(s), *colon = strchr(copy, ':'), *pct;
	enum seal_mode m;
	double v;

	o->inject_mode = -1;
	if (colon) {
		*colon = '\0';
		if (!seal_mode_parse(colon + 1, &m))
			usage_error("--inject-delay: unknown seal mode '%s'", colon + 1);
		o->inject_mode = (int)m;
	}
	pct = strchr(copy, '%');
	if (pct && pct[1] == '\0')
		*pct = '\0';
	if (!parse_double(copy, 0, 1000, &v))
		usage_error("--inject-delay: '%s' is not a percentage such as 2%%", s);
	o->inject = v / 100.0;
	free(copy);
}

/* The last CPU this process may run on: CPU 0 takes most interrupts. */
static long default_cpu(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return -1;
	for (int i = CPU_SETSIZE - 1; i >= 0; i--)
		if (CPU_ISSET(i, &set))
			return i;
	return -1;
}

static void parse_cpu(const char *s, struct run_options *o)
{
	cpu_set_t set;

	if (strcmp(s, "none") == 0) {
		o->cpu = -1;
		return;
	}
	if (!parse_long(s, 0, CPU_SETSIZE - 1, &o->cpu))
		usage_error("--cpu: '%s' is not a CPU number (or none)", s);
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && !CPU_ISSET((int)o->cpu, &set))
		usage_error("--cpu: CPU %s is not available to this process", s);
}

static void parse_run_options(int argc, char **argv, struct run_options *o)
{
	enum { O_FILTER = 256, O_SEAL, O_REP, O_MINTIME, O_QUICK, O_CPU, O_OUT, O_QUIET, O_SEED,
	       O_EVENTS, O_INJECT, O_LABEL, O_HELP };
	static const struct option longopts[] = {
		{ "filter", required_argument, 0, O_FILTER }, { "seal", required_argument, 0, O_SEAL },
		{ "repetitions", required_argument, 0, O_REP }, { "min-time", required_argument, 0, O_MINTIME },
		{ "quick", no_argument, 0, O_QUICK }, { "cpu", required_argument, 0, O_CPU },
		{ "out", required_argument, 0, O_OUT }, { "quiet", no_argument, 0, O_QUIET },
		{ "seed", required_argument, 0, O_SEED }, { "events", required_argument, 0, O_EVENTS },
		{ "inject-delay", required_argument, 0, O_INJECT }, { "label", required_argument, 0, O_LABEL },
		{ "help", no_argument, 0, O_HELP }, { 0, 0, 0, 0 },
	};
	long rep = -1, seed = -1;
	double min_time = -1;
	char why[300];
	int c;

	memset(o, 0, sizeof(*o));
	for (int m = 0; m < SEAL_MODE_COUNT; m++)
		o->seal_modes[m] = seal_modes[m].by_default;
	o->cpu = default_cpu();
	o->events = COUNTERS_DEFAULT;
	o->inject_mode = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case O_FILTER: o->filter = optarg; break;
		case O_SEAL: parse_seal_modes(optarg, o->seal_modes); break;
		case O_REP:
			if (!parse_long(optarg, 1, 100000, &rep))
				usage_error("--repetitions: '%s' is not a whole number from 1 to 100000", optarg);
			break;
		case O_MINTIME:
			if (!parse_double(optarg, 0.001, 86400, &min_time))
				usage_error("--min-time: '%s' is not a number of seconds from 0.001 to 86400", optarg);
			break;
		case O_QUICK: o->quick = true; break;
		case O_CPU: parse_cpu(optarg, o); break;
		case O_OUT: o->out = optarg; break;
		case O_QUIET: o->quiet = true; break;
		case O_SEED:
			if (!parse_long(optarg, 0, LONG_MAX, &seed))
				usage_error("--seed: '%s' is not a non-negative whole number", optarg);
			break;
		case O_EVENTS:
			o->events = strcmp(optarg, "none") == 0 ? "" : optarg;
			if (!counters_check_list(o->events, why, sizeof(why)))
				usage_error("--events: %s", why);
			break;
		case O_INJECT: parse_inject(optarg, o); break;
		case O_LABEL: o->label = optarg; break;
		case O_HELP: print_run_usage(); exit(0);
		default:
			usage_error("unknown option or missing value: '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	/* They end up in the results file, which must stay valid UTF-8 JSON. */
	if (o->filter && !utf8_valid(o->filter))
		usage_error("%s: the text is not valid UTF-8", "--filter");
	if (o->label && !utf8_valid(o->label))
		usage_error("%s: the text is not valid UTF-8", "--label");
	o->repetitions = rep > 0 ? rep : o->quick ? 3 : 15;
	o->min_time_s = min_time > 0 ? min_time : o->quick ? 0.06 : 0.5;
	o->seed = seed >= 0 ? (uint64_t)seed : (now_ns() ^ ((uint64_t)getpid() << 32)) & LONG_MAX;
}

/* ---- planning ---- */

static const char *sweep_spec(const struct bench *b, bool quick)
{
	return quick && b->quick_params ? b->quick_params : b->params;
}

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
		if (param_sweep_parse(sweep_spec(b, run->opt.quick), sweep, err, sizeof(err)) < 0)
			die(1, "benchmark %s.%s declares bad parameters: %s", b->family, b->name, err);
		for (long k = 0; k < param_sweep_count(sweep); k++)
			add_point_cells(run, b, sweep, k);
	}
	if (run->ncells == 0)
		usage_error("--filter '%s' matches no benchmark (see 'msealbench list')",
			    run->opt.filter ? run->opt.filter : "");
}

/* ---- one cell run ---- */

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

	c->res.batch = *point_batch;
	report = run_cell_child(run, c, CELL_TIMEOUT_BASE_S + 10 * budget, &wstatus, &timed_out);
	if (stop_signal) {
		free(report);
		return;	/* an interrupted cell run is dropped, never half-recorded */
	}
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
	fprintf(stderr, "\r\033[K[round %d/%ld] %d/%d %s %s %s", round + 1, run->opt.repetitions, done, total,
		bench_full_name(c->bench, name, sizeof(name)), c->param_text, seal_mode_name(c->seal));
}

/* A point's cells run back to back, its seal modes in a random order, so drift of a noisy
 * machine hits both modes alike; the order of points is shuffled too. */
static void run_round(struct run *run, int round, uint64_t *rng, uint64_t *point_batch)
{
	int *order = xmalloc((size_t)run->npoints * sizeof(int));
	int done = 0;

	for (int p = 0; p < run->npoints; p++)
		order[p] = p;
	shuffle(order, run->npoints, rng);
	for (int k = 0; k < run->npoints && !stop_signal; k++) {
		int idx[SEAL_MODE_COUNT], n = 0;

		for (int i = 0; i < run->ncells; i++)
			if (run->cells[i].point == order[k])
				idx[n++] = i;
		shuffle(idx, n, rng);
		for (int j = 0; j < n && !stop_signal; j++) {
			struct cell *c = &run->cells[idx[j]];

			done++;
			if (c->status == CELL_SKIPPED || c->status == CELL_FAILED)
				continue;
			progress(run, round, done, run->ncells, c);
			run_cell_once(run, c, round, &point_batch[order[k]]);
		}
	}
	progress(run, round, 0, 0, NULL);
	free(order);
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
	}
}

static void round_finished(struct run *run, int round)
{
	run->rounds_done = round + 1;
	for (int i = 0; i < run->ncells; i++)
		run->cells[i].status_done = run->cells[i].status;
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

static int finish(struct run *run)
{
	int failed = 0;

	for (int i = 0; i < run->ncells; i++)
		failed += run->cells[i].status == CELL_FAILED;
	if (run->interrupted)
		drop_unfinished_round(run);
	if (results_write(run, run->out_path, run->interrupted) < 0)
		return 1;
	if (!run->opt.quiet)	/* the table goes to stderr when the results go to stdout */
		results_print_table(run, strcmp(run->out_path, "-") == 0 ? stderr : stdout);
	if (run->interrupted) {
		fprintf(stderr, "%s: interrupted after %d of %ld rounds; %s holds what finished (partial)\n",
			msb_prog, run->rounds_done, run->opt.repetitions, run->out_path);
		return 130;
	}
	if (!run->opt.quiet)
		fprintf(stderr, "results: %s\n", strcmp(run->out_path, "-") == 0 ? "standard output" : run->out_path);
	if (failed)
		fprintf(stderr, "%s: %d cell(s) failed; their reasons are in the table and the results\n",
			msb_prog, failed);
	return failed ? 1 : 0;
}

int run_main(int argc, char **argv, const char *self_exe)
{
	struct run run = { .self_exe = self_exe };
	char helper_dir[4096];
	uint64_t rng, *point_batch;
	time_t t = time(NULL);
	struct tm tm;

	msb_prog = "msealbench run";
	install_stop_handlers();
	parse_run_options(argc, argv, &run.opt);
	find_helper_dir(&run, helper_dir, sizeof(helper_dir));
	plan_cells(&run);
	gmtime_r(&t, &tm);
	strftime(run.date, sizeof(run.date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	env_collect(&run.env, self_exe);
	probe_collect(&run.probe, &run.env.kernel, self_exe);
	default_out_path(&run);
	check_out(&run);
	timer_measure(&run.timer);
	run.counter_read_ns = counters_read_cost_ns(run.opt.events);
	if (stop_signal) {
		fprintf(stderr, "%s: interrupted before the first cell; nothing written\n", msb_prog);
		return 130;
	}
	rng = run.opt.seed;
	point_batch = xcalloc((size_t)run.npoints, sizeof(*point_batch));
	for (int r = 0; r < run.opt.repetitions && !stop_signal; r++) {
		run_round(&run, r, &rng, point_batch);
		if (stop_signal)
			break;
		round_finished(&run, r);
		/* A stream is written once, at the end; a file after every round. */
		if (r + 1 < run.opt.repetitions && !run.out.stream && results_write(&run, run.out_path, true) < 0)
			return 1;
	}
	run.interrupted = stop_signal != 0;
	free(point_batch);
	return finish(&run);
}

/* ---- list ---- */

static const char list_usage[] =
	"usage: msealbench list [--filter PATTERN] [--quick]\n"
	"Lists every benchmark: full name, parameter sweep, and whether it can run here (or why not).\n";

int list_main(int argc, char **argv, const char *self_exe)
{
	struct bench_iter it = { 0 };
	const struct bench *b;
	const char *filter = NULL;
	bool quick = false;
	int shown = 0, mseal_err;

	(void)self_exe;
	msb_prog = "msealbench list";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			fputs(list_usage, stdout);
			return 0;
		} else if (strcmp(argv[i], "--quick") == 0) {
			quick = true;
		} else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc) {
			filter = argv[++i];
		} else {
			usage_error("unknown option or missing value: '%s'", argv[i]);
		}
	}
	while ((b = bench_next(&it)))
		shown += bench_matches(b, filter);
	if (!shown)
		usage_error("--filter '%s' matches no benchmark", filter ? filter : "");
	printf("%-44s %-28s %s\n", "BENCHMARK", "PARAMETERS", "RUNS HERE");
	it = (struct bench_iter){ 0 };
	while ((b = bench_next(&it))) {
		char name[160], why[256] = "";
		const char *reason = b->supported ? b->supported(b, why, sizeof(why)) : NULL;
		const char *params = sweep_spec(b, quick);

		if (!bench_matches(b, filter))
			continue;
		printf("%-44s %-28s %s%s\n", bench_full_name(b, name, sizeof(name)), params ? params : "-",
		       reason ? "no: " : "yes", reason ? reason : "");
		printf("    %s\n", b->summary);
	}
	mseal_err = mseal_probe();
	if (mseal_err)
		printf("\nseal modes sysmap and all: skipped here, mseal(2) is not available: %s\n",
		       errno_text(mseal_err));
	return 0;
}
