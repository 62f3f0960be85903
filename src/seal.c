/* SPDX-License-Identifier: GPL-2.0-only */
#define _GNU_SOURCE
#include "seal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch.h"
#include "child.h"
#include "maps.h"
#include "util.h"

const struct seal_mode_info seal_modes[SEAL_MODE_COUNT] = {
	[SEAL_NONE] = {
		.name = "none", .seals = "nothing (the baseline)", .by_default = true,
		.note = "the suite seals nothing; the kernel may have sealed the system mappings at exec "
			"(kernel_sealed_system_mappings)",
	},
	[SEAL_SYSMAP] = {
		.name = "sysmap", .seals = "the system mappings, as CONFIG_MSEAL_SYSTEM_MAPPINGS does at exec",
		.ratio_label = "sysmap/no", .by_default = true, .seals_system_mappings = true,
		.note = "the measuring process mseal()s its system mappings after exec, the state "
			"CONFIG_MSEAL_SYSTEM_MAPPINGS gives; for exec benchmarks the exec'd program seals itself "
			"on entry, so sysmap measures exec plus a userspace seal, not the kernel's seal at exec",
	},
	[SEAL_ALL] = {
		.name = "all", .seals = "the system mappings and every file-backed mapping (program, libraries)",
		.ratio_label = "all/none", .seals_system_mappings = true, .seals_file_mappings = true,
		.note = "system mappings plus every file-backed mapping (program and libraries) are sealed "
			"before measuring; vma_count shows whether sealing kept VMAs from merging",
	},
};

const char *const system_mapping_names[] = ARCH_SYSTEM_MAPPING_NAMES;

const char *seal_mode_name(enum seal_mode m)
{
	return m < SEAL_MODE_COUNT ? seal_modes[m].name : "?";
}

bool seal_mode_parse(const char *s, enum seal_mode *m)
{
	for (int i = 0; i < SEAL_MODE_COUNT; i++) {
		if (strcmp(s, seal_modes[i].name) == 0) {
			*m = (enum seal_mode)i;
			return true;
		}
	}
	return false;
}

char *seal_mode_names(char *buf, size_t len, const char *sep, bool only_default)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < SEAL_MODE_COUNT; i++)
		if (!only_default || seal_modes[i].by_default)
			used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
						 used ? sep : "", seal_modes[i].name);
	return buf;
}

bool is_system_mapping(const char *name)
{
	for (int i = 0; system_mapping_names[i]; i++)
		if (strcmp(name, system_mapping_names[i]) == 0)
			return true;
	return false;
}

int sys_mseal(void *addr, size_t len, unsigned long flags)
{
	return (int)syscall(__NR_mseal, addr, len, flags);
}

/* A zero-length call seals nothing; only the errno matters. */
static int try_mseal(int out, const void *arg)
{
	(void)arg;
	return dprintf(out, "%d", sys_mseal(NULL, 0, 0) == 0 ? 0 : errno) > 0 ? 0 : 1;
}

int mseal_probe(void)
{
	static int known = -1;	/* the kernel does not change under a process: asked once */
	struct child_spec s = { .run = try_mseal };
	char why[100], *text;
	long err = EIO;

	if (known >= 0)
		return known;
	text = child_output(&s, 0, NULL, &(int){ 0 }, NULL, why, sizeof(why));
	if (!text)
		return errno;	/* no child here now: not a fact about the kernel */
	if (!parse_long(text, 0, 4095, &err))
		err = EIO;
	free(text);
	return known = (int)err;
}

struct seal_plan {
	enum seal_mode mode;
	struct mapping *targets;
	size_t n, cap;
};

bool seal_mode_covers(const struct mapping *m, enum seal_mode mode)
{
	if (is_system_mapping(m->name))
		return seal_modes[mode].seals_system_mappings;
	return seal_modes[mode].seals_file_mappings && m->name[0] == '/';
}

static bool collect_target(const struct mapping *m, void *arg)
{
	struct seal_plan *plan = arg;

	if (!seal_mode_covers(m, plan->mode))
		return true;
	if (plan->n == plan->cap) {
		plan->cap = plan->cap ? plan->cap * 2 : 16;
		plan->targets = xrealloc(plan->targets, plan->cap * sizeof(*plan->targets));
	}
	plan->targets[plan->n++] = *m;
	return true;
}

struct seal_check {
	struct seal_plan *plan;
	char *missing;
	size_t missing_len;
};

static bool check_sealed(const struct mapping *m, void *arg)
{
	struct seal_check *c = arg;

	if (seal_mode_covers(m, c->plan->mode) && !vmflags_has(m->vmflags, "sl")) {
		snprintf(c->missing, c->missing_len, "%s at %#lx", m->name[0] ? m->name : "(anonymous)",
			 (unsigned long)m->start);
		return false;
	}
	return true;
}

/* What the user can make of an mseal error on a whole mapping listed in smaps a moment ago. */
static const char *seal_error_hint(int err)
{
	switch (err) {
	case ENOSYS: return "no mseal(2) here: the kernel needs Linux 6.10 or later, or an emulator in "
			    "between (Valgrind, qemu-user) does not know the call";
	case EPERM: return "this kernel refuses sealing here (mseal(2) seals only on 64-bit kernels)";
	case ENOMEM: return "the mapping changed between reading /proc/self/smaps and sealing it";
	case EINVAL: return "the kernel rejected the range or the flags of a whole mapping: a kernel bug?";
	default: return "see mseal(2)";
	}
}

int seal_apply(enum seal_mode mode, char *err, size_t errlen)
{
	struct seal_plan plan = { .mode = mode };
	char missing[300] = "";
	struct seal_check check = { &plan, missing, sizeof(missing) };
	int ret;

	if (!seal_modes[mode].seals_system_mappings && !seal_modes[mode].seals_file_mappings)
		return 0;
	if (maps_walk_self_smaps(collect_target, &plan) < 0) {
		ret = -errno;
		snprintf(err, errlen, "reading /proc/self/smaps: %s", errno_text(errno));
		goto out;
	}
	for (size_t i = 0; i < plan.n; i++) {
		struct mapping *m = &plan.targets[i];

		if (sys_mseal((void *)m->start, m->end - m->start, 0) < 0) {
			int e = errno;

			ret = -e;
			snprintf(err, errlen, "mseal(%s %#lx-%#lx): %s; %s", m->name, (unsigned long)m->start,
				 (unsigned long)m->end, errno_text(e), seal_error_hint(e));
			goto out;
		}
	}
	if (maps_walk_self_smaps(check_sealed, &check) < 0 || missing[0]) {
		ret = -EPROTO;
		snprintf(err, errlen, "mseal succeeded but smaps does not show %s sealed (VmFlags sl)",
			 missing[0] ? missing : "the mappings");
		goto out;
	}
	ret = (int)plan.n;
out:
	free(plan.targets);
	return ret;
}

struct sealed_list {
	char *buf;
	size_t len;
	int count;
};

static bool list_sealed_system(const struct mapping *m, void *arg)
{
	struct sealed_list *l = arg;
	size_t used = strlen(l->buf);

	if (is_system_mapping(m->name) && vmflags_has(m->vmflags, "sl")) {
		snprintf(l->buf + used, l->len - used, "%s%s", used ? " " : "", m->name);
		l->count++;
	}
	return true;
}

int sealed_system_mappings_self(char *buf, size_t len)
{
	struct sealed_list l = { buf, len, 0 };

	buf[0] = '\0';
	if (maps_walk_self_smaps(list_sealed_system, &l) < 0)
		return -1;
	return l.count;
}
