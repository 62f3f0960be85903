/* SPDX-License-Identifier: GPL-2.0-only */
/* The probe's compatibility matrix: what sealing denies, on a sealed vDSO and a sealed anonymous
 * region, each against an unsealed control, as the kernel's Documentation/userspace-api/mseal.rst
 * says: a sealed VMA cannot be unmapped, moved, shrunk or expanded (mremap), mapped over
 * (MAP_FIXED), or have its protection changed (mprotect, pkey_mprotect): EPERM; discarding
 * madvise() (MADV_DONTNEED) is denied only on anonymous memory the process cannot write; fork()
 * copies the seal with the VMA and exec() replaces the whole address space, seals included.
 * Every case runs in a child, sealed or not; the exec row's new program is __probe-exec. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child.h"
#include "emulation.h"
#include "main.h"
#include "maps.h"
#include "probe.h"
#include "probe_matrix.h"
#include "seal.h"
#include "util.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define ANON_PAGES 4

enum target_kind { TARGET_VDSO, TARGET_ANON };
static const char *const target_names[] = { "vdso", "anon" };

struct target {
	enum target_kind kind;
	char *addr;
	size_t len;
	char *spare;		/* a reserved PROT_NONE area of len bytes: where moves go */
	int pkey;
};

struct matrix_op;
struct matrix_job {
	const struct matrix_op *op;
	enum target_kind kind;
	bool sealed;
	const char *self_exe;
	int fd;
};

struct matrix_op {
	const char *name, *what;
	unsigned targets;		/* 1 << TARGET_* */
	int anon_prot;			/* the anonymous target's protection when sealed */
	enum probe_outcome documented;	/* on a sealed target */
	bool exec_row;			/* the outcome is the exec'd program's, see expected_outcome() */
	/* NULL when the case applies here, else why not. */
	const char *(*prepare)(struct target *t);
	/* 0 allowed, an errno denied, -1 after reporting broken. */
	int (*run)(struct target *t, const struct matrix_job *job);
};

static const char *setup_target(struct target *t, const struct matrix_job *job)
{
	static char why[160];
	size_t pg = (size_t)probe_page_size();

	memset(t, 0, sizeof(*t));
	t->kind = job->kind;
	t->pkey = -1;
	if (t->kind == TARGET_VDSO) {
		struct mapping vdso;

		if (!maps_find_self("[vdso]", &vdso))
			return "no [vdso] mapping here";
		t->addr = (char *)vdso.start;
		t->len = vdso.end - vdso.start;
		if ((t->spare = probe_map_anon(t->len, PROT_NONE)) == MAP_FAILED)
			goto mmap_failed;
		return NULL;
	}
	/* The spare first: mapped after the target it could land in the hole kept for expansion. */
	t->len = ANON_PAGES * pg;
	if ((t->spare = probe_map_anon(t->len, PROT_NONE)) == MAP_FAILED ||
	    (t->addr = probe_map_anon(2 * t->len, PROT_READ | PROT_WRITE)) == MAP_FAILED ||
	    munmap(t->addr + t->len, t->len) < 0)
		goto mmap_failed;
	memset(t->addr, 1, t->len);
	if (job->op->anon_prot != (PROT_READ | PROT_WRITE) && mprotect(t->addr, t->len, job->op->anon_prot) < 0)
		goto mmap_failed;
	return NULL;
mmap_failed:
	snprintf(why, sizeof(why), "setting up the target: %s", errno_text(errno));
	return why;
}

static int errno_of(long ret)
{
	return ret < 0 ? errno : 0;
}

static int run_mremap_move(struct target *t, const struct matrix_job *job)
{
	(void)job;
	return mremap(t->addr, t->len, t->len, MREMAP_MAYMOVE | MREMAP_FIXED, t->spare) == MAP_FAILED ? errno : 0;
}

static int run_mremap_shrink(struct target *t, const struct matrix_job *job)
{
	(void)job;
	return mremap(t->addr, t->len, t->len - (size_t)probe_page_size(), 0) == MAP_FAILED ? errno : 0;
}

static int run_mremap_expand(struct target *t, const struct matrix_job *job)
{
	(void)job;
	return mremap(t->addr, t->len, t->len + (size_t)probe_page_size(), 0) == MAP_FAILED ? errno : 0;
}

static int run_mremap_dontunmap(struct target *t, const struct matrix_job *job)
{
	(void)job;
	return mremap(t->addr, t->len, t->len, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
		      t->spare) == MAP_FAILED ? errno : 0;
}

static int run_munmap(struct target *t, const struct matrix_job *job)
{
	(void)job;
	return errno_of(munmap(t->addr, t->len));
}

static int run_mprotect(struct target *t, const struct matrix_job *job)
{
	(void)job;
	return errno_of(mprotect(t->addr, t->len, PROT_READ));
}

