/* SPDX-License-Identifier: GPL-2.0-only */
/* The version of msealbench: results, the probe and `msealbench version` carry it. */
#ifndef MSB_VERSION_H
#define MSB_VERSION_H

#define MSB_VERSION "0.1.0"

#endif
