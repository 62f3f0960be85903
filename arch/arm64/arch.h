/* arm64: cycle counter, barriers, syscall numbers, vDSO symbol names. */
#ifndef MSB_ARCH_H
#define MSB_ARCH_H

#include <stdint.h>

#define ARCH_NAME "aarch64"
#define ARCH_CYCLE_COUNTER_NAME "cntvct_el0"

/* The generic timer's virtual count: readable from EL0 everywhere, but it ticks at cntfrq_el0
 * (often tens of MHz), not at the CPU clock. pmccntr_el0 would count real cycles but needs
 * perf_user_access=1 and an opened perf event, so it is not the default. isb orders the read. */
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

static inline uint64_t arch_cycle_counter_hz(void)
{
	uint64_t f;
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(f));
	return f;
}

static inline void arch_cpu_relax(void)
{
	__asm__ volatile("yield" ::: "memory");
}

/* cntvct_el0 is architecturally monotonic and constant-rate: no cpuinfo flags to require. */
#define ARCH_CYCLE_COUNTER_CPUINFO_FLAGS { 0 }

/* vDSO: arm64 exports __kernel_* names; there is no time() or getcpu() entry. */
#define ARCH_VDSO_VERSION "LINUX_2.6.39"
#define ARCH_VDSO_CLOCK_GETTIME "__kernel_clock_gettime"
#define ARCH_VDSO_GETTIMEOFDAY "__kernel_gettimeofday"
#define ARCH_VDSO_TIME NULL
#define ARCH_VDSO_GETCPU NULL
#define ARCH_VDSO_CLOCK_GETRES "__kernel_clock_getres"

/* The generic syscall table has no fork(): clone(SIGCHLD) does the same. */
#define ARCH_HAS_FORK_SYSCALL 0

#include <stdbool.h>

/* arm64 has no CPUID hypervisor leaf: env.c falls back to firmware tables (device tree, DMI). */
static inline bool arch_hypervisor(char *buf, unsigned len)
{
	(void)buf;
	(void)len;
	return false;
}

#ifndef __NR_mseal
#define __NR_mseal 462
#endif

#endif
