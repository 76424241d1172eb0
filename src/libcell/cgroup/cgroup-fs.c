/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Files and directories of a cgroup hierarchy.  cgroupfs wants each value in a single
 * write(2) and reports a refused value as the write's errno, so every failed write
 * names the file and the value.
 */
#include "cgroup-internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <stddef.h>
#include <time.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"

#define RMDIR_TRIES 10 /* 1+2+4+...+256 ms between tries */

bool cg_delegation_errno(int e)
{
	return e == EACCES || e == EPERM || e == EROFS;
}

void cg_sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

char **cg_split(const char *s, char sep)
{
	char **v = xcalloc(1, sizeof(char *));

	for (const char *p = s;;) {
		const char *end = sep ? strchrnul(p, sep) : p + strlen(p);
		cell_strv_push(&v, xstrndup(p, (size_t)(end - p)));
		if (!*end)
			return v;
		p = end + 1;
	}
}

int cg_write_at(const struct cgroup_hier *h, const char *dir, const char *file, const char *val,
		struct cell_error *err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
	/* A fake tree has no kernel to provide the files. */
	int flags = O_WRONLY | O_TRUNC | O_CLOEXEC | (h->fake ? O_CREAT : 0);
	_cleanup_close_ int fd = open(path, flags, 0644);
	int r = fd < 0 ? -errno : cell_write_all(fd, val, strlen(val));

	if (r == 0)
		return 0;
	if (h->rootless && cg_delegation_errno(-r)) {
		cell_warn("cgroup: write %s \"%s\": %s; skipped (rootless)", path, val,
			  strerror(-r));
		return 0;
	}
	return cell_err(err, r, "write %s \"%s\"", path, val);
}

int cg_write(const struct cgroup_hier *h, const char *file, const char *val, struct cell_error *err)
{
	return cg_write_at(h, h->dir, file, val, err);
}

int cg_writef(const struct cgroup_hier *h, const char *file, struct cell_error *err,
	      const char *fmt, ...)
{
	_cleanup_free_ char *val = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&val, fmt, ap);
	va_end(ap);
	if (r < 0)
		return cell_err(err, ENOMEM, "format %s", file);
	return cg_write(h, file, val, err);
}

int cg_read_at(const char *dir, const char *file, char **out)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
	char *s = NULL;
	size_t len = 0;
	int r = cell_read_file(path, &s, &len);

	if (r < 0)
		return r;
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	*out = s;
	return 0;
}

/* "cpu memory" (kernel) or "+cpu +memory" (what a fake tree holds after our write). */
char **cg_read_list(const char *dir, const char *file, int *ret)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_strv_free_ char **parts = NULL;
	char **v = NULL;

	*ret = cg_read_at(dir, file, &text);
	if (*ret < 0)
		return NULL;
	parts = cg_split(text, ' ');
	for (size_t i = 0; parts[i]; i++)
		if (*parts[i])
			cell_strv_push(&v, xstrdup(parts[i] + (parts[i][0] == '+')));
	return v;
}

int cg_read(const struct cgroup_hier *h, const char *file, char **out)
{
	return cg_read_at(h->dir, file, out);
}

int cg_read_u64(const struct cgroup_hier *h, const char *file, uint64_t *v)
{
	_cleanup_free_ char *s = NULL;
	char *end = NULL;
	int r = cg_read(h, file, &s);

	if (r < 0)
		return r;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || end == s || *end)
		return -EINVAL;
	*v = x;
	return 0;
}

bool cg_has(const struct cgroup_hier *h, const char *file)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", h->dir, file);

	return access(path, F_OK) == 0;
}

int cg_unsupported(bool rootless, struct cell_error *err, const char *what)
{
	if (rootless) {
		cell_warn("cgroup: %s is not available; skipped (rootless)", what);
		return 0;
	}
	return cell_err(err, ENOTSUP, "cgroup: %s is not available", what);
}

