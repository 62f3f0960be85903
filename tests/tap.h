/* SPDX-License-Identifier: GPL-2.0-only */
/* TAP output for C unit tests, in the dialect of tests/taplib.py (and tests/lib.sh), which
 * tests/run.sh counts: "ok - WHAT", "not ok - WHAT", "ok - WHAT # SKIP WHY", each line flushed
 * at once (a crash loses none); tap_done() returns the exit status, 1 when a check failed. */
#ifndef MSB_TAP_H
#define MSB_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int tap_failures;

__attribute__((format(printf, 2, 3), unused)) static bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", cond ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	tap_failures += !cond;
	return cond;
}

__attribute__((format(printf, 2, 3), unused)) static void tap_skip(const char *what, const char *fmt, ...)
{
	va_list ap;

	printf("ok - %s # SKIP ", what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

__attribute__((unused)) static int tap_done(void)
{
	return tap_failures ? 1 : 0;
}

#endif
