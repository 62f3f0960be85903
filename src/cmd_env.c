/* SPDX-License-Identifier: GPL-2.0-only */
/* `msealbench env`: the environment block of a results file, on its own. */
#include <stdio.h>
#include <unistd.h>

#include "env.h"
#include "json.h"
#include "main.h"
#include "options.h"
#include "util.h"

extern const struct command cmd_env;

static void env_help(FILE *f)
{
	fputs("usage: msealbench env\nPrints the environment block of a results file (JSON): kernel,\n"
	      "CPU, clocksource, virtualisation, perf_event_paranoid, what drives noise (CPU\n"
	      "vulnerability mitigations, THP mode, vm.max_map_count, load average, the share\n"
	      "of CPU time the hypervisor took over 200 ms, running DAMON monitors), mseal\n"
	      "availability, which system mappings the kernel sealed at exec and the kernel config\n"
	      "that governs it.\n", f);
}

static int env_main(int argc, char **argv, const char *self_exe)
{
	static const struct option longopts[] = { OPTION_HELP, { 0, 0, 0, 0 } };
	struct env_info e;
	struct json j;

	msb_prog = "msealbench env";
	while (options_next(argc, argv, longopts, &cmd_env) != -1)
		;
	options_no_more_operands(argc, argv, 0);
	env_collect(&e, self_exe);
	/* /proc/stat counts in ticks of 10 ms: a shorter window would tell too little of steal. */
	while (now_ns() - e.collect_ns < 200 * 1000000ull)
		usleep(20000);
	env_steal_start(&e);
	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	env_write_json(&j, &e);
	json_object_end(&j);
	return 0;
}

const struct command cmd_env = { "env", env_main, "print the environment block (kernel, CPU, mseal, kernel sealing)",
				 env_help };
