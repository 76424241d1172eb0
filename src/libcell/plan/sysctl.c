/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* linux.sysctl keys -> the files under /proc/sys the child writes (runtime-spec
 * config-linux.md "Sysctl"). */
#include "plan.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../base/util.h"

/* Every component between `sep` is non-empty and neither "." nor "..". */
static bool key_components_valid(const char *key, char sep)
{
	const char seps[] = {sep, '\0'};
	const char *c = key;

	for (;;) {
		size_t n = strcspn(c, seps);
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (c[n] == '\0')
			return true;
		c += n + 1;
	}
}

int cell_sysctl_path(const char *key, char *buf, size_t len)
{
	/* sysctl(8): with a '/' the key is a path and dots are literal
	 * ("net/ipv4/conf/eth0.100/forwarding"); otherwise dots separate. */
	char sep = strchr(key, '/') ? '/' : '.';
	size_t prefix = strlen("/proc/sys/");
	int n;

	if (!key_components_valid(key, sep))
		return -EINVAL;
	n = snprintf(buf, len, "/proc/sys/%s", key);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	for (char *c = buf + prefix; *c; c++)
		if (*c == sep)
			*c = '/';
	return 0;
}

int cell_plan_sysctls(struct cell_plan *p, struct cell_error *err)
{
	const struct cell_linux *l = &p->spec->linux;

	p->sysctls = xcalloc(l->n_sysctl ? l->n_sysctl : 1, sizeof(*p->sysctls));
	for (size_t i = 0; i < l->n_sysctl; i++) {
		char path[CELL_SYSCTL_PATH_MAX];
		if (cell_sysctl_path(l->sysctl[i].key, path, sizeof(path)) < 0)
			return cell_errx(err, EINVAL, "linux.sysctl \"%s\": invalid key",
					 l->sysctl[i].key);
		p->sysctls[i] =
		    (struct cell_sysctl_op){l->sysctl[i].key, l->sysctl[i].value, xstrdup(path)};
		p->n_sysctls++;
	}
	return 0;
}
