/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Compressed sections (SHF_COMPRESSED, legacy .zdebug_*): libelf inflates
 * them once the sizes they claim have passed the checks here. */
#include "config.h"
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* deflate emits at least one bit per 258 bytes: no zlib stream inflates to
 * more than about 1032 times its length */
#define ZLIB_MAX_RATIO 1032u

static const char *scn_name(Elf *elf, const GElf_Shdr *sh)
{
	size_t shstrndx;
	const char *name = NULL;

	if (!elf_getshdrstrndx(elf, &shstrndx))
		name = elf_strptr(elf, shstrndx, sh->sh_name);
	return name ? name : "";
}

/* The size SCN inflates to by its header, or 0 when it is not compressed;
 * *GNU set for a .zdebug section.  -1 for a header that cannot be read. */
static int64_t claimed_size(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, int *gnu,
			    uint64_t *packed)
{
	Elf_Data *raw;

	*gnu = 0;
	if (sh->sh_type == SHT_NOBITS)
		return 0;
	if (sh->sh_flags & SHF_COMPRESSED) {
		GElf_Chdr ch;

		/* the gABI forbids compressing what is loaded */
		if ((sh->sh_flags & SHF_ALLOC) || !gelf_getchdr(scn, &ch) ||
		    ch.ch_type != ELFCOMPRESS_ZLIB || ch.ch_size > INT64_MAX)
			return -1;
		*packed = sh->sh_size;
		return (int64_t)ch.ch_size;
	}
	if (strncmp(scn_name(elf, sh), ".zdebug", 7) || (sh->sh_flags & SHF_ALLOC))
		return 0;
	raw = elf_rawdata(scn, NULL);
	if (!raw || raw->d_size < 12 || memcmp(raw->d_buf, "ZLIB", 4)) {
		/* a .zdebug section that does not start so is stored plain */
		return 0;
	}
	{
		const unsigned char *p = (const unsigned char *)raw->d_buf + 4;
		uint64_t n = 0;
		int i;

		for (i = 0; i < 8; i++)
			n = n << 8 | p[i];
		if (n > INT64_MAX)
			return -1;
		*gnu = 1;
		*packed = raw->d_size;
		return (int64_t)n;
	}
}

int vs__section_compressed(Elf *elf, Elf_Scn *scn)
{
	GElf_Shdr sh;
	uint64_t packed;
	int gnu;

	return gelf_getshdr(scn, &sh) && claimed_size(elf, scn, &sh, &gnu, &packed) != 0;
}

int vs__section_inflate(Elf *elf, Elf_Scn *scn, uint64_t *budget)
{
	GElf_Shdr sh;
	uint64_t packed = 0;
	int64_t want;
	int gnu;

	if (!gelf_getshdr(scn, &sh))
		return vs__err(VDSOSCOPE_E_TRUNCATED, "section header %zu: %s", elf_ndxscn(scn),
			       elf_errmsg(-1));
	want = claimed_size(elf, scn, &sh, &gnu, &packed);
	if (!want)
		return 0;
	if (want < 0)
		return vs__err(VDSOSCOPE_E_TRUNCATED,
			       "section %s: compressed with an unknown method or header",
			       scn_name(elf, &sh));
	if ((uint64_t)want > *budget)
		return vs__err(VDSOSCOPE_E_TOO_LARGE,
			       "section %s: inflates to %lld bytes, over the limit of %llu",
			       scn_name(elf, &sh), (long long)want, (unsigned long long)*budget);
	if ((uint64_t)want / ZLIB_MAX_RATIO > packed)
		return vs__err(VDSOSCOPE_E_TRUNCATED,
			       "section %s: %llu compressed bytes cannot hold %lld", scn_name(elf, &sh),
			       (unsigned long long)packed, (long long)want);
	if ((gnu ? elf_compress_gnu(scn, 0, 0) : elf_compress(scn, 0, 0)) < 0)
		return vs__err(VDSOSCOPE_E_TRUNCATED, "section %s: %s", scn_name(elf, &sh),
			       elf_errmsg(-1));
	*budget -= (uint64_t)want;
	return 0;
}

int vs__elf_compressed(Elf *elf)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)))
		if (vs__section_compressed(elf, scn))
			return 1;
	return 0;
}

int vs__elf_inflate(Elf *elf, uint64_t budget)
{
	Elf_Scn *scn = NULL;
	int rc, hidden = 0;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (!(rc = vs__section_inflate(elf, scn, &budget)))
			continue;
		if (rc == -ENOMEM)
			return rc;
		/* a refused section is as good as stripped: libdw skips
		 * SHT_NOBITS and so never inflates it on its own */
		if (!gelf_getshdr(scn, &sh))
			return rc;
		sh.sh_type = SHT_NOBITS;
		sh.sh_flags &= ~(uint64_t)SHF_COMPRESSED;
		if (!gelf_update_shdr(scn, &sh))
			return rc;
		hidden++;
	}
	return hidden;
}

int vs__elf_private(const unsigned char *bytes, size_t size, uint64_t budget, Elf **out,
		    unsigned char **copy)
{
	Elf *elf = elf_memory((char *)bytes, size);
	int rc;

	*out = NULL;
	*copy = NULL;
	if (!elf)
		return vs__err(VDSOSCOPE_E_NOT_ELF, "libelf: %s", elf_errmsg(-1));
	if (elf_kind(elf) != ELF_K_ELF || !vs__elf_compressed(elf)) {
		*out = elf;
		return 0;
	}
	elf_end(elf);
	if (!(*copy = malloc(size ? size : 1)))
		return -ENOMEM;
	memcpy(*copy, bytes, size);
	elf = elf_memory((char *)*copy, size);
	rc = elf ? vs__elf_inflate(elf, budget)
		 : vs__err(VDSOSCOPE_E_NOT_ELF, "libelf: %s", elf_errmsg(-1));
	if (rc < 0) {
		elf_end(elf);
		free(*copy);
		*copy = NULL;
		return rc;
	}
	*out = elf;
	return rc;
}
