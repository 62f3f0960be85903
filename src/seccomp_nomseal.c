/* `msealbench __seccomp-nomseal CMD ARGS...`: a test launcher. It installs a seccomp filter that
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
#include "probe.h"
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

int seccomp_nomseal_main(int argc, char **argv)
{
	msb_prog = "msealbench __seccomp-nomseal";
	if (argc < 2)
		die(2, "usage: msealbench __seccomp-nomseal CMD [ARGS...] (test launcher: mseal gives ENOSYS)");
	install_nomseal_filter();
	execvp(argv[1], argv + 1);
	die(127, "exec %s: %s", argv[1], errno_text(errno));
}