static int run_pkey_mprotect(struct target *t, const struct matrix_job *job)
{
	(void)job;
	return errno_of(syscall(SYS_pkey_mprotect, t->addr, t->len, PROT_READ, t->pkey));
}

static int run_mmap_fixed(struct target *t, const struct matrix_job *job)
{
	(void)job;
	return mmap(t->addr, t->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
	       MAP_FAILED ? errno : 0;
}

static int run_madvise_dontneed(struct target *t, const struct matrix_job *job)
{
	(void)job;
	return errno_of(madvise(t->addr, t->len, MADV_DONTNEED));
}

/* The forked grandchild tries to unmap the target: denied when the seal came along. */
static int run_fork_munmap(struct target *t, const struct matrix_job *job)
{
	int wstatus;
	pid_t pid = fork();

	if (pid < 0)
		return probe_child_say(job->fd, PROBE_CHILD_BROKEN, errno, "fork: %s", errno_text(errno)), -1;
	if (pid == 0)
		_exit(munmap(t->addr, t->len) == 0 ? 0 : errno & 0xff);
	child_reap(pid, &wstatus);
	if (!WIFEXITED(wstatus))
		return probe_child_say(job->fd, PROBE_CHILD_BROKEN, 0, "forked child killed by signal %d", WTERMSIG(wstatus)), -1;
	return WEXITSTATUS(wstatus);
}

/* Exec `msealbench __probe-exec vdso|anon ADDR LEN`: the new program reports on the report fd. */
static int run_exec(struct target *t, const struct matrix_job *job)
{
	char addr[32], len[32];
	const char *argv[] = { job->self_exe, "__probe-exec", target_names[t->kind], addr, len, NULL };

	snprintf(addr, sizeof(addr), "%#lx", (unsigned long)t->addr);
	snprintf(len, sizeof(len), "%zu", t->len);
	if (dup2(job->fd, STDOUT_FILENO) < 0)
		return probe_child_say(job->fd, PROBE_CHILD_BROKEN, errno, "dup2: %s", errno_text(errno)), -1;
	exec_self(job->self_exe, (char *const *)argv);
	return probe_child_say(job->fd, PROBE_CHILD_BROKEN, errno, "exec %s: %s", job->self_exe, errno_text(errno)), -1;
}

static const char *prepare_shrink(struct target *t)
{
	return t->len > (size_t)probe_page_size() ? NULL : "the target is a single page";
}

static const char *prepare_pkey(struct target *t)
{
	static char why[160];

	t->pkey = (int)syscall(SYS_pkey_alloc, 0, 0);
	if (t->pkey >= 0)
		return NULL;
	if (errno == ENOSPC || errno == EINVAL || errno == ENOSYS)
		snprintf(why, sizeof(why), "no memory protection keys here: pkey_alloc: %s", errno_text(errno));
	else
		snprintf(why, sizeof(why), "pkey_alloc failed: %s", errno_text(errno));
	return why;
}

#define BOTH ((1u << TARGET_VDSO) | (1u << TARGET_ANON))
#define ANON (1u << TARGET_ANON)
#define RW (PROT_READ | PROT_WRITE)

static const struct matrix_op matrix_ops[] = {
	{ "mremap_move", "mremap to a new address (as CRIU and rr move the vDSO)", BOTH, RW,
	  OUTCOME_DENIED, false, NULL, run_mremap_move },
	{ "mremap_shrink", "mremap to a smaller size in place", BOTH, RW, OUTCOME_DENIED, false,
	  prepare_shrink, run_mremap_shrink },
	{ "mremap_expand", "mremap to a larger size in place", BOTH, RW, OUTCOME_DENIED, false, NULL,
	  run_mremap_expand },
	{ "mremap_dontunmap", "mremap MREMAP_DONTUNMAP to a new address", BOTH, RW, OUTCOME_DENIED, false,
	  NULL, run_mremap_dontunmap },
	{ "munmap", "munmap", BOTH, RW, OUTCOME_DENIED, false, NULL, run_munmap },
	{ "mprotect", "mprotect to PROT_READ", BOTH, RW, OUTCOME_DENIED, false, NULL, run_mprotect },
	{ "pkey_mprotect", "pkey_mprotect to PROT_READ with an allocated key", BOTH, RW, OUTCOME_DENIED,
	  false, prepare_pkey, run_pkey_mprotect },
	{ "mmap_fixed", "mmap(MAP_FIXED) over it", BOTH, RW, OUTCOME_DENIED, false, NULL, run_mmap_fixed },
	{ "madvise_dontneed_ro", "madvise MADV_DONTNEED on read-only anonymous memory", ANON, PROT_READ,
	  OUTCOME_DENIED, false, NULL, run_madvise_dontneed },
	{ "madvise_dontneed_rw", "madvise MADV_DONTNEED on read-write anonymous memory", ANON, RW,
	  OUTCOME_ALLOWED, false, NULL, run_madvise_dontneed },
	{ "fork_keeps_seal", "munmap in a forked child (the seal is inherited)", BOTH, RW,
	  OUTCOME_DENIED, false, NULL, run_fork_munmap },
	{ "exec_drops_seal", "after exec, change the new mapping (vDSO: mprotect; anon: map its old "
	  "address)", BOTH, RW, OUTCOME_ALLOWED, true, NULL, run_exec },
};

static int matrix_child(int fd, const void *arg)
{
	struct matrix_job job = *(const struct matrix_job *)arg;
	struct target t;
	const char *why;
	int err;

	job.fd = fd;
	if ((why = setup_target(&t, &job))) {
		probe_child_say(fd, t.kind == TARGET_VDSO && !t.addr ? PROBE_CHILD_NA : PROBE_CHILD_BROKEN, 0, "%s", why);
		return 0;
	}
	if (job.op->prepare && (why = job.op->prepare(&t))) {
		probe_child_say(fd, PROBE_CHILD_NA, 0, "%s", why);
		return 0;
	}
	if (job.sealed && sys_mseal(t.addr, t.len, 0) < 0) {
		probe_child_say(fd, PROBE_CHILD_BROKEN, errno, "mseal(%s %p, %zu): %s", target_names[t.kind], (void *)t.addr,
		       t.len, errno_text(errno));
		return 0;
	}
	err = job.op->run(&t, &job);
	if (err >= 0)
		probe_child_say(fd, PROBE_CHILD_RAN, err, NULL);
	return 0;
}

static enum probe_outcome outcome_of(const struct probe_child_report *rep)
{
	if (rep->status == PROBE_CHILD_NA)
		return OUTCOME_NOT_APPLICABLE;
	return rep->err ? OUTCOME_DENIED : OUTCOME_ALLOWED;
}

/* What the documentation promises for the sealed target, and for the control. When the kernel
 * sealed the vDSO at exec (CONFIG_MSEAL_SYSTEM_MAPPINGS) there is no unsealed vDSO to compare
 * with: the control is sealed too and must behave like the sealed target, exec included. */
static void expected_outcome(const struct probe_report *r, const struct matrix_op *op, enum target_kind k,
			     enum probe_outcome *sealed, enum probe_outcome *control)
{
	int vdso = system_mapping_index("[vdso]");
	bool kernel_sealed_vdso = k == TARGET_VDSO && vdso >= 0 && r->kernel.sysmap_sealed[vdso];

	*sealed = op->documented;
	*control = OUTCOME_ALLOWED;
	if (kernel_sealed_vdso)
		*sealed = *control = op->exec_row ? OUTCOME_DENIED : op->documented;
}

/* The control must be allowed, or (a kernel-sealed vDSO) denied for the seal: EPERM. */
static bool control_as_expected(const struct probe_child_report *control, enum probe_outcome want)
{
	return want == OUTCOME_ALLOWED ? control->err == 0 : control->err == EPERM;
}

static const char *outcome_text(enum probe_outcome o, int err, char *buf, size_t len)
{
	if (o == OUTCOME_DENIED)
		snprintf(buf, len, "denied (%s)", probe_errno_name(err));
	else
		snprintf(buf, len, "%s", o == OUTCOME_ALLOWED ? "allowed" : "not applicable");
	return buf;
}

static void matrix_row(struct probe_report *r, const struct matrix_op *op, enum target_kind k,
		       const char *self_exe)
{
	struct matrix_job job = { op, k, false, self_exe, -1 };
	struct probe_child_report control, sealed;
	enum probe_outcome want, want_control;
	char key[40], a[48], b[48], c[48];
	struct probe_row *row;

	snprintf(key, sizeof(key), "%s.%s", target_names[k], op->name);
	if (r->kernel.mseal_errno) {
		row = probe_add_row(r, key, PROBE_SKIP, "mseal(2) is not available: %s", errno_text(r->kernel.mseal_errno));
		row->matrix = true;
		row->outcome = row->control = OUTCOME_NOT_APPLICABLE;
		return;
	}
	probe_run_child(matrix_child, &job, 0, &control);
	job.sealed = true;
	probe_run_child(matrix_child, &job, 0, &sealed);
	expected_outcome(r, op, k, &want, &want_control);
	if (control.status == PROBE_CHILD_BROKEN || sealed.status == PROBE_CHILD_BROKEN) {
		row = probe_add_row(r, key, PROBE_FAIL, "%s: the probe could not run it: %s", op->what,
			      control.status == PROBE_CHILD_BROKEN ? control.why : sealed.why);
	} else if (control.status == PROBE_CHILD_NA || sealed.status == PROBE_CHILD_NA) {
		row = probe_add_row(r, key, PROBE_SKIP, "not applicable: %s",
			      control.status == PROBE_CHILD_NA ? control.why : sealed.why);
	} else if (!control_as_expected(&control, want_control) && k == TARGET_VDSO) {
		/* The vDSO is a special mapping: some operations fail on it sealed or not. */
		row = probe_add_row(r, key, PROBE_SKIP, "not applicable: %s fails on an unsealed vDSO too: %s",
			      op->what, errno_text(control.err));
		sealed.status = PROBE_CHILD_NA;
	} else {
		bool match = control_as_expected(&control, want_control) && outcome_of(&sealed) == want &&
			     (want != OUTCOME_DENIED || sealed.err == EPERM);

		row = probe_add_row(r, key, match ? PROBE_PASS : PROBE_FAIL, "%s: sealed %s, %s %s; documented %s%s",
			      op->what, outcome_text(outcome_of(&sealed), sealed.err, a, sizeof(a)),
			      want_control == OUTCOME_ALLOWED ? "unsealed" : "sealed by the kernel at exec",
			      outcome_text(outcome_of(&control), control.err, b, sizeof(b)),
			      outcome_text(want, EPERM, c, sizeof(c)),
			      control_as_expected(&control, want_control) ? "" : want_control == OUTCOME_ALLOWED ?
			      " (the unsealed control should be allowed)" : " (the control should behave as sealed)");
	}
	row->matrix = true;
	row->outcome = sealed.status == PROBE_CHILD_BROKEN ? OUTCOME_NONE : outcome_of(&sealed);
	row->control = control.status == PROBE_CHILD_BROKEN ? OUTCOME_NONE : outcome_of(&control);
	row->expected = want;
	row->err = sealed.status == PROBE_CHILD_RAN ? sealed.err : 0;
	row->control_err = control.status == PROBE_CHILD_RAN ? control.err : 0;
}

void probe_matrix_rows(struct probe_report *r, const char *self_exe)
{
	for (int k = TARGET_VDSO; k <= TARGET_ANON; k++)
		for (size_t i = 0; i < ARRAY_SIZE(matrix_ops); i++)
			if (matrix_ops[i].targets & (1u << k))
				matrix_row(r, &matrix_ops[i], (enum target_kind)k, self_exe);
}

/* ---- the exec'd side of exec_drops_seal: `msealbench __probe-exec vdso|anon ADDR LEN` ---- */

/* The new program's vDSO keeps its protection (r-x): harmless, and denied only when sealed. */
static void exec_side_vdso(void)
{
	struct mapping vdso;

	if (!maps_find_self("[vdso]", &vdso)) {
		probe_child_say(STDOUT_FILENO, PROBE_CHILD_NA, 0, "no [vdso] mapping after exec");
		return;
	}
	probe_child_say(STDOUT_FILENO, PROBE_CHILD_RAN, errno_of(mprotect((void *)vdso.start, vdso.end - vdso.start,
							    PROT_READ | PROT_EXEC)), NULL);
}

/* The sealed region was in the old address space: its address is free or holds an unsealed
 * mapping of the new program. Denied only when a sealed mapping is there. */
static void exec_side_anon(const char *addr_text, const char *len_text)
{
	unsigned long addr = strtoul(addr_text, NULL, 0), len = strtoul(len_text, NULL, 0);
	void *p = mmap((void *)addr, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p != MAP_FAILED && (unsigned long)p == addr)
		probe_child_say(STDOUT_FILENO, PROBE_CHILD_RAN, 0, NULL);
	else if (p == MAP_FAILED && errno == EEXIST)
		probe_child_say(STDOUT_FILENO, PROBE_CHILD_RAN, maps_sealed_at_self(addr) ? EPERM : 0, NULL);
	else
		probe_child_say(STDOUT_FILENO, PROBE_CHILD_BROKEN, p == MAP_FAILED ? errno : 0, "mmap(%#lx) after exec: %s",
		       addr, p == MAP_FAILED ? errno_text(errno) : "placed elsewhere");
}

static int probe_exec_main(int argc, char **argv, const char *self_exe)
{
	(void)self_exe;
	msb_prog = "msealbench __probe-exec";
	if (argc == 4 && strcmp(argv[1], "vdso") == 0)
		exec_side_vdso();
	else if (argc == 4 && strcmp(argv[1], "anon") == 0)
		exec_side_anon(argv[2], argv[3]);
	else
		die(2, "internal command: run by `msealbench probe`");
	return 0;
}

const struct command cmd_probe_exec = { "__probe-exec", probe_exec_main, NULL, NULL };
