/* SPDX-License-Identifier: GPL-2.0-only */
#define _GNU_SOURCE
#include "env.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "arch.h"
#include "emulation.h"
#include "seal.h"
#include "util.h"
#include "version.h"

#ifndef MSB_GIT_REVISION
#define MSB_GIT_REVISION "unknown"
#endif

/* First value of "key : value" in /proc/cpuinfo. */
static void cpuinfo_field(const char *key, char *out, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[512];
	size_t klen = strlen(key);

	out[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, key, klen) == 0 && colon && (line[klen] == ' ' || line[klen] == '\t' ||
							       line[klen] == ':')) {
			char *v = colon + 1;

			while (*v == ' ')
				v++;
			snprintf(out, len, "%s", v);
			out[strcspn(out, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
}

static void cpu_model(char *out, size_t len)
{
	char implementer[32], part[32];

	cpuinfo_field("model name", out, len);
	if (out[0])
		return;
	/* arm64 names no model: implementer and part numbers identify the core. */
	cpuinfo_field("CPU implementer", implementer, sizeof(implementer));
	cpuinfo_field("CPU part", part, sizeof(part));
	if (implementer[0])
		snprintf(out, len, "implementer %s part %s", implementer, part);
	else
		snprintf(out, len, "unknown");
}

static void virtualization(char *out, size_t len)
{
	char buf[128], host[24];

	if (emulated_on_host(host, sizeof(host))) {
		snprintf(out, len, "user-mode emulation on %s (qemu-user)", host);
		return;
	}
	if (arch_hypervisor(out, (unsigned)len))
		return;
	if (read_text_file("/sys/hypervisor/type", buf, sizeof(buf)) && buf[0]) {
		str_copy(out, len, buf);
		return;
	}
	if (read_text_file("/proc/device-tree/hypervisor/compatible", buf, sizeof(buf)) && buf[0]) {
		str_copy(out, len, buf);
		return;
	}
	if (read_text_file("/sys/class/dmi/id/sys_vendor", buf, sizeof(buf)) &&
	    (strstr(buf, "QEMU") || strstr(buf, "KVM"))) {
		str_copy(out, len, buf);
		return;
	}
	snprintf(out, len, access("/proc/cpuinfo", R_OK) == 0 ? "none" : "unknown");
}

static void read_or_empty(const char *path, char *out, size_t len)
{
	if (!read_text_file(path, out, len))
		out[0] = '\0';
}

static void boost_state(char *out, size_t len)
{
	char v[16];

	if (read_text_file("/sys/devices/system/cpu/intel_pstate/no_turbo", v, sizeof(v)))
		snprintf(out, len, "%s", strcmp(v, "1") == 0 ? "off" : "on");
	else if (read_text_file("/sys/devices/system/cpu/cpufreq/boost", v, sizeof(v)))
		snprintf(out, len, "%s", strcmp(v, "1") == 0 ? "on" : "off");
	else
		out[0] = '\0';
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct env_vulnerability *)a)->name, ((const struct env_vulnerability *)b)->name);
}

static void vulnerabilities(struct env_info *e)
{
	const char *dir = "/sys/devices/system/cpu/vulnerabilities";
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)) && e->nvulns < ENV_VULNS_MAX) {
		struct env_vulnerability *v = &e->vuln[e->nvulns];
		char path[512];

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (de->d_name[0] == '.' || !read_text_file(path, v->text, sizeof(v->text)))
			continue;
		str_copy(v->name, sizeof(v->name), de->d_name);
		e->nvulns++;
	}
	closedir(d);
	qsort(e->vuln, (size_t)e->nvulns, sizeof(e->vuln[0]), by_name);
}

/* "always [madvise] never": the bracketed choice. */
static void thp_mode(char *out, size_t len)
{
	char text[128], *open_bracket, *close_bracket;

	out[0] = '\0';
	if (!read_text_file("/sys/kernel/mm/transparent_hugepage/enabled", text, sizeof(text)))
		return;
	open_bracket = strchr(text, '[');
	close_bracket = open_bracket ? strchr(open_bracket, ']') : NULL;
	if (close_bracket) {
		*close_bracket = '\0';
		str_copy(out, len, open_bracket + 1);
	}
}

