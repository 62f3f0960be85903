/* SPDX-License-Identifier: GPL-2.0-only */
/* What this kernel does about sealing, found once per run and recorded by env and probe alike:
 * is mseal(2) there, which system mappings a freshly exec'd process finds sealed, and the
 * kernel config that governs it. Nothing here seals in this process. */
#ifndef MSB_KERNEL_FACTS_H
#define MSB_KERNEL_FACTS_H

#include <stdbool.h>

#include "json.h"

#define KERNEL_FACTS_MAX_SYSMAPS 8

/* A kernel option: 'y', 'm', 'n' (not set or not in this kernel), '?' (config unreadable). */
struct kernel_config {
	char source[160];		/* "/proc/config.gz", "/boot/config-6.18.0", "" when unreadable */
	char checkpoint_restore, mseal_system_mappings;
};

struct kernel_facts {
	int mseal_errno;		/* 0: mseal(2) available */
	struct kernel_config config;
	bool sysmap_known;		/* the freshly exec'd child could read its smaps */
	/* Indexed like system_mapping_names: */
	bool sysmap_present[KERNEL_FACTS_MAX_SYSMAPS], sysmap_sealed[KERNEL_FACTS_MAX_SYSMAPS];
	bool kernel_seals;		/* some system mapping came sealed out of exec */
};

/* Finds every fact; self_exe is exec'd once (`__sealed-at-exec`) to see what exec sealed. */
void kernel_facts_collect(struct kernel_facts *k, const char *self_exe);

/* "y", "m", "n" or "unknown". */
const char *kernel_config_word(char v);
/* Index of a system mapping's name in system_mapping_names, -1 when it is none. */
int system_mapping_index(const char *name);

/* JSON members: "mseal_available", "mseal_error"; "kernel_config" {source, CONFIG_...};
 * "kernel_sealed_system_mappings" (names, null when unknown). */
void kernel_facts_write_mseal(struct json *j, const struct kernel_facts *k);
void kernel_facts_write_config(struct json *j, const struct kernel_facts *k);
void kernel_facts_write_sealed_names(struct json *j, const struct kernel_facts *k);

#endif
