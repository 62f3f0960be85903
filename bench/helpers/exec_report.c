/* SPDX-License-Identifier: GPL-2.0-only */
/* exec_report MODE FD LAYOUT [verify]: what the exec family execs.
 *
 * In MODE none it does nothing but read CLOCK_MONOTONIC_RAW and write that time (8 bytes, native
 * order) to FD, so the parent can tell spawn-to-main from spawn-to-reaped. In MODE sysmap it
 * first seals its system mappings, as a kernel with CONFIG_MSEAL_SYSTEM_MAPPINGS would have done
 * during exec: the two modes differ by the mseal calls alone. The mappings are found without
 * /proc: LAYOUT lists them as OFFSET:LENGTH,... in bytes from the vDSO, whose address the kernel
 * passes in the auxiliary vector (AT_SYSINFO_EHDR); the parent read that layout from its own maps
 * once, untimed (the kernel places them the same way in every process). LAYOUT is passed in both
 * modes so both exec the same argument bytes. With "verify" it also checks /proc/self/smaps: in
 * sysmap mode every system mapping must show VmFlags "sl".
 *
 * It is one self-contained file, linked statically (and once dynamically), so its own start-up
 * stays small.
 *
 * Exit status: 0 done, 2 bad usage, 3 a system mapping is not sealed (verify), 4 mseal failed,
 * 5 writing the time failed, 6 /proc/self/smaps unreadable (verify), 7 no vDSO in the auxiliary
 * vector though LAYOUT names mappings. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "arch.h"

static const char *const system_mappings[] = ARCH_SYSTEM_MAPPING_NAMES;

static char text[1 << 16];

static const char *read_proc(const char *path)
{
	ssize_t got, len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	while ((got = read(fd, text + len, sizeof(text) - 1 - (size_t)len)) > 0)
		len += got;
	close(fd);
	text[len] = '\0';
	return got < 0 ? NULL : text;
}

/* The mapping name at the end of a maps line, when it is a system mapping. */
static int is_system_mapping(const char *line, const char *eol)
{
	const char *name = memchr(line, '[', (size_t)(eol - line));

	if (!name)
		return 0;
	for (unsigned i = 0; system_mappings[i]; i++) {
		size_t n = strlen(system_mappings[i]);

		if ((size_t)(eol - name) == n && memcmp(name, system_mappings[i], n) == 0)
			return 1;
	}
	return 0;
}

/* Seals each OFFSET:LENGTH of layout, relative to the vDSO. */
static int seal_system_mappings(const char *layout)
{
	uintptr_t vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
	const char *p = layout;

	if (!*layout)
		return 0;
	if (!vdso)
		return 7;
	while (*p) {
		char *end;
		long offset = strtol(p, &end, 10);
		unsigned long len;

		if (*end != ':')
			return 2;
		len = strtoul(end + 1, &end, 10);
		if (*end && *end != ',')
			return 2;
		if (syscall(__NR_mseal, vdso + (uintptr_t)offset, len, 0) != 0)
			return 4;
		p = *end ? end + 1 : end;
	}
	return 0;
}

/* Each system mapping's smaps block must carry " sl" on its VmFlags line. */
static int check_sealed(void)
{
	const char *p = read_proc("/proc/self/smaps");
	int in_system = 0;

	if (!p)
		return 6;
	while (*p) {
		const char *eol = strchrnul(p, '\n');

		if (strncmp(p, "VmFlags:", 8) == 0) {
			if (in_system && !memmem(p, (size_t)(eol - p), " sl", 3))
				return 3;
		} else if (strchr("0123456789abcdef", *p) && memchr(p, '-', (size_t)(eol - p))) {
			in_system = is_system_mapping(p, eol);
		}
		p = *eol ? eol + 1 : eol;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec ts;
	uint64_t reached;
	int sysmap, status;

	if (argc < 4)
		return 2;
	sysmap = strcmp(argv[1], "sysmap") == 0;
	if (sysmap && (status = seal_system_mappings(argv[3])) != 0)
		_exit(status);
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	reached = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	if (argc > 4 && strcmp(argv[4], "verify") == 0 && sysmap && (status = check_sealed()) != 0)
		_exit(status);
	if (write(atoi(argv[2]), &reached, sizeof(reached)) != sizeof(reached))
		_exit(5);
	_exit(0);
}
