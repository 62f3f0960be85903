/* `msealbench profile BENCH`: one cell under `perf record -g`, then the kernel symbols where
 * its time goes. The perf.data stays beside the results for `perf report -i`. */
#define _GNU_SOURCE
#include "events.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cell.h"
#include "counters.h"
#include "runner.h"
#include "util.h"

#define REPORT_FD 3	/* where a cell writes its report (cell.c) */

static const char profile_usage[] =
	"usage: msealbench profile BENCH [--seal MODE] [--params k=v,...] [--time SECONDS]\n"
	"                          [--out DIR] [--top N]\n"
	"Runs one cell of BENCH (a full name from 'msealbench list') under `perf record -g` and\n"
	"prints the top kernel symbols by self time (perf report --sort sym, [k] only).\n"
	"  --seal MODE      none, sysmap or all (default none)\n"
	"  --params k=v,..  parameter values (default: the first of each parameter's sweep)\n"
	"  --time SECONDS   measured time of the cell (default 2)\n"
	"  --out DIR        where DIR/BENCH-SEAL.perf.data is kept (default results)\n"
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

static void parse_profile_options(int argc, char **argv, struct profile_options *o)
{
	memset(o, 0, sizeof(*o));
	o->seal = SEAL_NONE;
	o->time_s = 2;
	o->out_dir = "results";
	o->top = 20;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0) {
			fputs(profile_usage, stdout);
			exit(0);
		} else if (a[0] != '-' && !o->bench) {
			if (!(o->bench = bench_find(a)))
				die(2, "no benchmark named '%s' (see 'msealbench list')", a);
			continue;
		} else if (!v) {
			die(2, "unknown option or missing value: '%s' (try 'msealbench profile --help')", a);
		} else if (strcmp(a, "--seal") == 0) {
			if (!seal_mode_parse(v, &o->seal))
				die(2, "--seal: unknown seal mode '%s' (known: none, sysmap, all)", v);
		} else if (strcmp(a, "--params") == 0) {
			o->params = v;
		} else if (strcmp(a, "--time") == 0) {
			if (!parse_double(v, 0.01, 3600, &o->time_s))
				die(2, "--time: '%s' is not a number of seconds from 0.01 to 3600", v);
		} else if (strcmp(a, "--out") == 0) {
			o->out_dir = v;
		} else if (strcmp(a, "--top") == 0) {
			if (!parse_long(v, 1, 10000, &o->top))
				die(2, "--top: '%s' is not a count from 1 to 10000", v);
		} else {
			die(2, "unknown option '%s' (try 'msealbench profile --help')", a);
		}
		i++;
	}
	if (!o->bench)
		die(2, "which benchmark? (usage: msealbench profile BENCH; see 'msealbench list')");
}

/* The cell's parameter values: the first of each sweep, then --params k=v,... over them. */
static void resolve_params(const struct profile_options *o, long *values)
{
	struct param_sweep sweep;
	char err[160], *copy, *save = NULL;

	if (param_sweep_parse(o->bench->params, &sweep, err, sizeof(err)) < 0)
		die(1, "benchmark declares bad parameters: %s", err);
	param_sweep_combination(&sweep, 0, values);
	copy = xstrdup(o->params ? o->params : "");
	for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		int k;

		if (eq)
			*eq = '\0';
		for (k = 0; k < sweep.nparams && strcmp(sweep.name[k], kv) != 0; k++)
			;
		if (!eq || k == sweep.nparams || !parse_long(eq + 1, 0, 1L << 40, &values[k]))
			die(2, "--params: '%s' is not NAME=VALUE for a parameter of this benchmark (%s)",
			    kv, o->bench->params ? o->bench->params : "it has none");
	}
	free(copy);
	param_sweep_free(&sweep);
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