bool env_parse_cpu_times(const char *line, struct env_cpu_times *t)
{
	unsigned long long v[8];

	memset(t, 0, sizeof(*t));
	/* user nice system idle iowait irq softirq steal; guest time is already in user and nice. */
	if (strncmp(line, "cpu ", 4) != 0 ||
	    sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &v[6], &v[7]) != 8)
		return false;
	for (int i = 0; i < 8; i++)
		t->total += v[i];
	t->steal = v[7];
	t->known = true;
	return true;
}

static void cpu_times_now(struct env_cpu_times *t)
{
	char text[1024];

	if (!read_text_file("/proc/stat", text, sizeof(text))) {
		memset(t, 0, sizeof(*t));
		return;
	}
	text[strcspn(text, "\n")] = '\0';
	env_parse_cpu_times(text, t);
}

double env_steal_share(const struct env_cpu_times *a, const struct env_cpu_times *b)
{
	if (!a->known || !b->known || b->total <= a->total || b->steal < a->steal)
		return NAN;
	return (double)(b->steal - a->steal) / (double)(b->total - a->total);
}

void env_steal_start(struct env_info *e)
{
	cpu_times_now(&e->cpu_at_start);
	e->steal_before_run = env_steal_share(&e->cpu_at_collect, &e->cpu_at_start);
	e->steal_before_run_s = (double)(now_ns() - e->collect_ns) / 1e9;
}

void env_steal_update(struct env_info *e)
{
	struct env_cpu_times now;

	cpu_times_now(&now);
	e->steal_run = env_steal_share(&e->cpu_at_start, &now);
}

bool env_stolen(const struct env_info *e)
{
	return e->steal_run > ENV_STEAL_WARN_SHARE;	/* false for NaN */
}

static void add_name(char names[][24], int *n, const char *name)
{
	for (int i = 0; i < *n; i++)
		if (strcmp(names[i], name) == 0)
			return;
	if (*n < ENV_DAMON_NAMES_MAX && name[0])
		str_copy(names[(*n)++], sizeof(names[0]), name);
}

/* A count or pid in a sysfs file, 0 when unreadable (a stopped kdamond's pid is -1). */
static long sysfs_number(const char *path)
{
	char text[32];
	long n;

	return read_text_file(path, text, sizeof(text)) && parse_long(text, 0, 1L << 30, &n) ? n : 0;
}

static void kdamond_context(struct env_kdamond *k, const char *dir)
{
	char path[512], text[32];
	long nschemes;

	snprintf(path, sizeof(path), "%s/operations", dir);
	if (read_text_file(path, text, sizeof(text)))
		add_name(k->operations, &k->noperations, text);
	snprintf(path, sizeof(path), "%s/schemes/nr_schemes", dir);
	nschemes = sysfs_number(path);
	for (long s = 0; s < nschemes; s++) {
		snprintf(path, sizeof(path), "%s/schemes/%ld/action", dir, s);
		if (read_text_file(path, text, sizeof(text)))
			add_name(k->actions, &k->nactions, text);
	}
}

#define KDAMONDS "/sys/kernel/mm/damon/admin/kdamonds"

/* The kdamonds of DAMON's admin sysfs that are on. Reads only. */
static void damon_admin(struct env_info *e)
{
	char dir[128], context[256], path[512], text[32];
	long n = sysfs_number(KDAMONDS "/nr_kdamonds");

	e->damon_known = access(KDAMONDS "/nr_kdamonds", R_OK) == 0;
	for (long i = 0; i < n && e->nkdamonds < ENV_KDAMONDS_MAX; i++) {
		struct env_kdamond *k = &e->kdamond[e->nkdamonds];
		long ncontexts;

		snprintf(dir, sizeof(dir), KDAMONDS "/%ld", i);
		snprintf(path, sizeof(path), "%s/state", dir);
		if (!read_text_file(path, text, sizeof(text)) || strcmp(text, "on") != 0)
			continue;
		e->nkdamonds++;
		snprintf(k->name, sizeof(k->name), "kdamonds/%ld", i);
		snprintf(path, sizeof(path), "%s/pid", dir);
		k->pid = sysfs_number(path);
		snprintf(path, sizeof(path), "%s/contexts/nr_contexts", dir);
		ncontexts = sysfs_number(path);
		for (long c = 0; c < ncontexts; c++) {
			snprintf(context, sizeof(context), "%s/contexts/%ld", dir, c);
			kdamond_context(k, context);
		}
	}
}

