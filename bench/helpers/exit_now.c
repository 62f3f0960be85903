/* The smallest program the suite execs: static, it leaves at once. What a spawn of it costs is
 * the floor of process creation and teardown (fork.posix_spawn). */
#include <unistd.h>

int main(void)
{
	_exit(0);
}
