/* SPDX-License-Identifier: GPL-2.0-only */
/* Every benchmark family, once: FAMILY(name) declares the array family_<name>[] that
 * bench/<name>.c defines. Order here is the order of `msealbench list`. */
FAMILY(harness)
FAMILY(vdso)
FAMILY(fork)
FAMILY(exec)
FAMILY(mremap)
FAMILY(mseal)
