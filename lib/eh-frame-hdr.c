/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Where the image's .eh_frame_hdr binary-search table is, for unwinders
 * (libunwind's remote-table lookup) that search it themselves. */
#include <dwarf.h>
#include "internal.h"

/* Bytes of a fixed-size DW_EH_PE value; 0 for variable or unknown sizes. */
static unsigned int enc_size(uint8_t enc, unsigned int addr_size)
{
	switch (enc & 0x0f) {
	case DW_EH_PE_absptr: return addr_size;
	case DW_EH_PE_udata2: case DW_EH_PE_sdata2: return 2;
	case DW_EH_PE_udata4: case DW_EH_PE_sdata4: return 4;
	case DW_EH_PE_udata8: case DW_EH_PE_sdata8: return 8;
	}
	return 0;
}

/* The header of E's bytes [OFF, OFF+SIZE), which are at runtime ADDR. */
int vs__eh_frame_hdr_parse(const struct vs_elf *e, uint64_t off, uint64_t size, uint64_t addr,
			   struct vdsoscope_eh_frame_hdr *out)
{
	uint64_t count;
	unsigned int asz, psz, csz, tsz;
	uint8_t ptr_enc, cnt_enc, tab_enc;

	if (!off || size < 4 || !vs_elf_in(e, off, size))
		return -VDSOSCOPE_E_NOT_FOUND;
	if (e->data[off] != 1)
		return -VDSOSCOPE_E_BAD_CFI;
	asz = e->is64 ? 8 : 4;
	ptr_enc = e->data[off + 1];
	cnt_enc = e->data[off + 2];
	tab_enc = e->data[off + 3];
	if (cnt_enc == DW_EH_PE_omit || tab_enc == DW_EH_PE_omit)
		return -VDSOSCOPE_E_NOT_FOUND;
	psz = enc_size(ptr_enc, asz);
	csz = enc_size(cnt_enc, asz);
	tsz = enc_size(tab_enc, asz);
	/* the count must be a plain number to be read here */
	if (!psz || !tsz || (csz != 4 && csz != 8) || (cnt_enc & 0x70) != 0)
		return -VDSOSCOPE_E_BAD_CFI;
	if (4 + psz + csz > size)
		return -VDSOSCOPE_E_TRUNCATED;
	count = csz == 4 ? vs_elf_u32(e, off + 4 + psz) : vs_elf_u64(e, off + 4 + psz);
	if (count > (size - 4 - psz - csz) / (2u * tsz))
		return -VDSOSCOPE_E_TRUNCATED;
	out->addr = addr;
	out->size = size;
	out->table = out->addr + 4 + psz + csz;
	out->fde_count = count;
	out->table_enc = tab_enc;
	out->entry_size = 2 * tsz;
	return 0;
}

int vdsoscope_eh_frame_hdr(const struct vdsoscope_image *img, struct vdsoscope_eh_frame_hdr *out)
{
	const struct vs_data *d;

	if (!img || !out)
		return -VDSOSCOPE_E_INVALID;
	d = img->d;
	return vs__eh_frame_hdr_parse(&d->elf, d->elf.eh_frame_hdr, d->elf.eh_frame_hdr_size,
				      d->elf.eh_frame_hdr + d->link_base + img->bias, out);
}
