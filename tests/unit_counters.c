/* SPDX-License-Identifier: GPL-2.0-only */
/* Counters: the group-read parser, multiplexing scaling, errno to status, event names, and the
 * real kernel paths this machine offers (ENOENT without a PMU, inherit, user-only fallback). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cell_protocol.h"
#include "counters.h"
#include "tap.h"
#include "util.h"

/* A group of three events of which the middle one failed to open (fd -1). */
static void fake_group(struct counter_group *g)
{
	memset(g, 0, sizeof(*g));
	g->n = 3;
	g->ev[0].fd = 10, g->ev[0].id = 111;
	g->ev[1].fd = -1, g->ev[1].id = 0;
	g->ev[2].fd = 12, g->ev[2].id = 333;
}

static void test_parser(void)
{
	struct counter_group g;
	struct counter_reading r;
	/* nr, time_enabled, time_running, then {value, id} in an order unlike the group's */
	uint64_t buf[] = { 2, 5000, 2500, 77, 333, 42, 111 };
	uint64_t unknown[] = { 1, 10, 10, 9, 999 };
	uint64_t too_many[] = { COUNTERS_MAX + 1, 1, 1 };

	fake_group(&g);
	tap_ok(counters_parse_group_read(&g, buf, sizeof(buf), &r) && r.valid, "a well-formed group read parses");
	tap_ok(r.time_enabled == 5000 && r.time_running == 2500, "times enabled and running are read");
	tap_ok(r.value[0] == 42 && r.value[2] == 77, "values go to their events by id, not by position");
	tap_ok(r.value[1] == 0, "an event that did not open gets no value");
	tap_ok(counters_parse_group_read(&g, unknown, sizeof(unknown), &r) && r.value[0] == 0 && r.value[2] == 0,
	       "an id the group does not know is ignored");
	tap_ok(!counters_parse_group_read(&g, buf, sizeof(buf) - 8, &r) && !r.valid,
	       "a read shorter than nr entries is refused");
	tap_ok(!counters_parse_group_read(&g, buf, 16, &r), "a read without the header is refused");
	tap_ok(!counters_parse_group_read(&g, too_many, sizeof(too_many), &r),
	       "more entries than COUNTERS_MAX are refused");
}

static struct counter_reading reading(uint64_t enabled, uint64_t running, uint64_t v0, uint64_t v2)
{
	struct counter_reading r = { .time_enabled = enabled, .time_running = running, .valid = true };

	r.value[0] = v0;
	r.value[2] = v2;
	return r;
}

static void test_scaling(void)
{
	struct counter_group g;
	struct counter_reading a = reading(1000, 1000, 100, 7), b = reading(3000, 3000, 700, 7);
	struct counter_reading half = reading(3000, 2000, 400, 7), stalled = reading(3000, 1000, 100, 7);

	fake_group(&g);
	tap_ok(counters_running_ratio(&a, &b) == 1.0, "never multiplexed: running ratio 1");
	tap_ok(counters_delta_per_op(&g, 0, &a, &b, 10) == 60.0, "unscaled: delta 600 over 10 ops is 60/op");
	tap_ok(counters_delta_per_op(&g, 2, &a, &b, 10) == 0.0, "an unchanged counter gives 0/op");
	tap_ok(counters_running_ratio(&a, &half) == 0.5, "running 1000 of 2000 ns enabled: ratio 0.5");
	tap_ok(counters_delta_per_op(&g, 0, &a, &half, 10) == 60.0,
	       "multiplexed at half time: delta 300 scales to 600, 60/op");
	tap_ok(isnan(counters_delta_per_op(&g, 0, &a, &stalled, 10)), "a group that never ran gives NaN, not 0");
	tap_ok(isnan(counters_delta_per_op(&g, 1, &a, &b, 10)), "an event that is not counted gives NaN");
	tap_ok(isnan(counters_delta_per_op(&g, 0, &a, &b, 0)), "zero operations give NaN");
	b.valid = false;
	tap_ok(isnan(counters_running_ratio(&a, &b)), "a failed read gives NaN ratio");
}

