/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdarg.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "util.h"

#define FAMILY(n) extern const struct bench family_##n[];
#include "families.h"
#undef FAMILY

static const struct bench *const families[] = {
#define FAMILY(n) family_##n,
#include "families.h"
#undef FAMILY
};

const struct bench *bench_next(struct bench_iter *it)
{
	while ((size_t)it->family < ARRAY_SIZE(families)) {
		const struct bench *b = &families[it->family][it->index];

		if (b->name) {
			it->index++;
			return b;
		}
		it->family++;
		it->index = 0;
	}
	return NULL;
}

const char *bench_full_name(const struct bench *b, char *buf, size_t len)
{
	snprintf(buf, len, "%s.%s", b->family, b->name);
	return buf;
}

const struct bench *bench_find(const char *full_name)
{
	struct bench_iter it = { 0 };
	const struct bench *b;
	char name[160];

	while ((b = bench_next(&it)))
		if (strcmp(bench_full_name(b, name, sizeof(name)), full_name) == 0)
			return b;
	return NULL;
}

int bench_fail(struct bench_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;
	size_t used;

	va_start(ap, fmt);
	vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
	va_end(ap);
	used = strlen(ctx->error);
	if (err)
		snprintf(ctx->error + used, sizeof(ctx->error) - used, ": %s", errno_text(err));
	return -1;
}

long bench_param(const struct bench_ctx *ctx, const char *name)
{
	for (int i = 0; i < BENCH_MAX_PARAMS; i++)
		if (strcmp(ctx->param_name[i], name) == 0)
			return ctx->param[i];
	return 0;
}

void bench_ctx_name_params(struct bench_ctx *ctx)
{
	struct param_sweep s;
	char err[128];

	if (param_sweep_parse(ctx->bench->params, &s, err, sizeof(err)) < 0)
		die(1, "benchmark %s: bad params: %s", ctx->bench->name, err);
	for (int i = 0; i < s.nparams; i++)
		str_copy(ctx->param_name[i], sizeof(ctx->param_name[i]), s.name[i]);
	param_sweep_free(&s);
}

static int parse_one_param(char *item, struct param_sweep *s, char *err, size_t errlen)
{
	char *eq = strchr(item, '='), *save = NULL;
	int i = s->nparams;

	if (!eq || eq == item || (size_t)(eq - item) >= sizeof(s->name[0])) {
		snprintf(err, errlen, "'%s' is not name=v1,v2,...", item);
		return -1;
	}
	*eq = '\0';
	snprintf(s->name[i], sizeof(s->name[i]), "%s", item);
	s->nparams++;
	for (char *v = strtok_r(eq + 1, ",", &save); v; v = strtok_r(NULL, ",", &save)) {
		long x;

		if (!parse_long(v, 0, 1L << 40, &x)) {
			snprintf(err, errlen, "parameter %s: '%s' is not a whole number", item, v);
			return -1;
		}
		s->values[i] = xrealloc(s->values[i], (size_t)(s->nvalues[i] + 1) * sizeof(long));
		s->values[i][s->nvalues[i]++] = x;
	}
	if (s->nvalues[i] == 0) {
		snprintf(err, errlen, "parameter %s has no values", item);
		return -1;
	}
	return 0;
}

int param_sweep_parse(const char *spec, struct param_sweep *s, char *err, size_t errlen)
{
	char *copy, *save = NULL;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	if (!spec || !*spec)
		return 0;
	copy = xstrdup(spec);
	for (char *item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
		if (s->nparams == BENCH_MAX_PARAMS) {
			snprintf(err, errlen, "more than %d parameters", BENCH_MAX_PARAMS);
			ret = -1;
			break;
		}
		if (parse_one_param(item, s, err, errlen) < 0) {
			ret = -1;
			break;
		}
	}
	free(copy);
	if (ret < 0)
		param_sweep_free(s);
	return ret;
}

void param_sweep_free(struct param_sweep *s)
{
	for (int i = 0; i < BENCH_MAX_PARAMS; i++)
		free(s->values[i]);
	memset(s, 0, sizeof(*s));
}

long param_sweep_count(const struct param_sweep *s)
{
	long n = 1;

	for (int i = 0; i < s->nparams; i++)
		n *= s->nvalues[i];
	return n;
}

void param_sweep_combination(const struct param_sweep *s, long k, long *out)
{
	for (int i = s->nparams - 1; i >= 0; i--) {
		out[i] = s->values[i][k % s->nvalues[i]];
		k /= s->nvalues[i];
	}
}

void param_format(const struct param_sweep *s, const long *values, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < s->nparams && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s=%ld", i ? "," : "", s->name[i],
					 values[i]);
}

const char *bench_params(const struct bench *b, bool quick)
{
	return quick && b->quick_params ? b->quick_params : b->params;
}

bool bench_matches(const struct bench *b, const char *pattern)
{
	char name[160], *copy, *save = NULL;
	bool hit = false;

	if (!pattern || !*pattern)
		return true;
	bench_full_name(b, name, sizeof(name));
	copy = xstrdup(pattern);
	for (char *p = strtok_r(copy, ",", &save); p && !hit; p = strtok_r(NULL, ",", &save)) {
		if (strpbrk(p, "*?["))
			hit = fnmatch(p, name, 0) == 0;
		else
			hit = strstr(name, p) != NULL;
	}
	free(copy);
	return hit;
}
