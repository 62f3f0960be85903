/* SPDX-License-Identifier: GPL-2.0-only */
/* The kernel facts (kernel_facts.h): each found by one child, once. */
#define _GNU_SOURCE
#include "kernel_facts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "child.h"
#include "main.h"
#include "maps.h"
#include "seal.h"
#include "util.h"

#define CHILD_TIMEOUT_S 60	/* a hung child must not hang a run */

static const char *const gzip_paths[] = { "/bin/gzip", "/usr/bin/gzip", "/sbin/gzip", "/usr/sbin/gzip" };

/* Runs with its stdout on the pipe. */
static int gzip_child(int fd, const void *arg)
{
	const char *gzip = arg;
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	(void)fd;
	if (null >= 0)
		dup2(null, STDERR_FILENO);
	execl(gzip, gzip, "-dc", "/proc/config.gz", (char *)NULL);
	return 127;
}

/* /proc/config.gz through `gzip -dc` (no zlib dependency), else /boot/config-<release>. */
static char *kernel_config_text(char *source, size_t len)
{
	struct utsname u;
	char path[200], why[100], *text;
	int wstatus;
	FILE *f;

	if (access("/proc/config.gz", R_OK) == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(gzip_paths); i++) {
			if (access(gzip_paths[i], X_OK) < 0)
				continue;
			text = child_output(&(struct child_spec){ .run = gzip_child, .arg = gzip_paths[i],
								  .out_as = STDOUT_FILENO },
					    now_ns() + CHILD_TIMEOUT_S * 1000000000ull, NULL, &wstatus, NULL, why,
					    sizeof(why));
			if (text && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0 && text[0]) {
				str_copy(source, len, "/proc/config.gz");
				return text;
			}
			free(text);
		}
	}
	if (uname(&u) < 0)
		return NULL;
	snprintf(path, sizeof(path), "/boot/config-%s", u.release);
	f = fopen(path, "re");
	if (f) {
		size_t got = 0, cap = 1 << 18;

		text = xmalloc(cap);
		for (size_t n; (n = fread(text + got, 1, cap - got - 1, f)) > 0;) {
			got += n;
			if (got + 1 == cap)
				text = xrealloc(text, cap *= 2);
		}
		text[got] = '\0';
		fclose(f);
		str_copy(source, len, path);
		return text;
	}
	return NULL;
}

/* 'y' or 'm' when set, 'n' when "is not set" or absent (older kernels lack the option). */
static char config_value(const char *text, const char *option)
{
	size_t olen = strlen(option);

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (strncmp(line, option, olen) == 0 && line[olen] == '=')
			return line[olen + 1] == 'm' ? 'm' : line[olen + 1] == 'y' ? 'y' : 'n';
	}
	return 'n';
}

static void read_config(struct kernel_config *c)
{
	char *text = kernel_config_text(c->source, sizeof(c->source));

	c->checkpoint_restore = c->mseal_system_mappings = '?';
	if (!text) {
		c->source[0] = '\0';
		return;
	}
	c->checkpoint_restore = config_value(text, "CONFIG_CHECKPOINT_RESTORE");
	c->mseal_system_mappings = config_value(text, "CONFIG_MSEAL_SYSTEM_MAPPINGS");
	free(text);
}

const char *kernel_config_word(char v)
{
	return v == 'y' ? "y" : v == 'm' ? "m" : v == 'n' ? "n" : "unknown";
}

int system_mapping_index(const char *name)
{
	for (int i = 0; system_mapping_names[i]; i++)
		if (strcmp(system_mapping_names[i], name) == 0)
			return i;
	return -1;
}

/* In a freshly exec'd `msealbench __sealed-at-exec`: one line per system mapping present. */
static void read_sealed_at_exec(struct kernel_facts *k, const char *self_exe)
{
	const char *argv[] = { self_exe, "__sealed-at-exec", NULL };
	struct child_spec s = { .run = child_exec_self, .arg = argv, .out_as = STDOUT_FILENO };
	char why[100], *out, *save = NULL;
	int wstatus = 0;

	out = child_output(&s, now_ns() + CHILD_TIMEOUT_S * 1000000000ull, NULL, &wstatus, NULL, why,
			   sizeof(why));
	k->sysmap_known = out && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
	for (char *line = k->sysmap_known ? strtok_r(out, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[64], state[16];
		int i;

		if (sscanf(line, "%63s %15s", name, state) != 2 || (i = system_mapping_index(name)) < 0 ||
		    i >= KERNEL_FACTS_MAX_SYSMAPS)
			continue;
		k->sysmap_present[i] = true;
		k->sysmap_sealed[i] = strcmp(state, "sealed") == 0;
		k->kernel_seals |= k->sysmap_sealed[i];
	}
	free(out);
}

void kernel_facts_collect(struct kernel_facts *k, const char *self_exe)
{
	memset(k, 0, sizeof(*k));
	k->mseal_errno = mseal_probe();
	read_config(&k->config);
	read_sealed_at_exec(k, self_exe);
}

void kernel_facts_write_mseal(struct json *j, const struct kernel_facts *k)
{
	json_bool(j, "mseal_available", k->mseal_errno == 0);
	json_string(j, "mseal_error", k->mseal_errno ? errno_text(k->mseal_errno) : NULL);
}

void kernel_facts_write_config(struct json *j, const struct kernel_facts *k)
{
	const struct kernel_config *c = &k->config;

	json_object_begin(j, "kernel_config");
	json_string(j, "source", c->source[0] ? c->source : NULL);
	json_string(j, "CONFIG_CHECKPOINT_RESTORE", kernel_config_word(c->checkpoint_restore));
	json_string(j, "CONFIG_MSEAL_SYSTEM_MAPPINGS", kernel_config_word(c->mseal_system_mappings));
	json_object_end(j);
}

void kernel_facts_write_sealed_names(struct json *j, const struct kernel_facts *k)
{
	if (!k->sysmap_known) {
		json_null(j, "kernel_sealed_system_mappings");
		return;
	}
	json_array_begin(j, "kernel_sealed_system_mappings");
	for (int i = 0; system_mapping_names[i] && i < KERNEL_FACTS_MAX_SYSMAPS; i++)
		if (k->sysmap_sealed[i])
			json_string(j, NULL, system_mapping_names[i]);
	json_array_end(j);
}

static bool print_system_mapping(const struct mapping *m, void *arg)
{
	(void)arg;
	if (is_system_mapping(m->name))
		printf("%s %s\n", m->name, vmflags_has(m->vmflags, "sl") ? "sealed" : "unsealed");
	return true;
}

/* `msealbench __sealed-at-exec`: one line per system mapping of this freshly exec'd process. */
static int sealed_at_exec_main(int argc, char **argv, const char *self_exe)
{
	(void)argv;
	(void)self_exe;
	msb_prog = "msealbench __sealed-at-exec";
	if (argc != 1)
		die(2, "internal command: run by msealbench to see what the kernel sealed at exec");
	if (maps_walk_self_smaps(print_system_mapping, NULL) < 0)
		die(1, "reading /proc/self/smaps: %s", errno_text(errno));
	return fflush(stdout) == 0 ? 0 : 1;
}

const struct command cmd_sealed_at_exec = { "__sealed-at-exec", sealed_at_exec_main, NULL, NULL };
