/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * sd-bus (libsystemd) for the systemd cgroup driver, loaded with dlopen() when a
 * --systemd-cgroup command first needs it: cellrun is a static PIE that must start
 * without libsystemd (and its five libraries) on every exec, and only this driver
 * uses it.  The types and prototypes come from Debian's libsystemd-dev.
 */
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "../base/error.h"

#define SD_SYMBOLS(X)                                                                              \
	X(sd_bus_open_system)                                                                      \
	X(sd_bus_open_user)                                                                        \
	X(sd_bus_flush_close_unref)                                                                \
	X(sd_bus_message_new_method_call)                                                          \
	X(sd_bus_message_append)                                                                   \
	X(sd_bus_message_append_array)                                                             \
	X(sd_bus_message_open_container)                                                           \
	X(sd_bus_message_close_container)                                                          \
	X(sd_bus_message_read)                                                                     \
	X(sd_bus_message_unref)                                                                    \
	X(sd_bus_call)                                                                             \
	X(sd_bus_match_signal)                                                                     \
	X(sd_bus_slot_unref)                                                                       \
	X(sd_bus_process)                                                                          \
	X(sd_bus_wait)                                                                             \
	X(sd_bus_error_free)                                                                       \
	X(sd_bus_error_has_name)

#define SD_FIELD(name) __typeof__(name) *name;
struct sd_fn {
	SD_SYMBOLS(SD_FIELD)
};
#undef SD_FIELD

/* One connection to systemd's manager: the system instance, or the user's
 * ($DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus). */
struct sdb {
	void *dl;
	struct sd_fn fn;
	sd_bus *bus;
	bool user;
};

int sdb_open(struct sdb *b, bool user, struct cell_error *err);
void sdb_close(struct sdb *b);

/* A method call on org.freedesktop.systemd1.Manager being built. */
int sdb_new_call(struct sdb *b, const char *method, sd_bus_message **m, struct cell_error *err);
/* Send m (unref'd here); a D-Bus error named `tolerated` (may be NULL) returns 1 and no reply.
 * *reply (may be NULL) is the caller's to sdb_unref(). */
int sdb_call(struct sdb *b, sd_bus_message *m, const char *what, const char *tolerated,
	     sd_bus_message **reply, struct cell_error *err);
void sdb_unref(struct sdb *b, sd_bus_message *m);
/* A call that returns a job ("o"), waited for until systemd's JobRemoved reports it
 * (at most timeout_s); *result is systemd's word for it ("done", "failed", ...).
 * 1: the call failed with `tolerated`, no job. */
int sdb_call_job(struct sdb *b, sd_bus_message *m, const char *what, const char *tolerated,
		 unsigned timeout_s, char *result, size_t len, struct cell_error *err);
/* The manager's string property (e.g. "ControlGroup"); caller frees. */
int sdb_manager_string(struct sdb *b, const char *prop, char **out, struct cell_error *err);
