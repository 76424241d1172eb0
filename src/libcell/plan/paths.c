/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Lexical path checks for destinations inside the rootfs (never resolved here). */
#include "plan.h"

#include <string.h>

#include "../base/util.h"

/* Next component of *p (skipping slashes); its length in *len, NULL at the end. */
static const char *next_component(const char **p, size_t *len)
{
	const char *s = *p + strspn(*p, "/");

	if (!*s)
		return NULL;
	*len = strcspn(s, "/");
	*p = s + *len;
	return s;
}

static bool is_dots(const char *c, size_t len, size_t n)
{
	return len == n && strncmp(c, "..", n) == 0;
}

bool cell_path_escapes_root(const char *path)
{
	long depth = 0;
	size_t len;

	for (const char *c; (c = next_component(&path, &len));) {
		if (is_dots(c, len, 2) && --depth < 0)
			return true;
		if (!is_dots(c, len, 1) && !is_dots(c, len, 2))
			depth++;
	}
	return false;
}

char *cell_path_clean(const char *path)
{
	char *out = xmalloc(strlen(path) + 2);
	size_t o = 0, len;

	for (const char *c; (c = next_component(&path, &len));) {
		if (is_dots(c, len, 1))
			continue;
		if (is_dots(c, len, 2)) {
			while (o > 0 && out[--o] != '/')
				;
			continue;
		}
		out[o++] = '/';
		memcpy(out + o, c, len);
		o += len;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

bool cell_path_under(const char *p, const char *dir)
{
	size_t n = strlen(dir);

	if (streq(dir, "/"))
		return p[0] == '/';
	return strncmp(p, dir, n) == 0 && (p[n] == '\0' || p[n] == '/');
}
