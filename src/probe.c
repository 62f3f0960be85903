/* SPDX-License-Identifier: GPL-2.0-only */
/* msealbench probe: runs its rows (probe_contract.c, probe_matrix.c, and here the availability,
 * kernel config and sealing at exec rows) and counts them; probe_output.c prints them.
 *
 * Every row that seals runs in a forked child (and its unsealed control in another), so the
 * probing process never seals anything. */
#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "child.h"
#include "probe_contract.h"
#include "probe_matrix.h"
#include "seal.h"
#include "util.h"

#define PROBE_CHILD_TIMEOUT_S 60

/* ---- children and what they report ---- */

static const char *const child_status_words[] = { "ran", "na", "broken" };

void probe_child_say(int fd, enum probe_child_status status, int err, const char *fmt, ...)
{
	char why[200] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
	}
	why[strcspn(why, "\n")] = '\0';
	dprintf(fd, "%s %d %s\n", child_status_words[status], err, why);
}

/* Runs fn(fd, arg) in a child and returns everything it wrote to fd (malloc'd), or NULL with
 * why set when the child could not be started. A hung row must not hang the probe or a run:
 * it is killed after PROBE_CHILD_TIMEOUT_S. */
static char *probe_child_output(int (*fn)(int fd, const void *arg), const void *arg, int out_as,
				int *wstatus, char *why, size_t whylen)
{
	struct child_spec s = { .run = fn, .arg = arg, .out_as = out_as };
	bool late;
	char *out = child_output(&s, now_ns() + PROBE_CHILD_TIMEOUT_S * 1000000000ull, NULL, wstatus,
				 &late, why, whylen);

	if (out && late)
		snprintf(why, whylen, "probe child timed out after %d s and was killed", PROBE_CHILD_TIMEOUT_S);
	else if (out)
		child_describe_exit(*wstatus, "probe child", why, whylen);
	return out;
}

void probe_run_child(int (*fn)(int fd, const void *arg), const void *arg, int out_as,
		      struct probe_child_report *rep)
{
	char word[16] = "", *out, ended[160];
	int wstatus = 0, n = 0;

	memset(rep, 0, sizeof(*rep));
	rep->status = PROBE_CHILD_BROKEN;
	out = probe_child_output(fn, arg, out_as, &wstatus, ended, sizeof(ended));
	if (!out)
		str_copy(rep->why, sizeof(rep->why), ended);
	if (!out)
		return;
	if (sscanf(out, "%15s %d %n", word, &rep->err, &n) >= 2 && n > 0) {
		str_copy(rep->why, sizeof(rep->why), out + n);
		rep->why[strcspn(rep->why, "\n")] = '\0';
		for (int s = PROBE_CHILD_RAN; s <= PROBE_CHILD_BROKEN; s++)
			if (strcmp(word, child_status_words[s]) == 0)
				rep->status = (enum probe_child_status)s;
	} else {
		snprintf(rep->why, sizeof(rep->why), "%s without a report", ended);
	}
	free(out);
}

/* ---- rows ---- */

struct probe_row *probe_add_row(struct probe_report *r, const char *key, enum probe_verdict v,
				 const char *fmt, ...)
{
	struct probe_row *row;
	va_list ap;

	if (r->nrows == PROBE_MAX_ROWS)
		die(1, "probe: more than %d rows (raise PROBE_MAX_ROWS)", PROBE_MAX_ROWS);
	row = &r->rows[r->nrows++];
	memset(row, 0, sizeof(*row));
	str_copy(row->key, sizeof(row->key), key);
	row->verdict = v;
	va_start(ap, fmt);
	vsnprintf(row->text, sizeof(row->text), fmt, ap);
	va_end(ap);
	return row;
}

const char *probe_errno_name(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "?";
}

int probe_page_size(void)
{
	return (int)sysconf(_SC_PAGESIZE);
}

