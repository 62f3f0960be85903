/* SPDX-License-Identifier: GPL-2.0-only */
/* The smallest program the suite execs: static, it leaves at once. What a spawn of it costs is
 * the floor of process creation and teardown (fork.posix_spawn), and the bare exec the exec
 * family's helpers are measured against (exec.*.bare). */
#include <unistd.h>

int main(void)
{
	_exit(0);
}
