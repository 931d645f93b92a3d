/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"

static __thread char errmsg[512];

int vs__err(int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(errmsg) - 2)
		snprintf(errmsg + n, sizeof(errmsg) - n, ": %s", vdsoscope_strerror(code));
	return -code;
}

void vs__clear_err(void)
{
	errmsg[0] = 0;
}

const char *vdsoscope_errmsg(void)
{
	return errmsg;
}

const char *vdsoscope_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
#define X(name, value, text) case value: return text;
	VDSOSCOPE_ERRORS(X)
#undef X
	}
	return strerror(err);
}

const char *vdsoscope_err_name(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
#define X(name, value, text) case value: return "VDSOSCOPE_E_" #name;
	VDSOSCOPE_ERRORS(X)
#undef X
	}
	{
		const char *n = strerrorname_np(err);
		return n ? n : "unknown";
	}
}

const char *vdsoscope_version(void)
{
	return PACKAGE_VERSION;
}
