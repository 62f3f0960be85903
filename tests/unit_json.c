/* SPDX-License-Identifier: GPL-2.0-only */
/* Unit tests of the JSON writer's safety: every string comes out as valid UTF-8 with control
 * characters escaped, whatever bytes it was given; nesting it cannot represent stops the program
 * instead of corrupting the output. Also the UTF-8 check and list parser the CLI uses. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "tap.h"
#include "util.h"

/* What json_write_escaped makes of s (malloc'd). */
static char *escaped(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	json_write_escaped(f, s);
	fclose(f);
	return buf;
}

static void expect_escaped(const char *in, const char *want, const char *what)
{
	char *got = escaped(in);

	tap_ok(strcmp(got, want) == 0 && utf8_valid(got), "escaped %s: %s", what, got);
	free(got);
}

static void test_escaping(void)
{
	expect_escaped("plain", "\"plain\"", "ASCII unchanged");
	expect_escaped("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
		       "valid 2-, 3- and 4-byte UTF-8 kept");
	expect_escaped("a\xff" "b", "\"a\\ufffdb\"", "a byte that is never UTF-8 becomes U+FFFD");
	expect_escaped("cut \xe2\x82", "\"cut \\ufffd\\ufffd\"", "a sequence cut short by the end");
	expect_escaped("\xc0\xaf", "\"\\ufffd\\ufffd\"", "an overlong encoding");
	expect_escaped("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"", "a UTF-16 surrogate");
	expect_escaped("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", "a code point past U+10FFFF");
	expect_escaped("\x80x", "\"\\ufffdx\"", "a stray continuation byte");
	expect_escaped("\x01\x1b[31m\r\x7f", "\"\\u0001\\u001b[31m\\r\\u007f\"", "C0 controls and DEL");
	expect_escaped("\xc2\x85\xc2\x9b", "\"\\u0085\\u009b\"", "C1 controls");
	expect_escaped("q\"b\\n\nt\t", "\"q\\\"b\\\\n\\nt\\t\"", "quote, backslash, newline, tab");
}

static void test_utf8_and_lists(void)
{
	long v[3] = { 0 };

	tap_ok(utf8_valid("") && utf8_valid("caf\xc3\xa9") && !utf8_valid("\xff") && !utf8_valid("a\xe2\x82") &&
		       !utf8_valid("\xed\xbf\xbf"),
	       "utf8_valid accepts UTF-8 and refuses stray bytes, cut sequences and surrogates");
	tap_ok(parse_long_list("1,2,3", 3, 0, 10, v) && v[0] == 1 && v[1] == 2 && v[2] == 3,
	       "parse_long_list reads exactly n numbers");
	tap_ok(!parse_long_list("1,2", 3, 0, 10, v) && !parse_long_list("1,2,3,4", 3, 0, 10, v) &&
		       !parse_long_list("1,,3", 3, 0, 10, v) && !parse_long_list("1,-2,3", 3, 0, 10, v) &&
		       !parse_long_list("1,2,11", 3, 0, 10, v) && !parse_long_list("1,2,3x", 3, 0, 10, v) &&
		       !parse_long_list("", 1, 0, 10, v) && !parse_long_list("99999999999999999999", 1, 0, 10, v),
	       "parse_long_list refuses too few, too many, empty, negative, too large and junk items");
}

/* Runs fn in a child with its output thrown away; true when the child was stopped by SIGABRT. */
static bool aborts(void (*fn)(struct json *))
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct rlimit none = { 0, 0 };
		char *buf = NULL;
		size_t len = 0;
		struct json j;

		setrlimit(RLIMIT_CORE, &none);
		json_init(&j, open_memstream(&buf, &len));
		fn(&j);
		fflush(j.f);
		_exit(0);
	}
	return waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void nest_too_deep(struct json *j)
{
	for (int i = 0; i < JSON_MAX_DEPTH + 5; i++)
		json_array_begin(j, NULL);
}

static void end_without_begin(struct json *j)
{
	json_object_begin(j, NULL);
	json_object_end(j);
	json_object_end(j);
}

static void end_of_the_wrong_kind(struct json *j)
{
	json_object_begin(j, NULL);
	json_array_end(j);
}

static void test_misuse(void)
{
	tap_ok(aborts(nest_too_deep), "nesting deeper than JSON_MAX_DEPTH stops the program (no corrupt output)");
	tap_ok(aborts(end_without_begin), "an end without its begin stops the program");
	tap_ok(aborts(end_of_the_wrong_kind), "an array end closing an object stops the program");
}

int main(void)
{
	test_escaping();
	test_utf8_and_lists();
	test_misuse();
	return tap_done();
}
