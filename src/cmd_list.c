/* SPDX-License-Identifier: GPL-2.0-only */
/* `msealbench list`: every benchmark, its parameter sweep and whether it runs here. */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "main.h"
#include "options.h"
#include "seal.h"
#include "util.h"

extern const struct command cmd_list;

static void list_help(FILE *f)
{
	fputs("usage: msealbench list [--filter PATTERN] [--quick]\n"
	      "Lists every benchmark: full name, parameter sweep, and whether it can run here (or why not).\n"
	      "  --filter PATTERN   as 'msealbench run --filter'\n"
	      "  --quick            the parameter sweeps of a --quick run\n", f);
}

/* The seal modes that need mseal(2): "sysmap and all". */
static void sealing_modes(char *buf, size_t len)
{
	size_t used = 0;
	int n = 0, count = 0;

	for (int m = 0; m < SEAL_MODE_COUNT; m++)
		count += seal_modes[m].seals_system_mappings || seal_modes[m].seals_file_mappings;
	buf[0] = '\0';
	for (int m = 0; m < SEAL_MODE_COUNT; m++) {
		if (!seal_modes[m].seals_system_mappings && !seal_modes[m].seals_file_mappings)
			continue;
		n++;
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
					 n == 1 ? "" : n == count ? " and " : ", ", seal_modes[m].name);
	}
}

static int list_main(int argc, char **argv, const char *self_exe)
{
	enum { O_FILTER = 256, O_QUICK };
	static const struct option longopts[] = {
		{ "filter", required_argument, NULL, O_FILTER }, { "quick", no_argument, NULL, O_QUICK },
		OPTION_HELP, { 0, 0, 0, 0 },
	};
	struct bench_iter it = { 0 };
	const struct bench *b;
	const char *filter = NULL;
	bool quick = false;
	int shown = 0, mseal_err, c;
	char modes[128];

	(void)self_exe;
	msb_prog = "msealbench list";
	while ((c = options_next(argc, argv, longopts, &cmd_list)) != -1) {
		if (c == O_FILTER)
			filter = optarg;
		else
			quick = true;
	}
	options_no_more_operands(argc, argv, 0);
	while ((b = bench_next(&it)))
		shown += bench_matches(b, filter);
	if (!shown)
		usage_error("--filter '%s' matches no benchmark", filter ? filter : "");
	printf("%-44s %-28s %s\n", "BENCHMARK", "PARAMETERS", "RUNS HERE");
	it = (struct bench_iter){ 0 };
	while ((b = bench_next(&it))) {
		char name[160], why[256] = "";
		const char *reason = b->supported ? b->supported(b, why, sizeof(why)) : NULL;
		const char *params = bench_params(b, quick);

		if (!bench_matches(b, filter))
			continue;
		printf("%-44s %-28s %s%s\n", bench_full_name(b, name, sizeof(name)), params ? params : "-",
		       reason ? "no: " : "yes", reason ? reason : "");
		printf("    %s\n", b->summary);
	}
	mseal_err = mseal_probe();
	sealing_modes(modes, sizeof(modes));
	if (mseal_err)
		printf("\nseal modes %s: skipped here, mseal(2) is not available: %s\n", modes,
		       errno_text(mseal_err));
	return 0;
}

const struct command cmd_list = { "list", list_main, "list benchmarks, their parameters and whether they run here",
				  list_help };
