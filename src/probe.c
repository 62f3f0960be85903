/* msealbench probe: mseal(2)'s error contract, the kernel's sealing of system mappings at exec,
 * the kernel config that governs it, and a compatibility matrix of what sealing denies.
 *
 * The contract checked is the kernel's Documentation/userspace-api/mseal.rst: a sealed VMA
 * cannot be unmapped, moved, shrunk or expanded (mremap), mapped over (MAP_FIXED), or have its
 * protection changed (mprotect, pkey_mprotect): EPERM; discarding madvise() (MADV_DONTNEED) is
 * denied only on anonymous memory the process cannot write; fork() copies the seal with the VMA
 * and exec() replaces the whole address space, seals included. mseal itself: bad flags or an
 * unaligned start are EINVAL, an unallocated range or a gap in it ENOMEM, length 0 succeeds.
 *
 * Every row that seals runs in a forked child (and its unsealed control in another), so the
 * probing process never seals anything. */
#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arch.h"
#include "child.h"
#include "emulation.h"
#include "main.h"
#include "maps.h"
#include "seal.h"
#include "util.h"
#include "version.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define ANON_PAGES 4
#define PROBE_CHILD_TIMEOUT_S 60

/* ---- children and what they report ---- */

/* One line from a child: "ran ERRNO why", "na 0 why" (not applicable here) or "broken ERRNO why"
 * (the probe itself could not set the case up). */
enum child_status { CHILD_RAN, CHILD_NA, CHILD_BROKEN };

struct child_report {
	enum child_status status;
	int err;
	char why[200];
};

static const char *const child_status_words[] = { "ran", "na", "broken" };

__attribute__((format(printf, 4, 5)))
static void report(int fd, enum child_status status, int err, const char *fmt, ...)
{
	char why[200] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
	}
	why[strcspn(why, "\n")] = '\0';
	dprintf(fd, "%s %d %s\n", child_status_words[status], err, why);
}

/* Runs fn(fd, arg) in a child and returns everything it wrote to fd (malloc'd), or NULL with
 * why set when the child could not be started. A hung row must not hang the probe or a run:
 * it is killed after PROBE_CHILD_TIMEOUT_S. */
static char *probe_child_output(int (*fn)(int fd, const void *arg), const void *arg, int out_as,
				int *wstatus, char *why, size_t whylen)
{
	struct child_spec s = { .run = fn, .arg = arg, .out_as = out_as };
	bool late;
	char *out = child_output(&s, now_ns() + PROBE_CHILD_TIMEOUT_S * 1000000000ull, NULL, wstatus,
				 &late, why, whylen);

	if (out && late)
		snprintf(why, whylen, "probe child timed out after %d s and was killed", PROBE_CHILD_TIMEOUT_S);
	else if (out)
		child_describe_exit(*wstatus, "probe child", why, whylen);
	return out;
}

static void run_child(int (*fn)(int fd, const void *arg), const void *arg, int out_as,
		      struct child_report *rep)
{
	char word[16] = "", *out, ended[160];
	int wstatus = 0, n = 0;

	memset(rep, 0, sizeof(*rep));
	rep->status = CHILD_BROKEN;
	out = probe_child_output(fn, arg, out_as, &wstatus, ended, sizeof(ended));
	if (!out)
		str_copy(rep->why, sizeof(rep->why), ended);
	if (!out)
		return;
	if (sscanf(out, "%15s %d %n", word, &rep->err, &n) >= 2 && n > 0) {
		str_copy(rep->why, sizeof(rep->why), out + n);
		rep->why[strcspn(rep->why, "\n")] = '\0';
		for (int s = CHILD_RAN; s <= CHILD_BROKEN; s++)
			if (strcmp(word, child_status_words[s]) == 0)
				rep->status = (enum child_status)s;
	} else {
		snprintf(rep->why, sizeof(rep->why), "%s without a report", ended);
	}
	free(out);
}

/* ---- rows ---- */

