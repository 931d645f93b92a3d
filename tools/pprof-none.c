/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --pprof where vdsoscope is built without protobuf-c: refused by the
 * command before these are called. */
#include "config.h"
#include <errno.h>
#include "profile.h"

struct pprof *pprof_new(const struct pnames *names)
{
	(void)names;
	errno = ENOTSUP;
	return NULL;
}

void pprof_free(struct pprof *pp)
{
	(void)pp;
}

int pprof_add(struct pprof *pp, struct pproc *p, const struct vdsoscope_frame_info *f,
	      unsigned int n)
{
	(void)pp, (void)p, (void)f, (void)n;
	return -ENOTSUP;
}

int pprof_write(struct pprof *pp, const char *path, const struct pprof_meta *meta)
{
	(void)pp, (void)path, (void)meta;
	return -ENOTSUP;
}
