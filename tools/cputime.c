/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The target's CPU time in user mode and in the kernel, from
 * /proc/PID/stat (utime, stime, and cutime, cstime for the children it
 * waited for), at the start and the end of a live profile: the samples see
 * user mode only, so the kernel's share is said apart. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "json.h"
#include "profile.h"

/* utime + cutime and stime + cstime of PID in clock ticks; 0 or -errno. */
static int stat_times(pid_t pid, unsigned long long *user, unsigned long long *sys)
{
	char path[64], buf[1024], *q;
	unsigned long long v[4];
	size_t got;
	int i;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "re")))
		return -errno;
	got = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[got] = 0;
	/* the command name may hold spaces and ')': fields 3.. follow the last ')' */
	if (!(q = strrchr(buf, ')')))
		return -EINVAL;
	q++;
	/* fields 3..13, then utime (14), stime (15), cutime (16), cstime (17) */
	for (i = 3; i <= 13; i++)
		if (!(q = strchr(q + 1, ' ')))
			return -EINVAL;
	if (sscanf(q, " %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3]) != 4)
		return -EINVAL;
	*user = v[0] + v[2];
	*sys = v[1] + v[3];
	return 0;
}

void cputime_start(struct pcputime *c, pid_t pid, int from_zero)
{
	memset(c, 0, sizeof(*c));
	c->pid = pid;
	c->live = 1;
	if (from_zero || stat_times(pid, &c->user0, &c->sys0) == 0)
		c->have0 = 1;
}

void cputime_update(struct pcputime *c)
{
	unsigned long long u, s;

	if (c->live && c->have0 && stat_times(c->pid, &u, &s) == 0) {
		c->user1 = u;
		c->sys1 = s;
		c->have1 = 1;
	}
}

void cputime_recorded(struct pcputime *c, pid_t pid, long hz, unsigned long long user,
		      unsigned long long sys)
{
	memset(c, 0, sizeof(*c));
	c->pid = pid;
	c->recorded = c->have0 = c->have1 = 1;
	c->hz = hz;
	c->user1 = user;
	c->sys1 = sys;
}

int cputime_ticks(const struct pcputime *c, unsigned long long *user, unsigned long long *sys,
		  long *hz)
{
	*hz = c->recorded ? c->hz : sysconf(_SC_CLK_TCK);
	if ((!c->live && !c->recorded) || !c->have1 || *hz <= 0 || c->user1 < c->user0 ||
	    c->sys1 < c->sys0)
		return -1;
	*user = c->user1 - c->user0;
	*sys = c->sys1 - c->sys0;
	return 0;
}

/* Seconds of user and kernel time over the profile; -1 when unknown. */
static int cputime_get(const struct pcputime *c, double *user, double *sys)
{
	unsigned long long u, s;
	long hz;

	if (cputime_ticks(c, &u, &s, &hz))
		return -1;
	*user = (double)u / (double)hz;
	*sys = (double)s / (double)hz;
	return 0;
}

void cputime_print(const struct pcputime *c, FILE *f)
{
	double u, s;

	if (!c->live && !c->recorded) {
		fputs("kernel time: unknown (the input has no record of the target's CPU times)\n", f);
		return;
	}
	if (cputime_get(c, &u, &s)) {
		fprintf(f, "kernel time: unknown (/proc/%d/stat could not be read)\n", (int)c->pid);
		return;
	}
	fprintf(f, "kernel time: %.2f s of %.2f s CPU time (%.1f%%), not sampled "
		"(%s/proc/%d/stat; user %.2f s)\n", s, u + s, u + s > 0 ? 100.0 * s / (u + s) : 0.0,
		c->recorded ? "recorded from " : "", (int)c->pid, u);
}

void cputime_json(const struct pcputime *c, struct json *j)
{
	double u, s;

	json_key(j, "cpu_time");
	if (cputime_get(c, &u, &s)) {
		json_null(j);
		return;
	}
	json_obj(j);
	json_kuint(j, "user_ms", (unsigned long long)(u * 1000.0 + 0.5));
	json_kuint(j, "kernel_ms", (unsigned long long)(s * 1000.0 + 0.5));
	json_obj_end(j);
}
