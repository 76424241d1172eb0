/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What execve gets, looked up in the container's root (after pivot_root, so
 * "/" is the container's): the program through PATH of process.env, and
 * HOME from the user's /etc/passwd entry when process.env lacks it; a key
 * that process.env lists twice counts once, with its last value.  runc
 * does both in its init before reporting it is ready, so a missing command
 * fails `create`, not `start`.
 */
#include "lookup.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"
#include "../image/image.h"
#include "../sys/rootfile.h"
#include "../sys/syscalls.h"

/* The search path when process.env has no PATH (what a shell assumes). */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

const char *cell_env_get(char *const *env, const char *key)
{
	size_t k = strlen(key);
	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], key, k) == 0 && env[i][k] == '=')
			return env[i] + k + 1;
	return NULL;
}

static bool in_groups(const struct cell_user *u, gid_t gid)
{
	if (u->gid == gid)
		return true;
	for (size_t i = 0; i < u->n_additional_gids; i++)
		if (u->additional_gids[i] == gid)
			return true;
	return false;
}

/* execve's permission check (fs/namei.c generic_permission) for the user the
 * process becomes, done before it does: with CAP_DAC_OVERRIDE one x bit
 * suffices, else the owner, group or other bits that apply. */
static bool user_may_exec(const struct stat *st, const struct cell_process *p)
{
	const uint64_t dac = UINT64_C(1) << CAP_DAC_OVERRIDE;
	bool override = p->caps.set ? (p->caps.effective & dac) != 0 : p->user.uid == 0;

	if (override)
		return (st->st_mode & 0111) != 0;
	if (st->st_uid == p->user.uid)
		return (st->st_mode & S_IXUSR) != 0;
	if (in_groups(&p->user, st->st_gid))
		return (st->st_mode & S_IXGRP) != 0;
	return (st->st_mode & S_IXOTH) != 0;
}

/* A regular file with an x bit (as Go's exec.LookPath, which runc uses):
 * 0, else -errno of why `path` is no candidate. */
static int candidate(int root, const char *path, struct stat *st)
{
	_cleanup_close_ int fd = cell_open_in_root(root, path, O_PATH, 0);

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode) || !(st->st_mode & 0111))
		return -EACCES;
	struct statfs sf;
	if (fstatfs(fd, &sf) == 0 && (sf.f_flags & ST_NOEXEC))
		return -EACCES;
	return 0;
}

/* runc's wording: Go's errno strings are strerror's in lower case, and
 * clients match them (docker's CLI exits 127 on "no such file or directory"
 * and 126 on "permission denied", case-sensitively; 125 else).  The text
 * goes into the message and the record keeps no code, so that no
 * capitalised strerror is appended; the return value is -code all the same. */
static int __attribute__((format(printf, 3, 4)))
go_err(struct cell_error *err, int code, const char *fmt, ...)
{
	char what[CELL_ERROR_MSG], text[128];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	(void)snprintf(text, sizeof(text), "%s", strerror(code));
	text[0] = (char)tolower((unsigned char)text[0]);
	(void)cell_errx(err, code, "%s: %s", what, text);
	return -code;
}

static int checked(int root, const struct cell_process *p, const char *path, char **out,
		   struct cell_error *err)
{
	struct stat st = { 0 };
	int r = candidate(root, path, &st);

	/* runc: exec: "/x": stat /x: no such file or directory, but a file that
	 * is no candidate (a dir, no x bit, noexec) is exec: "/x": permission denied */
	if (r == -EACCES)
		return go_err(err, EACCES, "exec: \"%s\"", p->args[0]);
	if (r < 0)
		return go_err(err, -r, "exec: \"%s\": stat %s", p->args[0], path);
	if (!user_may_exec(&st, p))
		return go_err(err, EACCES, "exec: \"%s\": uid %u may not execute %s", p->args[0],
			      p->user.uid, path);
	*out = xstrdup(path);
	return 0;
}

/* A name with a slash is taken as is (relative to process.cwd); a bare name
 * is searched in PATH.  The result is absolute: exec runs it from wherever
 * the cwd is by then. */
static int resolve(int root, const struct cell_process *p, char *const *env, char **out,
		   struct cell_error *err)
{
	const char *file = p->args[0], *cwd = p->cwd ? p->cwd : "/";
	const char *path = cell_env_get(env, "PATH");
	struct stat st = { 0 };

	if (strchr(file, '/')) {
		_cleanup_free_ char *full = file[0] == '/' ? xstrdup(file)
							   : xasprintf("%s/%s", cwd, file);
		return checked(root, p, full, out, err);
	}
	if (!path)
		path = DEFAULT_PATH;
	for (const char *d = path; d; d = strchr(d, ':') ? strchr(d, ':') + 1 : NULL) {
		size_t len = strcspn(d, ":");
		bool relative = !len || d[0] != '/';
		_cleanup_free_ char *full = relative ? xasprintf("%s/%.*s/%s", cwd, (int)len, d, file)
						     : xasprintf("%.*s/%s", (int)len, d, file);
		if (candidate(root, full, &st) < 0)
			continue;
		/* as Go's exec.LookPath (ErrDot), which runc uses: a bare name is
		 * not run from a relative (or empty) PATH entry */
		if (relative) {
			(void)cell_errx(err, EACCES,
					"exec: \"%s\": cannot run executable found relative to "
					"current directory",
					file);
			return -EACCES;
		}
		return checked(root, p, full, out, err);
	}
	(void)cell_errx(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", file);
	return -ENOENT; /* runc's message has no errno text (see go_err) */
}

/* HOME of uid from the container's /etc/passwd; "/" without one (runc). */
static char *home_of(int root, uid_t uid)
{
	char *home = cell_image_user_home(root, uid);

	return home ? home : xstrdup("/");
}

/* The environment as runc's init builds it, setting each KEY=VALUE in turn
 * (os.Setenv): a key listed again keeps its first place and takes the later
 * value, so `exec --env K=V` overrides a K of process.env. */
static char **env_collapse(char *const *env)
{
	char **out = cell_strv_copy(NULL);
	size_t n = 0;

	for (size_t i = 0; env && env[i]; i++) {
		size_t k = strcspn(env[i], "="), j = 0;

		while (j < n && !(strcspn(out[j], "=") == k && memcmp(out[j], env[i], k) == 0))
			j++;
		if (j < n) {
			free(out[j]);
			out[j] = xstrdup(env[i]);
			continue;
		}
		cell_strv_push(&out, xstrdup(env[i]));
		n++;
	}
	return out;
}

int cell_exec_target_prepare(const struct cell_process *p, struct cell_exec_target *out,
			     struct cell_error *err)
{
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_strv_free_ char **env = env_collapse(p->env);
	char *file = NULL;
	int r;

	if (root < 0)
		return cell_err(err, errno, "open / to look up %s", p->args[0]);
	if ((r = resolve(root, p, env, &file, err)) < 0)
		return r;
	if (!cell_env_get(env, "HOME")) {
		_cleanup_free_ char *home = home_of(root, p->user.uid);
		cell_strv_push(&env, xasprintf("HOME=%s", home));
	}
	out->file = file;
	out->env = env;
	env = NULL;
	return 0;
}

void cell_exec_target_release(struct cell_exec_target *t)
{
	free(t->file);
	cell_strv_free(t->env);
	t->file = NULL;
	t->env = NULL;
}
