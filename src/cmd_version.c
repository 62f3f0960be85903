/* SPDX-License-Identifier: GPL-2.0-only */
/* `msealbench version`. */
#include <stdio.h>

#include "main.h"
#include "options.h"
#include "util.h"
#include "version.h"

extern const struct command cmd_version;

static void version_help(FILE *f)
{
	fputs("usage: msealbench version\nPrints the version.\n", f);
}

static int version_main(int argc, char **argv, const char *self_exe)
{
	static const struct option longopts[] = { OPTION_HELP, { 0, 0, 0, 0 } };

	(void)self_exe;
	msb_prog = "msealbench version";
	while (options_next(argc, argv, longopts, &cmd_version) != -1)
		;
	options_no_more_operands(argc, argv, 0);
	printf("msealbench %s\n", MSB_VERSION);
	return 0;
}

const struct command cmd_version = { "version", version_main, "print the version", version_help };
