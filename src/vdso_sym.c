/* SPDX-License-Identifier: GPL-2.0-only */
#define _GNU_SOURCE
#include "vdso_sym.h"

#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>

#include "arch.h"

const void *vdso_base(void)
{
	return (const void *)getauxval(AT_SYSINFO_EHDR);
}

struct elf_image {
	uintptr_t load_bias;	/* runtime address minus link-time address */
	const ElfW(Sym) *symtab;
	const char *strtab;
	const ElfW(Versym) *versym;
	const ElfW(Verdef) *verdef;
	unsigned long nsyms;
};

/* DT_GNU_HASH carries no symbol count: walk the last bucket's chain to its end. */
static unsigned long gnu_hash_symbol_count(const uint32_t *h)
{
	uint32_t nbuckets = h[0], symoffset = h[1], bloom_size = h[2];
	const uint32_t *buckets = h + 4 + bloom_size * (sizeof(ElfW(Addr)) / 4);
	const uint32_t *chain = buckets + nbuckets;
	uint32_t last = 0;

	for (uint32_t i = 0; i < nbuckets; i++)
		if (buckets[i] > last)
			last = buckets[i];
	if (last < symoffset)
		return symoffset;
	while (!(chain[last - symoffset] & 1))
		last++;
	return last + 1;
}

static int elf_image_open(const void *base, struct elf_image *img)
{
	const ElfW(Ehdr) *eh = base;
	const ElfW(Phdr) *ph;
	const ElfW(Dyn) *dyn = NULL;
	const uint32_t *hash = NULL, *gnu_hash = NULL;
	bool have_load = false;

	memset(img, 0, sizeof(*img));
	if (!base || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return -1;
	ph = (const ElfW(Phdr) *)((const char *)base + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !have_load) {
			img->load_bias = (uintptr_t)base + ph[i].p_offset - ph[i].p_vaddr;
			have_load = true;
		} else if (ph[i].p_type == PT_DYNAMIC) {
			dyn = (const ElfW(Dyn) *)((const char *)base + ph[i].p_offset);
		}
	}
	if (!have_load || !dyn)
		return -1;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		const void *p = (const void *)(dyn->d_un.d_ptr + img->load_bias);

		switch (dyn->d_tag) {
		case DT_SYMTAB: img->symtab = p; break;
		case DT_STRTAB: img->strtab = p; break;
		case DT_HASH: hash = p; break;
		case DT_GNU_HASH: gnu_hash = p; break;
		case DT_VERSYM: img->versym = p; break;
		case DT_VERDEF: img->verdef = p; break;
		}
	}
	if (!img->symtab || !img->strtab || (!hash && !gnu_hash))
		return -1;
	img->nsyms = hash ? hash[1] : gnu_hash_symbol_count(gnu_hash);
	return 0;
}

/* Does symbol i carry the wanted version? Unversioned images match anything. */
static bool version_matches(const struct elf_image *img, unsigned long i, const char *version)
{
	const ElfW(Verdef) *def = img->verdef;
	ElfW(Half) want;

	if (!version || !img->versym || !def)
		return true;
	want = img->versym[i] & 0x7fff;
	for (;;) {
		if (!(def->vd_flags & VER_FLG_BASE) && (def->vd_ndx & 0x7fff) == want) {
			const ElfW(Verdaux) *aux = (const void *)((const char *)def + def->vd_aux);

			return strcmp(img->strtab + aux->vda_name, version) == 0;
		}
		if (!def->vd_next)
			return false;
		def = (const void *)((const char *)def + def->vd_next);
	}
}

void *elf_image_lookup(const void *base, const char *name, const char *version)
{
	struct elf_image img;

	if (!name || elf_image_open(base, &img) < 0)
		return NULL;
	for (unsigned long i = 0; i < img.nsyms; i++) {
		const ElfW(Sym) *s = &img.symtab[i];

		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF)
			continue;
		if (ELF64_ST_BIND(s->st_info) != STB_GLOBAL && ELF64_ST_BIND(s->st_info) != STB_WEAK)
			continue;
		if (strcmp(img.strtab + s->st_name, name) != 0)
			continue;
		if (!version_matches(&img, i, version))
			continue;
		return (void *)(s->st_value + img.load_bias);
	}
	return NULL;
}

void *vdso_lookup(const char *name)
{
	return name ? elf_image_lookup(vdso_base(), name, ARCH_VDSO_VERSION) : NULL;
}
