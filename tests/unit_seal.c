/* SPDX-License-Identifier: GPL-2.0-only */
/* Sealing, done in children only: seal_apply(sysmap) must really seal the vDSO (mremap
 * refused with EPERM, smaps showing sl) and leave the parent untouched. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "maps.h"
#include "seal.h"
#include "tap.h"
#include "vdso_sym.h"

static bool find_vdso(const struct mapping *m, void *arg)
{
	if (strcmp(m->name, "[vdso]") != 0)
		return true;
	*(struct mapping *)arg = *m;
	return false;
}

/* Child: seal in mode, then try to move the whole vDSO (the kernel refuses partial moves).
 * Exit 0 when sealing behaved. */
static int child_seal_and_move_vdso(enum seal_mode mode)
{
	char err[256], names[256];
	struct mapping vdso_map = { 0 };
	void *vdso, *dst, *moved;
	size_t size;
	int n = seal_apply(mode, err, sizeof(err));

	if (n < 0)
		return 10;
	if (mode != SEAL_NONE && (sealed_system_mappings_self(names, sizeof(names)) < 1 || !strstr(names, "[vdso]")))
		return 11;
	maps_walk_self_smaps(find_vdso, &vdso_map);
	if (!vdso_map.start)
		return 14;
	vdso = (void *)vdso_map.start;
	size = vdso_map.end - vdso_map.start;
	dst = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	moved = mremap(vdso, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (mode == SEAL_NONE)
		return moved == MAP_FAILED ? 12 : 0;
	return moved == MAP_FAILED && errno == EPERM ? 0 : 13;
}

static int run_in_child(enum seal_mode mode)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(child_seal_and_move_vdso(mode));
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

/* Every row of the table is complete, and what derives from it lists every mode. */
static void test_seal_mode_table(void)
{
	char all[256], defaults[256];
	bool complete = !seal_modes[SEAL_NONE].seals_system_mappings && !seal_modes[SEAL_NONE].seals_file_mappings;

	for (int m = 0; m < SEAL_MODE_COUNT; m++) {
		enum seal_mode back;

		complete &= seal_modes[m].name && seal_modes[m].seals && seal_modes[m].note &&
			    (m == SEAL_NONE) == !seal_modes[m].ratio_label &&
			    seal_mode_parse(seal_modes[m].name, &back) && back == (enum seal_mode)m;
	}
	tap_ok(complete, "seal mode table: every mode has a name, what it seals, a note and (but the baseline "
	       "none, which seals nothing) a ratio label");
	seal_mode_names(all, sizeof(all), "|", false);
	seal_mode_names(defaults, sizeof(defaults), ",", true);
	tap_ok(strcmp(all, "none|sysmap|all") == 0 && strcmp(defaults, "none,sysmap") == 0,
	       "seal mode names derive from the table: '%s', defaults '%s'", all, defaults);
}

int main(void)
{
	char names[256];
	int r;

	if (mseal_probe() != 0) {
		tap_skip("sealing", "mseal(2) not available: %s", strerror(mseal_probe()));
		return 0;
	}
	if (!vdso_base()) {
		tap_skip("sealing", "no vDSO");
		return 0;
	}
	r = run_in_child(SEAL_SYSMAP);
	tap_ok(r == 0, "sysmap: [vdso] shows sl and mremap of it fails with EPERM (child status %d)", r);
	r = run_in_child(SEAL_ALL);
	tap_ok(r == 0, "all: [vdso] sealed too (child status %d)", r);
	r = run_in_child(SEAL_NONE);
	tap_ok(r == 0, "none: the vDSO can still be moved (child status %d)", r);
	tap_ok(sealed_system_mappings_self(names, sizeof(names)) == 0, "the parent stays unsealed");
	{
		enum seal_mode m;

		tap_ok(seal_mode_parse("sysmap", &m) && m == SEAL_SYSMAP && !seal_mode_parse("bogus", &m) &&
			       strcmp(seal_mode_name(SEAL_ALL), "all") == 0,
		       "seal mode names round-trip");
	}
	test_seal_mode_table();
	return tap_done();
}
