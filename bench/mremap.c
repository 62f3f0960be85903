/* SPDX-License-Identifier: GPL-2.0-only */
/* mremap-path family: the memory-management calls that sealing guards, on anonymous memory.
 * Allowed path: mremap move, resize in place, MREMAP_DONTUNMAP, munmap + mmap, and, over a range
 * spanning `vmas` VMAs of `pages` pages each, munmap, mprotect and madvise(MADV_DONTNEED). The
 * kernel checks seals per VMA on these paths (the 6.10 patch reported 20-40 ns per VMA), so the
 * question is whether a sealed process pays on calls that are allowed.
 * Denied path (".sealed"): the same calls on a sealed target; each one must fail with EPERM,
 * which shows what a refused call costs beside an allowed one.
 * Each operation checks its result; verify() checks data, VMA counts, protections and seals. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"
#include "family_util.h"
#include "seal.h"

#define POOL_MAX 32	/* targets one sample may consume: max_batch of the pooled benchmarks */

enum mm_call { MOVE, RESIZE, DONTUNMAP, MUNMAP_MMAP, MUNMAP, MPROTECT, MADVISE };

struct mm_kind {
	enum mm_call call;
	bool sealed;	/* the denied path */
};

struct mremap_state {
	struct vma_run run;		/* the target, except for MUNMAP/MADVISE */
	char *cur, *other;		/* MOVE, DONTUNMAP: where the data is, where it goes next */
	struct vma_run pool[POOL_MAX];	/* MUNMAP, MADVISE: one target per operation of a sample */
	int pooled;
	long vmas, pages;
	bool read_only;			/* MPROTECT: what the last call set */
};

static const struct mm_kind *kind_of(const struct bench_ctx *ctx)
{
	return ctx->bench->arg;
}

/* A page-sized hole with one free page on each side, for data to move to. The holes stay
 * free: nothing in the cell maps memory while it measures. */
static char *reserve_hole(struct bench_ctx *ctx, size_t len)
{
	size_t page = page_size();
	char *p = mmap(NULL, len + 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || munmap(p, len + 2 * page) < 0) {
		bench_fail(ctx, errno, "reserving %zu bytes of address space", len + 2 * page);
		return NULL;
	}
	return p + page;
}

/* Every page of the moving data holds its index + 1. */
static void fill_pages(char *p, size_t len)
{
	for (size_t off = 0; off < len; off += page_size())
		*(long *)(p + off) = (long)(off / page_size()) + 1;
}

static int check_pages(struct bench_ctx *ctx, const char *p, size_t len)
{
	for (size_t off = 0; off < len; off += page_size())
		if (*(const long *)(p + off) != (long)(off / page_size()) + 1)
			return bench_fail(ctx, 0, "page %zu of the moved data at %p lost its contents", off / page_size(),
					  (const void *)p);
	return 0;
}

/* Growing in place needs the target's length free right above it (and a page more, so the
 * grown VMA does not touch a neighbour): map it all, then give the upper part back. */