/* The leaf existed before: reuse it only when no process is in it. */
static int check_reusable(const char *dir, struct cell_error *err)
{
	_cleanup_free_ char *procs = NULL;

	if (cg_read_at(dir, "cgroup.procs", &procs) < 0 || procs[0] == '\0')
		return 0;
	/* runc 1.2+ refuses too, in these words (1.1 warned and went on) */
	return cell_err(err, EBUSY, "cgroup %s: container's cgroup is not empty: it already has processes",
			dir);
}

/* The freezer state of an existing cgroup dir: "FROZEN"/"FREEZING" (v1), "frozen" or
 * "freezing" (v2: cgroup.events says what took effect, cgroup.freeze what was asked);
 * NULL when thawed or unknown. */
static const char *frozen_state(const struct cgroup_hier *h, const char *dir)
{
	_cleanup_free_ char *v = NULL;

	if (!h->v2) {
		if (!cell_strv_contains(h->controllers, "freezer") ||
		    cg_read_at(dir, "freezer.state", &v) < 0)
			return NULL;
		return streq(v, "FROZEN") ? "FROZEN" : streq(v, "FREEZING") ? "FREEZING" : NULL;
	}
	if (cg_read_at(dir, "cgroup.events", &v) == 0 && strstr(v, "frozen 1"))
		return "frozen";
	free(TAKE_PTR(v));
	if (cg_read_at(dir, "cgroup.freeze", &v) == 0 && streq(v, "1"))
		return "freezing";
	return NULL;
}

int cg_check_not_frozen(const struct cgroup_hier *h, struct cell_error *err)
{
	_cleanup_free_ char *dir = xstrdup(h->dir);
	size_t root = strlen(h->root);
	const char *state;

	/* the deepest cgroup that exists: a new one below a frozen one is frozen too */
	while (strlen(dir) > root && access(dir, F_OK) < 0) {
		char *slash = strrchr(dir, '/');
		*slash = '\0';
	}
	if (strlen(dir) <= root || !(state = frozen_state(h, dir)))
		return 0;
	return cell_err(err, EBUSY,
			"container's cgroup unexpectedly frozen: %s is %s (%s): a process joining it "
			"would hang; thaw it first",
			dir, state, h->v2 ? "cgroup.freeze" : "freezer.state");
}

static int make_one(const struct cgroup_ops *ops, struct cgroup_hier *h, const char *dir,
		    bool *existed, struct cell_error *err)
{
	*existed = false;
	if (mkdir(dir, 0755) == 0)
		return ops->init_dir ? ops->init_dir(h, dir, err) : 0;
	if (errno == EEXIST) {
		*existed = true;
		/* an existing level made by someone else (a pod's parent) may still have
		 * an empty cpuset; it is filled from its parent as runc's ensureParent
		 * does (nothing is written where a value is set) */
		return ops->init_dir && !h->rootless ? ops->init_dir(h, dir, err) : 0;
	}
	if (h->rootless && cg_delegation_errno(errno)) {
		/* container.c says it once when limits were asked for */
		cell_debug("cgroup: mkdir %s: %s; hierarchy skipped (rootless)", dir,
			  strerror(errno));
		h->skipped = true;
		return 0;
	}
	return cell_err(err, errno, "mkdir %s", dir);
}

static int make_path(const struct cgroup_ops *ops, struct cgroup_hier *h, char *dir,
		     bool *existed, struct cell_error *err)
{
	size_t skip = strlen(h->root);
	int r;

	for (char *s = dir + skip + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		r = make_one(ops, h, dir, existed, err);
		*s = '/';
		if (r < 0 || h->skipped)
			return r;
	}
	return make_one(ops, h, dir, existed, err);
}

int cg_make(const struct cgroup_ops *ops, struct cgroup_hier *h, struct cell_error *err)
{
	_cleanup_free_ char *dir = xstrdup(h->dir);
	bool existed = true;
	int r;

	/* ENOENT: a delete removed the empty default parent between our mkdirs */
	for (int tries = 0;; tries++) {
		struct cell_error e = {0};
		r = make_path(ops, h, dir, &existed, &e);
		if (r != -ENOENT || tries == 2) {
			if (r < 0)
				*err = e;
			break;
		}
	}
	if (r < 0 || h->skipped || !existed)
		return r;
	return check_reusable(dir, err);
}

