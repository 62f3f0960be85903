/* SPDX-License-Identifier: GPL-2.0-only */
#define _GNU_SOURCE
#include "child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "emulation.h"
#include "util.h"

pid_t fork_child(int death_signal)
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
		/* getppid(): the parent may have died before prctl took effect */
		if (prctl(PR_SET_PDEATHSIG, death_signal) < 0 || getppid() != parent)
			_exit(127);
	}
	return pid;
}

char *read_fd_all(int fd, size_t *len, uint64_t deadline_ns, const volatile int *stop, bool *gave_up)
{
	size_t used = 0, cap = 4096;
	char *buf = xmalloc(cap);

	if (gave_up)
		*gave_up = false;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left_ms = deadline_ns ? ((int64_t)deadline_ns - (int64_t)now_ns()) / 1000000 : 1000;
		int r;
		ssize_t got;

		if ((stop && *stop) || left_ms <= 0) {
			if (gave_up)
				*gave_up = true;
			break;
		}
		/* Wake at least once a second to notice *stop. */
		r = poll(&p, 1, left_ms > 1000 ? 1000 : (int)left_ms);
		if (r <= 0)
			continue;
		if (used + 1024 > cap)
			buf = xrealloc(buf, cap *= 2);
		got = read(fd, buf + used, cap - used - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		used += (size_t)got;
	}
	buf[used] = '\0';
	if (len)
		*len = used;
	return buf;
}

/* A handler copied by fork would act in the child on what is the parent's business. */
static void default_stop_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		struct sigaction sa;

		if (sigaction(sigs[i], NULL, &sa) == 0 && sa.sa_handler != SIG_IGN && sa.sa_handler != SIG_DFL)
			signal(sigs[i], SIG_DFL);
	}
}

pid_t child_start(const struct child_spec *s, int *out_fd, char *why, size_t whylen)
{
	int pipefd[2] = { -1, -1 };
	pid_t pid;

	if (out_fd && pipe2(pipefd, O_CLOEXEC) < 0) {
		int err = errno;

		snprintf(why, whylen, "pipe: %s", errno_text(err));
		errno = err;
		return -1;
	}
	/* No fflush: the child ends in _exit or exec, so what stdio holds here is never written
	 * twice, and an output error stays for this process to report at exit. */
	pid = fork_child(s->death_signal ? s->death_signal : SIGKILL);
	if (pid < 0) {
		int err = errno;

		snprintf(why, whylen, "fork: %s", errno_text(err));
		if (out_fd) {
			close(pipefd[0]);
			close(pipefd[1]);
		}
		errno = err;
		return -1;
	}
	if (pid == 0) {
		default_stop_signals();
		if (s->own_group)
			setpgid(0, 0);
		if (out_fd) {
			close(pipefd[0]);
			if (s->out_as > 0 && dup2(pipefd[1], s->out_as) < 0)
				_exit(127);
		}
		_exit(s->run(pipefd[1], s->arg));
	}
	if (s->own_group)
		setpgid(pid, pid);
	if (out_fd) {
		close(pipefd[1]);
		*out_fd = pipefd[0];
	}
	return pid;
}

char *child_output(const struct child_spec *s, uint64_t deadline_ns, const volatile int *stop,
		   int *wstatus, bool *gave_up, char *why, size_t whylen)
{
	bool late;
	char *text;
	int fd;
	pid_t pid = child_start(s, &fd, why, whylen);

	if (pid < 0)
		return NULL;
	text = read_fd_all(fd, NULL, deadline_ns, stop, &late);
	close(fd);
	if (late)
		kill(pid, SIGKILL);
	*wstatus = 0;
	child_reap(pid, wstatus);
	if (gave_up)
		*gave_up = late;
	return text;
}

void child_describe_exit(int wstatus, const char *what, char *buf, size_t len)
{
	if (WIFSIGNALED(wstatus))
		snprintf(buf, len, "%s killed by signal %d (%s)", what, WTERMSIG(wstatus),
			 strsignal(WTERMSIG(wstatus)));
	else
		snprintf(buf, len, "%s exited with status %d", what, WEXITSTATUS(wstatus));
}

int child_exec_self(int out, const void *argv)
{
	char *const *a = argv;

	(void)out;
	exec_self(a[0], a);
	return 127;
}
