/* SPDX-License-Identifier: GPL-2.0-only */
/* The environment block of a results file: what machine and kernel the numbers come from. */
#ifndef MSB_ENV_H
#define MSB_ENV_H

#include <stdbool.h>

#include "json.h"
#include "kernel_facts.h"

#define ENV_VULNS_MAX 32
/* run warns before measuring when the 1-minute load average is above this many per CPU: other
 * work then shares the CPUs and shows up as noise. */
#define ENV_BUSY_LOAD_PER_CPU 0.5

struct env_vulnerability {
	char name[48], text[200];	/* a file of /sys/devices/system/cpu/vulnerabilities */
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
	char git_revision[64];
};

/* Collects everything; self_exe is run once (freshly exec'd) to see what the kernel sealed. The
 * probe's compatibility matrix is not run: that is `msealbench probe`'s job. */
void env_collect(struct env_info *e, const char *self_exe);

/* Whether the machine was busy when e was collected (load average above ENV_BUSY_LOAD_PER_CPU
 * per CPU); false when unknown. */
bool env_busy(const struct env_info *e);

/* Writes the environment's members into the JSON object that is open. */
void env_write_json(struct json *j, const struct env_info *e);

#endif
