/* One cell run: a fresh exec'd child that seals (per its mode), sets up, calibrates, measures
 * and writes its report (cell_protocol.h) to REPORT_FD. Nothing else is shared with the
 * process that started it. */
#ifndef MSB_CELL_H
#define MSB_CELL_H

/* Entry point of `msealbench __cell KEY=VALUE...`. */
int cell_main(int argc, char **argv, const char *self_exe);

#endif
