/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A flame graph as one self-contained SVG: a rectangle per function and
 * stack prefix, its width the share of samples, a <title> per rectangle for
 * the browser's tooltip.  No script, nothing fetched. */
#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "profile.h"

#define WIDTH 1200.0
#define ROW 16
#define PAD 10
#define TOP 36

struct node {
	const char *name;
	int vdso;
	uint64_t count;
	struct node *kids, *next;
};

static struct node *child(struct node *n, const char *name, int vdso)
{
	struct node *k;

	for (k = n->kids; k; k = k->next)
		if (!strcmp(k->name, name) && k->vdso == vdso)
			return k;
	if (!(k = calloc(1, sizeof(*k))))
		return NULL;
	k->name = name;
	k->vdso = vdso;
	k->next = n->kids;
	n->kids = k;
	return k;
}

static void free_tree(struct node *n)
{
	struct node *k, *next;

	for (k = n->kids; k; k = next) {
		next = k->next;
		free_tree(k);
		free((void *)k->name);
		free(k);
	}
}

static int depth(const struct node *n)
{
	const struct node *k;
	int d = 0, e;

	for (k = n->kids; k; k = k->next)
		if ((e = depth(k) + 1) > d)
			d = e;
	return d;
}

static void escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void color(const struct node *n, char *buf, size_t len)
{
	unsigned h = 2166136261u;
	const char *s;

	for (s = n->name; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	if (n->vdso) /* the vDSO in blues */
		snprintf(buf, len, "rgb(%u,%u,%u)", 80 + h % 40, 140 + (h >> 8) % 50, 230);
	else
		snprintf(buf, len, "rgb(%u,%u,%u)", 220 + h % 35, 90 + (h >> 8) % 110, 40 + (h >> 16) % 40);
}

static void draw(FILE *f, const struct node *n, double x, int level, int maxd, uint64_t total)
{
	const struct node *k;
	double w = WIDTH * (double)n->count / (double)total, cx = x;
	double y = TOP + (double)(maxd - level) * ROW;
	char c[32];

	if (level > 0 && w >= 0.1) {
		color(n, c, sizeof(c));
		fputs("<g><title>", f);
		escaped(f, n->name);
		fprintf(f, " (%" PRIu64 " samples, %.2f%%)</title>", n->count,
			100.0 * (double)n->count / (double)total);
		fprintf(f, "<rect x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" height=\"%d\" fill=\"%s\" "
			"rx=\"2\"/>", PAD + x, y, w, ROW - 1, c);
		if (w > 21) {
			size_t chars = (size_t)((w - 6) / 7), len = strlen(n->name);
			char *t = strdup(n->name);
			if (t) {
				if (len > chars) {
					t[chars > 2 ? chars - 2 : 0] = 0;
					if (chars > 2)
						strcat(t, "..");
				}
				fprintf(f, "<text x=\"%.2f\" y=\"%.0f\">", PAD + x + 3, y + ROW - 4);
				escaped(f, t);
				fputs("</text>", f);
				free(t);
			}
		}
		fputs("</g>\n", f);
	}
	for (k = n->kids; k; k = k->next) {
		draw(f, k, cx, level + 1, maxd, total);
		cx += WIDTH * (double)k->count / (double)total;
	}
}

int flamegraph_write(FILE *f, struct pstack *const *stacks, size_t n, const char *title)
{
	struct node root = { .name = "all" };
	size_t i;
	unsigned int k;
	int maxd;

	for (i = 0; i < n; i++) {
		struct node *at = &root;
		root.count += stacks[i]->count;
		for (k = 0; k < stacks[i]->nframes; k++) {
			const struct pframe *fr = &stacks[i]->frames[k];
			char buf[300];
			char *name;
			struct node *next;
			if (fr->func)
				snprintf(buf, sizeof(buf), "%s", fr->func);
			else
				snprintf(buf, sizeof(buf), "[%s]", fr->module ? fr->module : "unknown");
			if (!(name = strdup(buf)))
				goto nomem;
			next = child(at, name, fr->vdso);
			if (!next) {
				free(name);
				goto nomem;
			}
			if (next->name != name)
				free(name);
			at = next;
			at->count += stacks[i]->count;
		}
	}
	maxd = depth(&root);
	fprintf(f, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
		"height=\"%d\" viewBox=\"0 0 %.0f %d\">\n"
		"<style>text{font-family:monospace;font-size:12px;fill:#000}"
		"rect:hover{stroke:#000;stroke-width:0.5}</style>\n"
		"<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"#f8f8f0\"/>\n"
		"<text x=\"%d\" y=\"22\" style=\"font-size:16px\">",
		WIDTH + 2 * PAD, TOP + (maxd + 1) * ROW, WIDTH + 2 * PAD, TOP + (maxd + 1) * ROW, PAD);
	escaped(f, title);
	fprintf(f, " (%" PRIu64 " samples; vDSO frames in blue)</text>\n", root.count);
	if (root.count)
		draw(f, &root, 0, 0, maxd, root.count);
	fputs("</svg>\n", f);
	free_tree(&root);
	return ferror(f) ? -EIO : 0;
nomem:
	free_tree(&root);
	return -ENOMEM;
}