static int create_growable(struct bench_ctx *ctx, struct mremap_state *s)
{
	size_t page = page_size(), len = (size_t)s->pages * page;
	char *p = mmap(NULL, 2 * len + 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return bench_fail(ctx, errno, "mmap of %zu bytes", 2 * len + 2 * page);
	if (munmap(p, page) < 0 || munmap(p + page + len, len + page) < 0)
		return bench_fail(ctx, errno, "munmap around the target");
	s->run = (struct vma_run){ .base = p + page, .len = len, .vma_len = len, .vmas = 1 };
	return 0;
}

static int setup_single(struct bench_ctx *ctx, struct mremap_state *s)
{
	bool growable = kind_of(ctx)->call == RESIZE;

	if (growable ? create_growable(ctx, s) < 0 : vma_run_create(ctx, &s->run, 1, s->pages, false) < 0)
		return -1;
	fill_pages(s->run.base, s->run.len);
	s->cur = s->run.base;
	if (kind_of(ctx)->call == MOVE || kind_of(ctx)->call == DONTUNMAP) {
		s->other = reserve_hole(ctx, s->run.len);
		return s->other ? 0 : -1;
	}
	return 0;
}

/* A sealed run for the denied path: touched, read-only for madvise (discarding read-write
 * anonymous memory stays allowed when sealed), then sealed. */
static int setup_sealed(struct bench_ctx *ctx, struct mremap_state *s)
{
	if (vma_run_create(ctx, &s->run, s->vmas, s->pages, true) < 0)
		return -1;
	if (kind_of(ctx)->call == MADVISE && mprotect(s->run.base, s->run.len, PROT_READ) < 0)
		return bench_fail(ctx, errno, "mprotect(PROT_READ) of the target");
	if (kind_of(ctx)->call == MOVE && !(s->other = reserve_hole(ctx, s->run.len)))
		return -1;
	if (sys_mseal(s->run.base, s->run.len, 0) < 0)
		return bench_fail(ctx, errno, "mseal of the target");
	return 0;
}

static int mremap_setup(struct bench_ctx *ctx)
{
	const struct mm_kind *k = kind_of(ctx);
	struct mremap_state *s = calloc(1, sizeof(*s));

	if (!s)
		return bench_fail(ctx, ENOMEM, "mremap state");
	ctx->state = s;
	s->vmas = bench_param(ctx, "vmas");
	s->pages = bench_param(ctx, "pages");
	if (!s->vmas)
		s->vmas = 1;
	if (!s->pages)
		s->pages = 1;
	if (k->sealed)
		return setup_sealed(ctx, s);
	if (k->call == MPROTECT)
		return vma_run_create(ctx, &s->run, s->vmas, s->pages, true);
	if (k->call == MUNMAP || k->call == MADVISE)
		return 0;
	return setup_single(ctx, s);
}

static void mremap_teardown(struct bench_ctx *ctx)
{
	struct mremap_state *s = ctx->state;

	if (!s)
		return;
	for (int i = 0; i < s->pooled; i++)
		vma_run_release(&s->pool[i]);
	if (s->cur && s->cur != s->run.base)
		munmap(s->cur, s->run.len);	/* the data moved; run.base is a hole or empty */
	vma_run_release(&s->run);
	free(s);
	ctx->state = NULL;
}

/* Fresh targets: munmap consumes them, madvise needs their pages back. */
static int mremap_prepare(struct bench_ctx *ctx, uint64_t n)
{
	struct mremap_state *s = ctx->state;
	bool consume = kind_of(ctx)->call == MUNMAP;

	if (n > POOL_MAX)
		return bench_fail(ctx, 0, "a sample of %llu operations exceeds the pool of %d targets",
				  (unsigned long long)n, POOL_MAX);
	if (consume)
		s->pooled = 0;
	for (; s->pooled < (int)n; s->pooled++)
		if (vma_run_create(ctx, &s->pool[s->pooled], s->vmas, s->pages, true) < 0)
			return -1;
	if (!consume)
		for (uint64_t i = 0; i < n; i++)
			vma_run_touch(&s->pool[i]);
	return 0;
}

static int op_move(struct bench_ctx *ctx, uint64_t n)
{
	struct mremap_state *s = ctx->state;
	int flags = MREMAP_MAYMOVE | MREMAP_FIXED | (kind_of(ctx)->call == DONTUNMAP ? MREMAP_DONTUNMAP : 0);
	size_t len = s->run.len, last = len - page_size();

	for (uint64_t i = 0; i < n; i++) {
		char *to = s->other, *p = mremap(s->cur, len, len, flags, to);

		if (p != to)
			return bench_fail(ctx, p == MAP_FAILED ? errno : 0, "mremap move of %zu bytes to %p", len,
					  (void *)to);
		if (*(long *)p != 1 || *(long *)(p + last) != (long)(last / page_size()) + 1)
			return bench_fail(ctx, 0, "the data did not arrive at %p after mremap", (void *)p);
		s->other = s->cur;
		s->cur = p;
	}
	return 0;
}

static int op_resize(struct bench_ctx *ctx, uint64_t n)
{
	struct mremap_state *s = ctx->state;
	char *base = s->run.base;
	size_t len = s->run.len;

	for (uint64_t i = 0; i < n; i++) {
		if (mremap(base, len, 2 * len, 0) != base)
			return bench_fail(ctx, errno, "mremap growing %zu bytes in place", len);
		if (mremap(base, 2 * len, len, 0) != base)
			return bench_fail(ctx, errno, "mremap shrinking back in place");
	}
	return 0;
}

static int op_munmap_mmap(struct bench_ctx *ctx, uint64_t n)
{
	struct mremap_state *s = ctx->state;
	char *base = s->run.base;
	size_t len = s->run.len;

	for (uint64_t i = 0; i < n; i++) {
		if (munmap(base, len) < 0)
			return bench_fail(ctx, errno, "munmap of %zu bytes", len);
		if (mmap(base, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != base)
			return bench_fail(ctx, errno, "mmap(MAP_FIXED) back over the same range");
	}
	return 0;
}

static int op_pooled(struct bench_ctx *ctx, uint64_t n)
{
	struct mremap_state *s = ctx->state;
	bool unmap = kind_of(ctx)->call == MUNMAP;

	for (uint64_t i = 0; i < n; i++) {
		struct vma_run *r = &s->pool[i];

		if (unmap ? munmap(r->base, r->len) : madvise(r->base, r->len, MADV_DONTNEED))
			return bench_fail(ctx, errno, "%s over %ld VMAs", unmap ? "munmap" : "madvise(MADV_DONTNEED)",
					  r->vmas);
	}
	if (unmap)
		s->pooled = 0;
	return 0;
}

static int op_mprotect(struct bench_ctx *ctx, uint64_t n)
{
	struct mremap_state *s = ctx->state;

	for (uint64_t i = 0; i < n; i++) {
		int prot = s->read_only ? PROT_READ | PROT_WRITE : PROT_READ;

		if (mprotect(s->run.base, s->run.len, prot) < 0)
			return bench_fail(ctx, errno, "mprotect over %ld VMAs", s->vmas);
		s->read_only = !s->read_only;
	}
	return 0;
}

/* One call on the sealed target; 0 only when it failed with EPERM. */
static int try_denied(struct bench_ctx *ctx, struct mremap_state *s)
{
	const char *what = "?";
	long r = 0;

	errno = 0;
	switch (kind_of(ctx)->call) {
	case MOVE:
		what = "mremap move";
		r = mremap(s->run.base, s->run.len, s->run.len, MREMAP_MAYMOVE | MREMAP_FIXED, s->other) == MAP_FAILED ? -1 : 0;
		break;
	case MUNMAP:
		what = "munmap";
		r = munmap(s->run.base, s->run.len);
		break;
	case MPROTECT:
		what = "mprotect(PROT_READ)";
		r = mprotect(s->run.base, s->run.len, PROT_READ);
		break;
	case MADVISE:
		what = "madvise(MADV_DONTNEED) of read-only memory";
		r = madvise(s->run.base, s->run.len, MADV_DONTNEED);
		break;
	default:
		break;
	}
	if (r == 0 || errno != EPERM)
		return bench_fail(ctx, r ? errno : 0, "%s of a sealed target %s, expected EPERM", what,
				  r ? "failed otherwise" : "succeeded");
	return 0;
}

static int op_denied(struct bench_ctx *ctx, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (try_denied(ctx, ctx->state) < 0)
			return -1;
	return 0;
}

/* What each benchmark promises, checked after set-up and after the last sample. */
static int mremap_verify(struct bench_ctx *ctx)
{
	const struct mm_kind *k = kind_of(ctx);
	struct mremap_state *s = ctx->state;

	if (k->sealed) {
		if (try_denied(ctx, s) < 0 || range_check(ctx, s->run.base, s->run.len, s->vmas, NULL, true) < 0)
			return -1;
		for (long i = 0; i < s->vmas; i++)
			if (*(long *)(s->run.base + (size_t)i * s->run.vma_len) != i + 1)
				return bench_fail(ctx, 0, "the sealed target lost its data in VMA %ld", i);
		return 0;
	}
	switch (k->call) {
	case MOVE:
	case DONTUNMAP:
		return check_pages(ctx, s->cur, s->run.len) < 0 ? -1 : range_check(ctx, s->cur, s->run.len, 1, "rw-", false);
	case RESIZE:
	case MUNMAP_MMAP:
		return range_check(ctx, s->run.base, s->run.len, 1, "rw-", false);
	case MPROTECT:
		if (op_mprotect(ctx, 1) < 0)
			return -1;
		return range_check(ctx, s->run.base, s->run.len, s->vmas, s->read_only ? "r--" : "rw-", false);
	case MUNMAP:
	case MADVISE:
		/* A fresh target has `vmas` VMAs; after the call it is gone or reads zero. */
		if (mremap_prepare(ctx, 1) < 0 ||
		    range_check(ctx, s->pool[0].base, s->pool[0].len, s->vmas, "rw-", false) < 0 ||
		    op_pooled(ctx, 1) < 0)
			return -1;
		if (k->call == MUNMAP)
			return range_check(ctx, s->pool[0].base, s->pool[0].len, 0, NULL, false);
		for (long i = 0; i < s->vmas; i++)
			if (*(volatile long *)(s->pool[0].base + (size_t)i * s->pool[0].vma_len) != 0)
				return bench_fail(ctx, 0, "VMA %ld still holds data after MADV_DONTNEED", i);
		return 0;
	}
	return 0;
}

#define PAGES "pages=1,16,512"
#define PAGES_QUICK "pages=1,512"
#define SPAN "pages=1,16,512;vmas=1,8,64,512"
#define SPAN_QUICK "pages=1;vmas=1,64"
#define SEALED_SPAN "vmas=1,8,64,512"
#define SEALED_SPAN_QUICK "vmas=1,64"

#define MM_BENCH(nm, call_, sealed_, opfn, sweep, quick, batch, what)                               \
	{ .name = nm, .family = "mremap", .summary = what, .params = sweep, .quick_params = quick,    \
	  .max_batch = batch, .arg = &(const struct mm_kind){ call_, sealed_ },                      \
	  .supported = sealed_ ? needs_mseal : call_ >= MUNMAP ? needs_native_kernel : NULL,         \
	  .setup = mremap_setup, .op = opfn, .verify = mremap_verify, .teardown = mremap_teardown,   \
	  .prepare = (call_ == MUNMAP || call_ == MADVISE) && !sealed_ ? mremap_prepare : NULL }

const struct bench family_mremap[] = {
	MM_BENCH("move", MOVE, false, op_move, PAGES, PAGES_QUICK, 0,
		 "mremap(MREMAP_MAYMOVE|MREMAP_FIXED) of `pages` written pages to a hole and back next time; "
		 "the data must arrive"),
	MM_BENCH("resize", RESIZE, false, op_resize, PAGES, PAGES_QUICK, 0,
		 "mremap growing `pages` written pages to twice their size in place, then shrinking back "
		 "(two calls)"),
	MM_BENCH("dontunmap", DONTUNMAP, false, op_move, PAGES, PAGES_QUICK, 0,
		 "mremap(MREMAP_MAYMOVE|MREMAP_FIXED|MREMAP_DONTUNMAP) of `pages` written pages, to and fro; "
		 "the source stays mapped, empty"),
	MM_BENCH("munmap_mmap", MUNMAP_MMAP, false, op_munmap_mmap, PAGES, PAGES_QUICK, 0,
		 "munmap of `pages` untouched pages and mmap(MAP_FIXED) of the same range (two calls)"),
	MM_BENCH("munmap", MUNMAP, false, op_pooled, SPAN, SPAN_QUICK, POOL_MAX,
		 "munmap of a range of `vmas` VMAs of `pages` pages, each VMA with one written page"),
	MM_BENCH("mprotect", MPROTECT, false, op_mprotect, SPAN, SPAN_QUICK, 0,
		 "mprotect toggling read-only / read-write over `vmas` VMAs of `pages` pages (one written "
		 "page each)"),
	MM_BENCH("madvise_dontneed", MADVISE, false, op_pooled, SPAN, SPAN_QUICK, POOL_MAX,
		 "madvise(MADV_DONTNEED) over `vmas` read-write VMAs of `pages` pages, each with one "
		 "written page to discard"),
	MM_BENCH("move.sealed", MOVE, true, op_denied, NULL, NULL, 0,
		 "denied: mremap move of a sealed page, must fail with EPERM"),
	MM_BENCH("munmap.sealed", MUNMAP, true, op_denied, SEALED_SPAN, SEALED_SPAN_QUICK, 0,
		 "denied: munmap of `vmas` sealed one-page VMAs, must fail with EPERM"),
	MM_BENCH("mprotect.sealed", MPROTECT, true, op_denied, SEALED_SPAN, SEALED_SPAN_QUICK, 0,
		 "denied: mprotect(PROT_READ) of `vmas` sealed one-page VMAs, must fail with EPERM"),
	MM_BENCH("madvise_dontneed.sealed", MADVISE, true, op_denied, SEALED_SPAN, SEALED_SPAN_QUICK, 0,
		 "denied: madvise(MADV_DONTNEED) of `vmas` sealed read-only one-page VMAs, must fail with "
		 "EPERM"),
	{ 0 },
};
