/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"

static const char *const status_names[] = {
	[CELL_CREATING] = "creating", [CELL_CREATED] = "created", [CELL_RUNNING] = "running",
	[CELL_PAUSED] = "paused",     [CELL_STOPPED] = "stopped",
};

const char *cell_status_name(enum cell_status s)
{
	return status_names[s];
}

static int status_from_name(const char *n)
{
	for (size_t i = 0; i < ARRAY_SIZE(status_names); i++)
		if (streq(status_names[i], n))
			return (int)i;
	return -1;
}

static json_t *annotations_json(const struct cell_state *st)
{
	json_t *o = json_object();
	for (size_t i = 0; i < st->n_annotations; i++)
		json_object_set_new(o, st->annotations[i].key, json_string(st->annotations[i].value));
	return o;
}

int cell_state_save(int dirfd, const struct cell_state *st, struct cell_error *err)
{
	return cell_state_save_as(dirfd, CELL_STATE_FILE, st, err);
}

int cell_state_save_as(int dirfd, const char *name, const struct cell_state *st,
		       struct cell_error *err)
{
	json_t *o = json_pack("{s:s, s:i, s:I, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:i, s:o}",
			      "id", st->id, "pid", (int)st->pid, "start_time",
			      (json_int_t)st->start_time, "bundle", st->bundle, "rootfs",
			      st->rootfs, "status", cell_status_name(st->status), "created",
			      st->created, "cgroup_path", st->cgroup_path ? st->cgroup_path : "",
			      "systemd_cgroup", st->systemd_cgroup, "rootless", st->rootless,
			      "owner", (int)st->owner, "annotations", annotations_json(st));
	if (!o)
		return cell_err(err, ENOMEM, "encode state of %s", st->id);
	_cleanup_free_ char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	_cleanup_free_ char *path = xasprintf("/proc/self/fd/%d/%s", dirfd, name);
	int r = cell_write_file_replace(path, text, strlen(text), 0600, false);
	if (r < 0)
		return cell_err(err, r, "write %s of %s", name, st->id);
	return 0;
}

static char *dup_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? xstrdup(s) : NULL;
}

static void load_annotations(json_t *o, struct cell_state *st)
{
	const char *k;
	json_t *v;
	size_t n = json_object_size(o), i = 0;

	st->annotations = xcalloc(n, sizeof(*st->annotations));
	json_object_foreach(o, k, v)
	{
		if (!json_is_string(v))
			continue;
		st->annotations[i].key = xstrdup(k);
		st->annotations[i].value = xstrdup(json_string_value(v));
		i++;
	}
	st->n_annotations = i;
}

int cell_state_load(int dirfd, struct cell_state **out, struct cell_error *err)
{
	return cell_state_load_from(dirfd, CELL_STATE_FILE, out, err);
}

int cell_state_load_from(int dirfd, const char *name, struct cell_state **out,
			 struct cell_error *err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	_cleanup_free_ char *text = NULL;
	json_error_t je;
	int r;

	if (fd < 0)
		return cell_err(err, errno, "open %s", name);
	r = cell_read_fd(fd, &text, NULL);
	if (r < 0)
		return cell_err(err, r, "read %s", name);
	json_t *o = json_loads(text, 0, &je);
	if (!o)
		return cell_err(err, EINVAL, "%s: line %d, column %d: %s", name, je.line,
				je.column, je.text);
	if (!json_is_object(o)) {
		json_decref(o);
		return cell_err(err, EINVAL, "%s: not a JSON object", name);
	}
	struct cell_state *st = xzalloc(sizeof(*st));
	st->id = dup_str(o, "id");
	st->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
	st->start_time = (unsigned long long)json_integer_value(json_object_get(o, "start_time"));
	st->bundle = dup_str(o, "bundle");
	st->rootfs = dup_str(o, "rootfs");
	st->created = dup_str(o, "created");
	st->cgroup_path = dup_str(o, "cgroup_path");
	st->systemd_cgroup = json_is_true(json_object_get(o, "systemd_cgroup"));
	st->rootless = json_is_true(json_object_get(o, "rootless"));
	st->owner = (uid_t)json_integer_value(json_object_get(o, "owner"));
	const char *status = json_string_value(json_object_get(o, "status"));
	r = status ? status_from_name(status) : -1;
	st->status = r < 0 ? CELL_STOPPED : (enum cell_status)r;
	load_annotations(json_object_get(o, "annotations"), st);
	json_decref(o);
	if (!st->id || !st->bundle) {
		cell_state_free(st);
		return cell_err(err, EINVAL, "%s: missing id or bundle", name);
	}
	*out = st;
	return 0;
}

void cell_state_free(struct cell_state *st)
{
	if (!st)
		return;
	free(st->id);
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	free(st->cgroup_path);
	for (size_t i = 0; i < st->n_annotations; i++) {
		free(st->annotations[i].key);
		free(st->annotations[i].value);
	}
	free(st->annotations);
	free(st);
}

char *cell_state_oci_json(const struct cell_state *st, enum cell_status status, bool pretty)
{
	bool has_pid = status != CELL_STOPPED && status != CELL_CREATING;

	return cell_state_oci_json_pid(st, status, has_pid ? st->pid : 0, pretty);
}

char *cell_state_oci_json_pid(const struct cell_state *st, enum cell_status status, pid_t pid,
			      bool pretty)
{
	/* runc's containerState, in its field order (list.bats matches the text):
	 * ociVersion id pid status bundle rootfs created annotations(omitempty) owner */
	json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "ociVersion", CELL_OCI_VERSION, "id",
			      st->id, "pid", (json_int_t)pid, "status",
			      cell_status_name(status), "bundle", st->bundle, "rootfs",
			      st->rootfs ? st->rootfs : "");

	if (st->created)
		json_object_set_new(o, "created", json_string(st->created));
	if (st->n_annotations > 0)
		json_object_set_new(o, "annotations", annotations_json(st));
	json_object_set_new(o, "owner", json_string(""));
	char *text = json_dumps(o, pretty ? JSON_INDENT(2) : JSON_COMPACT);
	json_decref(o);
	if (!text)
		abort();
	return text;
}

int cell_pid_start_time(pid_t pid, unsigned long long *out)
{
	char path[64], *p;
	_cleanup_free_ char *buf = NULL;
	char state;
	int r;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	r = cell_read_file(path, &buf, NULL);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	/* comm may contain spaces and parens: fields restart after the last ')' */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c", &state) != 1)
		return -EINVAL;
	if (state == 'Z' || state == 'X')
		return -ESRCH;
	p += 2;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EINVAL;
		p++;
	}
	*out = strtoull(p, NULL, 10);
	return 0;
}

bool cell_state_pid_alive(const struct cell_state *st)
{
	unsigned long long t;

	if (st->pid <= 0 || cell_pid_start_time(st->pid, &t) < 0)
		return false;
	return t == st->start_time;
}

char *cell_now_rfc3339(void)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	(void)gmtime_r(&ts.tv_sec, &tm);
	(void)strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	return xasprintf("%s.%09ldZ", buf, ts.tv_nsec);
}
