/* SPDX-License-Identifier: GPL-2.0-only */
/* mseal(2) and the seal modes a cell runs in. Only cell children call the sealing functions:
 * sealing is irreversible and the runner process never seals itself. */
#ifndef MSB_SEAL_H
#define MSB_SEAL_H

#include <stdbool.h>
#include <stddef.h>

enum seal_mode {
	SEAL_NONE,	/* the suite seals nothing (the kernel may have: see the context block) */
	SEAL_SYSMAP,	/* seal the system mappings, as CONFIG_MSEAL_SYSTEM_MAPPINGS does at exec */
	SEAL_ALL,	/* system mappings plus every file-backed mapping (program and libraries) */
	SEAL_MODE_COUNT
};

/* Everything else about a mode derives from its row: help texts, results labels and notes,
 * and what seal_apply() seals. A new mode is a row here (and an enum name above). */
struct seal_mode_info {
	const char *name;		/* on the command line and in results */
	const char *seals;		/* what it seals, in a few words (help texts, results) */
	const char *ratio_label;	/* the run table's column of its median over none's */
	const char *note;		/* context.sealing_notes: what its numbers mean */
	bool by_default;		/* run measures it without --seal */
	bool seals_system_mappings;	/* [vdso], [vvar] ... as CONFIG_MSEAL_SYSTEM_MAPPINGS does */
	bool seals_file_mappings;	/* the program and its libraries */
};

extern const struct seal_mode_info seal_modes[SEAL_MODE_COUNT];

const char *seal_mode_name(enum seal_mode m);
bool seal_mode_parse(const char *s, enum seal_mode *m);
/* The modes' names joined by sep ("none, sysmap, all"); only_default: those run measures
 * without --seal. Returns buf. */
char *seal_mode_names(char *buf, size_t len, const char *sep, bool only_default);

/* The names the kernel gives system mappings in /proc/<pid>/maps. */
extern const char *const system_mapping_names[];
bool is_system_mapping(const char *name);

/* Whether mode seals mapping m (a system mapping, or a file-backed one for `all`). */
struct mapping;
bool seal_mode_covers(const struct mapping *m, enum seal_mode mode);

/* mseal(2) through syscall(2): 0, or -1 with errno set (ENOSYS on kernels before 6.10). */
int sys_mseal(void *addr, size_t len, unsigned long flags);

/* 0 when this kernel has mseal(2), else the errno a no-op call gives (ENOSYS). Safe in the
 * runner: the call happens in a short-lived child, once per process. */
int mseal_probe(void);

/* Seal what mode asks for in the calling process and check /proc/self/smaps shows "sl" on each
 * sealed mapping. Returns the number of mappings sealed, or -errno with a message in err. */
int seal_apply(enum seal_mode mode, char *err, size_t errlen);

/* Names of system mappings of this process that smaps shows sealed, space separated, into
 * buf. Returns how many, or -1 when smaps cannot be read. */
int sealed_system_mappings_self(char *buf, size_t len);

#endif
