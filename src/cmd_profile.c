/* SPDX-License-Identifier: GPL-2.0-only */
/* `msealbench profile BENCH`: one cell under `perf record -g`, then the kernel symbols where
 * its time goes. perf samples only inside op(): it starts disabled and the cell switches it on
 * and off around each op() through perf's control descriptors. The perf.data stays beside the
 * results for `perf report -i`. */
#define _GNU_SOURCE
#include "main.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cell_protocol.h"
#include "child.h"
#include "counters.h"
#include "options.h"
#include "runner.h"
#include "util.h"

#define PARAM_VALUE_MAX (1L << 40)

static const char profile_usage_format[] =
	"usage: msealbench profile BENCH [--seal MODE] [--params k=v,...] [--time SECONDS]\n"
	"                          [--out DIR] [--top N]\n"
	"Runs one cell of BENCH (a full name from 'msealbench list') under `perf record -g` and\n"
	"prints the top kernel symbols by self time (perf report --sort sym, [k] only). perf samples\n"
	"only while op() runs (the timed region), not the set-up and prepare() around it.\n"
	"  --seal MODE      %s (default none)\n"
	"  --params k=v,..  parameter values (default: the first of each parameter's sweep)\n"
	"  --time SECONDS   measured time of the cell (default 2)\n"
	"  --out DIR        where DIR/BENCH-SEAL.perf.data is kept (default results; made if\n"
	"                   missing, must be a directory this user can write)\n"
	"  --top N          kernel symbols shown (default 20)\n"
	"Samples on cycles where there is a hardware PMU, else on the software cpu-clock. Needs\n"
	"perf (Debian: linux-perf) and kernel sampling: root, CAP_PERFMON or\n"
	"kernel.perf_event_paranoid <= 1.\n";

struct profile_options {
	const struct bench *bench;
	enum seal_mode seal;
	const char *params;
	double time_s;
	const char *out_dir;
	long top;
};

extern const struct command cmd_profile;

static void profile_help(FILE *f)
{
	char known[128];

	fprintf(f, profile_usage_format, seal_mode_names(known, sizeof(known), ", ", false));
}

static void parse_profile_options(int argc, char **argv, struct profile_options *o)
{
	enum { O_SEAL = 256, O_PARAMS, O_TIME, O_OUT, O_TOP };
	static const struct option longopts[] = {
		{ "seal", required_argument, NULL, O_SEAL }, { "params", required_argument, NULL, O_PARAMS },
		{ "time", required_argument, NULL, O_TIME }, { "out", required_argument, NULL, O_OUT },
		{ "top", required_argument, NULL, O_TOP }, OPTION_HELP, { 0, 0, 0, 0 },
	};
	char known[128];
	int c;

	memset(o, 0, sizeof(*o));
	o->seal = SEAL_NONE;
	o->time_s = 2;
	o->out_dir = "results";
	o->top = 20;
	while ((c = options_next(argc, argv, longopts, &cmd_profile)) != -1) {
		switch (c) {
		case O_SEAL:
			if (!seal_mode_parse(optarg, &o->seal))
				usage_error("--seal: unknown seal mode '%s' (known: %s)", optarg,
					    seal_mode_names(known, sizeof(known), ", ", false));
			break;
		case O_PARAMS: o->params = optarg; break;
		case O_TIME:
			if (!parse_double(optarg, 0.01, 3600, &o->time_s))
				usage_error("--time: '%s' is not a number of seconds from 0.01 to 3600", optarg);
			break;
		case O_OUT: o->out_dir = optarg; break;
		case O_TOP:
			if (!parse_long(optarg, 1, 10000, &o->top))
				usage_error("--top: '%s' is not a count from 1 to 10000", optarg);
			break;
		}
	}
	if (optind == argc)
		usage_error("which benchmark? (usage: msealbench profile BENCH; see 'msealbench list')");
	options_no_more_operands(argc, argv, 1);
	if (!(o->bench = bench_find(argv[optind])))
		usage_error("no benchmark named '%s' (see 'msealbench list')", argv[optind]);
}

/* What is wrong with a --params value, or NULL when it is a whole number in range. */
static const char *param_value_problem(const char *v, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(v, &end, 10);
	if (!*v)
		return "no value given";
	if (*end || end == v)
		return "not a whole number";
	if (*out < 0)
		return "negative (values are 0 to 2^40)";
	if (errno == ERANGE || *out > PARAM_VALUE_MAX)
		return "out of range (values are 0 to 2^40)";
	return NULL;
}

