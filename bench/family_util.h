/* SPDX-License-Identifier: GPL-2.0-only */
/* What the fork, exec, mremap and mseal families share: runs of VMAs that the kernel cannot
 * merge, the address-space budget of a cell, and starting and reaping the project's helpers. */
#ifndef MSB_FAMILY_UTIL_H
#define MSB_FAMILY_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "bench.h"

/* A range of `vmas` adjacent anonymous VMAs of `pages` pages each, read-write, private. Every
 * other VMA carries MADV_DONTDUMP: the flags differ, so the kernel keeps them apart even when
 * mprotect() gives them all the same protection, and nothing else about them changes (it only
 * matters to core dumps). One-page holes on both sides keep it from merging with whatever
 * mmap() places next to it. */
struct vma_run {
	char *base;
	size_t len;		/* vmas * pages * page size */
	size_t vma_len;		/* pages * page size */
	long vmas;
};

size_t page_size(void);

/* 0, or -1 after bench_fail(). touch: write the first word of each VMA (so it has a page and
 * an anon_vma, as memory a program uses does). */
int vma_run_create(struct bench_ctx *ctx, struct vma_run *r, long vmas, long pages, bool touch);
/* Write one word into the first page of every VMA (again after MADV_DONTNEED). */
void vma_run_touch(const struct vma_run *r);
/* munmap() the range; a sealed run cannot be released and stays. */
void vma_run_release(struct vma_run *r);

/* Check in /proc/self/maps (smaps when sealed) that [base, base+len) is exactly `vmas` VMAs,
 * each with perms ("rw-", NULL: any) and, when sealed, VmFlags "sl". 0, or -1 after bench_fail(). */
int range_check(struct bench_ctx *ctx, const void *base, size_t len, long vmas, const char *perms, bool sealed);

/* supported() of benchmarks that seal their own targets: why not, when mseal(2) is missing. */
const char *needs_mseal(const struct bench *b, char *why, size_t len);
/* supported() of benchmarks that split VMAs or exec the helpers: why not under a user-mode
 * emulator, which answers madvise and /proc/self/maps itself and cannot exec a foreign helper
 * without binfmt_misc. */
const char *needs_native_kernel(const struct bench *b, char *why, size_t len);

/* How many more VMAs this process may create: vm.max_map_count minus the VMAs it has now,
 * minus a reserve for the harness (malloc, stdio, perf buffers). -1 when unreadable. */
long vma_room(void);

/* The environment the helpers are exec'd with: empty, as lmbench's lat_proc passes, so what an
 * exec costs does not depend on the user's environment (its size is copied by exec and scanned
 * by the dynamic loader: a 1.3 KB environment made a dynamic exec 3% slower). */
extern char *const helper_env[];

/* "<helper_dir>/<name>" into buf; 0, or -1 after bench_fail() when it is not executable
 * (the helpers are built by `make` beside the binary). */
int helper_path(struct bench_ctx *ctx, const char *name, char *buf, size_t len);

/* Reap pid; 0 when it exited with status 0, else -1 after bench_fail() naming what. */
int reap_ok(struct bench_ctx *ctx, pid_t pid, const char *what);

#endif