static int wait_for(pid_t pid, const char *what)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die(1, "waitpid (%s): %s", what, errno_text(errno));
	if (WIFSIGNALED(status)) {
		warnx_msb("%s was killed by signal %d", what, WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}

/* perf record -g -e EVENT -o DATA -- msealbench __cell ...; the cell's report goes to a file. */
static int record_cell(const char *perf, const char *event, const char *data, char **cell_argv,
		       FILE *report)
{
	char *argv[64];
	int n = 0;
	pid_t pid;

	argv[n++] = (char *)perf;
	argv[n++] = (char *)"record";
	argv[n++] = (char *)"-q";
	argv[n++] = (char *)"-g";
	argv[n++] = (char *)"-e";
	argv[n++] = (char *)event;
	argv[n++] = (char *)"-o";
	argv[n++] = (char *)data;
	argv[n++] = (char *)"--";
	for (int i = 0; cell_argv[i] && n < 63; i++)
		argv[n++] = cell_argv[i];
	argv[n] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die(1, "fork: %s", errno_text(errno));
	if (pid == 0) {
		if (dup2(fileno(report), REPORT_FD) < 0)
			_exit(127);
		execv(perf, argv);
		fprintf(stderr, "msealbench profile: exec %s: %s\n", perf, strerror(errno));
		_exit(127);
	}
	return wait_for(pid, "perf record");
}

/* The cell's last status and reason lines; false when it wrote no status. */
static bool cell_outcome(FILE *report, char *status, size_t slen, char *reason, size_t rlen)
{
	char line[1024];

	status[0] = reason[0] = '\0';
	rewind(report);
	while (fgets(line, sizeof(line), report)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "status ", 7) == 0)
			str_copy(status, slen, line + 7);
		else if (strncmp(line, "reason ", 7) == 0)
			str_copy(reason, rlen, line + 7);
	}
	return status[0] != '\0';
}

/* perf report, self time by symbol; print the [k] lines and the kernel's share. */
static int print_top_kernel_symbols(const char *perf, const char *data, long top)
{
	int pipefd[2];
	char line[1024];
	double kernel = 0, user = 0;
	long shown = 0;
	FILE *in;
	pid_t pid;

	if (pipe(pipefd) < 0)
		die(1, "pipe: %s", errno_text(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die(1, "fork: %s", errno_text(errno));
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		execl(perf, perf, "report", "-i", data, "--stdio", "--no-children", "--sort", "sym",
		      "-g", "none", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	in = fdopen(pipefd[0], "r");
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

int profile_main(int argc, char **argv, const char *self_exe)
{
	struct profile_options o;
	struct cell_config cfg;
	char perf[4096], data[4096], helpers[4096], name[160], status[32], reason[512];
	const char *event;
	char **cell_argv;
	FILE *report;
	int r;

	msb_prog = "msealbench profile";
	parse_profile_options(argc, argv, &o);
	find_perf(perf, sizeof(perf));
	event = sampling_event();
	memset(&cfg, 0, sizeof(cfg));
	cfg.bench = o.bench;
	resolve_params(&o, cfg.param);
	cfg.seal = o.seal;
	cfg.time_s = o.time_s;
	cfg.min_samples = 1;
	cfg.max_samples = 1000000;
	cfg.sample_target_ns = 1e6;
	cfg.events = "";
	cfg.cpu = -1;
	runner_helper_dir(self_exe, helpers, sizeof(helpers));
	cfg.helper_dir = helpers;
	if (mkdir(o.out_dir, 0755) < 0 && errno != EEXIST)
		die(1, "cannot create %s: %s (use --out DIR)", o.out_dir, errno_text(errno));
	snprintf(data, sizeof(data), "%s/%s-%s.perf.data", o.out_dir,
		 bench_full_name(o.bench, name, sizeof(name)), seal_mode_name(o.seal));
	if (!(report = tmpfile()))
		die(1, "tmpfile: %s", errno_text(errno));
	cell_argv = cell_argv_build(self_exe, &cfg);
	fprintf(stderr, "profiling %s (seal %s) for %.3g s: perf record -g -e %s -o %s\n", name,
		seal_mode_name(o.seal), o.time_s, event, data);
	r = record_cell(perf, event, data, cell_argv, report);
	cell_argv_free(cell_argv);
	if (!cell_outcome(report, status, sizeof(status), reason, sizeof(reason)))
		die(1, "perf record exited with status %d and the cell reported nothing (see perf's "
		       "message above; kernel.perf_event_paranoid <= 1 or CAP_PERFMON is needed)", r);
	fclose(report);
	if (strcmp(status, "ok") != 0)
		die(1, "the cell %s: %s", status, reason[0] ? reason : "no reason given");
	if (r != 0)
		die(1, "perf record exited with status %d", r);
	r = print_top_kernel_symbols(perf, data, o.top);
	printf("perf.data: %s (perf report -i %s)\n", data, data);
	return r;
}
