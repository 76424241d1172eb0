/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lockfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

static int make_parent(const char *path, struct cell_error *err)
{
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int r;

	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	r = cell_mkdir_p(dir, 0755);
	return r < 0 ? cell_err(err, r, "create %s", dir) : 0;
}

static int lock_file(const char *what, const char *path, int *lock_fd, struct cell_error *err)
{
	_cleanup_free_ char *lock = xasprintf("%s.lock", path);
	_cleanup_close_ int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return cell_err(err, errno, "open the %s lock %s", what, lock);
	if (flock(fd, LOCK_EX) < 0)
		return cell_err(err, errno, "lock %s", lock);
	*lock_fd = TAKE_FD(fd);
	return 0;
}

static int load_json(const char *what, const char *path, json_t **root, struct cell_error *err)
{
	_cleanup_free_ char *text = NULL;
	json_error_t je;
	json_t *o;
	size_t len = 0;
	int r = cell_read_file(path, &text, &len);

	if (r == -ENOENT) {
		*root = NULL;
		return 0;
	}
	if (r < 0)
		return cell_err(err, r, "read the %s %s", what, path);
	if (!(o = json_loadb(text, len, 0, &je)))
		return cell_errx(err, EINVAL, "%s %s: line %d: %s (column %d; repair it)", what,
				 path, je.line, je.text, je.column);
	*root = o;
	return 0;
}

int cell_locked_json_load(const char *what, const char *path, int *lock_fd, json_t **root,
			  struct cell_error *err)
{
	_cleanup_close_ int fd = -1;
	int r;

	if ((r = make_parent(path, err)) < 0 || (r = lock_file(what, path, &fd, err)) < 0)
		return r;
	if ((r = load_json(what, path, root, err)) < 0)
		return r;
	*lock_fd = TAKE_FD(fd);
	return 0;
}

int cell_json_save_atomic(const char *what, const char *path, json_t *root, struct cell_error *err)
{
	_cleanup_free_ char *text = json_dumps(root, JSON_INDENT(2));
	int r;

	if (!text)
		return cell_err(err, ENOMEM, "encode the %s %s", what, path);
	r = cell_write_file_atomic(path, text, strlen(text), 0644);
	return r < 0 ? cell_err(err, r, "write the %s %s", what, path) : 0;
}
