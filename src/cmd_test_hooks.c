/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal commands the tests use: __seccomp-nomseal and __sealed-maps.
 *
 * `msealbench __seccomp-nomseal CMD ARGS...`: a test launcher. It installs a seccomp filter that
 * makes mseal(2) fail with ENOSYS, as a kernel before 6.10 does, and execs CMD; the filter stays
 * with CMD and all its children. tests/t_probe.sh uses it to check the probe's skip path (exit
 * 4) on a kernel that has mseal. It needs no privilege: no_new_privs is set first. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch.h"
#include "main.h"
#include "maps.h"
#include "seal.h"
#include "util.h"

#if defined(__x86_64__)
#define NOMSEAL_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NOMSEAL_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

static void install_nomseal_filter(void)
{
	struct sock_filter insns[] = {
#ifdef NOMSEAL_AUDIT_ARCH
		/* Another ABI's syscall numbers mean other calls: leave those alone. */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NOMSEAL_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
#endif
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mseal, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = (unsigned short)ARRAY_SIZE(insns), .filter = insns };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die(1, "prctl(PR_SET_NO_NEW_PRIVS): %s", errno_text(errno));
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		die(1, "prctl(PR_SET_SECCOMP): %s (kernel without CONFIG_SECCOMP_FILTER?)", errno_text(errno));
}

static int seccomp_nomseal_main(int argc, char **argv, const char *self_exe)
{
	(void)self_exe;
	msb_prog = "msealbench __seccomp-nomseal";
	if (argc < 2)
		die(2, "usage: msealbench __seccomp-nomseal CMD [ARGS...] (test launcher: mseal gives ENOSYS)");
	install_nomseal_filter();
	execvp(argv[1], argv + 1);
	die(127, "exec %s: %s", argv[1], errno_text(errno));
}

/* `msealbench __sealed-maps MODE`: seal as a cell of MODE does, then print every mapping as
 * "start-end perms sealed|unsealed name" (tests check that `all` seals the program). */
static bool print_mapping_sealed(const struct mapping *m, void *arg)
{
	(void)arg;
	printf("%#lx-%#lx %s %s %s\n", (unsigned long)m->start, (unsigned long)m->end, m->perms,
	       vmflags_has(m->vmflags, "sl") ? "sealed" : "unsealed", m->name[0] ? m->name : "(anonymous)");
	return true;
}

static int sealed_maps_main(int argc, char **argv, const char *self_exe)
{
	enum seal_mode mode;
	char err[300], known[128];
	int n;

	(void)self_exe;
	msb_prog = "msealbench __sealed-maps";
	if (argc != 2 || !seal_mode_parse(argv[1], &mode))
		die(2, "usage: msealbench __sealed-maps %s (seals itself: run it as a child)",
		    seal_mode_names(known, sizeof(known), "|", false));
	n = seal_apply(mode, err, sizeof(err));
	if (n < 0)
		die(n == -ENOSYS ? 4 : 1, "seal mode %s: %s", argv[1], err);
	printf("# seal mode %s: %d mappings sealed\n", argv[1], n);
	if (maps_walk_self_smaps(print_mapping_sealed, NULL) < 0)
		die(1, "reading /proc/self/smaps: %s", errno_text(errno));
	return 0;
}

const struct command cmd_sealed_maps = { "__sealed-maps", sealed_maps_main, NULL, NULL };

const struct command cmd_seccomp_nomseal = { "__seccomp-nomseal", seccomp_nomseal_main, NULL, NULL };
