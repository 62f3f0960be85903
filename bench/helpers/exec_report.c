/* exec_report MODE FD [verify]: what the exec family execs.
 *
 * First it finds its system mappings in /proc/self/maps, in every MODE; in MODE sysmap it also
 * seals them, as a kernel with CONFIG_MSEAL_SYSTEM_MAPPINGS would have done during exec, so the
 * two modes differ by the mseal calls alone, not by the reading of maps. Then it reads CLOCK_MONOTONIC_RAW
 * and writes that time (8 bytes, native order) to FD, so the parent can tell spawn-to-main from
 * spawn-to-reaped. With "verify" it also checks /proc/self/smaps: in sysmap mode every system
 * mapping must show VmFlags "sl".
 *
 * It is one self-contained file, linked statically (and once dynamically), so its own start-up
 * stays small: the list of system mapping names repeats src/seal.c's on purpose.
 *
 * Exit status: 0 done, 2 bad usage, 3 a system mapping is not sealed (verify), 4 mseal failed,
 * 5 writing the time failed, 6 /proc/self/maps unreadable. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"

static const char *const system_mappings[] = {
	"[vdso]", "[vvar]", "[vvar_vclock]", "[uprobes]", "[sigpage]", "[vectors]",
};

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
	for (unsigned i = 0; i < sizeof(system_mappings) / sizeof(system_mappings[0]); i++) {
		size_t n = strlen(system_mappings[i]);

		if ((size_t)(eol - name) == n && memcmp(name, system_mappings[i], n) == 0)
			return 1;
	}
	return 0;
}

/* What the finding saw: written so the unsealed mode's parsing cannot be optimised away. */
volatile unsigned long found_bytes;

/* Finds the system mappings; seals them when seal is set. */
static int find_system_mappings(int seal)
{
	const char *p = read_proc("/proc/self/maps");

	if (!p)
		return 6;
	while (*p) {
		const char *eol = strchrnul(p, '\n');

		if (is_system_mapping(p, eol)) {
			char *dash;
			unsigned long start = strtoul(p, &dash, 16), end = strtoul(dash + 1, NULL, 16);

			found_bytes += end - start;
			if (seal && syscall(__NR_mseal, start, end - start, 0) != 0)
				return 4;
		}
		p = *eol ? eol + 1 : eol;
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

	if (argc < 3)
		return 2;
	sysmap = strcmp(argv[1], "sysmap") == 0;
	if ((status = find_system_mappings(sysmap)) != 0)
		_exit(status);
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	reached = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	if (argc > 3 && strcmp(argv[3], "verify") == 0 && sysmap && (status = check_sealed()) != 0)
		_exit(status);
	if (write(atoi(argv[2]), &reached, sizeof(reached)) != sizeof(reached))
		_exit(5);
	_exit(0);
}
