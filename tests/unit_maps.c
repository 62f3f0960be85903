/* SPDX-License-Identifier: GPL-2.0-only */
/* maps/smaps parsing: crafted lines, a crafted smaps stream, and this process's own. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "maps.h"
#include "tap.h"

struct count_ctx {
	int total, sealed, vdso;
};

static bool count_mapping(const struct mapping *m, void *arg)
{
	struct count_ctx *c = arg;

	c->total++;
	c->sealed += vmflags_has(m->vmflags, "sl");
	c->vdso += strcmp(m->name, "[vdso]") == 0;
	return true;
}

static void test_parse_line(void)
{
	struct mapping m;

	tap_ok(maps_parse_line("7ffd1a2b3000-7ffd1a2b5000 r-xp 00000000 00:00 0                          [vdso]\n", &m) &&
		       m.start == 0x7ffd1a2b3000 && m.end == 0x7ffd1a2b5000 && strcmp(m.perms, "r-xp") == 0 &&
		       strcmp(m.name, "[vdso]") == 0,
	       "maps line of [vdso]: addresses, perms and name");
	tap_ok(maps_parse_line("55d0c0000000-55d0c0021000 r--p 00001000 fe:01 1234   /usr/lib/a b.so (deleted)\n", &m) &&
		       m.offset == 0x1000 && m.inode == 1234 && strcmp(m.name, "/usr/lib/a b.so (deleted)") == 0,
	       "maps line with spaces in the path keeps the whole name");
	tap_ok(maps_parse_line("7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n", &m) && m.name[0] == '\0',
	       "anonymous mapping has an empty name");
	tap_ok(!maps_parse_line("not a maps line\n", &m), "garbage is rejected");
	tap_ok(!maps_parse_line("2000-1000 r-xp 00000000 00:00 0\n", &m), "end before start is rejected");
}

static void test_smaps_stream(void)
{
	static const char smaps[] =
		"7ffd1a2b3000-7ffd1a2b5000 r-xp 00000000 00:00 0      [vdso]\n"
		"Size:                  8 kB\n"
		"VmFlags: rd ex mr mw me de sl \n"
		"7ffd1a2b5000-7ffd1a2b7000 r--p 00000000 00:00 0      [vvar]\n"
		"Size:                  8 kB\n"
		"VmFlags: rd mr pf io de dd sd\n"
		"7f0000000000-7f0000001000 rw-p 00000000 00:00 0\n"
		"VmFlags: rd wr mr mw me ac slx\n";
	FILE *f = fmemopen((void *)smaps, sizeof(smaps) - 1, "r");
	struct count_ctx c = { 0 };
	long n = maps_walk(f, count_mapping, &c);

	fclose(f);
	tap_ok(n == 3 && c.total == 3, "smaps stream: three mappings (got %ld)", n);
	tap_ok(c.sealed == 1, "smaps stream: only [vdso] carries the sl flag, not a flag that starts with sl (got %d)",
	       c.sealed);
	tap_ok(vmflags_has("rd sl", "sl") && !vmflags_has("rd slx", "sl") && !vmflags_has("", "sl"),
	       "vmflags_has matches whole words");
}

static void test_self(void)
{
	struct count_ctx c = { 0 };
	long n = maps_walk_self_smaps(count_mapping, &c), vmas = count_vmas_self();

	tap_ok(n > 5 && n == c.total, "own smaps has mappings (%ld)", n);
	tap_ok(vmas == n, "count_vmas_self agrees with smaps (%ld vs %ld)", vmas, n);
	tap_ok(c.vdso == 1, "own smaps has one [vdso]");
	tap_ok(c.sealed == 0, "nothing is sealed in the test process");
}

int main(void)
{
	test_parse_line();
	test_smaps_stream();
	test_self();
	return tap_done();
}
