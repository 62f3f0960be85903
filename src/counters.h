/* SPDX-License-Identifier: GPL-2.0-only */
/* perf_event_open counter groups: one group per cell, read around every sample (outside the
 * timed region). Event names resolve through counters_resolve(): a built-in table of the generic
 * perf names, which a libpfm4 build (MSB_HAVE_LIBPFM) extends to PMU-specific names. */
#ifndef MSB_COUNTERS_H
#define MSB_COUNTERS_H

#include <linux/perf_event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COUNTERS_MAX 16		/* events per list (one group) */
#define COUNTERS_NAME_MAX 63	/* characters of one event name */
#define COUNTERS_LIST_MAX 1024	/* characters of a whole --events list */
#define COUNTERS_DEFAULT_SOFTWARE "task-clock,page-faults,context-switches"
/* Kernel developers judge by instructions spent in the kernel; where there is no PMU the hardware
 * events are recorded as unsupported and the software ones still count. */
#define COUNTERS_DEFAULT "cycles,instructions:u,instructions:k," COUNTERS_DEFAULT_SOFTWARE

enum counter_status {
	COUNTER_COUNTED,
	COUNTER_UNSUPPORTED,	/* ENOENT/EOPNOTSUPP, a PMU event without its PMU: nothing here counts it */
	COUNTER_NOT_PERMITTED,	/* EACCES/EPERM: perf_event_paranoid or capabilities */
	COUNTER_UNAVAILABLE,	/* ENOSYS (qemu-user, no perf) or any other error */
};

struct counter_event {
	char name[64];
	struct perf_event_attr attr;
	int fd;
	uint64_t id;
	enum counter_status status;
	char reason[200];	/* why not counted, or a caveat (user space only) */
};

struct counter_group {
	int n;
	int leader_fd;
	struct counter_event ev[COUNTERS_MAX];
};

/* One group read: raw values in event order, times for multiplexing. */
struct counter_reading {
	uint64_t value[COUNTERS_MAX];
	uint64_t time_enabled, time_running;
	bool valid;
};

const char *counter_status_name(enum counter_status s);

/* What perf_event_open's errno means for an event. */
enum counter_status counters_status_from_errno(int err);

/* How names are encoded: "libpfm4 4.13.0" (or "libpfm4") in a libpfm4 build, else "builtin". */
const char *counters_naming(void);

/* Fill attr for a perf event name ("task-clock", "instructions:u"). 0; or with err set,
 * COUNTERS_UNKNOWN (a bad name: no such event, bad modifier, one that always counts 0) or
 * COUNTERS_NOT_HERE (libpfm4 knows the name, but for a PMU this machine does not have). */
#define COUNTERS_UNKNOWN (-1)
#define COUNTERS_NOT_HERE (-2)
int counters_resolve(const char *name, struct perf_event_attr *attr, char *err, size_t errlen);

/* Check an event list from the command line: at most COUNTERS_MAX names, each known (to the
 * builtin table or libpfm4) and given once, COUNTERS_LIST_MAX characters at most. False with
 * err naming the problem. */
bool counters_check_list(const char *list, char *err, size_t errlen);

/* Open the comma-separated event list as one group (events that fail are recorded with their
 * status and left out; the rest still count). inherit: count children too (fork/exec). */
void counters_open(struct counter_group *g, const char *list, bool inherit);
void counters_enable(struct counter_group *g);
bool counters_read(struct counter_group *g, struct counter_reading *r);
/* Close every event; the names and statuses stay. */
void counters_close(struct counter_group *g);
/* Whether any event of the group counts here. */
bool counters_any_counted(const struct counter_group *g);

/* Parse a PERF_FORMAT_GROUP|ID|TOTAL_TIME_ENABLED|TOTAL_TIME_RUNNING read into r, matching
 * values to the group's events by id. False when the buffer is malformed. */
bool counters_parse_group_read(const struct counter_group *g, const void *buf, size_t len,
			       struct counter_reading *r);

/* Per-operation value of event i between two readings, scaled for multiplexing; NaN when the
 * event is not counted or the group never ran. */
double counters_delta_per_op(const struct counter_group *g, int i, const struct counter_reading *a,
			     const struct counter_reading *b, uint64_t ops);

/* time_running / time_enabled between two readings (1.0 = never multiplexed). */
double counters_running_ratio(const struct counter_reading *a, const struct counter_reading *b);

/* Mean cost in ns of one counters_read() of this event list's group (what a cell pays twice per
 * sample, outside its timed region); NaN when no event of the list counts here. */
double counters_read_cost_ns(const char *list);

#endif
