/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The id maps of the container's user namespace: which file gets which
 * lines, or which setuid helper is asked, decided from the spec and who the
 * runtime is (host.h); linux/userns.c only writes them.
 */
#include <stdlib.h>

#include "../base/util.h"
#include "plan.h"

char *cell_idmap_format(const struct cell_idmap *m, size_t n)
{
	char *out = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		char *next =
		    xasprintf("%s%u %u %u\n", out, m[i].container_id, m[i].host_id, m[i].size);
		free(out);
		out = next;
	}
	return out;
}

static bool single_self_map(const struct cell_idmap *m, size_t n, uint32_t self)
{
	return n == 1 && m[0].size == 1 && m[0].host_id == self;
}

static void idmap_op(struct cell_idmap_op *op, bool uid, const struct cell_idmap *m, size_t n,
		     const struct cell_id_facts *f, bool write)
{
	bool root = f->euid == 0;

	*op = (struct cell_idmap_op){
	    .file = uid ? "uid_map" : "gid_map",
	    .helper = uid ? "newuidmap" : "newgidmap",
	    .map = m,
	    .n = n,
	};
	if (!write || n == 0)
		return;
	op->text = cell_idmap_format(m, n);
	if (!root && !single_self_map(m, n, uid ? (uint32_t)f->euid : (uint32_t)f->egid)) {
		op->how = CELL_IDMAP_HELPER;
		return;
	}
	op->how = CELL_IDMAP_WRITE;
	op->deny_setgroups = !uid && !root;
}

void cell_idmap_plan_build(const struct cell_linux *l, const struct cell_id_facts *f, bool write,
			   struct cell_idmap_plan *out)
{
	idmap_op(&out->uid, true, l->uid_mappings, l->n_uid_mappings, f, write);
	idmap_op(&out->gid, false, l->gid_mappings, l->n_gid_mappings, f, write);
	/* root of a user namespace whose setgroups says deny (unshare -r): a new user
	 * namespace below it inherits the deny (user_namespaces(7)); unprivileged,
	 * newgidmap leaves setgroups allowed, a direct single mapping denies it */
	out->setgroups_allowed =
	    f->euid == 0 ? !f->setgroups_denied
			 : !single_self_map(l->gid_mappings, l->n_gid_mappings, (uint32_t)f->egid);
}

void cell_idmap_plan_free(struct cell_idmap_plan *p)
{
	free(p->uid.text);
	free(p->gid.text);
	*p = (struct cell_idmap_plan){0};
}
