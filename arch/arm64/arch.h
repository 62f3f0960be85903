/* SPDX-License-Identifier: GPL-2.0-only */
/* arm64: cycle counter, barriers, syscall numbers, system-mapping and vDSO symbol names. */
#ifndef MSB_ARCH_H
#define MSB_ARCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ARCH_NAME "aarch64"		/* as uname(2) and /proc/sys/kernel/arch spell it */
#define ARCH_CYCLE_COUNTER_NAME "cntvct_el0"

/*
 * The cycle counter is the generic timer's virtual count, cntvct_el0: the kernel lets EL0 read
 * it everywhere (it backs the vDSO clock), it is monotonic and runs at a constant rate whatever
 * the CPU frequency does. It ticks at cntfrq_el0, not at the core clock: 24 MHz to 1 GHz
 * (Armv8.6 and later fix 1 GHz; qemu's virt machine uses 62.5 MHz). One tick can be 40 ns, so
 * a single fast operation is below its resolution; the runner times batches of about 1 ms
 * (SAMPLE_TARGET_NS), tens of thousands of ticks, which makes the tick error below 0.01%.
 *
 * pmccntr_el0 would count real core cycles, but it is not the default: EL0 may read it only
 * when the kernel allows it (sysctl kernel.perf_user_access=1, Linux 5.17+) and a perf event
 * for it is open and scheduled on this CPU, else the read traps (SIGILL). Where core cycles
 * matter, ask perf for the "cycles" event (--events), which also says when it is unavailable.
 *
 * isb before the read keeps it from being taken early, before the instructions ahead of it
 * have finished; the isb after the closing read keeps later instructions from starting before
 * it. The counter read itself is not ordered by memory barriers, only by isb.
 */
static inline uint64_t arch_cycles_begin(void)
{
	uint64_t v;
	__asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v) : : "memory");
	return v;
}

static inline uint64_t arch_cycles_end(void)
{
	uint64_t v;
	__asm__ volatile("isb\n\tmrs %0, cntvct_el0\n\tisb" : "=r"(v) : : "memory");
	return v;
}

/* The counter's rate as the firmware programmed it; 0 when the firmware did not. */
static inline uint64_t arch_cycle_counter_hz(void)
{
	uint64_t f;
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(f));
	return f & 0xffffffffu;	/* the upper 32 bits are RES0 */
}

/* timing.c takes this stated rate over its 20 ms estimate against CLOCK_MONOTONIC_RAW when
 * the two agree (a wrongly programmed cntfrq_el0 does happen on early firmware). */
#define ARCH_CYCLE_COUNTER_HZ() arch_cycle_counter_hz()

static inline void arch_cpu_relax(void)
{
	__asm__ volatile("yield" ::: "memory");
}

/* cntvct_el0 is architecturally monotonic and constant-rate: no cpuinfo flags to require. */
#define ARCH_CYCLE_COUNTER_CPUINFO_FLAGS { 0 }

/* Mappings the kernel installs itself, as /proc/<pid>/maps names them. A 64-bit task has
 * [vdso] and [vvar] (and [uprobes] once a uprobe fired); [sigpage] and [vectors] exist only
 * in 32-bit compat tasks, listed because CONFIG_MSEAL_SYSTEM_MAPPINGS seals them there too. */
#define ARCH_SYSTEM_MAPPING_NAMES { "[vdso]", "[vvar]", "[uprobes]", "[sigpage]", "[vectors]", NULL }

/* vDSO: arm64 exports __kernel_* names; there is no time() or getcpu() entry (libc makes
 * those syscalls, and the generic table has no time syscall either). */
#define ARCH_VDSO_VERSION "LINUX_2.6.39"
#define ARCH_VDSO_CLOCK_GETTIME "__kernel_clock_gettime"
#define ARCH_VDSO_GETTIMEOFDAY "__kernel_gettimeofday"
#define ARCH_VDSO_TIME NULL
#define ARCH_VDSO_GETCPU NULL
#define ARCH_VDSO_CLOCK_GETRES "__kernel_clock_getres"

/* The generic syscall table has no fork(), vfork() or time(): clone(SIGCHLD) forks. */
#define ARCH_HAS_FORK_SYSCALL 0

/* No CPUID hypervisor leaf on arm64: the firmware tables say what the machine is. qemu's virt
 * machine booted with -kernel has no DMI, only its device tree's compatible string. Anything
 * else falls through to env.c's generic checks (device-tree hypervisor node, DMI). */
static inline bool arch_hypervisor(char *buf, unsigned len)
{
	char compat[64] = "";
	FILE *f = fopen("/proc/device-tree/compatible", "re");

	if (!f)
		return false;
	/* A list of NUL-separated strings; the first names the board. */
	if (!fgets(compat, sizeof(compat), f))
		compat[0] = '\0';
	fclose(f);
	if (strcmp(compat, "linux,dummy-virt") != 0)
		return false;
	snprintf(buf, len, "qemu-virt");
	return true;
}

/*
 * Syscall numbers: arm64 uses the generic table (include/uapi/asm-generic/unistd.h), where
 * mseal is 462, as on x86-64 by the common numbering of new syscalls. The cross libc headers
 * (Debian bookworm: Linux 6.1) predate it, hence the fallback.
 * mmap/mremap/madvise flags are the asm-generic values on arm64 and x86-64 alike, so nothing
 * arch-specific is defined for them here; arm64 adds only PROT_BTI and PROT_MTE, which the
 * suite does not use.
 */
#ifndef __NR_mseal
#define __NR_mseal 462
#endif

#endif
