/* SPDX-License-Identifier: GPL-2.0-only */
#define _GNU_SOURCE
#include "env.h"

#include <dirent.h>
#include <errno.h>
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

static void noise_drivers(struct env_info *e)
{
	char buf[128];

	vulnerabilities(e);
	thp_mode(e->thp, sizeof(e->thp));
	if (read_text_file("/proc/sys/vm/max_map_count", buf, sizeof(buf)))
		e->max_map_count_known = parse_long(buf, 0, 1L << 40, &e->max_map_count);
	e->loadavg_known = getloadavg(e->loadavg, 3) == 3;
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
	kernel_facts_write_mseal(j, &e->kernel);
	kernel_facts_write_sealed_names(j, &e->kernel);
	kernel_facts_write_config(j, &e->kernel);
}
