/* One cell run: a fresh exec'd child that seals (per its mode), sets up, calibrates, measures
 * and writes a text report to a pipe. The runner builds the argument list; nothing else is
 * shared between the two processes. */
#ifndef MSB_CELL_H
#define MSB_CELL_H

#include <stdint.h>

#include "bench.h"

struct cell_config {
	const struct bench *bench;
	long param[BENCH_MAX_PARAMS];
	enum seal_mode seal;
	uint64_t batch;			/* operations per sample; 0: calibrate */
	double time_s;			/* measured time to aim for in this run */
	long min_samples, max_samples;
	double sample_target_ns;	/* calibration aims one sample at this length */
	const char *events;		/* comma-separated perf events, "" for none */
	double inject;			/* extra busy time per sample, fraction of the measured time */
	long cpu;			/* pin to this CPU, -1: do not pin */
	const char *helper_dir;
};

/* argv for `msealbench __cell ...`; free with cell_argv_free(). */
char **cell_argv_build(const char *self_exe, const struct cell_config *c);
void cell_argv_free(char **argv);

/* Entry point of `msealbench __cell`: writes the report to fd 3. */
int cell_main(int argc, char **argv, const char *self_exe);

#endif
