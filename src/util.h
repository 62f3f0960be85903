/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers shared by the whole harness: errors, memory, files, numbers. */
#ifndef MSB_UTIL_H
#define MSB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

extern const char *msb_prog;	/* "msealbench run" etc., prefix of error messages */

/* Print "prog: message" and exit with status (2 for usage errors, 1 for others). */
__attribute__((noreturn, format(printf, 2, 3))) void die(int status, const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void warnx_msb(const char *fmt, ...);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* Append one value to a growable array of doubles. */
struct dvec {
	double *v;
	size_t n, cap;
};
void dvec_push(struct dvec *d, double x);

/* Read a whole small file (procfs, sysfs) into buf, NUL-terminated, trailing newline removed.
 * Returns false (errno set) when it cannot be read. */
bool read_text_file(const char *path, char *buf, size_t len);

/* Strict number parsing: the whole string must be a number in [min, max]. */
bool parse_long(const char *s, long min, long max, long *out);
bool parse_double(const char *s, double min, double max, double *out);
/* Exactly n comma-separated whole numbers, each in [min, max]. */
bool parse_long_list(const char *s, int n, long min, long max, long *out);

/* Length of the well-formed UTF-8 sequence at s (1 for ASCII, including NUL), 0 when the bytes
 * there are not UTF-8 (stray continuation, overlong, surrogate, beyond U+10FFFF, cut short). */
size_t utf8_sequence_length(const char *s);
bool utf8_valid(const char *s);

/* Registered with atexit by main: output that could not be written (a full disk, /dev/full)
 * must not exit 0. Says "writing standard output: ERROR" and exits 1; a closed pipe exits 1
 * quietly. */
void check_stdout_at_exit(void);

/* CLOCK_MONOTONIC_RAW in nanoseconds. */
uint64_t now_ns(void);

/* Copy src into dst of size len, truncating; dst is always terminated. */
void str_copy(char *dst, size_t len, const char *src);

/* Format errno for messages: "Operation not permitted (EPERM)". */
const char *errno_text(int err);

#endif
