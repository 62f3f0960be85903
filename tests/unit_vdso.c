/* SPDX-License-Identifier: GPL-2.0-only */
/* The project's vDSO lookup must find what the dynamic loader finds, and its entry points
 * must return what the kernel returns. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"
#include "tap.h"
#include "vdso_sym.h"

static void compare_with_loader(void *handle, const char *name)
{
	void *ours = vdso_lookup(name), *libc = dlsym(handle, name);

	tap_ok(ours && ours == libc, "%s: our lookup %p, the loader's %p", name, ours, libc);
}

int main(void)
{
	static const char *const names[] = { ARCH_VDSO_CLOCK_GETTIME, ARCH_VDSO_GETTIMEOFDAY, ARCH_VDSO_TIME,
					      ARCH_VDSO_GETCPU, ARCH_VDSO_CLOCK_GETRES };
	void *handle;
	int (*cg)(clockid_t, struct timespec *);
	struct timespec a, b;
	static const char not_elf[64] = "definitely not an ELF image";

	if (!vdso_base()) {
		tap_skip("vDSO lookup", "no vDSO in this process (AT_SYSINFO_EHDR is 0)");
		return 0;
	}
	handle = dlopen("linux-vdso.so.1", RTLD_NOW | RTLD_NOLOAD);
	if (!handle)
		handle = dlopen(ARCH_NAME[0] == 'a' ? "linux-vdso.so.1" : "linux-vdso.so.1", RTLD_NOW);
	if (!handle) {
		tap_skip("vDSO lookup against the loader", "dlopen(linux-vdso.so.1): %s", dlerror());
	} else {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (names[i])
				compare_with_loader(handle, names[i]);
	}
	tap_ok(vdso_lookup("__vdso_no_such_function") == NULL, "an absent symbol is not found");
	tap_ok(elf_image_lookup(vdso_base(), ARCH_VDSO_CLOCK_GETTIME, "LINUX_0.0") == NULL,
	       "a symbol with the wrong version is not found");
	tap_ok(elf_image_lookup(not_elf, "x", NULL) == NULL, "memory that is not ELF is refused");

	cg = (int (*)(clockid_t, struct timespec *))vdso_lookup(ARCH_VDSO_CLOCK_GETTIME);
	tap_ok(cg && cg(CLOCK_MONOTONIC, &a) == 0 && syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &b) == 0 &&
		       llabs((long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec)) < 10000000LL,
	       "vDSO clock_gettime(CLOCK_MONOTONIC) agrees with the syscall within 10 ms");
	tap_ok(cg && cg((clockid_t)12345, &a) < 0, "vDSO clock_gettime rejects a bad clock id");
	return tap_done();
}
