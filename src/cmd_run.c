/* SPDX-License-Identifier: GPL-2.0-only */
/* `msealbench run`: its options; the runner (runner.c) does the rest. */
#define _GNU_SOURCE
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "counters.h"
#include "main.h"
#include "options.h"
#include "runner.h"
#include "seal.h"
#include "util.h"

extern const struct command cmd_run;

#define DEFAULT_REPETITIONS 10L
#define DEFAULT_MAX_ROUNDS 60L

static const char run_usage_format[] =
	"usage: msealbench run [options]\n"
	"Runs every selected benchmark in each seal mode, interleaved in rounds, one fresh child\n"
	"process per cell, and writes all samples to a results file (JSON schema v1).\n"
	"\n"
	"  --filter PATTERN     benchmarks whose name contains PATTERN, or matches it as a glob\n"
	"                       (*?[]); comma-separated alternatives (default: all)\n"
	"  --seal MODES         comma-separated seal modes (default %s):\n"
	"%s"
	"  --repetitions N      rounds every cell gets; each round runs every cell once (default %ld,\n"
	"                       quick 3)\n"
	"  --max-rounds N       further rounds, up to N in all, only for the cells whose intervals are\n"
	"                       still wider than their family's target (default %ld; none with\n"
	"                       --quick or --repetitions). The rule looks at the spread of the\n"
	"                       rounds, never at the estimate, so no verdict is chosen by stopping\n"
	"  --precision P%%      the change every family's cells should detect (default: vdso, mremap\n"
	"                       and harness 1%%, fork, exec and mseal 2%%): more rounds for less\n"
	"  --time-budget SECONDS  no further round (beyond --repetitions) that would end later than\n"
	"                       this after the start (default: none; make bench: 270); when not\n"
	"                       every open point fits, those that would reach their target for the\n"
	"                       least time go first (the rounds each lacks times its round_s)\n"
	"  --min-time SECONDS   measured time per cell over --repetitions rounds (default 0.125, quick\n"
	"                       0.06); further rounds take as long each\n"
	"  --quick              fewer rounds, less time, smaller parameter sweeps\n"
	"  --cpu N|none         pin cells to CPU N (default: the last CPU this process may use)\n"
	"  --gate on|off        take timed samples only while the machine runs at its own speed: a\n"
	"                       short probe before and after each sample; samples of a contended\n"
	"                       moment (a slow probe) are set aside, at most tripling a cell's time\n"
	"                       (default off: where the host is rarely at speed it costs more than\n"
	"                       it saves; the results record how many)\n"
	"  --reference getppid|none  time a getppid(2) probe before and after each sample, outside\n"
	"                       its timed region, and record it as the sample's host-speed reference\n"
	"                       (default getppid; compare --per-reference adjusts samples by it)\n"
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
	"  --format F           also write the results as F (csv: a row per sample; gbench:\n"
	"                       google-benchmark JSON; bmf: Bencher; github-action) through\n"
	"                       `msealbench export`, after the run\n"
	"  --format-out FILE    where --format writes (default '-': standard output; the table then\n"
	"                       goes to stderr); --out must then be a file\n"
	"  --quiet              no table on stdout, no progress on stderr (progress on a stderr that\n"
	"                       is not a terminal: a line per round, elapsed time and time to go)\n"
	"  --help               this text\n"
	"Exit status: 0 all cells ran or were skipped with a reason, 1 a cell failed, 2 bad usage,\n"
	"130 interrupted (the results file then holds the finished rounds, marked partial).\n";

