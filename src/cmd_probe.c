/* SPDX-License-Identifier: GPL-2.0-only */
/* `msealbench probe [--json]`: the probe's rows as TAP or JSON. */
#include <stdio.h>

#include "kernel_facts.h"
#include "main.h"
#include "options.h"
#include "probe.h"
#include "probe_output.h"
#include "util.h"

extern const struct command cmd_probe;

static const char probe_usage[] =
	"usage: msealbench probe [--json]\n"
	"Checks mseal(2) and its error contract, whether the kernel sealed the system mappings at\n"
	"exec (CONFIG_MSEAL_SYSTEM_MAPPINGS) and the kernel config around it, and which operations\n"
	"sealing denies on a sealed vDSO and a sealed anonymous region against unsealed controls,\n"
	"as documented in the kernel's Documentation/userspace-api/mseal.rst. Every row that seals\n"
	"runs in a child process.\n"
	"\n"
	"  --json   one JSON object (schema msealbench-probe, version 1) instead of TAP\n"
	"\n"
	"Output: TAP version 13 as kselftest prints it. Exit status: 0 every row as documented,\n"
	"1 a row differs, 2 bad usage, 4 skip: this kernel has no mseal(2).\n";

static void probe_help(FILE *f)
{
	fputs(probe_usage, f);
}

static int probe_main(int argc, char **argv, const char *self_exe)
{
	static const struct option longopts[] = { { "json", no_argument, NULL, 'j' }, OPTION_HELP, { 0, 0, 0, 0 } };
	static struct probe_report r;
	struct kernel_facts facts;
	bool json = false;

	msb_prog = "msealbench probe";
	while (options_next(argc, argv, longopts, &cmd_probe) != -1)
		json = true;
	options_no_more_operands(argc, argv, 0);
	kernel_facts_collect(&facts, self_exe);
	probe_collect(&r, &facts, self_exe);
	if (json)
		probe_print_json(&r, stdout);
	else
		probe_print_tap(&r, stdout);
	return probe_exit_status(&r);
}


const struct command cmd_probe = { "probe", probe_main,
				   "check mseal(2), kernel sealing at exec and what sealing denies (TAP)", probe_help };
