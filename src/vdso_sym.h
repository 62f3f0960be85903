/* SPDX-License-Identifier: GPL-2.0-only */
/* Finding vDSO entry points from AT_SYSINFO_EHDR with our own ELF walk, not through libc. */
#ifndef MSB_VDSO_SYM_H
#define MSB_VDSO_SYM_H

#include <stdint.h>

/* Address of the ELF image the kernel mapped as the vDSO, or NULL (qemu-user has none). */
const void *vdso_base(void);

/* Look up a defined function symbol in an in-memory ELF image laid out as the vDSO is (loaded
 * at base, with PT_DYNAMIC, DT_SYMTAB, DT_STRTAB and DT_HASH or DT_GNU_HASH). version may be
 * NULL; otherwise a versioned symbol must carry that version. Returns NULL when absent. */
void *elf_image_lookup(const void *base, const char *name, const char *version);

/* elf_image_lookup on the vDSO, NULL when name is NULL or there is no vDSO. */
void *vdso_lookup(const char *name);

#endif
