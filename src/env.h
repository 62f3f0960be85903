/* SPDX-License-Identifier: GPL-2.0-only */
/* The environment block of a results file: what machine and kernel the numbers come from. */
#ifndef MSB_ENV_H
#define MSB_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include "json.h"
#include "kernel_facts.h"

#define ENV_VULNS_MAX 32
/* run warns before measuring when the 1-minute load average is above this many per CPU: other
 * work then shares the CPUs and shows up as noise. */
#define ENV_BUSY_LOAD_PER_CPU 0.5
/* run warns after measuring when the hypervisor took more than this share of the CPU time during
 * the run: a stolen tick lands inside some timed samples and not others, so above the smallest
 * change the suite is asked to detect (about 2%) the noise it adds is no longer negligible. */
#define ENV_STEAL_WARN_SHARE 0.02
#define ENV_KDAMONDS_MAX 8
#define ENV_DAMON_NAMES_MAX 4

struct env_vulnerability {
	char name[48], text[200];	/* a file of /sys/devices/system/cpu/vulnerabilities */
};

/* The "cpu" line of /proc/stat: ticks of all CPUs together. */
struct env_cpu_times {
	bool known;
	unsigned long long steal, total;
};

/* A running DAMON monitor: a kdamond of the admin sysfs (kdamond.N) or a module's (damon_reclaim,
 * damon_lru_sort). Page-level monitoring samples accessed bits and its actions (pageout, LRU
 * sorting) move the benchmark's pages. */
struct env_kdamond {
	char name[32];
	long pid;				/* 0 when unknown */
	int noperations, nactions;
	char operations[ENV_DAMON_NAMES_MAX][24];	/* of each context: vaddr, fvaddr, paddr */
	char actions[ENV_DAMON_NAMES_MAX][24];		/* of each scheme: pageout, lru_prio ... */
};

struct env_info {
	char host[256];
	char release[128], version[256], cmdline[2048];
	char arch[32], cpu_model[256];
	long cpu_count;
	char clocksource[64];
	char virtualization[64];
	char governor[64], boost[16], smt[16];	/* "" when not readable */
	bool paranoid_known;
	long perf_event_paranoid;
	struct kernel_facts kernel;		/* mseal(2), sealing at exec, kernel config */
	/* What drives noise: mitigations (syscall and context-switch cost), THP mode (faults and
	 * munmap), the VMA limit (how far the sweeps reach), the load when the run started. */
	int nvulns;
	struct env_vulnerability vuln[ENV_VULNS_MAX];	/* by name */
	char thp[16];				/* the selected mode of transparent_hugepage/enabled */
	bool max_map_count_known, loadavg_known;
	long max_map_count;
	double loadavg[3];			/* 1, 5 and 15 minutes */
	/* Steal (CPU time the hypervisor gave to others) from env_collect to the start of the
	 * measurements, and over the measurements: shares of all ticks, NaN when unknown. */
	struct env_cpu_times cpu_at_collect, cpu_at_start;
	uint64_t collect_ns;
	double steal_before_run, steal_before_run_s, steal_run;
	bool damon_known;			/* false: no DAMON sysfs nor module here */
	int nkdamonds;
	struct env_kdamond kdamond[ENV_KDAMONDS_MAX];
	char git_revision[64];
};

/* Collects everything; self_exe is run once (freshly exec'd) to see what the kernel sealed. The
 * probe's compatibility matrix is not run: that is `msealbench probe`'s job. */
void env_collect(struct env_info *e, const char *self_exe);

/* Whether the machine was busy when e was collected (load average above ENV_BUSY_LOAD_PER_CPU
 * per CPU); false when unknown. */
bool env_busy(const struct env_info *e);

/* The "cpu" line of /proc/stat into t; false (t->known false) when it is not one with a steal
 * field. */
bool env_parse_cpu_times(const char *line, struct env_cpu_times *t);

/* Steal's share of the ticks from a to b, NaN when either is unknown or no tick passed. */
double env_steal_share(const struct env_cpu_times *a, const struct env_cpu_times *b);

/* Called when measuring starts: records the steal since env_collect and starts the run's count. */
void env_steal_start(struct env_info *e);

/* Records the steal from env_steal_start until now (called before each write of the results). */
void env_steal_update(struct env_info *e);

/* Whether the hypervisor took more than ENV_STEAL_WARN_SHARE during the run; false when unknown. */
bool env_stolen(const struct env_info *e);

/* Writes the environment's members into the JSON object that is open. */
void env_write_json(struct json *j, const struct env_info *e);

#endif
