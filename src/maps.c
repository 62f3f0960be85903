/* SPDX-License-Identifier: GPL-2.0-only */
#include "maps.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

bool maps_parse_line(const char *line, struct mapping *m)
{
	unsigned long long start, end, off;
	unsigned long inode;
	char perms[8];
	unsigned dmaj, dmin;
	int pos = 0;

	memset(m, 0, sizeof(*m));
	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %lu %n", &start, &end, perms, &off, &dmaj, &dmin,
		   &inode, &pos) < 7 || pos == 0)
		return false;
	if (end < start || strlen(perms) != 4)
		return false;
	m->start = (uintptr_t)start;
	m->end = (uintptr_t)end;
	memcpy(m->perms, perms, 5);
	m->offset = off;
	m->inode = inode;
	snprintf(m->name, sizeof(m->name), "%s", line + pos);
	m->name[strcspn(m->name, "\n")] = '\0';
	return true;
}

/* smaps interleaves "Key: value" lines after each mapping line; a mapping line starts
 * with a hex address followed by '-'. */
static bool is_mapping_line(const char *line)
{
	const char *p = line;

	while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
		p++;
	return p != line && *p == '-';
}

long maps_walk(FILE *f, mapping_fn fn, void *arg)
{
	char line[1024];
	struct mapping cur;
	bool have = false;
	long count = 0;

	while (fgets(line, sizeof(line), f)) {
		if (is_mapping_line(line)) {
			if (have && !fn(&cur, arg))
				return count;
			if (!maps_parse_line(line, &cur))
				return -1;
			have = true;
			count++;
		} else if (have && strncmp(line, "VmFlags:", 8) == 0) {
			const char *v = line + 8;

			while (*v == ' ')
				v++;
			str_copy(cur.vmflags, sizeof(cur.vmflags), v);
			cur.vmflags[strcspn(cur.vmflags, "\n")] = '\0';
		}
	}
	if (have)
		fn(&cur, arg);
	return count;
}

long maps_walk_self_smaps(mapping_fn fn, void *arg)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	long n;

	if (!f)
		return -1;
	n = maps_walk(f, fn, arg);
	fclose(f);
	if (n < 0)
		errno = EINVAL;
	return n;
}

bool vmflags_has(const char *vmflags, const char *flag)
{
	size_t len = strlen(flag);

	for (const char *p = vmflags; *p;) {
		while (*p == ' ')
			p++;
		if (strncmp(p, flag, len) == 0 && (p[len] == ' ' || p[len] == '\0'))
			return true;
		while (*p && *p != ' ')
			p++;
	}
	return false;
}

long count_vmas_self(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[1024];
	long n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (is_mapping_line(line))
			n++;
	fclose(f);
	return n;
}

struct named {
	const char *name;
	struct mapping *out;
	bool found;
};

static bool find_named(const struct mapping *m, void *arg)
{
	struct named *n = arg;

	if (strcmp(m->name, n->name) != 0)
		return true;
	*n->out = *m;
	n->found = true;
	return false;
}

bool maps_find_self(const char *name, struct mapping *out)
{
	struct named n = { name, out, false };

	return maps_walk_self_smaps(find_named, &n) >= 0 && n.found;
}

struct sealed_at {
	uintptr_t addr;
	bool sealed;
};

static bool find_sealed_at(const struct mapping *m, void *arg)
{
	struct sealed_at *s = arg;

	if (s->addr >= m->start && s->addr < m->end) {
		s->sealed = vmflags_has(m->vmflags, "sl");
		return false;
	}
	return true;
}

bool maps_sealed_at_self(uintptr_t addr)
{
	struct sealed_at s = { addr, false };

	maps_walk_self_smaps(find_sealed_at, &s);
	return s.sealed;
}
