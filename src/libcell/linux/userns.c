/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"
#include "../sys/privilege.h"
#include "../sys/run.h"

int cell_idmap_parse(const char *text, struct cell_idmap **out, size_t *n, struct cell_error *err)
{
	_cleanup_free_ struct cell_idmap *v = NULL;
	size_t count = 0, line = 0;
	const char *p = text;

	while (*p) {
		unsigned long a, b, c;
		int used = 0;
		line++;
		if (sscanf(p, " %lu %lu %lu%n", &a, &b, &c, &used) != 3 || a > UINT32_MAX ||
		    b > UINT32_MAX || c == 0 || c > UINT32_MAX || a + c - 1 > UINT32_MAX ||
		    b + c - 1 > UINT32_MAX)
			return cell_err(err, EINVAL, "id map line %zu: want \"inside outside count\"",
					line);
		p += used;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p && *p != '\n')
			return cell_err(err, EINVAL, "id map line %zu: trailing text", line);
		if (*p)
			p++;
		v = xrealloc(v, (count + 1) * sizeof(*v));
		v[count++] = (struct cell_idmap){ (uint32_t)a, (uint32_t)b, (uint32_t)c };
	}
	*out = TAKE_PTR(v);
	*n = count;
	return 0;
}

static int write_proc(pid_t pid, const char *file, const char *text, struct cell_error *err)
{
	char path[64];
	int r;

	(void)snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	r = cell_write_file(path, text, strlen(text));
	if (r < 0)
		return cell_err(err, r, "write %s \"%.*s\"", path, (int)strcspn(text, "\n"), text);
	return 0;
}

/* newuidmap PID inside outside count ... : the setuid helper checks /etc/subuid. */
static int run_map_helper(const char *helper, pid_t pid, const struct cell_idmap *m, size_t n,
			  struct cell_error *err)
{
	_cleanup_strv_free_ char **argv = NULL;
	int status = 0, r;

	cell_strv_push(&argv, xstrdup(helper));
	cell_strv_push(&argv, xasprintf("%d", (int)pid));
	for (size_t i = 0; i < n; i++) {
		cell_strv_push(&argv, xasprintf("%u", m[i].container_id));
		cell_strv_push(&argv, xasprintf("%u", m[i].host_id));
		cell_strv_push(&argv, xasprintf("%u", m[i].size));
	}
	const struct cell_run run = { .argv = argv, .search = true,
				      .fd = { CELL_RUN_INHERIT, CELL_RUN_INHERIT, CELL_RUN_INHERIT } };
	const char *step = NULL;
	pid_t child = cell_run_start(&run, &step);
	if (child < 0 && !streq(step, "exec"))
		return cell_err(err, (int)-child, "fork %s", helper);
	if (child > 0 && (r = cell_run_wait(child, &status)) < 0)
		return cell_err(err, -r, "wait %s", helper);
	/* 127: the exec failed, as the shell says it */
	if (child < 0 || (WIFEXITED(status) && WEXITSTATUS(status) == 127))
		return cell_err(err, ENOENT, "%s not found (install Debian's uidmap package)", helper);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return cell_err(err, EPERM,
				"%s refused the mapping: is it within your range in /etc/sub%cid?",
				helper, helper[3]);
	return 0;
}

static int write_one(pid_t pid, const struct cell_idmap_op *op, struct cell_error *err)
{
	int r;

	switch (op->how) {
	case CELL_IDMAP_NONE:
		return 0;
	case CELL_IDMAP_HELPER:
		return run_map_helper(op->helper, pid, op->map, op->n, err);
	case CELL_IDMAP_WRITE:
		break;
	}
	if (op->deny_setgroups && (r = write_proc(pid, "setgroups", "deny", err)) < 0)
		return r;
	return write_proc(pid, op->file, op->text, err);
}

int cell_userns_write_maps(pid_t pid, const struct cell_idmap_plan *p, struct cell_error *err)
{
	int r = write_one(pid, &p->uid, err);
	if (r < 0)
		return r;
	return write_one(pid, &p->gid, err);
}

void cell_userns_facts(struct cell_id_facts *f)
{
	*f = (struct cell_id_facts){.euid = geteuid(), .egid = getegid()};
	/* only root's answer depends on it (plan/idmap.c) */
	if (f->euid == 0)
		f->setgroups_denied = cell_setgroups_denied();
}

bool cell_idmap_to_host(const struct cell_idmap *m, size_t n, uint32_t k, uint32_t *host)
{
	for (size_t i = 0; i < n; i++)
		if (k >= m[i].container_id && k - m[i].container_id < m[i].size) {
			*host = m[i].host_id + (k - m[i].container_id);
			return true;
		}
	return false;
}

bool cell_userns_setgroups_allowed(const struct cell_linux *l)
{
	struct cell_idmap_plan p;
	struct cell_id_facts f;

	cell_userns_facts(&f);
	cell_idmap_plan_build(l, &f, false, &p);
	bool allowed = p.setgroups_allowed;
	cell_idmap_plan_free(&p);
	return allowed;
}
