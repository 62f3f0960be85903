/* SPDX-License-Identifier: GPL-2.0-only */
#define _GNU_SOURCE
#include "pmu_names.h"

#include <stdio.h>
#include <string.h>

#include "counters.h"
#include "util.h"

#ifdef MSB_HAVE_LIBPFM
#include <dlfcn.h>
#include <limits.h>
#include <perfmon/pfmlib_perf_event.h>
#include <stdlib.h>

/* pfm_initialize() once; false when libpfm4 cannot run here. */
static bool pfm_ready(void)
{
	static int state;	/* 0: not tried, 1: ready, -1: failed */

	if (!state)
		state = pfm_initialize() == PFM_SUCCESS ? 1 : -1;
	return state > 0;
}

/* libpfm4 reports only its API version (4.0); the file name of the shared object loaded
 * (libpfm.so.4.13.0) tells the release. */
static void library_release(char *buf, size_t len)
{
	char real[PATH_MAX];
	const char *so;
	Dl_info info;

	buf[0] = '\0';
	if (!dladdr((void *)pfm_initialize, &info) || !info.dli_fname || !realpath(info.dli_fname, real))
		return;
	so = strstr(real, ".so.");
	if (so && strstr(real, "libpfm"))
		snprintf(buf, len, " %s", so + 4);
}

const char *pmu_names_library(void)
{
	static char name[64];

	if (!pfm_ready())
		return "builtin";
	if (!name[0]) {
		char release[32];

		library_release(release, sizeof(release));
		snprintf(name, sizeof(name), "libpfm4%s", release);
	}
	return name;
}

static int encode_one(const char *name, struct perf_event_attr *attr)
{
	pfm_perf_encode_arg_t arg;

	memset(attr, 0, sizeof(*attr));
	memset(&arg, 0, sizeof(arg));
	arg.attr = attr;
	arg.size = sizeof(arg);
	return pfm_get_os_event_encoding(name, PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT_EXT, &arg);
}

/* Whether a PMU libpfm4 knows but does not find here has the event of name ("[PMU::]EVENT[:.]..."):
 * then the name is good, only this machine cannot count it. Its PMU's name goes to pmu. */
static bool known_without_its_pmu(const char *name, char *pmu, size_t len)
{
	const char *sep = strstr(name, "::"), *event = sep ? sep + 2 : name;
	size_t plen = sep ? (size_t)(sep - name) : 0, elen = strcspn(event, ":.");
	pfm_pmu_t p;

	pfm_for_all_pmus(p) {
		pfm_pmu_info_t pinfo;

		memset(&pinfo, 0, sizeof(pinfo));
		pinfo.size = sizeof(pinfo);
		if (pfm_get_pmu_info(p, &pinfo) != PFM_SUCCESS || pinfo.is_present ||
		    (sep && (strlen(pinfo.name) != plen || strncasecmp(pinfo.name, name, plen) != 0)))
			continue;
		for (int idx = pinfo.first_event; idx != -1; idx = pfm_get_event_next(idx)) {
			pfm_event_info_t info;

			memset(&info, 0, sizeof(info));
			info.size = sizeof(info);
			if (pfm_get_event_info(idx, PFM_OS_NONE, &info) == PFM_SUCCESS &&
			    strlen(info.name) == elen && strncasecmp(info.name, event, elen) == 0) {
				str_copy(pmu, len, pinfo.name);
				return true;
			}
		}
	}
	return false;
}

int pmu_names_encode(const char *name, struct perf_event_attr *attr, char *err, size_t errlen)
{
	char colons[128], pmu[64];
	int r;

	if (!pfm_ready()) {
		snprintf(err, errlen, "unknown event name (libpfm4 failed to initialise)");
		return COUNTERS_UNKNOWN;
	}
	r = encode_one(name, attr);
	if (r == PFM_ERR_NOTFOUND && strchr(name, '.') && strlen(name) < sizeof(colons)) {
		/* perf and Intel's manuals write EVENT.UMASK, libpfm4 writes EVENT:UMASK */
		str_copy(colons, sizeof(colons), name);
		for (char *p = colons; *p; p++)
			if (*p == '.')
				*p = ':';
		r = encode_one(colons, attr);
	}
	if (r == PFM_ERR_NOTFOUND && known_without_its_pmu(name, pmu, sizeof(pmu))) {
		snprintf(err, errlen, "an event of libpfm4's PMU %s, which this machine does not have",
			 pmu);
		return COUNTERS_NOT_HERE;
	}
	if (r != PFM_SUCCESS) {
		snprintf(err, errlen, "unknown event name (libpfm4: %s; see 'msealbench events --all')",
			 pfm_strerror(r));
		return COUNTERS_UNKNOWN;
	}
	attr->size = sizeof(*attr);	/* libpfm4 fills its own, possibly older, layout */
	return 0;
}

static const char *pmu_type_name(pfm_pmu_type_t t)
{
	switch (t) {
	case PFM_PMU_TYPE_CORE: return "core";
	case PFM_PMU_TYPE_UNCORE: return "uncore";
	case PFM_PMU_TYPE_OS_GENERIC: return "OS generic";
	default: return "unknown";
	}
}

int pmu_names_present(struct pmu_summary *out, int max)
{
	pfm_pmu_t p;
	int n = 0;

	if (!pfm_ready())
		return 0;
	pfm_for_all_pmus(p) {
		pfm_pmu_info_t info;

		memset(&info, 0, sizeof(info));
		info.size = sizeof(info);
		if (pfm_get_pmu_info(p, &info) != PFM_SUCCESS || !info.is_present || n == max)
			continue;
		out[n].id = (int)p;
		str_copy(out[n].name, sizeof(out[n].name), info.name);
		str_copy(out[n].desc, sizeof(out[n].desc), info.desc ? info.desc : "");
		out[n].type = pmu_type_name(info.type);
		out[n].nevents = info.nevents;
		n++;
	}
	return n;
}

void pmu_names_print_events(FILE *f, int id)
{
	pfm_pmu_info_t pinfo;

	memset(&pinfo, 0, sizeof(pinfo));
	pinfo.size = sizeof(pinfo);
	if (!pfm_ready() || pfm_get_pmu_info((pfm_pmu_t)id, &pinfo) != PFM_SUCCESS)
		return;
	for (int idx = pinfo.first_event; idx != -1; idx = pfm_get_event_next(idx)) {
		pfm_event_info_t info;
		char full[160];

		memset(&info, 0, sizeof(info));
		info.size = sizeof(info);
		if (pfm_get_event_info(idx, PFM_OS_NONE, &info) != PFM_SUCCESS || info.pmu != (pfm_pmu_t)id)
			continue;
		snprintf(full, sizeof(full), "%s::%s", pinfo.name, info.name);
		fprintf(f, "    %-40s %.100s\n", full, info.desc ? info.desc : "");
	}
}

#else /* !MSB_HAVE_LIBPFM */

const char *pmu_names_library(void)
{
	return "builtin";
}

int pmu_names_encode(const char *name, struct perf_event_attr *attr, char *err, size_t errlen)
{
	(void)name;
	memset(attr, 0, sizeof(*attr));
	snprintf(err, errlen, "unknown event name (this build has no libpfm4: only the generic "
			      "names of 'msealbench events' are known)");
	return COUNTERS_UNKNOWN;
}

int pmu_names_present(struct pmu_summary *out, int max)
{
	(void)out;
	(void)max;
	return 0;
}

void pmu_names_print_events(FILE *f, int id)
{
	(void)f;
	(void)id;
}

#endif
