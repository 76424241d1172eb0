/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `cell exec -u USER`: the user named in the container's own /etc/passwd
 * and /etc/group, read inside its root (cell_root_read_file through the
 * image resolver): a planted "/etc/passwd -> /host/file" is followed as the
 * container sees it, never to the host's file.
 */
#include "manager.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"
#include "../image/image.h"
#include "../sys/rootfile.h"

/* "uid" or "uid:gid", both numbers (the gid defaults to the uid) */
static bool numeric_user(const char *user, struct cell_user *u)
{
	const char *colon = strchr(user, ':');
	_cleanup_free_ char *uid_text =
	    colon ? xstrndup(user, (size_t)(colon - user)) : xstrdup(user);
	long long uid, gid = -1;

	if (cell_parse_long(uid_text, &uid) < 0 || uid < 0 || uid >= UINT32_MAX)
		return false;
	if (colon && (cell_parse_long(colon + 1, &gid) < 0 || gid < 0 || gid >= UINT32_MAX))
		return false;
	u->uid = (uint32_t)uid;
	u->gid = gid < 0 ? (uint32_t)uid : (uint32_t)gid;
	return true;
}

static void take_groups(struct cell_user *u, const struct cell_image_config *cfg)
{
	free(u->additional_gids);
	u->additional_gids =
	    cfg->n_additional_gids ? xcalloc(cfg->n_additional_gids, sizeof(uint32_t)) : NULL;
	for (size_t i = 0; i < cfg->n_additional_gids; i++)
		u->additional_gids[i] = (uint32_t)cfg->additional_gids[i];
	u->n_additional_gids = cfg->n_additional_gids;
}

int cell_manager_exec_user(const char *rootfs, const char *user, struct cell_user *u,
			   struct cell_error *err)
{
	struct cell_image_config cfg = {0};
	_cleanup_close_ int rootfd = -1;
	int r;

	if (numeric_user(user, u))
		return 0;
	rootfd = cell_root_open(rootfs);
	if (rootfd < 0)
		return cell_err(err, rootfd, "open the container's root %s", rootfs);
	cfg.user = xstrdup(user);
	r = cell_image_user_resolve(rootfd, &cfg, err);
	if (r == 0) {
		u->uid = (uint32_t)cfg.uid;
		u->gid = (uint32_t)cfg.gid;
		take_groups(u, &cfg);
	}
	cell_image_config_free(&cfg);
	return r;
}