/* DAMON's own modules run a kdamond of physical-address monitoring when enabled; their schemes
 * are fixed by the kernel (mm/damon/reclaim.c, lru_sort.c, stat.c). */
static void damon_modules(struct env_info *e)
{
	static const struct {
		const char *name, *actions[2];
	} modules[] = {
		{ "damon_reclaim", { "pageout", NULL } },
		{ "damon_lru_sort", { "lru_prio", "lru_deprio" } },
		{ "damon_stat", { NULL, NULL } },
	};
	char path[256], text[16];

	for (size_t m = 0; m < ARRAY_SIZE(modules); m++) {
		struct env_kdamond *k = &e->kdamond[e->nkdamonds];

		snprintf(path, sizeof(path), "/sys/module/%s/parameters/enabled", modules[m].name);
		if (!read_text_file(path, text, sizeof(text)))
			continue;
		e->damon_known = true;
		if (strcmp(text, "Y") != 0 || e->nkdamonds >= ENV_KDAMONDS_MAX)
			continue;
		e->nkdamonds++;
		str_copy(k->name, sizeof(k->name), modules[m].name);
		snprintf(path, sizeof(path), "/sys/module/%s/parameters/kdamond_pid", modules[m].name);
		k->pid = sysfs_number(path);
		add_name(k->operations, &k->noperations, "paddr");
		for (int a = 0; a < 2 && modules[m].actions[a]; a++)
			add_name(k->actions, &k->nactions, modules[m].actions[a]);
	}
}

static void noise_drivers(struct env_info *e)
{
	char buf[128];

	vulnerabilities(e);
	thp_mode(e->thp, sizeof(e->thp));
	if (read_text_file("/proc/sys/vm/max_map_count", buf, sizeof(buf)))
		e->max_map_count_known = parse_long(buf, 0, 1L << 40, &e->max_map_count);
	e->loadavg_known = getloadavg(e->loadavg, 3) == 3;
	damon_admin(e);
	damon_modules(e);
	e->collect_ns = now_ns();
	cpu_times_now(&e->cpu_at_collect);
	e->steal_before_run = e->steal_before_run_s = e->steal_run = NAN;
}

bool env_busy(const struct env_info *e)
{
	return e->loadavg_known && e->cpu_count > 0 && e->loadavg[0] > ENV_BUSY_LOAD_PER_CPU * (double)e->cpu_count;
}

void env_collect(struct env_info *e, const char *self_exe)
{
	struct utsname u;
	char buf[64];

	memset(e, 0, sizeof(*e));
	gethostname(e->host, sizeof(e->host) - 1);
	if (uname(&u) == 0) {
		snprintf(e->release, sizeof(e->release), "%s", u.release);
		snprintf(e->version, sizeof(e->version), "%s", u.version);
	}
	snprintf(e->arch, sizeof(e->arch), "%s", ARCH_NAME);
	read_or_empty("/proc/cmdline", e->cmdline, sizeof(e->cmdline));
	cpu_model(e->cpu_model, sizeof(e->cpu_model));
	e->cpu_count = sysconf(_SC_NPROCESSORS_ONLN);
	read_or_empty("/sys/devices/system/clocksource/clocksource0/current_clocksource", e->clocksource,
		      sizeof(e->clocksource));
	virtualization(e->virtualization, sizeof(e->virtualization));
	read_or_empty("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", e->governor,
		      sizeof(e->governor));
	boost_state(e->boost, sizeof(e->boost));
	read_or_empty("/sys/devices/system/cpu/smt/active", e->smt, sizeof(e->smt));
	if (read_text_file("/proc/sys/kernel/perf_event_paranoid", buf, sizeof(buf)))
		e->paranoid_known = parse_long(buf, -10, 10, &e->perf_event_paranoid);
	noise_drivers(e);
	kernel_facts_collect(&e->kernel, self_exe);
	snprintf(e->git_revision, sizeof(e->git_revision), "%s", MSB_GIT_REVISION);
}