/* The cell's parameter values: the first of each sweep, then --params k=v,... over them. */
static void resolve_params(const struct profile_options *o, long *values)
{
	struct param_sweep sweep;
	const char *declared = o->bench->params ? o->bench->params : "none";
	char err[160], name[160], *copy, *save = NULL;

	if (param_sweep_parse(o->bench->params, &sweep, err, sizeof(err)) < 0)
		die(1, "benchmark declares bad parameters: %s", err);
	param_sweep_combination(&sweep, 0, values);
	bench_full_name(o->bench, name, sizeof(name));
	copy = xstrdup(o->params ? o->params : "");
	for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		const char *problem;
		int k;

		if (!eq)
			die(2, "--params: '%s' is not NAME=VALUE (parameters of %s: %s)", kv, name, declared);
		*eq = '\0';
		for (k = 0; k < sweep.nparams && strcmp(sweep.name[k], kv) != 0; k++)
			;
		if (k == sweep.nparams)
			die(2, "--params: %s has no parameter '%s' (its parameters: %s)", name, kv, declared);
		if ((problem = param_value_problem(eq + 1, &values[k])))
			die(2, "--params: %s=%s: %s", kv, eq + 1, problem);
	}
	free(copy);
	param_sweep_free(&sweep);
}

/* --out must be a directory this user can write: made if missing, tried with a file before the
 * run, so that a bad one is not found by perf after the measurement. */
static void check_out_dir(const char *dir)
{
	char probe[PATH_MAX];
	struct stat st;
	int fd;

	if (!*dir)
		die(2, "--out: empty directory name");
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		die(2, "--out: cannot create directory %s: %s", dir, errno_text(errno));
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		die(2, "--out: %s is not a directory (DIR/BENCH-SEAL.perf.data is kept there)", dir);
	if ((size_t)snprintf(probe, sizeof(probe), "%s/.msealbench-probe.XXXXXX", dir) >= sizeof(probe))
		die(2, "--out: directory name too long");
	if ((fd = mkstemp(probe)) < 0)
		die(2, "--out: cannot write in %s: %s", dir, errno_text(errno));
	close(fd);
	unlink(probe);
}

/* perf on PATH, or a clear error. */
static void find_perf(char *buf, size_t len)
{
	const char *path = getenv("PATH");
	char *copy = xstrdup(path && *path ? path : "/usr/bin:/bin"), *save = NULL;

	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(buf, len, "%s/perf", d);
		if (access(buf, X_OK) == 0) {
			free(copy);
			return;
		}
	}
	free(copy);
	die(1, "perf is not installed (not on PATH): install linux-perf (Debian) or "
	       "linux-tools-$(uname -r) (Ubuntu)");
}

/* Sampling needs the kernel side, else no [k] symbol can appear: try it before the run. Picks
 * cycles where a hardware PMU exists, else the software cpu-clock. */
static const char *sampling_event(void)
{
	struct counter_group g;
	bool cycles;

	counters_open(&g, "cycles", false);
	cycles = g.ev[0].status == COUNTER_COUNTED && !strstr(g.ev[0].reason, "user space only");
	counters_close(&g);
	if (cycles)
		return "cycles";
	counters_open(&g, "cpu-clock", false);
	if (g.ev[0].status != COUNTER_COUNTED || g.ev[0].reason[0])
		die(1, "cannot sample the kernel here: %s",
		    g.ev[0].reason[0] ? g.ev[0].reason : "cpu-clock does not count");
	counters_close(&g);
	return "cpu-clock";
}

/* A stop signal ends the child's process group (perf and its cell): children die with us. */
static volatile sig_atomic_t stop_signal;
static volatile pid_t child_group;	/* the running child's process group, 0: none */

static void on_stop_signal(int sig)
{
	stop_signal = sig;
	if (child_group > 0)
		kill(-child_group, SIGTERM);
}

