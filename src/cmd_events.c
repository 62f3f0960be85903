/* SPDX-License-Identifier: GPL-2.0-only */
/* `msealbench events`: what this machine's PMUs offer, and which events will count for this
 * user here (each one really opened), and why not. */
#define _GNU_SOURCE
#include "main.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "counters.h"
#include "options.h"
#include "pmu_names.h"
#include "util.h"

extern const struct command cmd_events;

static const char events_usage[] =
	"usage: msealbench events [--all] [--events LIST]\n"
	"Shows the PMUs libpfm4 finds here (names and event counts; --all lists every event), the\n"
	"kernel's PMUs, and tries each event of LIST (default: the default set of 'msealbench run')\n"
	"with perf_event_open for this user: counted, or unsupported / not_permitted / unavailable\n"
	"and why. Names: cycles, instructions, instructions:u (user only), instructions:k (kernel\n"
	"only), branch-misses, dTLB-load-misses, task-clock, page-faults, context-switches,\n"
	"cpu-migrations, and with libpfm4 any PMU event (INST_RETIRED.ANY_P, CPU_CYCLES, perf::...).\n";

static void print_libpfm_pmus(bool all)
{
	struct pmu_summary pmus[64];
	int n = pmu_names_present(pmus, (int)ARRAY_SIZE(pmus));

	if (strcmp(counters_naming(), "builtin") == 0) {
		printf("event naming: builtin table of generic names (built without libpfm4: PMU-specific "
		       "names are not known)\n");
		return;
	}
	printf("event naming: %s\nPMUs libpfm4 finds present:\n", counters_naming());
	for (int i = 0; i < n; i++) {
		printf("  %-22s %-34s %5d events (%s)\n", pmus[i].name, pmus[i].desc, pmus[i].nevents,
		       pmus[i].type);
		if (all)
			pmu_names_print_events(stdout, pmus[i].id);
	}
}

/* The kernel's view: a hardware PMU appears as cpu, cpu_core, armv8_pmuv3_0 ... here. */
static void print_kernel_pmus(void)
{
	DIR *d = opendir("/sys/bus/event_source/devices");
	struct dirent *e;
	char list[1024] = "";
	size_t used = 0;

	if (!d) {
		printf("kernel PMUs: /sys/bus/event_source/devices is not readable\n");
		return;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		used += (size_t)snprintf(list + used, used < sizeof(list) ? sizeof(list) - used : 0, " %s",
					 e->d_name);
		if (used >= sizeof(list))
			break;
	}
	closedir(d);
	printf("kernel PMUs (/sys/bus/event_source/devices):%s\n", list);
}

static void print_access(void)
{
	char paranoid[32] = "?";

	read_text_file("/proc/sys/kernel/perf_event_paranoid", paranoid, sizeof(paranoid));
	printf("perf_event_paranoid: %s; uid %ld%s\n", paranoid, (long)geteuid(),
	       geteuid() == 0 ? " (root: not limited by it)"
			      : " (kernel counting needs <= 1 or CAP_PERFMON; user-only <= 2)");
}

/* Open the list for real, in one group as a cell does, and say what each event got. */
static void print_event_trial(const char *list)
{
	struct counter_group g;
	double read_ns;

	counters_open(&g, list, false);
	printf("\nevents for this user here (%s):\n", list);
	for (int i = 0; i < g.n; i++) {
		const struct counter_event *ev = &g.ev[i];

		printf("  %-20s %-13s %s\n", ev->name, counter_status_name(ev->status), ev->reason);
	}
	counters_close(&g);
	read_ns = counters_read_cost_ns(list);
	if (isnan(read_ns))
		printf("group read: nothing counts here; results hold time only\n");
	else
		printf("group read: %.0f ns, taken outside the timed region of every sample\n", read_ns);
}

static void events_help(FILE *f)
{
	fputs(events_usage, f);
}

static int events_main(int argc, char **argv, const char *self_exe)
{
	enum { O_ALL = 256, O_EVENTS };
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, O_ALL }, { "events", required_argument, NULL, O_EVENTS },
		OPTION_HELP, { 0, 0, 0, 0 },
	};
	const char *list = COUNTERS_DEFAULT;
	char why[300];
	bool all = false;
	int c;

	(void)self_exe;
	msb_prog = "msealbench events";
	while ((c = options_next(argc, argv, longopts, &cmd_events)) != -1) {
		if (c == O_ALL)
			all = true;
		else
			list = optarg;
	}
	options_no_more_operands(argc, argv, 0);
	if (!counters_check_list(list, why, sizeof(why)))
		usage_error("--events: %s", why);
	print_libpfm_pmus(all);
	print_kernel_pmus();
	print_access();
	print_event_trial(list);
	return 0;
}

const struct command cmd_events = { "events", events_main,
				    "perf events: what the PMUs offer and what counts for you here", events_help };