void *probe_map_anon(size_t len, int prot)
{
	return mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void config_rows(struct probe_report *r)
{
	const struct kernel_config *c = &r->kernel.config;

	if (c->checkpoint_restore == '?') {
		probe_add_row(r, "config.checkpoint_restore", PROBE_SKIP,
			"unknown: no readable /proc/config.gz (with gzip) or /boot/config-<release>");
		probe_add_row(r, "config.mseal_system_mappings", PROBE_SKIP,
			"unknown: no readable /proc/config.gz (with gzip) or /boot/config-<release>");
		return;
	}
	probe_add_row(r, "config.checkpoint_restore", PROBE_PASS, "CONFIG_CHECKPOINT_RESTORE=%s (%s)%s",
		kernel_config_word(c->checkpoint_restore), c->source,
		c->checkpoint_restore == 'y' ? ": CONFIG_MSEAL_SYSTEM_MAPPINGS needs it off" : "");
	if (c->mseal_system_mappings == 'y' && c->checkpoint_restore == 'y')
		probe_add_row(r, "config.mseal_system_mappings", PROBE_FAIL,
			"CONFIG_MSEAL_SYSTEM_MAPPINGS=y together with CONFIG_CHECKPOINT_RESTORE=y, which "
			"Kconfig forbids (%s)", c->source);
	else
		probe_add_row(r, "config.mseal_system_mappings", PROBE_PASS, "CONFIG_MSEAL_SYSTEM_MAPPINGS=%s (%s)",
			kernel_config_word(c->mseal_system_mappings), c->source);
}

/* ---- system mappings sealed by the kernel at exec ---- */

static void sysmap_rows(struct probe_report *r)
{
	char want = r->kernel.config.mseal_system_mappings;

	for (int i = 0; system_mapping_names[i]; i++) {
		const char *name = system_mapping_names[i];
		char key[40];
		bool sealed = r->kernel.sysmap_sealed[i], expect;

		snprintf(key, sizeof(key), "sysmap.%.*s", (int)strlen(name) - 2, name + 1);
		if (!r->kernel.sysmap_known) {
			probe_add_row(r, key, PROBE_FAIL, "could not read /proc/self/smaps in a freshly exec'd child "
				"(is /proc mounted?)");
			continue;
		}
		if (!r->kernel.sysmap_present[i]) {
			probe_add_row(r, key, PROBE_SKIP, "%s is not mapped here", name);
			continue;
		}
		/* With the config unreadable, the mappings must at least agree with each other. */
		expect = want == 'y' || (want == '?' && r->kernel.kernel_seals);
		probe_add_row(r, key, sealed == expect ? PROBE_PASS : PROBE_FAIL,
			"%s %s at exec by the kernel (VmFlags%s sl), %s CONFIG_MSEAL_SYSTEM_MAPPINGS=%s",
			name, sealed ? "sealed" : "not sealed", sealed ? "" : " without",
			sealed == expect ? "as expected with" : "but expected the opposite with",
			kernel_config_word(want));
	}
}

/* ---- the whole probe ---- */

void probe_collect(struct probe_report *r, const struct kernel_facts *k, const char *self_exe)
{
	bool available;

	memset(r, 0, sizeof(*r));
	r->kernel = *k;
	available = r->kernel.mseal_errno == 0;
	if (available)
		probe_add_row(r, "mseal.available", PROBE_PASS, "mseal(2) is available");
	else if (r->kernel.mseal_errno == ENOSYS || r->kernel.mseal_errno == EPERM)
		probe_add_row(r, "mseal.available", PROBE_SKIP, "mseal(2) is not available: %s (Linux 6.10+, 64-bit)",
			errno_text(r->kernel.mseal_errno));
	else
		probe_add_row(r, "mseal.available", PROBE_FAIL, "mseal(NULL, 0, 0) failed: %s, expected 0 or ENOSYS",
			errno_text(r->kernel.mseal_errno));
	probe_contract_rows(r);
	config_rows(r);
	sysmap_rows(r);
	probe_matrix_rows(r, self_exe);
	for (int i = 0; i < r->nrows; i++) {
		r->passed += r->rows[i].verdict == PROBE_PASS;
		r->failed += r->rows[i].verdict == PROBE_FAIL;
		r->skipped += r->rows[i].verdict == PROBE_SKIP;
	}
}

int probe_exit_status(const struct probe_report *r)
{
	if (r->failed)
		return 1;
	return r->kernel.mseal_errno ? 4 : 0;
}