static void json_string_or_null(struct json *j, const char *key, const char *v)
{
	json_string(j, key, v && v[0] ? v : NULL);
}

static void write_steal(struct json *j, const struct env_info *e)
{
	if (!e->cpu_at_collect.known) {
		json_null(j, "steal");
		return;
	}
	json_object_begin(j, "steal");
	json_number(j, "before_run", e->steal_before_run);
	json_number(j, "before_run_s", e->steal_before_run_s);
	json_number(j, "run", e->steal_run);
	json_object_end(j);
}

static void write_names(struct json *j, const char *key, const char (*names)[24], int n)
{
	json_array_begin(j, key);
	for (int i = 0; i < n; i++)
		json_string(j, NULL, names[i]);
	json_array_end(j);
}

static void write_damon(struct json *j, const struct env_info *e)
{
	if (!e->damon_known) {
		json_null(j, "damon");
		return;
	}
	json_array_begin(j, "damon");
	for (int i = 0; i < e->nkdamonds; i++) {
		const struct env_kdamond *k = &e->kdamond[i];

		json_object_begin(j, NULL);
		json_string(j, "name", k->name);
		if (k->pid > 0)
			json_integer(j, "pid", k->pid);
		else
			json_null(j, "pid");
		write_names(j, "operations", k->operations, k->noperations);
		write_names(j, "actions", k->actions, k->nactions);
		json_object_end(j);
	}
	json_array_end(j);
}

void env_write_json(struct json *j, const struct env_info *e)
{
	json_object_begin(j, "tool");
	json_string(j, "name", "msealbench");
	json_string(j, "version", MSB_VERSION);
	json_string(j, "git_revision", e->git_revision);
	json_object_end(j);
	json_string(j, "host", e->host);
	json_object_begin(j, "kernel");
	json_string(j, "release", e->release);
	json_string(j, "version", e->version);
	json_string(j, "cmdline", e->cmdline);
	json_object_end(j);
	json_string(j, "arch", e->arch);
	json_string(j, "cpu_model", e->cpu_model);
	json_integer(j, "cpu_count", e->cpu_count);
	json_string_or_null(j, "clocksource", e->clocksource);
	json_string(j, "virtualization", e->virtualization);
	json_object_begin(j, "cpufreq");
	json_string_or_null(j, "governor", e->governor);
	json_string_or_null(j, "boost", e->boost);
	json_string_or_null(j, "smt", e->smt);
	json_object_end(j);
	if (e->paranoid_known)
		json_integer(j, "perf_event_paranoid", e->perf_event_paranoid);
	else
		json_null(j, "perf_event_paranoid");
	json_object_begin(j, "cpu_vulnerabilities");
	for (int i = 0; i < e->nvulns; i++)
		json_string(j, e->vuln[i].name, e->vuln[i].text);
	json_object_end(j);
	json_string_or_null(j, "transparent_hugepage", e->thp);
	if (e->max_map_count_known)
		json_integer(j, "max_map_count", e->max_map_count);
	else
		json_null(j, "max_map_count");
	if (e->loadavg_known) {
		json_array_begin(j, "loadavg");
		for (int i = 0; i < 3; i++)
			json_number(j, NULL, e->loadavg[i]);
		json_array_end(j);
	} else {
		json_null(j, "loadavg");
	}
	write_steal(j, e);
	write_damon(j, e);
	kernel_facts_write_mseal(j, &e->kernel);
	kernel_facts_write_sealed_names(j, &e->kernel);
	kernel_facts_write_config(j, &e->kernel);
}
