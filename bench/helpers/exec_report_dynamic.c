/* SPDX-License-Identifier: GPL-2.0-only */
/* exec_report linked dynamically (the Makefile builds helpers whose name says "dynamic" that
 * way): the same program, with the dynamic loader's work before main. */
#include "exec_report.c"
