/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libmsealbench-seal.so: seals a program from the inside, before its main(), for `msealbench try`
 * and `msealbench maps`. Sealing is dropped at exec, so a wrapper cannot seal for the program it
 * starts; a preloaded library's constructor runs in the program once its libraries are mapped.
 *
 * Environment (the library does nothing without MSEALBENCH_SEAL):
 *   MSEALBENCH_SEAL=none|sysmap|all  what to seal, as src/seal.c's modes (none: only report)
 *   MSEALBENCH_SEAL_REPORT=PATH      append one line per process: what it sealed, or why not
 *   MSEALBENCH_SEAL_STOP=1           stop (SIGSTOP) after sealing, so `maps` can read smaps
 * The variables stay set: programs the command runs are sealed too, as the kernel option seals
 * every exec. Report lines (TAB separated, one write each, so processes do not interleave):
 *   sealed  PID  MODE  COUNT  EXE  SYSTEM-MAPPINGS-SEALED
 *   failed  PID  MODE  ERRNO  EXE  MESSAGE
 * Everything here is hidden (-fvisibility=hidden): the program sees no symbol of ours.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps.h"
#include "seal.h"
#include "util.h"

static void report_line(const char *line)
{
	const char *path = getenv("MSEALBENCH_SEAL_REPORT");
	int fd, saved = errno;

	if (!path || !*path)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, line, strlen(line)) < 0) {
			/* nowhere to say it: the parent sees no line and reports "not sealed" */
		}
		close(fd);
	}
	errno = saved;
}

static bool count_one(const struct mapping *m, void *arg)
{
	(void)m;
	++*(long *)arg;
	return true;
}

/* seal_apply() reads /proc/self/smaps twice (the targets, then the check that they show "sl"),
 * and the report a third time; smaps costs far more than mseal. The plain runs read it as often,
 * so what try's comparison sees of the library is mseal's cost, not the instrument's. */
static void read_smaps_as_sealing_does(void)
{
	long n = 0;

	maps_walk_self_smaps(count_one, &n);
	maps_walk_self_smaps(count_one, &n);
}

__attribute__((constructor)) static void seal_at_start(void)
{
	const char *name = getenv("MSEALBENCH_SEAL"), *stop = getenv("MSEALBENCH_SEAL_STOP");
	char exe[512] = "?", err[300] = "", sealed_names[200] = "", line[1200];
	enum seal_mode mode;
	ssize_t n;
	int count;

	if (!name)
		return;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0)
		exe[n] = '\0';
	if (!seal_mode_parse(name, &mode)) {
		snprintf(line, sizeof(line), "failed\t%d\t%.20s\t%d\t%s\tunknown seal mode\n", (int)getpid(),
			 name, EINVAL, exe);
		report_line(line);
		return;
	}
	if (mode == SEAL_NONE)
		read_smaps_as_sealing_does();
	count = seal_apply(mode, err, sizeof(err));
	if (count < 0) {
		snprintf(line, sizeof(line), "failed\t%d\t%s\t%d\t%s\t%s\n", (int)getpid(), name, -count, exe,
			 err);
	} else {
		sealed_system_mappings_self(sealed_names, sizeof(sealed_names));	/* also in none */
		snprintf(line, sizeof(line), "sealed\t%d\t%s\t%d\t%s\t%s\n", (int)getpid(), name, count, exe,
			 sealed_names);
	}
	report_line(line);
	if (stop && strcmp(stop, "1") == 0) {
		unsetenv("MSEALBENCH_SEAL_STOP");	/* the programs it runs go on */
		raise(SIGSTOP);
	}
}
