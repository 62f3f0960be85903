/* SPDX-License-Identifier: GPL-2.0-only */
/* /proc/<pid>/maps and smaps: the process's mappings and their VmFlags. */
#ifndef MSB_MAPS_H
#define MSB_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct mapping {
	uintptr_t start, end;
	char perms[5];		/* "r-xp" */
	unsigned long long offset;
	unsigned long inode;
	char name[256];		/* path, "[vdso]", or "" for anonymous */
	char vmflags[128];	/* smaps VmFlags line, "" when read from maps */
};

/* Parse one line of /proc/<pid>/maps. Returns false if the line is malformed. */
bool maps_parse_line(const char *line, struct mapping *m);

/* Calls fn for each mapping of a maps or smaps stream (smaps: with vmflags filled).
 * Stops early when fn returns false. Returns the number of mappings seen, or -1 on a
 * malformed stream. */
typedef bool (*mapping_fn)(const struct mapping *m, void *arg);
long maps_walk(FILE *f, mapping_fn fn, void *arg);

/* Walk this process's /proc/self/smaps. Returns -1 with errno set when it cannot be read. */
long maps_walk_self_smaps(mapping_fn fn, void *arg);

/* This process's mapping named name ("[vdso]") into *out; false when there is none. */
bool maps_find_self(const char *name, struct mapping *out);
/* Whether smaps shows the mapping that holds addr sealed (VmFlags sl); false when none does. */
bool maps_sealed_at_self(uintptr_t addr);

/* True when a VmFlags string holds the two-letter flag (e.g. "sl" for sealed). */
bool vmflags_has(const char *vmflags, const char *flag);

/* Number of VMAs in this process (lines in /proc/self/maps), -1 on error. */
long count_vmas_self(void);

#endif
