/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vdso_remap_dynamic: moves its own vDSO and vvar pages to a new address the way CRIU's restorer
 * does (mremap MREMAP_MAYMOVE|MREMAP_FIXED of each system mapping into a reserved area, keeping
 * their distance: the vDSO's code finds its data pages at a fixed offset). A real program for
 * `msealbench try` and `msealbench vm --compat`: on a kernel with CONFIG_MSEAL_SYSTEM_MAPPINGS,
 * or under `try --seal sysmap`, the mappings are sealed and the first mremap fails with EPERM.
 *
 * Output holds no addresses (ASLR would make every run differ): "moved: ..." and exit 0, or
 * "mremap [NAME]: ERROR" and exit 1; exit 2 when there is no vDSO to move. Dynamic on purpose:
 * a preloaded library can seal it. After the move it calls nothing that uses the vDSO (libc's
 * pointers into it are stale, as they are in a restored process until CRIU patches them).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define MAX_MAPPINGS 8

struct sysmap {
	uintptr_t start, end;
	char name[32];
};

static int find_system_mappings(struct sysmap *out)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (n < MAX_MAPPINGS && fgets(line, sizeof(line), f)) {
		unsigned long start, end;
		char name[64] = "";

		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %63s", &start, &end, name) < 2)
			continue;
		if (strcmp(name, "[vdso]") && strcmp(name, "[vvar]") && strcmp(name, "[vvar_vclock]"))
			continue;
		out[n].start = start;
		out[n].end = end;
		snprintf(out[n].name, sizeof(out[n].name), "%s", name);
		n++;
	}
	fclose(f);
	return n;
}

int main(void)
{
	struct sysmap m[MAX_MAPPINGS];
	int n = find_system_mappings(m);
	uintptr_t low = UINTPTR_MAX, high = 0;
	char *area;

	if (n <= 0) {
		printf("no [vdso] or [vvar] mapping to move\n");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		low = m[i].start < low ? m[i].start : low;
		high = m[i].end > high ? m[i].end : high;
	}
	/* The new place: reserved first, so MREMAP_FIXED replaces nothing of ours. */
	area = mmap(NULL, high - low, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		printf("mmap of %lu bytes: %s\n", (unsigned long)(high - low), strerror(errno));
		return 2;
	}
	for (int i = 0; i < n; i++) {
		size_t len = m[i].end - m[i].start;

		if (mremap((void *)m[i].start, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			   area + (m[i].start - low)) == MAP_FAILED) {
			int err = errno;

			printf("mremap %s: %s (%s)\n", m[i].name, strerror(err), err == EPERM ? "EPERM" : "errno");
			return 1;
		}
	}
	printf("moved:");
	for (int i = 0; i < n; i++)
		printf(" %s", m[i].name);
	printf("\n");
	return 0;
}
