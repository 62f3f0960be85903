/* SPDX-License-Identifier: GPL-2.0-only */
/* The probe's compatibility matrix (probe_matrix.c). */
#ifndef MSB_PROBE_MATRIX_H
#define MSB_PROBE_MATRIX_H

#include "probe.h"

/* One row per operation and target (vdso.*, anon.*), sealed against an unsealed control;
 * self_exe is re-exec'd for the exec row. Skipped without mseal(2). */
void probe_matrix_rows(struct probe_report *r, const char *self_exe);

#endif
