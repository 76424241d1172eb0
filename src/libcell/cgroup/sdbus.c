/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The few sd-bus calls the systemd cgroup driver makes, through a dlopen()ed
 * libsystemd.so.0 (sdbus.h says why).  Each error names the call and the bus, and
 * carries systemd's own D-Bus error text.
 */
#include "sdbus.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define LIBSYSTEMD "libsystemd.so.0"

static int load(struct sdb *b, struct cell_error *err)
{
	b->dl = dlopen(LIBSYSTEMD, RTLD_NOW | RTLD_LOCAL);
	if (!b->dl)
		return cell_err(err, ENOPKG, "systemd cgroup driver: load %s: %s", LIBSYSTEMD,
				dlerror());
	/* POSIX dlsym: a function's address comes back as void * */
#define SD_LOAD(name)                                                                              \
	if (!(*(void **)&b->fn.name = dlsym(b->dl, #name)))                                        \
		return cell_err(err, ENOSYS, "systemd cgroup driver: %s has no %s", LIBSYSTEMD,    \
				#name);
	SD_SYMBOLS(SD_LOAD)
#undef SD_LOAD
	return 0;
}

int sdb_open(struct sdb *b, bool user, struct cell_error *err)
{
	int r;

	memset(b, 0, sizeof(*b));
	b->user = user;
	if ((r = load(b, err)) < 0) {
		sdb_close(b);
		return r;
	}
	r = user ? b->fn.sd_bus_open_user(&b->bus) : b->fn.sd_bus_open_system(&b->bus);
	if (r < 0) {
		sdb_close(b);
		return cell_err(err, -r, "systemd cgroup driver: connect to %s", user
				? "the user bus ($DBUS_SESSION_BUS_ADDRESS or $XDG_RUNTIME_DIR/bus)"
				: "the system bus");
	}
	return 0;
}

void sdb_close(struct sdb *b)
{
	if (b->bus)
		b->bus = b->fn.sd_bus_flush_close_unref(b->bus);
	if (b->dl)
		(void)dlclose(b->dl);
	b->dl = NULL;
}

void sdb_unref(struct sdb *b, sd_bus_message *m)
{
	if (m)
		(void)b->fn.sd_bus_message_unref(m);
}

int sdb_new_call(struct sdb *b, const char *method, sd_bus_message **m, struct cell_error *err)
{
	int r = b->fn.sd_bus_message_new_method_call(b->bus, m, SD_DEST, SD_PATH, SD_MANAGER,
						     method);

	return r < 0 ? cell_err(err, -r, "systemd: %s: make the message", method) : 0;
}

int sdb_call(struct sdb *b, sd_bus_message *m, const char *what, const char *tolerated,
	     sd_bus_message **reply, struct cell_error *err)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *rep = NULL;
	int r = b->fn.sd_bus_call(b->bus, m, 0, &e, &rep);

	sdb_unref(b, m);
	if (r >= 0) {
		if (reply)
			*reply = rep;
		else
			sdb_unref(b, rep);
		return 0;
	}
	if (tolerated && b->fn.sd_bus_error_has_name(&e, tolerated))
		r = 1;
	else
		(void)cell_err(err, -r, "systemd (%s bus): %s: %s%s%s", b->user ? "user" : "system",
			       what, e.message ? e.message : "", e.name ? " " : "",
			       e.name ? e.name : "");
	b->fn.sd_bus_error_free(&e);
	return r;
}

/* ---- jobs ---- */

struct job_wait {
	struct sdb *b;
	const char *path; /* NULL until the call's reply names the job */
	char result[32];
	bool removed;
	/* a JobRemoved that came before the reply was read: sd_bus_call queues other
	 * messages, they are dispatched only by sd_bus_process, after *path is known */
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret)
{
	struct job_wait *w = userdata;
	const char *path = NULL, *unit = NULL, *result = NULL;
	uint32_t id = 0;

	if (w->b->fn.sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
		return 0;
	if (w->path && streq(path, w->path)) {
		(void)snprintf(w->result, sizeof(w->result), "%s", result);
		w->removed = true;
	}
	return 0;
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int wait_removed(struct sdb *b, struct job_wait *w, const char *what, unsigned timeout_s,
			struct cell_error *err)
{
	uint64_t deadline = now_usec() + (uint64_t)timeout_s * 1000000u;

	while (!w->removed) {
		int r = b->fn.sd_bus_process(b->bus, NULL);
		if (r < 0)
			return cell_err(err, -r, "systemd: %s: wait for job %s", what, w->path);
		if (r > 0)
			continue;
		uint64_t now = now_usec();
		if (now >= deadline)
			return cell_err(err, ETIMEDOUT,
					"systemd: %s: job %s did not finish within %u s", what,
					w->path, timeout_s);
		r = b->fn.sd_bus_wait(b->bus, deadline - now);
		if (r < 0 && r != -EINTR)
			return cell_err(err, -r, "systemd: %s: wait for job %s", what, w->path);
	}
	return 0;
}

int sdb_call_job(struct sdb *b, sd_bus_message *m, const char *what, const char *tolerated,
		 unsigned timeout_s, char *result, size_t len, struct cell_error *err)
{
	struct job_wait w = {.b = b};
	sd_bus_slot *slot = NULL;
	sd_bus_message *reply = NULL;
	const char *job = NULL;
	int r = b->fn.sd_bus_match_signal(b->bus, &slot, SD_DEST, SD_PATH, SD_MANAGER,
					  "JobRemoved", on_job_removed, &w);

	if (r < 0) {
		sdb_unref(b, m);
		return cell_err(err, -r, "systemd: %s: subscribe to JobRemoved", what);
	}
	r = sdb_call(b, m, what, tolerated, &reply, err);
	if (r == 0 && (r = b->fn.sd_bus_message_read(reply, "o", &job)) < 0)
		r = cell_err(err, -r, "systemd: %s: read the job from the reply", what);
	else if (r == 0) {
		w.path = job;
		r = wait_removed(b, &w, what, timeout_s, err);
	}
	if (r == 0)
		(void)snprintf(result, len, "%s", w.result);
	sdb_unref(b, reply);
	(void)b->fn.sd_bus_slot_unref(slot);
	return r;
}

/* Properties.Get, not sd_bus_get_property_string(): that string comes from libsystemd's
 * malloc, which in the static cellrun is another libc's (dlopen of a static program). */
int sdb_manager_string(struct sdb *b, const char *prop, char **out, struct cell_error *err)
{
	sd_bus_message *m = NULL, *reply = NULL;
	const char *v = NULL;
	int r = b->fn.sd_bus_message_new_method_call(b->bus, &m, SD_DEST, SD_PATH,
						     "org.freedesktop.DBus.Properties", "Get");

	if (r < 0 || (r = b->fn.sd_bus_message_append(m, "ss", SD_MANAGER, prop)) < 0) {
		sdb_unref(b, m);
		return cell_err(err, -r, "systemd: read the manager's %s: make the message", prop);
	}
	if ((r = sdb_call(b, m, prop, NULL, &reply, err)) < 0)
		return r;
	r = b->fn.sd_bus_message_read(reply, "v", "s", &v);
	if (r >= 0)
		*out = xstrdup(v);
	sdb_unref(b, reply);
	return r < 0 ? cell_err(err, -r, "systemd: read the manager's %s from the reply", prop) : 0;
}
