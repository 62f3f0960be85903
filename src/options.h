/* SPDX-License-Identifier: GPL-2.0-only */
/* The one option parser of the commands: getopt_long, with -h and --help for every command and
 * the same one-line errors everywhere. */
#ifndef MSB_OPTIONS_H
#define MSB_OPTIONS_H

#include <getopt.h>

#include "main.h"

/* Put last in a command's long options, before the terminating zero entry. */
#define OPTION_HELP { "help", no_argument, NULL, 'h' }

/* The next option of argv (argv[0] the command's name): its val, or -1 at the end, optind then
 * indexing the first operand (operands may stand anywhere). -h and --help print cmd's help
 * and exit 0; an unknown option or a missing value is a usage error. optarg as getopt_long. */
int options_next(int argc, char **argv, const struct option *longopts, const struct command *cmd);

/* Operands beyond max (starting at optind) are a usage error. */
void options_no_more_operands(int argc, char **argv, int max);

/* "msealbench CMD: MESSAGE (try 'msealbench CMD --help')" on stderr, exit 2. */
__attribute__((noreturn, format(printf, 1, 2))) void usage_error(const char *fmt, ...);

#endif
