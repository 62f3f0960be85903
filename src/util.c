/* SPDX-License-Identifier: GPL-2.0-only */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *msb_prog = "msealbench";

/* Messages are one line on a terminal: a control character that came from the user's input or
 * a file (a newline, an escape sequence) is shown as \xNN instead of acting. */
static void vwarn_line(const char *fmt, va_list ap)
{
	char msg[4096];
	const unsigned char *p = (const unsigned char *)msg;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "%s: ", msb_prog);
	for (; *p; p++) {
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			fprintf(stderr, "\\x%02x", *p);
		else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)	/* C1 controls, UTF-8 encoded */
			fprintf(stderr, "\\u%04x", *++p);
		else
			fputc(*p, stderr);
	}
	fputc('\n', stderr);
}

void die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_line(fmt, ap);
	va_end(ap);
	exit(status);
}

void warnx_msb(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_line(fmt, ap);
	va_end(ap);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die(1, "out of memory allocating %zu bytes", n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		die(1, "out of memory allocating %zu x %zu bytes", n, size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die(1, "out of memory allocating %zu bytes", n);
	return p;
}

char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d)
		die(1, "out of memory");
	return d;
}

void dvec_push(struct dvec *d, double x)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 64;
		d->v = xrealloc(d->v, d->cap * sizeof(*d->v));
	}
	d->v[d->n++] = x;
}

bool read_text_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return false;
	while (got + 1 < len) {
		ssize_t r = read(fd, buf + got, len - 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			close(fd);
			errno = e;
			return false;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == ' '))
		buf[--got] = '\0';
	return true;
}

bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v >= min && v <= max))
		return false;
	*out = v;
	return true;
}

bool parse_long_list(const char *s, int n, long min, long max, long *out)
{
	char *copy = xstrdup(s), *item = copy;
	bool good = true;

	for (int i = 0; i < n && good; i++) {
		char *comma = strchr(item, ',');

		if (comma)
			*comma = '\0';
		/* a comma after every item but the last, each item a number */
		good = (comma != NULL) == (i + 1 < n) && parse_long(item, min, max, &out[i]);
		if (comma)
			item = comma + 1;
	}
	free(copy);
	return good;
}

size_t utf8_sequence_length(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xbf;	/* allowed range of the second byte */
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, lo = p[0] == 0xe0 ? 0xa0 : lo, hi = p[0] == 0xed ? 0x9f : hi;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, lo = p[0] == 0xf0 ? 0x90 : lo, hi = p[0] == 0xf4 ? 0x8f : hi;
	else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)	/* a NUL fails here, so nothing past the end is read */
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

bool utf8_valid(const char *s)
{
	for (size_t n; *s; s += n)
		if (!(n = utf8_sequence_length(s)))
			return false;
	return true;
}

void check_stdout_at_exit(void)
{
	int err = 0;

	if (fflush(stdout) != 0)
		err = errno;
	else if (ferror(stdout))
		err = EIO;	/* an earlier write failed and its errno is gone */
	if (fclose(stdout) != 0 && !err)
		err = errno;
	if (err == EPIPE)
		_exit(1);	/* the reader went away (| head): nothing to say */
	if (err) {
		fprintf(stderr, "%s: writing standard output: %s\n", msb_prog, errno_text(err));
		_exit(1);
	}
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void str_copy(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

const char *errno_text(int err)
{
	static __thread char buf[128];
	const char *name = strerrorname_np(err);

	snprintf(buf, sizeof(buf), "%s (%s)", strerror(err), name ? name : "?");
	return buf;
}
