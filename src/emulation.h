/* SPDX-License-Identifier: GPL-2.0-only */
/* Running under a user-mode emulator (qemu-user): telling that it is so, and re-executing this
 * binary through the emulator when the kernel cannot run it by itself. */
#ifndef MSB_EMULATION_H
#define MSB_EMULATION_H

#include <stdbool.h>
#include <stddef.h>

/* True when the kernel's own architecture (/proc/sys/kernel/arch) is not the one this binary
 * was built for: a user-mode emulator runs us. host_arch gets the kernel's architecture. */
bool emulated_on_host(char *host_arch, size_t len);

/* execv(self_exe, argv) for the runner's cells and the seal check. When the kernel refuses the
 * binary (ENOEXEC: qemu-user started explicitly, no binfmt_misc handler), run it through
 * $MSEALBENCH_EMULATOR, or else qemu-<arch>-static or qemu-<arch> from PATH. Returns only on
 * failure, with errno set and a message on stderr saying what to do. */
void exec_self(const char *self_exe, char *const argv[]);

#endif
