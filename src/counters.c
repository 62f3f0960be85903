/* SPDX-License-Identifier: GPL-2.0-only */
#define _GNU_SOURCE
#include "counters.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pmu_names.h"
#include "util.h"

static const char *const status_names[] = { "counted", "unsupported", "not_permitted", "unavailable" };

const char *counter_status_name(enum counter_status s)
{
	return status_names[s];
}

const char *counters_naming(void)
{
	return pmu_names_library();
}

struct named_event {
	const char *name;
	uint32_t type;
	uint64_t config;
};

static const struct named_event generic_events[] = {
	{ "task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK },
	{ "cpu-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK },
	{ "page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS },
	{ "minor-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN },
	{ "major-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ },
	{ "context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES },
	{ "cpu-migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS },
	{ "cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES },
	{ "instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS },
	{ "branches", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS },
	{ "branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES },
	{ "cache-references", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES },
	{ "cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES },
	{ "dTLB-load-misses", PERF_TYPE_HW_CACHE,
	  PERF_COUNT_HW_CACHE_DTLB | (PERF_COUNT_HW_CACHE_OP_READ << 8) |
		  (PERF_COUNT_HW_CACHE_RESULT_MISS << 16) },
};

/* ":u" counts user space only, ":k" kernel only; no suffix counts both. */
static int apply_modifiers(const char *mods, struct perf_event_attr *attr, char *err, size_t errlen)
{
	bool user = false, kernel = false;

	for (const char *p = mods; *p; p++) {
		if (*p == 'u')
			user = true;
		else if (*p == 'k')
			kernel = true;
		else {
			snprintf(err, errlen, "unknown event modifier '%c' (known: u, k)", *p);
			return -1;
		}
	}
	if (user || kernel) {
		attr->exclude_user = !user;
		attr->exclude_kernel = !kernel;
	}
	return 0;
}

/* Context switches and migrations happen in the scheduler, in kernel context: counted for user
 * space only they are always 0, so they never fall back to user space only. */
static bool counts_only_in_kernel(const struct perf_event_attr *attr)
{
	return attr->type == PERF_TYPE_SOFTWARE && (attr->config == PERF_COUNT_SW_CONTEXT_SWITCHES ||
						    attr->config == PERF_COUNT_SW_CPU_MIGRATIONS);
}

static int resolve_name(const char *name, struct perf_event_attr *attr, char *err, size_t errlen)
{
	char base[COUNTERS_NAME_MAX + 1];
	const char *colon = strchr(name, ':');
	size_t len = colon ? (size_t)(colon - name) : strlen(name);

	memset(attr, 0, sizeof(*attr));
	attr->size = sizeof(*attr);
	if (strlen(name) > COUNTERS_NAME_MAX) {
		snprintf(err, errlen, "event name longer than %d characters", COUNTERS_NAME_MAX);
		return COUNTERS_UNKNOWN;
	}
	memcpy(base, name, len);
	base[len] = '\0';
	/* The generic names first: the kernel maps them to each PMU the same way perf does, where
	 * a PMU's own table might offer a same-named event of its own. */
	for (size_t i = 0; i < ARRAY_SIZE(generic_events); i++) {
		if (strcmp(generic_events[i].name, base) == 0) {
			attr->type = generic_events[i].type;
			attr->config = generic_events[i].config;
			return colon ? apply_modifiers(colon + 1, attr, err, errlen) : 0;
		}
	}
	return pmu_names_encode(name, attr, err, errlen);
}

int counters_resolve(const char *name, struct perf_event_attr *attr, char *err, size_t errlen)
{
	int r = resolve_name(name, attr, err, errlen);

	if (r == 0 && counts_only_in_kernel(attr) && attr->exclude_kernel) {
		snprintf(err, errlen, "it happens in the kernel only: counted for user space only it "
				      "is always 0 (drop the ':u')");
		return COUNTERS_UNKNOWN;
	}
	return r;
}

bool counters_check_list(const char *list, char *err, size_t errlen)
{
	char *copy, *save = NULL, *names[COUNTERS_MAX];
	int n = 0;
	bool good = true;

	if (strlen(list) > COUNTERS_LIST_MAX) {
		snprintf(err, errlen, "the event list is %zu characters long, more than the %d allowed",
			 strlen(list), COUNTERS_LIST_MAX);
		return false;
	}
	if (!utf8_valid(list)) {	/* the names end up in results files: valid UTF-8 JSON */
		snprintf(err, errlen, "the text is not valid UTF-8");
		return false;
	}
	copy = xstrdup(list);
	for (char *tok = strtok_r(copy, ",", &save); tok && good; tok = strtok_r(NULL, ",", &save)) {
		struct perf_event_attr attr;
		char why[200];

		if (n == COUNTERS_MAX) {
			snprintf(err, errlen, "more than %d events (one counter group holds at most %d)",
				 COUNTERS_MAX, COUNTERS_MAX);
			good = false;
		} else if (counters_resolve(tok, &attr, why, sizeof(why)) == COUNTERS_UNKNOWN) {
			snprintf(err, errlen, "event '%s': %s", tok, why);
			good = false;
		}
		for (int i = 0; good && i < n; i++) {
			if (strcmp(names[i], tok) == 0) {
				snprintf(err, errlen, "event '%s' is given twice", tok);
				good = false;
			}
		}
		if (good)
			names[n++] = tok;
	}
	free(copy);
	return good;
}

static long open_perf_event(struct perf_event_attr *attr, int group_fd)
{
	return syscall(__NR_perf_event_open, attr, 0, -1, group_fd, PERF_FLAG_FD_CLOEXEC);
}

enum counter_status counters_status_from_errno(int err)
{
	switch (err) {
	case ENOENT:
	case EOPNOTSUPP:
	case EINVAL:
		return COUNTER_UNSUPPORTED;
	case EACCES:
	case EPERM:
		return COUNTER_NOT_PERMITTED;
	default:
		return COUNTER_UNAVAILABLE;
	}
}

static void explain_failure(struct counter_event *ev, int err)
{
	char paranoid[32] = "?";

	read_text_file("/proc/sys/kernel/perf_event_paranoid", paranoid, sizeof(paranoid));
	switch (counters_status_from_errno(err)) {
	case COUNTER_UNSUPPORTED:
		snprintf(ev->reason, sizeof(ev->reason),
			 "perf_event_open: %s: this machine has no such event (no hardware PMU?)",
			 errno_text(err));
		break;
	case COUNTER_NOT_PERMITTED:
		/* open_event() already retried user-only when kernel counting was refused */
		snprintf(ev->reason, sizeof(ev->reason),
			 "perf_event_open: %s: perf_event_paranoid is %s; %s needs "
			 "kernel.perf_event_paranoid <= %d or CAP_PERFMON%s",
			 errno_text(err), paranoid, ev->attr.exclude_kernel ? "user-space counting" : "kernel counting",
			 ev->attr.exclude_kernel ? 2 : 1,
			 counts_only_in_kernel(&ev->attr) ? " (a kernel-only event: 0 in user space)" : "");
		break;
	case COUNTER_UNAVAILABLE:
		snprintf(ev->reason, sizeof(ev->reason), "perf_event_open: %s%s", errno_text(err),
			 err == ENOSYS ? ": no perf events here (qemu-user, or a kernel without "
					 "CONFIG_PERF_EVENTS)" : "");
		break;
	default:
		snprintf(ev->reason, sizeof(ev->reason), "perf_event_open: %s", errno_text(err));
	}
}

static bool refused(int err)
{
	return err == EACCES || err == EPERM;
}

/* Open one event into the group. When kernel counting is refused, fall back to user space
 * only rather than to nothing, and say so. The kernel checks permission before it looks for the
 * event's PMU, so the user-space attempt is made in any case: when it fails otherwise (ENOENT:
 * no PMU), that is the real cause. */
static int open_event(struct counter_group *g, struct counter_event *ev)
{
	long fd = open_perf_event(&ev->attr, g->leader_fd);

	if (fd < 0 && refused(errno) && !ev->attr.exclude_kernel) {
		/* A ":k" event, or one that happens in the kernel only, is nothing without the kernel. */
		bool fall_back = !ev->attr.exclude_user && !counts_only_in_kernel(&ev->attr);
		struct perf_event_attr user = ev->attr;
		int first = errno, second;
		char paranoid[32] = "?";

		user.exclude_user = 0;
		user.exclude_kernel = 1;
		fd = open_perf_event(&user, g->leader_fd);
		second = errno;
		read_text_file("/proc/sys/kernel/perf_event_paranoid", paranoid, sizeof(paranoid));
		if (fd >= 0 && fall_back) {
			ev->attr = user;
			snprintf(ev->reason, sizeof(ev->reason),
				 "kernel counting refused (%s; perf_event_paranoid is %s, kernel counting "
				 "needs <= 1 or CAP_PERFMON): counting user space only",
				 errno_text(first), paranoid);
		} else if (fd >= 0) {
			close((int)fd);
			fd = -1;
			second = first;
		} else if (refused(second) && fall_back) {
			ev->attr = user;	/* explain the user-space refusal */
		}
		errno = fd >= 0 ? 0 : refused(second) ? first : second;
	}
	if (fd < 0)
		return -errno;
	ev->fd = (int)fd;
	if (ioctl(ev->fd, PERF_EVENT_IOC_ID, &ev->id) < 0) {
		int e = errno;

		close(ev->fd);
		ev->fd = -1;
		return -e;
	}
	if (g->leader_fd < 0)
		g->leader_fd = ev->fd;
	return 0;
}

void counters_open(struct counter_group *g, const char *list, bool inherit)
{
	char *copy = xstrdup(list), *save = NULL;

	memset(g, 0, sizeof(*g));
	g->leader_fd = -1;
	for (char *tok = strtok_r(copy, ",", &save); tok && g->n < COUNTERS_MAX;
	     tok = strtok_r(NULL, ",", &save)) {
		struct counter_event *ev = &g->ev[g->n++];
		int r;

		snprintf(ev->name, sizeof(ev->name), "%s", tok);
		ev->fd = -1;
		/* Bad names are refused on the command line (counters_check_list) */
		if (counters_resolve(tok, &ev->attr, ev->reason, sizeof(ev->reason)) < 0) {
			ev->status = COUNTER_UNSUPPORTED;
			continue;
		}
		ev->attr.disabled = g->leader_fd < 0;
		ev->attr.inherit = inherit;
		ev->attr.exclude_hv = 1;
		ev->attr.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_ID | PERF_FORMAT_TOTAL_TIME_ENABLED |
				       PERF_FORMAT_TOTAL_TIME_RUNNING;
		r = open_event(g, ev);
		if (r < 0) {
			ev->status = counters_status_from_errno(-r);
			explain_failure(ev, -r);
		}
	}
	free(copy);
}

void counters_enable(struct counter_group *g)
{
	if (g->leader_fd >= 0)
		ioctl(g->leader_fd, PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
}

bool counters_parse_group_read(const struct counter_group *g, const void *buf, size_t len,
			       struct counter_reading *r)
{
	const uint64_t *w = buf;
	uint64_t nr;

	memset(r, 0, sizeof(*r));
	if (len < 3 * sizeof(uint64_t))
		return false;
	nr = w[0];
	if (nr > COUNTERS_MAX || len < (3 + 2 * nr) * sizeof(uint64_t))
		return false;
	r->time_enabled = w[1];
	r->time_running = w[2];
	for (uint64_t k = 0; k < nr; k++) {
		uint64_t value = w[3 + 2 * k], id = w[4 + 2 * k];

		for (int i = 0; i < g->n; i++)
			if (g->ev[i].fd >= 0 && g->ev[i].id == id)
				r->value[i] = value;
	}
	r->valid = true;
	return true;
}

bool counters_read(struct counter_group *g, struct counter_reading *r)
{
	uint64_t buf[3 + 2 * COUNTERS_MAX];
	ssize_t got;

	r->valid = false;
	if (g->leader_fd < 0)
		return false;
	got = read(g->leader_fd, buf, sizeof(buf));
	if (got <= 0)
		return false;
	return counters_parse_group_read(g, buf, (size_t)got, r);
}

double counters_running_ratio(const struct counter_reading *a, const struct counter_reading *b)
{
	uint64_t enabled = b->time_enabled - a->time_enabled;
	uint64_t running = b->time_running - a->time_running;

	if (!a->valid || !b->valid || enabled == 0)
		return NAN;
	return (double)running / (double)enabled;
}

double counters_delta_per_op(const struct counter_group *g, int i, const struct counter_reading *a,
			     const struct counter_reading *b, uint64_t ops)
{
	double ratio = counters_running_ratio(a, b);

	if (g->ev[i].fd < 0 || !(ratio > 0) || ops == 0)
		return NAN;
	return (double)(b->value[i] - a->value[i]) / ratio / (double)ops;
}

void counters_close(struct counter_group *g)
{
	for (int i = 0; i < g->n; i++) {
		if (g->ev[i].fd >= 0)
			close(g->ev[i].fd);
		g->ev[i].fd = -1;
	}
	g->leader_fd = -1;
}

bool counters_any_counted(const struct counter_group *g)
{
	for (int i = 0; i < g->n; i++)
		if (g->ev[i].status == COUNTER_COUNTED)
			return true;
	return false;
}

double counters_read_cost_ns(const char *list)
{
	enum { READS = 2000 };
	struct counter_group g;
	struct counter_reading r;
	uint64_t t0, t1;

	counters_open(&g, list, false);
	counters_enable(&g);
	if (!counters_read(&g, &r)) {
		counters_close(&g);
		return NAN;
	}
	t0 = now_ns();
	for (int i = 0; i < READS; i++)
		counters_read(&g, &r);
	t1 = now_ns();
	counters_close(&g);
	return (double)(t1 - t0) / READS;
}
