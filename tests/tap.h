/* TAP output for C unit tests: each check prints "ok - ..." or "not ok - ..."; tap_done()
 * returns the exit status (1 when any check failed). tests/run.sh counts the lines. */
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
}

__attribute__((unused)) static int tap_done(void)
{
	return tap_failures ? 1 : 0;
}

#endif