/* The seal modes, one a line, as the help texts of run and profile list them. */
static void run_help(FILE *f)
{
	char modes[1024] = "", defaults[128];
	size_t used = 0;

	for (int m = 0; m < SEAL_MODE_COUNT; m++)
		used += (size_t)snprintf(modes + used, used < sizeof(modes) ? sizeof(modes) - used : 0,
					 "                         %-7s %s\n", seal_modes[m].name, seal_modes[m].seals);
	fprintf(f, run_usage_format, seal_mode_names(defaults, sizeof(defaults), ",", true), modes,
		DEFAULT_REPETITIONS, DEFAULT_MAX_ROUNDS);
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

/* The run formats of plots/export.py (msb/ci_formats.py RUN_FORMATS), checked before the run
 * rather than after it. */
static void check_format(struct run_options *o)
{
	static const char *const formats[] = { "csv", "gbench", "bmf", "github-action" };
	bool known = false;

	if (!o->format) {
		if (o->format_out)
			usage_error("--format-out: give --format too");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		known |= strcmp(o->format, formats[i]) == 0;
	if (!known)
		usage_error("--format: '%s' is not a run format (csv, gbench, bmf, github-action)", o->format);
	if (!o->format_out)
		o->format_out = "-";
	if (o->out && strcmp(o->out, "-") == 0)
		usage_error("--format: the results go to standard output (--out -); write them to a file");
}

/* MSEALBENCH_TEST_CONTENTION=N: every Nth probe of the gate reads as contended, so that the
 * tests see samples set aside on a quiet machine. */
static void test_contention(struct run_options *o)
{
	const char *v = getenv("MSEALBENCH_TEST_CONTENTION");

	if (v && *v && !parse_long(v, 1, LONG_MAX, &o->gate_every))
		usage_error("MSEALBENCH_TEST_CONTENTION: '%s' is not a whole number from 1", v);
}

static void parse_run_options(int argc, char **argv, struct run_options *o)
{
	enum { O_FILTER = 256, O_SEAL, O_REP, O_MINTIME, O_QUICK, O_CPU, O_OUT, O_QUIET, O_SEED,
	       O_EVENTS, O_INJECT, O_LABEL, O_MAXROUNDS, O_BUDGET, O_PRECISION, O_FORMAT, O_FORMAT_OUT, O_GATE,
	       O_REFERENCE };
	static const struct option longopts[] = {
		{ "filter", required_argument, 0, O_FILTER }, { "seal", required_argument, 0, O_SEAL },
		{ "repetitions", required_argument, 0, O_REP }, { "min-time", required_argument, 0, O_MINTIME },
		{ "quick", no_argument, 0, O_QUICK }, { "cpu", required_argument, 0, O_CPU },
		{ "out", required_argument, 0, O_OUT }, { "quiet", no_argument, 0, O_QUIET },
		{ "seed", required_argument, 0, O_SEED }, { "events", required_argument, 0, O_EVENTS },
		{ "inject-delay", required_argument, 0, O_INJECT }, { "label", required_argument, 0, O_LABEL },
		{ "max-rounds", required_argument, 0, O_MAXROUNDS }, { "time-budget", required_argument, 0, O_BUDGET },
		{ "precision", required_argument, 0, O_PRECISION },
		{ "format", required_argument, 0, O_FORMAT }, { "format-out", required_argument, 0, O_FORMAT_OUT },
		{ "gate", required_argument, 0, O_GATE }, { "reference", required_argument, 0, O_REFERENCE },
		OPTION_HELP, { 0, 0, 0, 0 },
	};
	long rep = -1, seed = -1, max_rounds = -1;
	double min_time = -1;
	char why[300];
	int c;

	memset(o, 0, sizeof(*o));
	for (int m = 0; m < SEAL_MODE_COUNT; m++)
		o->seal_modes[m] = seal_modes[m].by_default;
	o->cpu = default_cpu();
	o->events = COUNTERS_DEFAULT;
	o->inject_mode = -1;
	o->gate = false;
	o->reference = true;
	while ((c = options_next(argc, argv, longopts, &cmd_run)) != -1) {
		switch (c) {
		case O_FILTER: o->filter = optarg; break;
		case O_SEAL: parse_seal_modes(optarg, o->seal_modes); break;
		case O_REP:
			if (!parse_long(optarg, 1, 100000, &rep))
				usage_error("--repetitions: '%s' is not a whole number from 1 to 100000", optarg);
			break;
		case O_MAXROUNDS:
			if (!parse_long(optarg, 1, 100000, &max_rounds))
				usage_error("--max-rounds: '%s' is not a whole number from 1 to 100000", optarg);
			break;
		case O_PRECISION: {
			char *copy = xstrdup(optarg), *pct = strchr(copy, '%');

			if (pct && pct[1] == '\0')
				*pct = '\0';
			if (!parse_double(copy, 0.01, 1000, &o->precision))
				usage_error("--precision: '%s' is not a percentage from 0.01%% to 1000%%", optarg);
			o->precision /= 100.0;
			free(copy);
			break;
		}
		case O_BUDGET:
			if (!parse_double(optarg, 1, 30 * 86400, &o->time_budget_s))
				usage_error("--time-budget: '%s' is not a number of seconds from 1 to 2592000", optarg);
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
		case O_FORMAT: o->format = optarg; break;
		case O_FORMAT_OUT: o->format_out = optarg; break;
		case O_GATE:
			if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0)
				usage_error("--gate: '%s' is neither on nor off", optarg);
			o->gate = strcmp(optarg, "on") == 0;
			break;
		case O_REFERENCE:
			if (strcmp(optarg, "getppid") != 0 && strcmp(optarg, "none") != 0)
				usage_error("--reference: '%s' is neither getppid nor none", optarg);
			o->reference = strcmp(optarg, "getppid") == 0;
			break;
		}
	}
	options_no_more_operands(argc, argv, 0);
	/* They end up in the results file, which must stay valid UTF-8 JSON. */
	if (o->filter && !utf8_valid(o->filter))
		usage_error("%s: the text is not valid UTF-8", "--filter");
	if (o->label && !utf8_valid(o->label))
		usage_error("%s: the text is not valid UTF-8", "--label");
	check_format(o);
	test_contention(o);
	o->repetitions = rep > 0 ? rep : o->quick ? 3 : DEFAULT_REPETITIONS;
	o->max_rounds = max_rounds > 0 ? max_rounds : o->quick || rep > 0 ? o->repetitions : DEFAULT_MAX_ROUNDS;
	o->min_time_s = min_time > 0 ? min_time : o->quick ? 0.06 : 0.125;
	o->seed = seed >= 0 ? (uint64_t)seed : (now_ns() ^ ((uint64_t)getpid() << 32)) & LONG_MAX;
}

static int run_main(int argc, char **argv, const char *self_exe)
{
	struct run_options opt;

	msb_prog = "msealbench run";
	parse_run_options(argc, argv, &opt);
	return runner_run(&opt, self_exe);
}

const struct command cmd_run = { "run", run_main, "run benchmarks in each seal mode and write a results file",
				 run_help };