static int rmdir_retry(const char *dir)
{
	unsigned ms = 1; /* a just-reaped task leaves the cgroup within a moment */

	for (int i = 0; i < RMDIR_TRIES; i++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY || i + 1 == RMDIR_TRIES)
			break;
		cg_sleep_ms(ms);
		ms *= 2;
	}
	return -errno;
}

/* Child cgroups first (the container may have made some); files cannot be removed in
 * cgroupfs and need not be.  Mostly there are none: one rmdir, no listing. */
static int rmdir_tree(const char *dir, struct cell_error *err)
{
	if (rmdir(dir) == 0 || errno == ENOENT)
		return 0;
	if (errno != EBUSY)
		return cell_err(err, errno, "rmdir %s", dir);

	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;
	int r;

	if (!d)
		return errno == ENOENT ? 0 : cell_err(err, errno, "open %s", dir);
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		_cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
		r = rmdir_tree(sub, err);
		if (r < 0)
			return r;
	}
	r = rmdir_retry(dir);
	return r < 0 ? cell_err(err, r, "rmdir %s", dir) : 0;
}

/* The default parent goes with its last container, as the runtime made it; one
 * that still holds another container (or a process) stays. */
static void remove_default_parent(const struct cgroup_hier *h)
{
	_cleanup_free_ char *parent = xstrdup(h->dir);
	char *slash = strrchr(parent, '/');

	if (!slash || strlen(parent) <= strlen(h->root))
		return;
	*slash = '\0';
	slash = strrchr(parent, '/');
	if (!slash || !streq(slash + 1, CG_DEFAULT_PARENT) || strlen(parent) <= strlen(h->root))
		return;
	if (rmdir(parent) < 0 && errno != ENOTEMPTY && errno != EBUSY && errno != ENOENT)
		cell_debug("cgroup: rmdir %s: %s", parent, strerror(errno));
}

int cg_remove(const struct cgroup_hier *h, struct cell_error *err)
{
	int r;

	if (!h->fake)
		r = rmdir_tree(h->dir, err);
	else if ((r = cell_rm_rf(h->dir)) < 0)
		r = cell_err(err, r, "remove %s", h->dir);
	if (r == 0)
		remove_default_parent(h);
	return r;
}

static void parse_pids(const char *text, pid_t **pids, size_t *n)
{
	for (const char *p = text; *p;) {
		char *end = NULL;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (v > 0) {
			*pids = xrealloc(*pids, (*n + 1) * sizeof(pid_t));
			(*pids)[(*n)++] = (pid_t)v;
		}
		p = end;
		while (*p && isspace((unsigned char)*p))
			p++;
	}
}