static void test_errno_mapping(void)
{
	tap_ok(counters_status_from_errno(ENOENT) == COUNTER_UNSUPPORTED, "ENOENT (no such PMU event) is unsupported");
	tap_ok(counters_status_from_errno(EOPNOTSUPP) == COUNTER_UNSUPPORTED, "EOPNOTSUPP is unsupported");
	tap_ok(counters_status_from_errno(EACCES) == COUNTER_NOT_PERMITTED, "EACCES (paranoid) is not_permitted");
	tap_ok(counters_status_from_errno(EPERM) == COUNTER_NOT_PERMITTED, "EPERM is not_permitted");
	tap_ok(counters_status_from_errno(ENOSYS) == COUNTER_UNAVAILABLE, "ENOSYS (qemu-user) is unavailable");
	tap_ok(counters_status_from_errno(EBUSY) == COUNTER_UNAVAILABLE, "any other errno is unavailable");
	tap_ok(strcmp(counter_status_name(COUNTER_NOT_PERMITTED), "not_permitted") == 0,
	       "status names are the results file's words");
}

static void test_names(void)
{
	struct perf_event_attr a;
	char err[200];

	tap_ok(counters_resolve("cycles", &a, err, sizeof(err)) == 0 && a.type == PERF_TYPE_HARDWARE &&
		       a.config == PERF_COUNT_HW_CPU_CYCLES && !a.exclude_user && !a.exclude_kernel,
	       "cycles: generic hardware cycles, user and kernel");
	tap_ok(counters_resolve("instructions:u", &a, err, sizeof(err)) == 0 &&
		       a.config == PERF_COUNT_HW_INSTRUCTIONS && !a.exclude_user && a.exclude_kernel,
	       "instructions:u counts user space only");
	tap_ok(counters_resolve("instructions:k", &a, err, sizeof(err)) == 0 && a.exclude_user && !a.exclude_kernel,
	       "instructions:k counts the kernel only");
	tap_ok(counters_resolve("dTLB-load-misses", &a, err, sizeof(err)) == 0 && a.type == PERF_TYPE_HW_CACHE &&
		       a.config == (PERF_COUNT_HW_CACHE_DTLB | (PERF_COUNT_HW_CACHE_OP_READ << 8) |
				    (PERF_COUNT_HW_CACHE_RESULT_MISS << 16)),
	       "dTLB-load-misses: the hardware cache event dTLB/read/miss");
	tap_ok(counters_resolve("page-faults", &a, err, sizeof(err)) == 0 && a.type == PERF_TYPE_SOFTWARE &&
		       a.config == PERF_COUNT_SW_PAGE_FAULTS && a.size == sizeof(a),
	       "page-faults: software event, attr size set");
	tap_ok(counters_resolve("instructions:x", &a, err, sizeof(err)) < 0 && strstr(err, "modifier"),
	       "an unknown modifier is refused and named: %s", err);
	tap_ok(counters_resolve("no-such-event", &a, err, sizeof(err)) < 0 && strstr(err, "unknown event name"),
	       "an unknown name is refused: %s", err);
	if (strncmp(counters_naming(), "libpfm4", 7) != 0) {
		tap_skip("libpfm4 names", "built without libpfm4 (naming: %s)", counters_naming());
		return;
	}
	tap_ok(counters_resolve("perf::PERF_COUNT_HW_INSTRUCTIONS:u", &a, err, sizeof(err)) == 0 &&
		       a.type == PERF_TYPE_HARDWARE && a.config == PERF_COUNT_HW_INSTRUCTIONS && a.exclude_kernel &&
		       !a.exclude_user && a.size == sizeof(a),
	       "libpfm4 encodes a PMU-qualified name with its modifier");
	tap_ok(counters_resolve("perf::PERF_COUNT_HW_CACHE_DTLB.READ.MISS", &a, err, sizeof(err)) == 0 &&
		       a.type == PERF_TYPE_HW_CACHE,
	       "EVENT.UMASK (perf's spelling) is tried as libpfm4's EVENT:UMASK");
}

/* Without a hardware PMU the kernel answers ENOENT: the events are unsupported, the software
 * ones in the same group still count. */
static void test_enoent_for_real(void)
{
	struct counter_group g;

	counters_open(&g, "cycles,instructions:k,task-clock", false);
	if (g.ev[0].status == COUNTER_COUNTED) {
		tap_skip("ENOENT path", "this machine has a hardware PMU: cycles count");
		counters_close(&g);
		return;
	}
	tap_ok(g.ev[0].status == COUNTER_UNSUPPORTED && strstr(g.ev[0].reason, "ENOENT"),
	       "cycles without a PMU: unsupported, reason names ENOENT (%s: %s)",
	       counter_status_name(g.ev[0].status), g.ev[0].reason);
	tap_ok(g.ev[1].status == COUNTER_UNSUPPORTED, "instructions:k without a PMU: unsupported");
	tap_ok(g.ev[2].status == COUNTER_COUNTED && g.leader_fd == g.ev[2].fd,
	       "task-clock still counts and leads the group");
	counters_close(&g);
}

