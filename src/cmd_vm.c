/* `msealbench vm`: boots kernels under qemu and runs the suite inside. The work is done by the
 * python script vm/msealbench-vm (installed as libexec/msealbench/msealbench-vm): this finds it
 * beside the binary and execs it with the same arguments. */
#define _GNU_SOURCE
#include "main.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static int vm_main(int argc, char **argv, const char *self_exe)
{
	static const char *const candidates[] = {
		"%s/../vm/msealbench-vm",			/* build/msealbench in the source tree */
		"%s/../libexec/msealbench/msealbench-vm",	/* PREFIX/bin/msealbench */
	};
	char dir[2048], script[2200], *slash;

	(void)argc;
	msb_prog = "msealbench vm";
	str_copy(dir, sizeof(dir), self_exe);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(candidates); i++) {
		snprintf(script, sizeof(script), candidates[i], dir);
		if (access(script, X_OK) == 0) {
			argv[0] = script;
			execv(script, argv);
			die(1, "exec %s: %s", script, errno_text(errno));
		}
	}
	die(1, "cannot find msealbench-vm in %s/../vm or %s/../libexec/msealbench; "
	    "run it from the source tree or reinstall", dir, dir);
}

/* No help of its own: `vm --help` is the script's. */
const struct command cmd_vm = { "vm", vm_main, "boot kernels under qemu, run the suite inside each and compare them",
				NULL };
