/* SPDX-License-Identifier: GPL-2.0-only */
/* The probe's rows about mseal(2) itself (probe_contract.c). */
#ifndef MSB_PROBE_CONTRACT_H
#define MSB_PROBE_CONTRACT_H

#include "probe.h"

/* One row per documented case of mseal(2)'s contract; skipped without mseal(2). */
void probe_contract_rows(struct probe_report *r);

#endif