static int collect_at(const char *dir, pid_t **pids, size_t *n, struct cell_error *err)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int r = cg_read_at(dir, "cgroup.procs", &text);

	if (r < 0)
		return cell_err(err, r, "read %s/cgroup.procs", dir);
	parse_pids(text, pids, n);
	d = opendir(dir);
	if (!d)
		return cell_err(err, errno, "open %s", dir);
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		_cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
		r = collect_at(sub, pids, n, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int cg_collect_pids(const char *dir, pid_t **pids, size_t *n, struct cell_error *err)
{
	_cleanup_free_ pid_t *v = NULL;
	size_t count = 0;
	int r = collect_at(dir, &v, &count, err);

	if (r < 0)
		return r;
	*pids = TAKE_PTR(v);
	*n = count;
	return 0;
}

int cg_signal_all(const struct cgroup_hier *h, int sig, struct cell_error *err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int r = cg_collect_pids(h->dir, &pids, &n, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			return cell_err(err, errno, "kill %d", (int)pids[i]);
	return 0;
}

static bool format_i64(char *buf, size_t len, const struct cell_i64 *i, int64_t max_below)
{
	if (!i->set)
		return false;
	if (i->v < max_below)
		return snprintf(buf, len, "max") > 0;
	return snprintf(buf, len, "%lld", (long long)i->v) > 0;
}

bool cg_field_format(const struct cg_field *f, const struct cell_resources *r, char *buf,
		     size_t len)
{
	const void *p = (const char *)r + f->offset;
	const struct cell_u64 *u = p;
	const char *const *s = p;

	switch (f->kind) {
	case CG_U64:
		return u->set && snprintf(buf, len, "%llu", (unsigned long long)u->v) > 0;
	case CG_I64:
		return format_i64(buf, len, p, INT64_MIN);
	case CG_I64_MAX:
		return format_i64(buf, len, p, 0);
	case CG_PIDS:
		return format_i64(buf, len, p, 1);
	case CG_STR:
		return *s && snprintf(buf, len, "%s", *s) >= 0;
	}
	return false;
}

int cg_apply_fields(struct cell_cgroup *cg, const struct cg_field *t, size_t n,
		    const struct cell_resources *r, struct cell_error *err)
{
	char buf[4096];
	int ret;

	for (size_t i = 0; i < n; i++) {
		if (!cg_field_format(&t[i], r, buf, sizeof(buf)))
			continue;
		struct cgroup_hier *h = cgroup_hier_for(cg, t[i].controller);
		if (!h) {
			_cleanup_free_ char *what =
			    xasprintf("controller %s (for %s)", t[i].controller, t[i].file);
			ret = cg_unsupported(cg->rootless, err, what);
		} else {
			ret = cg_write(h, t[i].file, buf, err);
		}
		if (ret < 0)
			return ret;
	}
	return 0;
}

#define THROTTLE(f1, key, field)                                                                   \
	{                                                                                          \
		f1, key, offsetof(struct cell_resources, block_io.field),                          \
		    offsetof(struct cell_resources, block_io.n_##field)                            \
	}

const struct cg_throttle cg_throttles[4] = {
    THROTTLE("blkio.throttle.read_bps_device", "rbps", read_bps),
    THROTTLE("blkio.throttle.write_bps_device", "wbps", write_bps),
    THROTTLE("blkio.throttle.read_iops_device", "riops", read_iops),
    THROTTLE("blkio.throttle.write_iops_device", "wiops", write_iops),
};

const struct cell_throttle_device *cg_throttle_list(const struct cell_resources *r,
						    const struct cg_throttle *t, size_t *n)
{
	const char *base = (const char *)r;

	*n = *(const size_t *)(const void *)(base + t->count);
	return *(struct cell_throttle_device *const *)(const void *)(base + t->list);
}

static int hugetlb_size_check(const char *size, struct cell_error *err)
{
	for (const char *c = size; *c; c++)
		if (!isalnum((unsigned char)*c))
			return cell_err(err, EINVAL, "hugepageLimits: invalid page size \"%s\"",
					size);
	return *size ? 0 : cell_err(err, EINVAL, "hugepageLimits: empty page size");
}

int cg_write_hugetlb(const struct cgroup_hier *h, const struct cell_resources *r,
		     const char *limit, struct cell_error *err)
{
	for (size_t i = 0; i < r->n_hugepage_limits; i++) {
		const struct cell_hugepage_limit *l = &r->hugepage_limits[i];
		_cleanup_free_ char *file = xasprintf("hugetlb.%s.%s", l->page_size, limit);
		_cleanup_free_ char *rsvd = xasprintf("hugetlb.%s.rsvd.%s", l->page_size, limit);
		int ret = hugetlb_size_check(l->page_size, err);

		if (ret == 0)
			ret = cg_writef(h, file, err, "%llu", (unsigned long long)l->limit);
		/* reservations are charged separately (5.7+): limit them alike */
		if (ret == 0 && cg_has(h, rsvd))
			ret = cg_writef(h, rsvd, err, "%llu", (unsigned long long)l->limit);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int cg_check_memory_usage(const struct cgroup_hier *h, const struct cell_resources *r,
			  const char *usage_file, struct cell_error *err)
{
	uint64_t used = 0;

	if (!r->memory.check_before_update || !r->memory.limit.set || r->memory.limit.v < 0)
		return 0;
	if (cg_read_u64(h, usage_file, &used) < 0 || (uint64_t)r->memory.limit.v >= used)
		return 0;
	return cell_err(err, EBUSY, "memory.limit %lld is below the current usage %llu of %s",
			(long long)r->memory.limit.v, (unsigned long long)used, h->dir);
}
