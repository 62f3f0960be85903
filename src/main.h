/* SPDX-License-Identifier: GPL-2.0-only */
/* The command table (main.c): every command of msealbench is a row, a struct command that its
 * own file defines (src/cmd_*.c for the user's commands) and src/commands.h lists once. */
#ifndef MSB_MAIN_H
#define MSB_MAIN_H

#include <stdio.h>

struct command {
	const char *name;
	/* argv[0] is the command's name; self_exe the binary's absolute path (cells re-exec it). */
	int (*main)(int argc, char **argv, const char *self_exe);
	const char *summary;		/* one line for `msealbench help`; NULL: internal, not listed */
	/* Its help, printed alike by -h, --help and `msealbench help NAME`. NULL: main prints it
	 * when given --help (vm passes everything to its script). */
	void (*help)(FILE *f);
};

/* The row named name, NULL when there is none. */
const struct command *command_find(const char *name);
/* Row i of the table in the order `msealbench help` lists them, NULL past the end. */
const struct command *command_at(size_t i);

#endif
