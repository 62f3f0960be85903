/* SPDX-License-Identifier: GPL-2.0-only */
/* x86-64: cycle counter, barriers, syscall numbers, vDSO symbol names. */
#ifndef MSB_ARCH_H
#define MSB_ARCH_H

#include <stdint.h>
#include <stdio.h>

#define ARCH_NAME "x86_64"
#define ARCH_CYCLE_COUNTER_NAME "tsc"

/* lfence before rdtsc keeps earlier instructions from drifting into the timed region;
 * rdtscp;lfence at the end keeps later ones out (Intel's white paper on TSC benchmarking). */
static inline uint64_t arch_cycles_begin(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t arch_cycles_end(void)
{
	uint32_t lo, hi, aux;
	__asm__ volatile("rdtscp\n\tlfence" : "=a"(lo), "=d"(hi), "=c"(aux) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline void arch_cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* The TSC is a usable clock only when it is invariant: constant rate and not stopped in idle. */
#define ARCH_CYCLE_COUNTER_CPUINFO_FLAGS { "constant_tsc", "nonstop_tsc" }

/* Mappings the kernel installs itself, as /proc/<pid>/maps names them ([vsyscall] lies outside
 * the range mm manages: it cannot be sealed, moved or unmapped, so it is not one of them). */
#define ARCH_SYSTEM_MAPPING_NAMES { "[vdso]", "[vvar]", "[vvar_vclock]", "[uprobes]", NULL }

/* vDSO: symbol names and version as the x86-64 kernel exports them. */
#define ARCH_VDSO_VERSION "LINUX_2.6"
#define ARCH_VDSO_CLOCK_GETTIME "__vdso_clock_gettime"
#define ARCH_VDSO_GETTIMEOFDAY "__vdso_gettimeofday"
#define ARCH_VDSO_TIME "__vdso_time"
#define ARCH_VDSO_GETCPU "__vdso_getcpu"
#define ARCH_VDSO_CLOCK_GETRES "__vdso_clock_getres"

#define ARCH_HAS_FORK_SYSCALL 1

#include <cpuid.h>
#include <stdbool.h>
#include <string.h>

/* The hypervisor's name from its CPUID leaf ("KVMKVMKVM" -> kvm), when CPUID says there is one. */
static inline bool arch_hypervisor(char *buf, unsigned len)
{
	static const struct { const char *sig, *name; } known[] = {
		{ "KVMKVMKVM", "kvm" }, { "TCGTCGTCGTCG", "qemu-tcg" }, { "Microsoft Hv", "hyperv" },
		{ "VMwareVMware", "vmware" }, { "XenVMMXenVMM", "xen" }, { "VBoxVBoxVBox", "virtualbox" },
		{ "ACRNACRNACRN", "acrn" }, { " lrpepyh  vr", "parallels" }, { "bhyve bhyve ", "bhyve" },
	};
	unsigned a, b, c, d;
	char sig[13];

	__cpuid(1, a, b, c, d);
	if (!(c & (1u << 31)))
		return false;
	__cpuid(0x40000000, a, b, c, d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = '\0';
	for (unsigned i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strncmp(sig, known[i].sig, strlen(known[i].sig)) == 0) {
			snprintf(buf, len, "%s", known[i].name);
			return true;
		}
	}
	snprintf(buf, len, "unknown hypervisor '%s'", sig);
	return true;
}

#ifndef __NR_mseal
#define __NR_mseal 462
#endif

#endif
