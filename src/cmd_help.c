/* SPDX-License-Identifier: GPL-2.0-only */
/* `msealbench help [COMMAND]`: the commands, or one command's help. */
#include <stdio.h>
#include <string.h>

#include "main.h"
#include "options.h"
#include "util.h"

static void help_help(FILE *f)
{
	fprintf(f, "usage: msealbench COMMAND [options]\n"
		   "Benchmarks what memory sealing (mseal(2), CONFIG_MSEAL_SYSTEM_MAPPINGS) costs.\n\n");
	for (size_t i = 0; command_at(i); i++)
		if (command_at(i)->summary)
			fprintf(f, "  %-9s %s\n", command_at(i)->name, command_at(i)->summary);
	fprintf(f, "\n'msealbench COMMAND --help' or 'msealbench help COMMAND' tells more. Start with: make bench\n");
}

extern const struct command cmd_help;

/* `help COMMAND` prints what `COMMAND --help` prints. */
static int help_main(int argc, char **argv, const char *self_exe)
{
	static const struct option longopts[] = { OPTION_HELP, { 0, 0, 0, 0 } };
	const struct command *c;

	msb_prog = "msealbench help";
	while (options_next(argc, argv, longopts, &cmd_help) != -1)
		;
	options_no_more_operands(argc, argv, 1);
	if (optind == argc) {
		help_help(stdout);
		return 0;
	}
	c = command_find(argv[optind]);
	if (!c || !c->summary)
		usage_error("unknown command '%s'", argv[optind]);
	if (!c->help) {
		char *args[] = { argv[optind], "--help", NULL };

		return c->main(2, args, self_exe);
	}
	c->help(stdout);
	return 0;
}

const struct command cmd_help = { "help", help_main, "this text", help_help };
