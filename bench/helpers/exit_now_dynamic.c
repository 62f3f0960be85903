/* SPDX-License-Identifier: GPL-2.0-only */
/* exit_now linked dynamically (the Makefile links helpers whose name says "dynamic" that way):
 * the bare twin of exec_report_dynamic, a dynamic exec that does nothing in main, as lmbench's
 * hello does for lat_proc exec. */
#include "exit_now.c"
