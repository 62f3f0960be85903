/* SPDX-License-Identifier: GPL-2.0-only */
/* The bridge to libpfm4: PMU-specific event names (INST_RETIRED.ANY_P, CPU_CYCLES) turned into
 * perf_event_attr, and what the PMUs libpfm4 knows offer. Only this file includes libpfm4's
 * headers (they define their own perf_event_open); a build without MSB_HAVE_LIBPFM gets stubs
 * that say so. */
#ifndef MSB_PMU_NAMES_H
#define MSB_PMU_NAMES_H

#include <linux/perf_event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* "libpfm4 4.13.0" (the version of the library loaded, where it can be told), or "builtin"
 * when built without libpfm4 or when it fails to initialise. */
const char *pmu_names_library(void);

/* Encode name with libpfm4 (pfm_get_os_event_encoding, PFM_OS_PERF_EVENT_EXT): user and kernel
 * by default, ":u"/":k" restrict. "INST_RETIRED.ANY_P" is also tried as libpfm4's
 * "INST_RETIRED:ANY_P". 0, or with err set COUNTERS_UNKNOWN (unknown name, or no libpfm4 in
 * this build) or COUNTERS_NOT_HERE (an event of a PMU libpfm4 knows but does not find here). */
int pmu_names_encode(const char *name, struct perf_event_attr *attr, char *err, size_t errlen);

struct pmu_summary {
	int id;			/* libpfm4's pfm_pmu_t */
	char name[64], desc[128];
	const char *type;	/* "core", "uncore", "OS generic", "unknown" */
	int nevents;
};

/* The PMUs libpfm4 finds present here, at most max; the count found (0 without libpfm4). */
int pmu_names_present(struct pmu_summary *out, int max);

/* One line per event of PMU id: "pmu::EVENT  description". */
void pmu_names_print_events(FILE *f, int id);

#endif