/* inherit=1 with PERF_FORMAT_GROUP: a reaped child's page faults arrive in the parent's read. */
static void test_inherit(void)
{
	enum { PAGES = 300 };
	struct counter_group g;
	struct counter_reading a, b;
	double faults;
	pid_t pid;

	counters_open(&g, "page-faults,task-clock", true);
	if (g.ev[0].status != COUNTER_COUNTED) {
		tap_skip("inherit", "page-faults do not count here: %s", g.ev[0].reason);
		return;
	}
	counters_enable(&g);
	tap_ok(counters_read(&g, &a), "a group with inherit=1 can be read with PERF_FORMAT_GROUP");
	pid = fork();
	if (pid == 0) {
		long page = sysconf(_SC_PAGESIZE);
		volatile char *p = mmap(NULL, (size_t)(PAGES * page), PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		for (int i = 0; p != MAP_FAILED && i < PAGES; i++)
			p[i * page] = 1;
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	counters_read(&g, &b);
	faults = counters_delta_per_op(&g, 0, &a, &b, 1);
	tap_ok(faults >= PAGES && faults < PAGES + 200,
	       "a child's %d page faults arrive once it is reaped (%.0f counted)", PAGES, faults);
	counters_close(&g);
}

/* Paranoid 2 refuses kernel counting to an unprivileged user: an event counting both falls back
 * to user space and says so; a kernel-only event is not permitted, with the sysctl named. The
 * refusal comes before the kernel looks for the PMU: without one, cycles are unsupported, not
 * refused; context switches happen in the kernel, so a user-space count (always 0) is no fallback. */
static void test_user_only_fallback(void)
{
	static const char *const want[][3] = {
		{ "task-clock", "counted\t", "user space only" },
		{ "task-clock:k", "not_permitted\t", "perf_event_paranoid <= 1" },
		{ "context-switches", "not_permitted\t", "kernel-only event" },
		{ "cycles", "unsupported\t", "ENOENT" },
	};
	char paranoid[32] = "", line[512];
	int pipefd[2];
	FILE *in;
	pid_t pid;

	if (!read_text_file("/proc/sys/kernel/perf_event_paranoid", paranoid, sizeof(paranoid)) ||
	    atoi(paranoid) < 2) {
		tap_skip("user-only fallback", "perf_event_paranoid is %s: kernel counting allowed", paranoid);
		return;
	}
	if (pipe(pipefd) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		struct counter_group g;
		FILE *out = fdopen(pipefd[1], "w");

		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(3);
		counters_open(&g, "task-clock,task-clock:k,context-switches,cycles", false);
		for (int i = 0; i < g.n; i++)
			fprintf(out, "%s\t%s\n", counter_status_name(g.ev[i].status), g.ev[i].reason);
		fclose(out);
		_exit(0);
	}
	close(pipefd[1]);
	in = fdopen(pipefd[0], "r");
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		if (!fgets(line, sizeof(line), in))
			line[0] = '\0';
		line[strcspn(line, "\n")] = '\0';
		if (i == 3 && strncmp(line, "counted", 7) == 0) {
			tap_skip("cycles as an unprivileged user", "this machine has a hardware PMU");
			break;
		}
		tap_ok(strncmp(line, want[i][1], strlen(want[i][1])) == 0 && strstr(line, want[i][2]),
		       "as an unprivileged user %s is %.*s, the reason says %s: %s", want[i][0],
		       (int)strlen(want[i][1]) - 1, want[i][1], want[i][2], line);
	}
	fclose(in);
	waitpid(pid, NULL, 0);
}

/* What the command line refuses: unknown names, a name twice, more events than a group holds, a
 * list longer than COUNTERS_LIST_MAX, a kernel-only event for user space. */
static void test_list_check(void)
{
	char err[300], list[COUNTERS_LIST_MAX + 64] = "";

	tap_ok(counters_check_list(COUNTERS_DEFAULT, err, sizeof(err)), "the default list is good");
	tap_ok(counters_check_list("", err, sizeof(err)), "an empty list (none) is good");
	tap_ok(!counters_check_list("task-clock,no-such-event", err, sizeof(err)) &&
		       strstr(err, "'no-such-event'") && strstr(err, "unknown event name"),
	       "an unknown event is refused by name: %s", err);
	tap_ok(!counters_check_list("page-faults,task-clock,page-faults", err, sizeof(err)) &&
		       strstr(err, "'page-faults' is given twice"),
	       "a duplicated event is refused by name: %s", err);
	tap_ok(!counters_check_list("context-switches:u", err, sizeof(err)) && strstr(err, "always 0"),
	       "context-switches:u (always 0) is refused: %s", err);
	tap_ok(!counters_check_list("cpu-migrations:u", err, sizeof(err)), "and so is cpu-migrations:u");
	for (int i = 0; i < COUNTERS_MAX + 1; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%spage-faults:%.*s", i ? "," : "",
			 i + 1, "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu");
	tap_ok(!counters_check_list(list, err, sizeof(err)) && strstr(err, "more than 16 events"),
	       "%d distinct events are refused, naming the limit: %s", COUNTERS_MAX + 1, err);
	memset(list, 'x', COUNTERS_LIST_MAX + 1);
	list[COUNTERS_LIST_MAX + 1] = '\0';
	tap_ok(!counters_check_list(list, err, sizeof(err)) && strstr(err, "1024 allowed"),
	       "a list over %d characters is refused, naming the limit: %s", COUNTERS_LIST_MAX, err);
}

/* The cell gets the whole list, however long: a cut list would drop its last events. */
static void test_cell_gets_whole_list(void)
{
	struct cell_config c = { .bench = bench_find("harness.empty"), .cpu = -1 };
	char list[COUNTERS_LIST_MAX + 1], **argv;
	bool whole = false;

	memset(list, 'e', sizeof(list) - 1);
	list[sizeof(list) - 1] = '\0';
	c.events = list;
	argv = cell_argv_build("/bin/true", &c);
	for (int i = 0; argv[i]; i++)
		if (strncmp(argv[i], "events=", 7) == 0)
			whole = strcmp(argv[i] + 7, list) == 0;
	tap_ok(c.bench && whole, "a %zu-character event list reaches the cell whole", strlen(list));
	cell_argv_free(argv);
}

/* libpfm4 knows PMUs this machine lacks: their events are good names that do not count here. */
static void test_event_of_absent_pmu(void)
{
	struct perf_event_attr a;
	char err[200];
	struct counter_group g;

	if (strncmp(counters_naming(), "libpfm4", 7) != 0) {
		tap_skip("events of absent PMUs", "built without libpfm4");
		return;
	}
	if (counters_resolve("skx::INST_RETIRED:ANY_P", &a, err, sizeof(err)) == 0) {
		tap_skip("events of absent PMUs", "this machine has a Skylake-X PMU");
		return;
	}
	tap_ok(counters_resolve("skx::INST_RETIRED:ANY_P", &a, err, sizeof(err)) == COUNTERS_NOT_HERE &&
		       strstr(err, "skx"),
	       "an event of an absent PMU is known, not unknown: %s", err);
	tap_ok(counters_check_list("skx::INST_RETIRED:ANY_P", err, sizeof(err)), "the command line accepts it");
	counters_open(&g, "skx::INST_RETIRED:ANY_P", false);
	tap_ok(g.ev[0].status == COUNTER_UNSUPPORTED, "and it is recorded unsupported: %s", g.ev[0].reason);
	counters_close(&g);
	tap_ok(counters_resolve("skx::NO_SUCH_EVENT", &a, err, sizeof(err)) == COUNTERS_UNKNOWN,
	       "a name no PMU has stays unknown: %s", err);
}

static void test_read_cost(void)
{
	double ns = counters_read_cost_ns("task-clock,page-faults");

	tap_ok(ns > 0 && ns < 1e6, "a group read costs a measurable time (%.0f ns)", ns);
	tap_ok(isnan(counters_read_cost_ns("no-such-event")), "no counting event: read cost NaN");
}

int main(void)
{
	test_parser();
	test_scaling();
	test_errno_mapping();
	test_names();
	test_enoent_for_real();
	test_inherit();
	test_user_only_fallback();
	test_list_check();
	test_cell_gets_whole_list();
	test_event_of_absent_pmu();
	test_read_cost();
	return tap_done();
}
