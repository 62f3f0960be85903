/* SPDX-License-Identifier: GPL-2.0-only */
/* The probe's contract rows: mseal(2) itself as the kernel's Documentation/userspace-api/mseal.rst
 * documents it: bad flags or an unaligned start are EINVAL, an unallocated range or a gap in it
 * ENOMEM, length 0 succeeds, and a sealed region shows VmFlags sl. Each case runs in a child. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "maps.h"
#include "probe.h"
#include "probe_contract.h"
#include "seal.h"
#include "util.h"

struct contract_case {
	const char *key, *what;
	int expected_err;		/* 0: the call succeeds */
	/* Sets up, calls mseal and returns its errno (0: success); -1 after reporting broken. */
	int (*call)(int fd);
};

static int call_seals_region(int fd)
{
	char *p = probe_map_anon((size_t)probe_page_size(), PROT_READ | PROT_WRITE);

	if (p == MAP_FAILED)
		return probe_child_say(fd, PROBE_CHILD_BROKEN, errno, "mmap: %s", errno_text(errno)), -1;
	if (sys_mseal(p, (size_t)probe_page_size(), 0) < 0)
		return errno;
	if (!maps_sealed_at_self((uintptr_t)p))
		return probe_child_say(fd, PROBE_CHILD_BROKEN, 0, "mseal returned 0 but smaps shows no VmFlags sl"), -1;
	return 0;
}

static int call_len_zero(int fd)
{
	char *p = probe_map_anon((size_t)probe_page_size(), PROT_READ);

	if (p == MAP_FAILED)
		return probe_child_say(fd, PROBE_CHILD_BROKEN, errno, "mmap: %s", errno_text(errno)), -1;
	return sys_mseal(p, 0, 0) < 0 ? errno : 0;
}

static int call_bad_flags(int fd)
{
	char *p = probe_map_anon((size_t)probe_page_size(), PROT_READ);

	if (p == MAP_FAILED)
		return probe_child_say(fd, PROBE_CHILD_BROKEN, errno, "mmap: %s", errno_text(errno)), -1;
	return sys_mseal(p, (size_t)probe_page_size(), 1) < 0 ? errno : 0;
}

static int call_unaligned_start(int fd)
{
	char *p = probe_map_anon((size_t)probe_page_size(), PROT_READ);

	if (p == MAP_FAILED)
		return probe_child_say(fd, PROBE_CHILD_BROKEN, errno, "mmap: %s", errno_text(errno)), -1;
	return sys_mseal(p + 1, (size_t)probe_page_size() - 1, 0) < 0 ? errno : 0;
}

static int call_unmapped_gap(int fd)
{
	size_t pg = (size_t)probe_page_size();
	char *p = probe_map_anon(3 * pg, PROT_READ);

	if (p == MAP_FAILED || munmap(p + pg, pg) < 0)
		return probe_child_say(fd, PROBE_CHILD_BROKEN, errno, "mmap/munmap: %s", errno_text(errno)), -1;
	return sys_mseal(p, 3 * pg, 0) < 0 ? errno : 0;
}

static const struct contract_case contract_cases[] = {
	{ "mseal.seals_region", "mseal of an anonymous page succeeds and smaps shows VmFlags sl", 0,
	  call_seals_region },
	{ "mseal.len_zero", "length 0 succeeds and seals nothing", 0, call_len_zero },
	{ "mseal.bad_flags", "flags other than 0 are rejected", EINVAL, call_bad_flags },
	{ "mseal.unaligned_start", "a start address that is not page aligned is rejected", EINVAL,
	  call_unaligned_start },
	{ "mseal.unmapped_gap", "a range with an unmapped gap is rejected", ENOMEM, call_unmapped_gap },
};

static int contract_child(int fd, const void *arg)
{
	const struct contract_case *c = arg;
	int err = c->call(fd);

	if (err >= 0)
		probe_child_say(fd, PROBE_CHILD_RAN, err, NULL);
	return 0;
}

void probe_contract_rows(struct probe_report *r)
{
	bool available = r->kernel.mseal_errno == 0;

	for (size_t i = 0; i < ARRAY_SIZE(contract_cases); i++) {
		const struct contract_case *c = &contract_cases[i];
		struct probe_child_report rep;

		if (!available) {
			probe_add_row(r, c->key, PROBE_SKIP, "mseal(2) is not available: %s", errno_text(r->kernel.mseal_errno));
			continue;
		}
		probe_run_child(contract_child, c, 0, &rep);
		if (rep.status != PROBE_CHILD_RAN)
			probe_add_row(r, c->key, PROBE_FAIL, "%s: the probe could not run it: %s", c->what, rep.why);
		else if (rep.err == c->expected_err)
			probe_add_row(r, c->key, PROBE_PASS, "%s: %s, as documented", c->what,
				rep.err ? probe_errno_name(rep.err) : "returns 0");
		else
			probe_add_row(r, c->key, PROBE_FAIL, "%s: got %s, documented %s", c->what,
				rep.err ? errno_text(rep.err) : "success (0)",
				c->expected_err ? probe_errno_name(c->expected_err) : "success (0)");
	}
}
