/* The `events` and `profile` commands: what perf can see here, and where a cell's time goes. */
#ifndef MSB_EVENTS_H
#define MSB_EVENTS_H

int events_main(int argc, char **argv, const char *self_exe);
int profile_main(int argc, char **argv, const char *self_exe);

#endif
