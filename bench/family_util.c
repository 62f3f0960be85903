/* SPDX-License-Identifier: GPL-2.0-only */
#define _GNU_SOURCE
#include "family_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "child.h"
#include "emulation.h"
#include "maps.h"
#include "seal.h"
#include "util.h"

/* VMAs the harness itself may still need after set-up: malloc arenas, stdio, perf buffers. */
#define HARNESS_VMA_RESERVE 512

size_t page_size(void)
{
	static size_t size;

	if (!size)
		size = (size_t)sysconf(_SC_PAGESIZE);
	return size;
}

int vma_run_create(struct bench_ctx *ctx, struct vma_run *r, long vmas, long pages, bool touch)
{
	size_t page = page_size();
	char *p;

	memset(r, 0, sizeof(*r));
	if (vmas < 1 || pages < 1)
		return bench_fail(ctx, 0, "a run of %ld VMAs of %ld pages makes no sense", vmas, pages);
	r->vmas = vmas;
	r->vma_len = (size_t)pages * page;
	r->len = (size_t)vmas * r->vma_len;
	p = mmap(NULL, r->len + 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return bench_fail(ctx, errno, "mmap of %zu bytes for %ld VMAs", r->len + 2 * page, vmas);
	if (munmap(p, page) < 0 || munmap(p + page + r->len, page) < 0)
		return bench_fail(ctx, errno, "munmap of a guard page");
	p += page;
	r->base = p;
	for (long i = 1; i < vmas; i += 2)
		if (madvise(p + (size_t)i * r->vma_len, r->vma_len, MADV_DONTDUMP) < 0)
			return bench_fail(ctx, errno, "madvise(MADV_DONTDUMP) to split VMA %ld of %ld", i, vmas);
	if (touch)
		vma_run_touch(r);
	return 0;
}

void vma_run_touch(const struct vma_run *r)
{
	for (long i = 0; i < r->vmas; i++)
		*(volatile long *)(r->base + (size_t)i * r->vma_len) = i + 1;
}

void vma_run_release(struct vma_run *r)
{
	if (r->base && munmap(r->base, r->len) == 0)
		memset(r, 0, sizeof(*r));
}

const char *needs_mseal(const struct bench *b, char *why, size_t len)
{
	int err = mseal_probe();

	(void)b;
	if (!err)
		return NULL;
	snprintf(why, len, "mseal(2) is not available here (Linux 6.10 added it): %s", errno_text(err));
	return why;
}

const char *needs_native_kernel(const struct bench *b, char *why, size_t len)
{
	char host[64];

	(void)b;
	if (!emulated_on_host(host, sizeof(host)))
		return NULL;
	snprintf(why, len, "a user-mode emulator runs this binary on a %s kernel: it answers madvise and "
		 "/proc/self/maps itself (VMAs do not split) and cannot exec the helpers without binfmt_misc", host);
	return why;
}

long vma_room(void)
{
	char text[32];
	long max, now = count_vmas_self();

	if (now < 0 || !read_text_file("/proc/sys/vm/max_map_count", text, sizeof(text)) ||
	    !parse_long(text, 1, 1L << 40, &max))
		return -1;
	return max - now - HARNESS_VMA_RESERVE;
}

char *const helper_env[] = { NULL };

int helper_path(struct bench_ctx *ctx, const char *name, char *buf, size_t len)
{
	if (!ctx->helper_dir || !*ctx->helper_dir)
		return bench_fail(ctx, 0, "no helper directory given (run through `msealbench run`)");
	if ((size_t)snprintf(buf, len, "%s/%s", ctx->helper_dir, name) >= len)
		return bench_fail(ctx, 0, "helper path %s/%s is too long", ctx->helper_dir, name);
	if (access(buf, X_OK) < 0)
		return bench_fail(ctx, errno, "helper %s (build it with `make`)", buf);
	return 0;
}

int reap_ok(struct bench_ctx *ctx, pid_t pid, const char *what)
{
	int status;

	if (child_reap(pid, &status) < 0)
		return bench_fail(ctx, errno, "waitpid for %s", what);
	if (WIFSIGNALED(status))
		return bench_fail(ctx, 0, "%s was killed by signal %d (%s)", what, WTERMSIG(status),
				  strsignal(WTERMSIG(status)));
	if (WEXITSTATUS(status) != 0)
		return bench_fail(ctx, 0, "%s exited with status %d", what, WEXITSTATUS(status));
	return 0;
}

struct range_walk {
	uintptr_t start, end;
	const char *perms;
	bool sealed;
	long vmas;
	char problem[320];
};

static bool check_one(const struct mapping *m, void *arg)
{
	struct range_walk *w = arg;

	if (m->end <= w->start || m->start >= w->end)
		return true;
	w->vmas++;
	if (m->start < w->start || m->end > w->end)
		snprintf(w->problem, sizeof(w->problem), "VMA %#lx-%#lx reaches outside the range",
			 (unsigned long)m->start, (unsigned long)m->end);
	else if (w->perms && strncmp(m->perms, w->perms, 3) != 0)
		snprintf(w->problem, sizeof(w->problem), "VMA at %#lx is %s, expected %s", (unsigned long)m->start,
			 m->perms, w->perms);
	else if (w->sealed && !vmflags_has(m->vmflags, "sl"))
		snprintf(w->problem, sizeof(w->problem), "VMA at %#lx is not sealed (VmFlags: %s)",
			 (unsigned long)m->start, m->vmflags);
	return !w->problem[0];
}

int range_check(struct bench_ctx *ctx, const void *base, size_t len, long vmas, const char *perms, bool sealed)
{
	struct range_walk w = { (uintptr_t)base, (uintptr_t)base + len, perms, sealed, 0, "" };
	long got;

	if (sealed) {
		got = maps_walk_self_smaps(check_one, &w);
	} else {
		FILE *f = fopen("/proc/self/maps", "re");

		got = f ? maps_walk(f, check_one, &w) : -1;
		if (f)
			fclose(f);
	}
	if (got < 0)
		return bench_fail(ctx, errno, "reading /proc/self/%s", sealed ? "smaps" : "maps");
	if (w.problem[0])
		return bench_fail(ctx, 0, "range %p+%zu: %s", base, len, w.problem);
	if (w.vmas != vmas)
		return bench_fail(ctx, 0, "range %p+%zu spans %ld VMAs, expected %ld (merged or split)", base, len,
				  w.vmas, vmas);
	return 0;
}
