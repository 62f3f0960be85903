/* SPDX-License-Identifier: GPL-2.0-only */
#define _GNU_SOURCE
#include "options.h"

#include <stdarg.h>
#include <stdlib.h>

#include "util.h"

void usage_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	die(2, "%s (try '%s --help')", msg, msb_prog);
}

int options_next(int argc, char **argv, const struct option *longopts, const struct command *cmd)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, ":h", longopts, NULL);
	if (c == 'h') {
		cmd->help(stdout);
		exit(0);
	}
	if (c == '?' || c == ':')
		usage_error("unknown option or missing value: '%s'", argv[optind - 1]);
	return c;
}

void options_no_more_operands(int argc, char **argv, int max)
{
	if (argc - optind > max)
		usage_error("unexpected argument '%s'", argv[optind + max]);
}
