/* SPDX-License-Identifier: GPL-2.0-only */
/* A small streaming JSON writer: objects indented, arrays of numbers on one line. */
#ifndef MSB_JSON_H
#define MSB_JSON_H

#include <stdbool.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH];
	bool in_array[JSON_MAX_DEPTH];
	int err;		/* errno of the first write that failed, 0: none */
};

void json_init(struct json *j, FILE *f);
/* key is NULL inside arrays and for the top-level value. */
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);
void json_string(struct json *j, const char *key, const char *value);	/* NULL -> null */
void json_number(struct json *j, const char *key, double value);	/* NaN/inf -> null */
void json_integer(struct json *j, const char *key, long long value);
void json_bool(struct json *j, const char *key, bool value);
void json_null(struct json *j, const char *key);
/* 0 when everything was written, else the errno of the first write that failed. */
int json_error(const struct json *j);
/* Writes s as a JSON string literal (quoted and escaped) to f. */
void json_write_escaped(FILE *f, const char *s);

#endif
