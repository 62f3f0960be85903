#include "json.h"

#include <math.h>
#include <string.h>

void json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->first[0] = true;
}

void json_write_escaped(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
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

static void push(struct json *j, bool array)
{
	if (j->depth + 1 >= JSON_MAX_DEPTH)
		return;
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
}

void json_object_end(struct json *j)
{
	bool empty = j->first[j->depth];

	j->depth--;
	if (!empty)
		indent(j);
	fputc('}', j->f);
	if (j->depth == 0)
		fputc('\n', j->f);
}

void json_array_begin(struct json *j, const char *key)
{
	json_key(j, key);
	fputc('[', j->f);
	push(j, true);
}

void json_array_end(struct json *j)
{
	j->depth--;
	fputc(']', j->f);
}

void json_string(struct json *j, const char *key, const char *value)
{
	json_key(j, key);
	if (value)
		json_write_escaped(j->f, value);
	else
		fputs("null", j->f);
}

void json_number(struct json *j, const char *key, double value)
{
	json_key(j, key);
	if (isfinite(value))
		fprintf(j->f, "%.9g", value);
	else
		fputs("null", j->f);
}

void json_integer(struct json *j, const char *key, long long value)
{
	json_key(j, key);
	fprintf(j->f, "%lld", value);
}

void json_bool(struct json *j, const char *key, bool value)
{
	json_key(j, key);
	fputs(value ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->f);
}