static struct probe_row *add_row(struct probe_report *r, const char *key, enum probe_verdict v,
				 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static struct probe_row *add_row(struct probe_report *r, const char *key, enum probe_verdict v,
				 const char *fmt, ...)
{
	struct probe_row *row;
	va_list ap;

	if (r->nrows == PROBE_MAX_ROWS)
		die(1, "probe: more than %d rows (raise PROBE_MAX_ROWS)", PROBE_MAX_ROWS);
	row = &r->rows[r->nrows++];
	memset(row, 0, sizeof(*row));
	str_copy(row->key, sizeof(row->key), key);
	row->verdict = v;
	va_start(ap, fmt);
	vsnprintf(row->text, sizeof(row->text), fmt, ap);
	va_end(ap);
	return row;
}

static const char *errno_name(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "?";
}

static int page_size(void)
{
	return (int)sysconf(_SC_PAGESIZE);
}

static void *map_anon(size_t len, int prot)
{
	return mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* ---- mseal(2) and its error contract ---- */

struct contract_case {
	const char *key, *what;
	int expected_err;		/* 0: the call succeeds */
	/* Sets up, calls mseal and returns its errno (0: success); -1 after reporting broken. */
	int (*call)(int fd);
};

static bool smaps_sealed_at(uintptr_t addr);

static int call_seals_region(int fd)
{
	char *p = map_anon((size_t)page_size(), PROT_READ | PROT_WRITE);

	if (p == MAP_FAILED)
		return report(fd, CHILD_BROKEN, errno, "mmap: %s", errno_text(errno)), -1;
	if (sys_mseal(p, (size_t)page_size(), 0) < 0)
		return errno;
	if (!smaps_sealed_at((uintptr_t)p))
		return report(fd, CHILD_BROKEN, 0, "mseal returned 0 but smaps shows no VmFlags sl"), -1;
	return 0;
}

static int call_len_zero(int fd)
{
	char *p = map_anon((size_t)page_size(), PROT_READ);

	if (p == MAP_FAILED)
		return report(fd, CHILD_BROKEN, errno, "mmap: %s", errno_text(errno)), -1;
	return sys_mseal(p, 0, 0) < 0 ? errno : 0;
}

static int call_bad_flags(int fd)
{
	char *p = map_anon((size_t)page_size(), PROT_READ);

	if (p == MAP_FAILED)
		return report(fd, CHILD_BROKEN, errno, "mmap: %s", errno_text(errno)), -1;
	return sys_mseal(p, (size_t)page_size(), 1) < 0 ? errno : 0;
}

static int call_unaligned_start(int fd)
{
	char *p = map_anon((size_t)page_size(), PROT_READ);

	if (p == MAP_FAILED)
		return report(fd, CHILD_BROKEN, errno, "mmap: %s", errno_text(errno)), -1;
	return sys_mseal(p + 1, (size_t)page_size() - 1, 0) < 0 ? errno : 0;
}

static int call_unmapped_gap(int fd)
{
	size_t pg = (size_t)page_size();
	char *p = map_anon(3 * pg, PROT_READ);

	if (p == MAP_FAILED || munmap(p + pg, pg) < 0)
		return report(fd, CHILD_BROKEN, errno, "mmap/munmap: %s", errno_text(errno)), -1;
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
		report(fd, CHILD_RAN, err, NULL);
	return 0;
}

static void contract_rows(struct probe_report *r, bool available)
{
	for (size_t i = 0; i < ARRAY_SIZE(contract_cases); i++) {
		const struct contract_case *c = &contract_cases[i];
		struct child_report rep;

		if (!available) {
			add_row(r, c->key, PROBE_SKIP, "mseal(2) is not available: %s", errno_text(r->kernel.mseal_errno));
			continue;
		}
		run_child(contract_child, c, 0, &rep);
		if (rep.status != CHILD_RAN)
			add_row(r, c->key, PROBE_FAIL, "%s: the probe could not run it: %s", c->what, rep.why);
		else if (rep.err == c->expected_err)
			add_row(r, c->key, PROBE_PASS, "%s: %s, as documented", c->what,
				rep.err ? errno_name(rep.err) : "returns 0");
		else
			add_row(r, c->key, PROBE_FAIL, "%s: got %s, documented %s", c->what,
				rep.err ? errno_text(rep.err) : "success (0)",
				c->expected_err ? errno_name(c->expected_err) : "success (0)");
	}
}

static void config_rows(struct probe_report *r)
{
	const struct kernel_config *c = &r->kernel.config;

	if (c->checkpoint_restore == '?') {
		add_row(r, "config.checkpoint_restore", PROBE_SKIP,
			"unknown: no readable /proc/config.gz (with gzip) or /boot/config-<release>");
		add_row(r, "config.mseal_system_mappings", PROBE_SKIP,
			"unknown: no readable /proc/config.gz (with gzip) or /boot/config-<release>");
		return;
	}
	add_row(r, "config.checkpoint_restore", PROBE_PASS, "CONFIG_CHECKPOINT_RESTORE=%s (%s)%s",
		kernel_config_word(c->checkpoint_restore), c->source,
		c->checkpoint_restore == 'y' ? ": CONFIG_MSEAL_SYSTEM_MAPPINGS needs it off" : "");
	if (c->mseal_system_mappings == 'y' && c->checkpoint_restore == 'y')
		add_row(r, "config.mseal_system_mappings", PROBE_FAIL,
			"CONFIG_MSEAL_SYSTEM_MAPPINGS=y together with CONFIG_CHECKPOINT_RESTORE=y, which "
			"Kconfig forbids (%s)", c->source);
	else
		add_row(r, "config.mseal_system_mappings", PROBE_PASS, "CONFIG_MSEAL_SYSTEM_MAPPINGS=%s (%s)",
			kernel_config_word(c->mseal_system_mappings), c->source);
}

/* ---- system mappings sealed by the kernel at exec ---- */

static void sysmap_rows(struct probe_report *r)
{
	char want = r->kernel.config.mseal_system_mappings;

	for (int i = 0; system_mapping_names[i]; i++) {
		const char *name = system_mapping_names[i];
		char key[40];
		bool sealed = r->kernel.sysmap_sealed[i], expect;

		snprintf(key, sizeof(key), "sysmap.%.*s", (int)strlen(name) - 2, name + 1);
		if (!r->kernel.sysmap_known) {
			add_row(r, key, PROBE_FAIL, "could not read /proc/self/smaps in a freshly exec'd child "
				"(is /proc mounted?)");
			continue;
		}
		if (!r->kernel.sysmap_present[i]) {
			add_row(r, key, PROBE_SKIP, "%s is not mapped here", name);
			continue;
		}
		/* With the config unreadable, the mappings must at least agree with each other. */
		expect = want == 'y' || (want == '?' && r->kernel.kernel_seals);
		add_row(r, key, sealed == expect ? PROBE_PASS : PROBE_FAIL,
			"%s %s at exec by the kernel (VmFlags%s sl), %s CONFIG_MSEAL_SYSTEM_MAPPINGS=%s",
			name, sealed ? "sealed" : "not sealed", sealed ? "" : " without",
			sealed == expect ? "as expected with" : "but expected the opposite with",
			kernel_config_word(want));
	}
}

/* ---- the compatibility matrix ---- */

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

static bool find_named(const struct mapping *m, void *arg)
{
	struct mapping *want = arg;

	if (strcmp(m->name, want->name) == 0) {
		*want = *m;
		return false;
	}
	return true;
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

static bool smaps_sealed_at(uintptr_t addr)
{
	struct sealed_at s = { addr, false };

	maps_walk_self_smaps(find_sealed_at, &s);
	return s.sealed;
}

static const char *setup_target(struct target *t, const struct matrix_job *job)
{
	static char why[160];
	size_t pg = (size_t)page_size();

	memset(t, 0, sizeof(*t));
	t->kind = job->kind;
	t->pkey = -1;
	if (t->kind == TARGET_VDSO) {
		struct mapping vdso = { .name = "[vdso]" };

		if (maps_walk_self_smaps(find_named, &vdso) < 0 || !vdso.end)
			return "no [vdso] mapping here";
		t->addr = (char *)vdso.start;
		t->len = vdso.end - vdso.start;
		if ((t->spare = map_anon(t->len, PROT_NONE)) == MAP_FAILED)
			goto mmap_failed;
		return NULL;
	}
	/* The spare first: mapped after the target it could land in the hole kept for expansion. */
	t->len = ANON_PAGES * pg;
	if ((t->spare = map_anon(t->len, PROT_NONE)) == MAP_FAILED ||
	    (t->addr = map_anon(2 * t->len, PROT_READ | PROT_WRITE)) == MAP_FAILED ||
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
	return mremap(t->addr, t->len, t->len - (size_t)page_size(), 0) == MAP_FAILED ? errno : 0;
}

static int run_mremap_expand(struct target *t, const struct matrix_job *job)
{
	(void)job;
	return mremap(t->addr, t->len, t->len + (size_t)page_size(), 0) == MAP_FAILED ? errno : 0;
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
		return report(job->fd, CHILD_BROKEN, errno, "fork: %s", errno_text(errno)), -1;
	if (pid == 0)
		_exit(munmap(t->addr, t->len) == 0 ? 0 : errno & 0xff);
	child_reap(pid, &wstatus);
	if (!WIFEXITED(wstatus))
		return report(job->fd, CHILD_BROKEN, 0, "forked child killed by signal %d", WTERMSIG(wstatus)), -1;
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
		return report(job->fd, CHILD_BROKEN, errno, "dup2: %s", errno_text(errno)), -1;
	exec_self(job->self_exe, (char *const *)argv);
	return report(job->fd, CHILD_BROKEN, errno, "exec %s: %s", job->self_exe, errno_text(errno)), -1;
}

static const char *prepare_shrink(struct target *t)
{
	return t->len > (size_t)page_size() ? NULL : "the target is a single page";
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
		report(fd, t.kind == TARGET_VDSO && !t.addr ? CHILD_NA : CHILD_BROKEN, 0, "%s", why);
		return 0;
	}
	if (job.op->prepare && (why = job.op->prepare(&t))) {
		report(fd, CHILD_NA, 0, "%s", why);
		return 0;
	}
	if (job.sealed && sys_mseal(t.addr, t.len, 0) < 0) {
		report(fd, CHILD_BROKEN, errno, "mseal(%s %p, %zu): %s", target_names[t.kind], (void *)t.addr,
		       t.len, errno_text(errno));
		return 0;
	}
	err = job.op->run(&t, &job);
	if (err >= 0)
		report(fd, CHILD_RAN, err, NULL);
	return 0;
}

static enum probe_outcome outcome_of(const struct child_report *rep)
{
	if (rep->status == CHILD_NA)
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
static bool control_as_expected(const struct child_report *control, enum probe_outcome want)
{
	return want == OUTCOME_ALLOWED ? control->err == 0 : control->err == EPERM;
}

static const char *outcome_text(enum probe_outcome o, int err, char *buf, size_t len)
{
	if (o == OUTCOME_DENIED)
		snprintf(buf, len, "denied (%s)", errno_name(err));
	else
		snprintf(buf, len, "%s", o == OUTCOME_ALLOWED ? "allowed" : "not applicable");
	return buf;
}

static void matrix_row(struct probe_report *r, const struct matrix_op *op, enum target_kind k,
		       const char *self_exe)
{
	struct matrix_job job = { op, k, false, self_exe, -1 };
	struct child_report control, sealed;
	enum probe_outcome want, want_control;
	char key[40], a[48], b[48], c[48];
	struct probe_row *row;

	snprintf(key, sizeof(key), "%s.%s", target_names[k], op->name);
	if (r->kernel.mseal_errno) {
		row = add_row(r, key, PROBE_SKIP, "mseal(2) is not available: %s", errno_text(r->kernel.mseal_errno));
		row->matrix = true;
		row->outcome = row->control = OUTCOME_NOT_APPLICABLE;
		return;
	}
	run_child(matrix_child, &job, 0, &control);
	job.sealed = true;
	run_child(matrix_child, &job, 0, &sealed);
	expected_outcome(r, op, k, &want, &want_control);
	if (control.status == CHILD_BROKEN || sealed.status == CHILD_BROKEN) {
		row = add_row(r, key, PROBE_FAIL, "%s: the probe could not run it: %s", op->what,
			      control.status == CHILD_BROKEN ? control.why : sealed.why);
	} else if (control.status == CHILD_NA || sealed.status == CHILD_NA) {
		row = add_row(r, key, PROBE_SKIP, "not applicable: %s",
			      control.status == CHILD_NA ? control.why : sealed.why);
	} else if (!control_as_expected(&control, want_control) && k == TARGET_VDSO) {
		/* The vDSO is a special mapping: some operations fail on it sealed or not. */
		row = add_row(r, key, PROBE_SKIP, "not applicable: %s fails on an unsealed vDSO too: %s",
			      op->what, errno_text(control.err));
		sealed.status = CHILD_NA;
	} else {
		bool match = control_as_expected(&control, want_control) && outcome_of(&sealed) == want &&
			     (want != OUTCOME_DENIED || sealed.err == EPERM);

		row = add_row(r, key, match ? PROBE_PASS : PROBE_FAIL, "%s: sealed %s, %s %s; documented %s%s",
			      op->what, outcome_text(outcome_of(&sealed), sealed.err, a, sizeof(a)),
			      want_control == OUTCOME_ALLOWED ? "unsealed" : "sealed by the kernel at exec",
			      outcome_text(outcome_of(&control), control.err, b, sizeof(b)),
			      outcome_text(want, EPERM, c, sizeof(c)),
			      control_as_expected(&control, want_control) ? "" : want_control == OUTCOME_ALLOWED ?
			      " (the unsealed control should be allowed)" : " (the control should behave as sealed)");
	}
	row->matrix = true;
	row->outcome = sealed.status == CHILD_BROKEN ? OUTCOME_NONE : outcome_of(&sealed);
	row->control = control.status == CHILD_BROKEN ? OUTCOME_NONE : outcome_of(&control);
	row->expected = want;
	row->err = sealed.status == CHILD_RAN ? sealed.err : 0;
	row->control_err = control.status == CHILD_RAN ? control.err : 0;
}

static void matrix_rows(struct probe_report *r, const char *self_exe)
{
	for (int k = TARGET_VDSO; k <= TARGET_ANON; k++)
		for (size_t i = 0; i < ARRAY_SIZE(matrix_ops); i++)
			if (matrix_ops[i].targets & (1u << k))
				matrix_row(r, &matrix_ops[i], (enum target_kind)k, self_exe);
}

/* ---- the whole probe ---- */

void probe_collect(struct probe_report *r, const struct kernel_facts *k, const char *self_exe)
{
	bool available;

	memset(r, 0, sizeof(*r));
	r->kernel = *k;
	available = r->kernel.mseal_errno == 0;
	if (available)
		add_row(r, "mseal.available", PROBE_PASS, "mseal(2) is available");
	else if (r->kernel.mseal_errno == ENOSYS || r->kernel.mseal_errno == EPERM)
		add_row(r, "mseal.available", PROBE_SKIP, "mseal(2) is not available: %s (Linux 6.10+, 64-bit)",
			errno_text(r->kernel.mseal_errno));
	else
		add_row(r, "mseal.available", PROBE_FAIL, "mseal(NULL, 0, 0) failed: %s, expected 0 or ENOSYS",
			errno_text(r->kernel.mseal_errno));
	contract_rows(r, available);
	config_rows(r);
	sysmap_rows(r);
	matrix_rows(r, self_exe);
	for (int i = 0; i < r->nrows; i++) {
		r->passed += r->rows[i].verdict == PROBE_PASS;
		r->failed += r->rows[i].verdict == PROBE_FAIL;
		r->skipped += r->rows[i].verdict == PROBE_SKIP;
	}
}

int probe_exit_status(const struct probe_report *r)
{
	if (r->failed)
		return 1;
	return r->kernel.mseal_errno ? 4 : 0;
}

/* ---- output ---- */

static const char *const outcome_words[] = { NULL, "allowed", "denied", "not_applicable" };
static const char *const verdict_words[] = { "ok", "not ok", "skip" };

void probe_print_tap(const struct probe_report *r, FILE *f)
{
	fprintf(f, "TAP version 13\n1..%d\n", r->nrows);
	for (int i = 0; i < r->nrows; i++) {
		const struct probe_row *row = &r->rows[i];

		if (row->verdict == PROBE_SKIP)
			fprintf(f, "ok %d %s # SKIP %s\n", i + 1, row->key, row->text);
		else
			fprintf(f, "%s %d %s: %s\n", row->verdict == PROBE_FAIL ? "not ok" : "ok", i + 1,
				row->key, row->text);
	}
	fprintf(f, "# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n", r->passed, r->failed,
		r->skipped);
}

static void write_errno(struct json *j, const char *key, enum probe_outcome o, int err)
{
	json_string(j, key, o == OUTCOME_DENIED && err ? errno_name(err) : NULL);
}

static void write_row(struct json *j, const struct probe_row *row, int number)
{
	json_object_begin(j, NULL);
	json_integer(j, "number", number);
	json_string(j, "key", row->key);
	json_string(j, "result", verdict_words[row->verdict]);
	json_string(j, "text", row->text);
	if (row->matrix) {
		json_string(j, "sealed", outcome_words[row->outcome]);
		write_errno(j, "sealed_errno", row->outcome, row->err);
		json_string(j, "unsealed", outcome_words[row->control]);
		write_errno(j, "unsealed_errno", row->control, row->control_err);
		json_string(j, "documented", outcome_words[row->expected]);
	}
	json_object_end(j);
}

void probe_print_json(const struct probe_report *r, FILE *f)
{
	struct utsname u;
	struct json j;

	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	json_init(&j, f);
	json_object_begin(&j, NULL);
	json_string(&j, "schema", "msealbench-probe");
	json_integer(&j, "schema_version", 1);
	json_string(&j, "tool_version", MSB_VERSION);
	json_string(&j, "kernel_release", u.release);
	json_string(&j, "arch", ARCH_NAME);
	kernel_facts_write_mseal(&j, &r->kernel);
	kernel_facts_write_config(&j, &r->kernel);
	if (r->kernel.sysmap_known) {
		json_array_begin(&j, "system_mappings");
		for (int i = 0; system_mapping_names[i]; i++) {
			if (!r->kernel.sysmap_present[i])
				continue;
			json_object_begin(&j, NULL);
			json_string(&j, "name", system_mapping_names[i]);
			json_bool(&j, "sealed_at_exec", r->kernel.sysmap_sealed[i]);
			json_object_end(&j);
		}
		json_array_end(&j);
	} else {
		json_null(&j, "system_mappings");
	}
	json_array_begin(&j, "rows");
	for (int i = 0; i < r->nrows; i++)
		write_row(&j, &r->rows[i], i + 1);
	json_array_end(&j);
	json_integer(&j, "passed", r->passed);
	json_integer(&j, "failed", r->failed);
	json_integer(&j, "skipped", r->skipped);
	json_integer(&j, "exit_status", probe_exit_status(r));
	json_object_end(&j);
	fputc('\n', f);
}

static void write_keys(struct json *j, const char *key, const struct probe_report *r, enum probe_outcome o)
{
	json_array_begin(j, key);
	for (int i = 0; i < r->nrows; i++)
		if (r->rows[i].matrix && r->rows[i].outcome == o)
			json_string(j, NULL, r->rows[i].key);
	json_array_end(j);
}

void probe_write_context(struct json *j, const struct probe_report *r)
{
	json_object_begin(j, "probe");
	json_bool(j, "mseal_available", r->kernel.mseal_errno == 0);
	kernel_facts_write_config(j, &r->kernel);
	write_keys(j, "denied", r, OUTCOME_DENIED);
	write_keys(j, "allowed", r, OUTCOME_ALLOWED);
	write_keys(j, "not_applicable", r, OUTCOME_NOT_APPLICABLE);
	json_array_begin(j, "mismatches");
	for (int i = 0; i < r->nrows; i++)
		if (r->rows[i].verdict == PROBE_FAIL)
			json_string(j, NULL, r->rows[i].key);
	json_array_end(j);
	json_integer(j, "passed", r->passed);
	json_integer(j, "failed", r->failed);
	json_integer(j, "skipped", r->skipped);
	json_object_end(j);
}

/* ---- the exec'd side ---- */

/* The new program's vDSO keeps its protection (r-x): harmless, and denied only when sealed. */
static void exec_side_vdso(void)
{
	struct mapping vdso = { .name = "[vdso]" };

	if (maps_walk_self_smaps(find_named, &vdso) < 0 || !vdso.end) {
		report(STDOUT_FILENO, CHILD_NA, 0, "no [vdso] mapping after exec");
		return;
	}
	report(STDOUT_FILENO, CHILD_RAN, errno_of(mprotect((void *)vdso.start, vdso.end - vdso.start,
							    PROT_READ | PROT_EXEC)), NULL);
}

/* The sealed region was in the old address space: its address is free or holds an unsealed
 * mapping of the new program. Denied only when a sealed mapping is there. */
static void exec_side_anon(const char *addr_text, const char *len_text)
{
	unsigned long addr = strtoul(addr_text, NULL, 0), len = strtoul(len_text, NULL, 0);
	void *p = mmap((void *)addr, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p != MAP_FAILED && (unsigned long)p == addr)
		report(STDOUT_FILENO, CHILD_RAN, 0, NULL);
	else if (p == MAP_FAILED && errno == EEXIST)
		report(STDOUT_FILENO, CHILD_RAN, smaps_sealed_at(addr) ? EPERM : 0, NULL);
	else
		report(STDOUT_FILENO, CHILD_BROKEN, p == MAP_FAILED ? errno : 0, "mmap(%#lx) after exec: %s",
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
