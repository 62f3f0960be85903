/* SPDX-License-Identifier: GPL-2.0-only */
/* The harness's own child processes (cells, checks, probes, perf): started so that they die
 * with this process, their output captured through a pipe with a deadline, reaped across
 * signals. Not for the operations benchmarks time: those fork, vfork and exec themselves. */
#ifndef MSB_CHILD_H
#define MSB_CHILD_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/wait.h>

/* fork() whose child gets death_signal (SIGKILL; SIGTERM for a child that must stop its own)
 * when this process dies, however it dies, so nothing outlives a killed run. */
pid_t fork_child(int death_signal);

/* Read fd until EOF into a NUL-terminated malloc'd buffer (length in *len if not NULL).
 * With deadline_ns (CLOCK_MONOTONIC_RAW, 0: none) or *stop set, it gives up early and sets
 * *gave_up; stop and gave_up may be NULL. */
char *read_fd_all(int fd, size_t *len, uint64_t deadline_ns, const volatile int *stop, bool *gave_up);

/* What a child runs and where its output goes. */
struct child_spec {
	/* Runs in the child, which exits with what it returns (an exec'ing one returns only on
	 * failure). out is the write end of the output pipe, -1 without one. */
	int (*run)(int out, const void *arg);
	const void *arg;
	int death_signal;	/* 0: SIGKILL */
	int out_as;		/* the pipe's write end also becomes this descriptor (1, 3); 0: not moved */
	bool own_group;		/* lead a process group of its own: a signal to it reaches its children */
};

/* Start a child; *out_fd gets the read end of its output pipe (out_fd NULL: no pipe). The
 * stop signals this process catches are back to their defaults in the child. Returns the pid,
 * or -1 with the failing call and its errno text in why. */
pid_t child_start(const struct child_spec *s, int *out_fd, char *why, size_t whylen);

/* Start a child, read everything it writes until it closes the pipe, then reap it. At the
 * deadline (now_ns() based, 0: none) or when *stop is set (stop may be NULL) the child is
 * killed: *gave_up then says so. *wstatus gets its wait status. Returns the malloc'd output,
 * or NULL with why set when it could not be started. */
char *child_output(const struct child_spec *s, uint64_t deadline_ns, const volatile int *stop,
		   int *wstatus, bool *gave_up, char *why, size_t whylen);

/* waitpid(pid) until it is not interrupted by a signal: 0, or -1 with errno set. Inline: the
 * families reap their children with it, some inside a timed region. */
static inline int child_reap(pid_t pid, int *wstatus)
{
	while (waitpid(pid, wstatus, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* "WHAT was killed by signal N (NAME)" or "WHAT exited with status N" into buf. */
void child_describe_exit(int wstatus, const char *what, char *buf, size_t len);

/* A child_spec.run that becomes `self_exe argv[1]...` (arg: the NULL-terminated argv, argv[0]
 * the program), through an emulator when the kernel cannot run it (exec_self). */
int child_exec_self(int out, const void *argv);

#endif
