/* SPDX-License-Identifier: GPL-2.0-only */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->first[0] = true;
}

void json_write_escaped(FILE *f, const char *s)
{
	size_t n;

	fputc('"', f);
	for (const char *p = s; *p; p += n) {
		unsigned char c = (unsigned char)*p, next = (unsigned char)p[1];

		n = utf8_sequence_length(p);
		if (n == 0) {
			fputs("\\ufffd", f);	/* not UTF-8: the replacement character, byte by byte */
			n = 1;
		} else if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\r') {
			fputs("\\r", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
		} else if (c == 0xc2 && next < 0xa0) {
			fprintf(f, "\\u%04x", next);	/* C1 controls U+0080..U+009F */
		} else {
			fwrite(p, 1, n, f);
		}
	}
	fputc('"', f);
}

/* A writer used out of order is a bug in msealbench: stop rather than write broken JSON. */
__attribute__((noreturn)) static void json_misuse(const char *what)
{
	fprintf(stderr, "msealbench: internal error in the JSON writer: %s\n", what);
	abort();
}

/* The errno of the first failed write, taken at once: later calls (even the arguments of the
 * next json_* call) may change errno before anyone asks. */
static void remember_error(struct json *j)
{
	if (!j->err && ferror(j->f))
		j->err = errno ? errno : EIO;
}

int json_error(const struct json *j)
{
	return j->err ? j->err : ferror(j->f) ? EIO : 0;
}

static void indent(struct json *j)
{
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Separator, indentation and key before a value. */
static void json_key(struct json *j, const char *key)
{
	bool in_array = j->in_array[j->depth];

	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	if (j->depth > 0 && !in_array)
		indent(j);	/* members one per line; array items stay on one line */
	if (key) {
		json_write_escaped(j->f, key);
		fputs(": ", j->f);
	}
}

static void pop(struct json *j, bool array)
{
	if (j->depth == 0 || j->in_array[j->depth] != array)
		json_misuse(array ? "array end without its begin" : "object end without its begin");
	j->depth--;
}

static void push(struct json *j, bool array)
{
	if (j->depth + 1 >= JSON_MAX_DEPTH)
		json_misuse("nested deeper than JSON_MAX_DEPTH");
	j->depth++;
	j->first[j->depth] = true;
	j->in_array[j->depth] = array;
}

void json_object_begin(struct json *j, const char *key)
{
	json_key(j, key);
	if (j->in_array[j->depth])
		indent(j);
	fputc('{', j->f);
	push(j, false);
	remember_error(j);
}

void json_object_end(struct json *j)
{
	bool empty = j->first[j->depth];

	pop(j, false);
	if (!empty)
		indent(j);
	fputc('}', j->f);
	if (j->depth == 0)
		fputc('\n', j->f);
	remember_error(j);
}

void json_array_begin(struct json *j, const char *key)
{
	json_key(j, key);
	fputc('[', j->f);
	push(j, true);
	remember_error(j);
}

void json_array_end(struct json *j)
{
	pop(j, true);
	fputc(']', j->f);
	remember_error(j);
}

void json_string(struct json *j, const char *key, const char *value)
{
	json_key(j, key);
	if (value)
		json_write_escaped(j->f, value);
	else
		fputs("null", j->f);
	remember_error(j);
}

void json_number(struct json *j, const char *key, double value)
{
	json_key(j, key);
	if (isfinite(value))
		fprintf(j->f, "%.9g", value);
	else
		fputs("null", j->f);
	remember_error(j);
}

void json_integer(struct json *j, const char *key, long long value)
{
	json_key(j, key);
	fprintf(j->f, "%lld", value);
	remember_error(j);
}

void json_bool(struct json *j, const char *key, bool value)
{
	json_key(j, key);
	fputs(value ? "true" : "false", j->f);
	remember_error(j);
}

void json_null(struct json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->f);
	remember_error(j);
}
