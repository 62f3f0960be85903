/* SPDX-License-Identifier: GPL-2.0-only */
/* The commands whose work is done by a python script: `msealbench vm`, `compare`, `plot`, ...
 * Each is a row of scripts[] below: where the script is in the source tree and where `make
 * install` puts it, both relative to the directory of this binary. The command finds the first
 * that exists and execs it with the same arguments, so `msealbench compare ...` and
 * `plots/compare.py ...` are one tool, in the tree and installed. A new python command is one
 * row here and one COMMAND() line in commands.h: `make install` reads these rows and installs the
 * directory of each script whole, so keep a script beside the modules and data it needs. */
#define _GNU_SOURCE
#include "main.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

struct script {
	const char *name;
	const char *in_tree;		/* relative to build/ (the binary's directory in the tree) */
	const char *installed;		/* relative to PREFIX/bin */
};

static const struct script scripts[] = {
	{ "vm", "../vm/msealbench-vm", "../share/msealbench/vm/msealbench-vm" },
	{ "lava", "../vm/msealbench-lava", "../share/msealbench/vm/msealbench-lava" },
	{ "compare", "../plots/compare.py", "../share/msealbench/plots/compare.py" },
	{ "merge", "../plots/merge.py", "../share/msealbench/plots/merge.py" },
	{ "plot", "../plots/plot.py", "../share/msealbench/plots/plot.py" },
	{ "validate", "../plots/validate.py", "../share/msealbench/plots/validate.py" },
	{ "report", "../plots/report.py", "../share/msealbench/plots/report.py" },
	{ "export", "../plots/export.py", "../share/msealbench/plots/export.py" },
	{ "try", "../plots/try.py", "../share/msealbench/plots/try.py" },
};

static int script_main(int argc, char **argv, const char *self_exe)
{
	static char prog[64];
	const struct script *s = NULL;
	char dir[2048], path[2400], *slash;

	(void)argc;
	for (size_t i = 0; i < ARRAY_SIZE(scripts); i++)
		if (strcmp(scripts[i].name, argv[0]) == 0)
			s = &scripts[i];
	if (!s)
		die(1, "internal error: no script for command '%s'", argv[0]);
	snprintf(prog, sizeof(prog), "msealbench %s", s->name);
	msb_prog = prog;
	str_copy(dir, sizeof(dir), self_exe);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	for (int installed = 0; installed <= 1; installed++) {
		snprintf(path, sizeof(path), "%s/%s", dir, installed ? s->installed : s->in_tree);
		if (access(path, X_OK) == 0) {
			/* Installed, python must not write __pycache__/ under PREFIX (a root run
			 * would leave files there that no package owns); about 0.1 s per command. */
			if (installed)
				setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
			argv[0] = path;
			execv(path, argv);
			die(1, "exec %s: %s", path, errno_text(errno));
		}
	}
	die(1, "cannot find the script of '%s' (%s/%s or %s/%s); run it from the source tree or "
	    "reinstall", s->name, dir, s->in_tree, dir, s->installed);
}

/* No help of their own: `CMD --help` is the script's, and `msealbench help CMD` runs it. */
const struct command cmd_vm = { "vm", script_main,
				"boot kernels under qemu, run the suite inside each and compare them", NULL };
const struct command cmd_lava = { "lava", script_main,
				  "run the suite as a LAVA test in kernels (lava-run here, or a lab) and compare them",
				  NULL };
const struct command cmd_compare = { "compare", script_main,
				     "compare the seal modes of a run, or runs against a baseline", NULL };
const struct command cmd_merge = { "merge", script_main,
				   "merge the runs of one kernel, one per boot, into one file compare takes boots from", NULL };
const struct command cmd_plot = { "plot", script_main, "draw a run's plots with gnuplot", NULL };
const struct command cmd_report = { "report", script_main,
				    "one page on the cost and compatibility of sealing: report.md and report.html", NULL };
const struct command cmd_validate = { "validate", script_main,
				      "measure how far compare's verdicts can be trusted on this machine", NULL };
const struct command cmd_export = { "export", script_main,
				    "write a results file as CSV, google-benchmark JSON, BMF or github-action JSON", NULL };
const struct command cmd_try = { "try", script_main,
				 "run a program plain and sealed from inside (preloaded library): behaviour and time", NULL };
