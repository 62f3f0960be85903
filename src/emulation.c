/* SPDX-License-Identifier: GPL-2.0-only */
#define _GNU_SOURCE
#include "emulation.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "util.h"

/* qemu-user fakes uname(2)'s machine, /proc/self/exe and the auxiliary vector, but passes
 * /proc/sys/kernel/arch through: it is the one cheap place where the host shows. */
bool emulated_on_host(char *host_arch, size_t len)
{
	char arch[64];

	if (!read_text_file("/proc/sys/kernel/arch", arch, sizeof(arch)) || !arch[0])
		return false;
	if (strcmp(arch, ARCH_NAME) == 0)
		return false;
	str_copy(host_arch, len, arch);
	return true;
}

/* Replaces the process with `emulator self_exe argv[1..]`; returns when the emulator cannot be
 * exec'd. Called in a freshly forked child: allocation is fine, the memory dies with it. */
static void exec_through(const char *emulator, const char *self_exe, char *const argv[])
{
	size_t n = 0;
	char **eargv;

	while (argv[n])
		n++;
	eargv = xcalloc(n + 2, sizeof(char *));
	eargv[0] = (char *)emulator;
	eargv[1] = (char *)self_exe;
	for (size_t i = 1; i <= n; i++)
		eargv[i + 1] = argv[i];
	execvp(emulator, eargv);
	free(eargv);
}

void exec_self(const char *self_exe, char *const argv[])
{
	const char *chosen = getenv("MSEALBENCH_EMULATOR");
	static const char *const fallback[] = { "qemu-" ARCH_NAME "-static", "qemu-" ARCH_NAME };
	int err;

	execv(self_exe, argv);
	err = errno;
	if (err != ENOEXEC) {
		fprintf(stderr, "msealbench: exec %s: %s\n", self_exe, errno_text(err));
		errno = err;
		return;
	}
	if (chosen && *chosen) {
		exec_through(chosen, self_exe, argv);
		fprintf(stderr, "msealbench: exec MSEALBENCH_EMULATOR=%s: %s\n", chosen, errno_text(errno));
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fallback); i++)
		exec_through(fallback[i], self_exe, argv);
	fprintf(stderr, "msealbench: exec %s: %s: the kernel cannot run this %s binary and no %s "
		"was found in PATH; register qemu-user with binfmt_misc or set MSEALBENCH_EMULATOR\n",
		self_exe, errno_text(ENOEXEC), ARCH_NAME, fallback[0]);
	errno = ENOEXEC;
}