static void catch_stop_signals(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* Start perf: it leads its own process group, which a stop signal ends, and gets SIGTERM when
 * this process dies, even by SIGKILL (perf record then stops its cell). */
static pid_t start_perf(int (*run)(int out, const void *arg), const void *arg, int *out_fd)
{
	struct child_spec s = { .run = run, .arg = arg, .death_signal = SIGTERM, .out_as = STDOUT_FILENO,
				.own_group = true };
	char why[160];
	pid_t pid = child_start(&s, out_fd, why, sizeof(why));

	if (pid < 0)
		die(1, "%s", why);
	child_group = pid;
	if (stop_signal)
		kill(-pid, SIGTERM);
	return pid;
}

/* Reap the child; after a stop signal, exit 128 + signal once it is gone. */
static int wait_for(pid_t pid, const char *what)
{
	int status;

	if (child_reap(pid, &status) < 0)
		die(1, "waitpid (%s): %s", what, errno_text(errno));
	child_group = 0;
	if (stop_signal)
		die(128 + stop_signal, "stopped by signal %d (%s); %s stopped too", stop_signal,
		    strsignal(stop_signal), what);
	if (WIFSIGNALED(status)) {
		warnx_msb("%s was killed by signal %d", what, WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}

struct perf_record {
	char *argv[64];
	FILE *report, *log;
	char control[64];
};

/* The cell's report goes to a file, perf's messages (and the cell's) to log. */
static int exec_perf_record(int out, const void *arg)
{
	const struct perf_record *p = arg;

	(void)out;
	if (dup2(fileno(p->report), REPORT_FD) < 0 || dup2(fileno(p->log), STDERR_FILENO) < 0)
		return 127;
	execv(p->argv[0], p->argv);
	fprintf(stderr, "exec %s: %s\n", p->argv[0], strerror(errno));
	return 127;
}

/* perf record -g -D -1 --control=fd:CTL,ACK -e EVENT -o DATA -- msealbench __cell ... */
static int record_cell(const char *perf, const char *event, const char *data, char **cell_argv,
		       const int control[2], FILE *report, FILE *log)
{
	struct perf_record p = { .report = report, .log = log };
	int n = 0;

	snprintf(p.control, sizeof(p.control), "--control=fd:%d,%d", control[0], control[1]);
	p.argv[n++] = (char *)perf;
	p.argv[n++] = (char *)"record";
	p.argv[n++] = (char *)"-g";
	p.argv[n++] = (char *)"-D";
	p.argv[n++] = (char *)"-1";
	p.argv[n++] = p.control;
	p.argv[n++] = (char *)"-e";
	p.argv[n++] = (char *)event;
	p.argv[n++] = (char *)"-o";
	p.argv[n++] = (char *)data;
	p.argv[n++] = (char *)"--";
	for (int i = 0; cell_argv[i] && n < 63; i++)
		p.argv[n++] = cell_argv[i];
	p.argv[n] = NULL;
	return wait_for(start_perf(exec_perf_record, &p, NULL), "perf record");
}

/* Pass perf's messages on (not its "[ perf record: ...]" progress lines, nor the "Events
 * enabled/disabled" of every op() window) and keep the first that says something ("Error:"
 * alone does not) for the one-line error. */
static void relay_perf_messages(FILE *log, char *first, size_t len, bool *permission)
{
	char line[1024];

	first[0] = '\0';
	*permission = false;
	rewind(log);
	while (fgets(line, sizeof(line), log)) {
		size_t n = strcspn(line, "\n");

		if (strncmp(line, "[ perf record:", 14) == 0 || strncmp(line, "Events enabled", 14) == 0 ||
		    strncmp(line, "Events disabled", 15) == 0)
			continue;
		fputs(line, stderr);
		line[n] = '\0';
		*permission |= strstr(line, "perf_event_paranoid") != NULL;
		if (!first[0] && n > 0 && line[n - 1] != ':')
			str_copy(first, len, line);
	}
}
/* The status and reason of the cell's report, and the share of its run spent in op(); false
 * when it wrote no status. */
static bool cell_outcome(FILE *report, char *status, size_t slen, char *reason, size_t rlen,
			 double *window)
{
	struct cell_results r = { 0 };
	char *text;
	bool reported;

	*window = 0;
	if (lseek(fileno(report), 0, SEEK_SET) < 0)
		return false;
	text = read_fd_all(fileno(report), NULL, 0, NULL, NULL);
	reported = cell_report_parse(text, 0, &r, status, slen, reason, rlen);
	*window = r.window_share;
	free(text);
	return reported;
}

/* Runs with its stdout on the pipe. */
static int exec_argv(int out, const void *arg)
{
	char *const *argv = arg;

	(void)out;
	execv(argv[0], argv);
	return 127;
}

/* perf report, self time by symbol; print the [k] lines and the kernel's share. */
static int print_top_kernel_symbols(const char *perf, const char *data, long top)
{
	const char *argv[] = { perf, "report", "-i", data, "--stdio", "--no-children", "--sort", "sym",
			       "-g", "none", NULL };
	char line[1024];
	double kernel = 0, user = 0;
	long shown = 0;
	int fd;
	FILE *in;
	pid_t pid = start_perf(exec_argv, argv, &fd);

	in = fdopen(fd, "r");
	if (!in)
		die(1, "fdopen: %s", errno_text(errno));
	printf("top kernel symbols (self time, %% of all samples):\n");
	while (fgets(line, sizeof(line), in)) {
		double pct;

		if (line[0] == '#' || sscanf(line, " %lf%%", &pct) != 1)
			continue;
		if (strstr(line, "[k]")) {
			kernel += pct;
			if (shown++ < top)
				fputs(line, stdout);
		} else {
			user += pct;
		}
	}
	fclose(in);
	if (wait_for(pid, "perf report") != 0)
		return 1;
	printf("kernel: %.1f%% of samples, user space and the rest: %.1f%%\n", kernel, user);
	return shown ? 0 : 1;
}

static int profile_main(int argc, char **argv, const char *self_exe)
{
	struct profile_options o;
	struct cell_config cfg;
	char perf[4096], data[4096], helpers[4096], name[160], status[32], reason[512], perf_said[512];
	const char *event;
	char **cell_argv;
	FILE *report, *log;
	bool permission, reported;
	int r, ctl[2], ack[2], perf_ends[2];
	double window;

	msb_prog = "msealbench profile";
	catch_stop_signals();
	parse_profile_options(argc, argv, &o);
	cell_config_init(&cfg, o.bench);
	resolve_params(&o, cfg.param);
	check_out_dir(o.out_dir);
	find_perf(perf, sizeof(perf));
	event = sampling_event();
	cfg.seal = o.seal;
	cfg.time_s = o.time_s;
	cfg.min_samples = 1;
	runner_helper_dir(self_exe, helpers, sizeof(helpers));
	cfg.helper_dir = helpers;
	if ((size_t)snprintf(data, sizeof(data), "%s/%s-%s.perf.data", o.out_dir,
			     bench_full_name(o.bench, name, sizeof(name)), seal_mode_name(o.seal)) >= sizeof(data))
		die(2, "--out: directory name too long");
	if (!(report = tmpfile()) || !(log = tmpfile()))
		die(1, "tmpfile: %s", errno_text(errno));
	/* Commands go down ctl (the cell writes, perf reads), acks come up ack. */
	if (pipe(ctl) < 0 || pipe(ack) < 0)
		die(1, "pipe for perf's control: %s", errno_text(errno));
	perf_ends[0] = ctl[0];
	perf_ends[1] = ack[1];
	cfg.control_fd = ctl[1];
	cfg.ack_fd = ack[0];
	cell_argv = cell_argv_build(self_exe, &cfg);
	fprintf(stderr, "profiling %s (seal %s) for %.3g s: perf record -g -D -1 --control (sampling op() only) -e %s -o %s\n", name,
		seal_mode_name(o.seal), o.time_s, event, data);
	r = record_cell(perf, event, data, cell_argv, perf_ends, report, log);
	cell_argv_free(cell_argv);
	for (int i = 0; i < 2; i++)
		close(ctl[i]), close(ack[i]);
	relay_perf_messages(log, perf_said, sizeof(perf_said), &permission);
	fclose(log);
	reported = cell_outcome(report, status, sizeof(status), reason, sizeof(reason), &window);
	fclose(report);
	if (reported && strcmp(status, "ok") != 0)
		die(1, "the cell %s: %s", status, reason[0] ? reason : "no reason given");
	if (r != 0 || !reported)
		die(1, "perf record failed (exit status %d%s): %s%s", r,
		    reported ? "" : ", the cell reported nothing", perf_said[0] ? perf_said : "no message",
		    permission ? " (sampling the kernel needs kernel.perf_event_paranoid <= 1 or "
				 "CAP_PERFMON)" : "");
	r = print_top_kernel_symbols(perf, data, o.top);
	printf("sampled only inside op(), the timed region: %.1f%% of the cell's run time; its set-up, "
	       "prepare() and teardown are not in these samples\n", 100 * window);
	printf("perf.data: %s (perf report -i %s)\n", data, data);
	return r;
}

const struct command cmd_profile = { "profile", profile_main,
				     "run one cell under perf record and show the top kernel symbols", profile_help };
