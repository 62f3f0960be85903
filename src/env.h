/* The environment block of a results file: what machine and kernel the numbers come from. */
#ifndef MSB_ENV_H
#define MSB_ENV_H

#include <stdbool.h>

#include "json.h"
#include "kernel_facts.h"

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
	char git_revision[64];
};

/* Collects everything; self_exe is run once (freshly exec'd) to see what the kernel sealed. The
 * probe's compatibility matrix is not run: that is `msealbench probe`'s job. */
void env_collect(struct env_info *e, const char *self_exe);

/* Writes the environment's members into the JSON object that is open. */
void env_write_json(struct json *j, const struct env_info *e);

#endif
