/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * config.User (image-spec config.md: "user", "uid", "user:group",
 * "uid:gid", "user:gid", "uid:group") resolved against the image's own
 * /etc/passwd and /etc/group, read inside the extracted tree
 * (RESOLVE_IN_ROOT, so an /etc symlink cannot reach the host's).
 *
 * Names must exist; a numeric uid need not (its gid is then 0).  Without a
 * group part the primary group comes from passwd and the supplementary
 * groups from the group lines that list the user; an explicit group is the
 * only group.
 */
#include "image-internal.h"
#include "../base/cleanup.h"
#include "../base/util.h"
#include "../sys/rootfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* passwd: name:password:uid:gid:gecos:home:shell (extra = gid);
 * group: name:password:gid:members (extra = members) */
enum { F_NAME = 0, F_ID = 2, F_EXTRA = 3, F_HOME = 5, DB_FIELDS = 7 };

static int db_load(int rootfd, const char *path, char **text)
{
	return cell_root_read_file(rootfd, path, text, NULL);
}

/* Next entry; fields split in place. */
static bool db_next(char **cursor, char *f[DB_FIELDS])
{
	while (**cursor) {
		char *line = *cursor, *nl = strchr(line, '\n');
		*cursor = nl ? nl + 1 : line + strlen(line);
		if (nl)
			*nl = '\0';
		if (*line == '#')
			continue;
		for (int i = 0; i < DB_FIELDS; i++)
			f[i] = strsep(&line, ":");
		if (f[F_NAME] && *f[F_NAME] && f[F_ID])
			return true;
	}
	return false;
}

static int parse_id(const char *s, uint32_t *id)
{
	long long n;

	if (cell_parse_long(s, &n) < 0 || n < 0 || n >= UINT32_MAX)
		return -EINVAL;
	*id = (uint32_t)n;
	return 0;
}

/* The passwd entry matching name (or uid when name is NULL). */
static bool passwd_find(char *text, const char *name, uint32_t uid, uint32_t *out_uid,
			uint32_t *out_gid, char **out_name)
{
	char *cur = text, *f[DB_FIELDS];
	uint32_t id, gid;

	while (text && db_next(&cur, f)) {
		if (parse_id(f[F_ID], &id) < 0 || !f[F_EXTRA] || parse_id(f[F_EXTRA], &gid) < 0)
			continue;
		if (name ? !streq(f[F_NAME], name) : id != uid)
			continue;
		*out_uid = id;
		*out_gid = gid;
		*out_name = xstrdup(f[F_NAME]);
		return true;
	}
	return false;
}

static int resolve_user(int rootfd, const char *u, struct cell_image_config *cfg, char **name,
			struct cell_error *err)
{
	_cleanup_free_ char *text = NULL;
	uint32_t uid = 0, gid = 0;
	bool numeric = parse_id(u, &uid) == 0;
	int r = db_load(rootfd, "etc/passwd", &text);

	if (r < 0 && !numeric)
		return cell_err(err, r, "user %s: read /etc/passwd", u);
	if (passwd_find(text, numeric ? NULL : u, uid, &uid, &gid, name)) {
		cfg->uid = uid;
		cfg->gid = gid;
		return 0;
	}
	if (!numeric)
		return cell_errx(err, ENOENT, "no user %s in /etc/passwd", u);
	cfg->uid = uid;
	cfg->gid = 0;
	return 0;
}

static int resolve_group(int rootfd, const char *g, struct cell_image_config *cfg,
			 struct cell_error *err)
{
	_cleanup_free_ char *text = NULL;
	char *cur, *f[DB_FIELDS];
	uint32_t gid;
	int r;

	if (parse_id(g, &gid) == 0) {
		cfg->gid = gid;
		return 0;
	}
	r = db_load(rootfd, "etc/group", &text);
	if (r < 0)
		return cell_err(err, r, "group %s: read /etc/group", g);
	cur = text;
	while (db_next(&cur, f))
		if (streq(f[F_NAME], g) && parse_id(f[F_ID], &gid) == 0) {
			cfg->gid = gid;
			return 0;
		}
	return cell_errx(err, ENOENT, "no group %s in /etc/group", g);
}

static bool lists_member(char *members, const char *name)
{
	char *m;

	while (members && (m = strsep(&members, ",")))
		if (streq(m, name))
			return true;
	return false;
}

static void add_supplementary(int rootfd, const char *name, struct cell_image_config *cfg)
{
	_cleanup_free_ char *text = NULL;
	char *cur, *f[DB_FIELDS];
	uint32_t gid;

	if (db_load(rootfd, "etc/group", &text) < 0)
		return;
	cur = text;
	while (db_next(&cur, f)) {
		if (parse_id(f[F_ID], &gid) < 0 || gid == cfg->gid ||
		    !lists_member(f[F_EXTRA], name))
			continue;
		cfg->additional_gids =
		    xrealloc(cfg->additional_gids, (cfg->n_additional_gids + 1) * sizeof(gid_t));
		cfg->additional_gids[cfg->n_additional_gids++] = gid;
	}
}

int cell_image_user_resolve(int rootfd, struct cell_image_config *cfg, struct cell_error *err)
{
	_cleanup_free_ char *spec = NULL, *name = NULL;
	char *group;
	int r;

	cfg->uid = 0;
	cfg->gid = 0;
	if (!cfg->user || !*cfg->user)
		return 0;
	spec = xstrdup(cfg->user);
	group = strchr(spec, ':');
	if (group)
		*group++ = '\0';
	if (!*spec || (group && !*group))
		return cell_errx(err, EINVAL, "user %s: empty user or group", cfg->user);
	r = resolve_user(rootfd, spec, cfg, &name, err);
	if (r == 0 && group)
		r = resolve_group(rootfd, group, cfg, err);
	else if (r == 0 && name)
		add_supplementary(rootfd, name, cfg);
	return r;
}

char *cell_image_user_home(int rootfd, uint32_t uid)
{
	_cleanup_free_ char *text = NULL;
	char *cur, *f[DB_FIELDS];
	uint32_t id;

	if (db_load(rootfd, "/etc/passwd", &text) < 0)
		return NULL;
	cur = text;
	while (db_next(&cur, f))
		if (parse_id(f[F_ID], &id) == 0 && id == uid)
			return f[F_HOME] && *f[F_HOME] ? xstrdup(f[F_HOME]) : NULL;
	return NULL;
}
