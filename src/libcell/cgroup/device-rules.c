/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The device rules of a container's cgroup: the spec's list with runc's defaults,
 * and the two forms a backend writes them in (v1 devices.allow/deny lines here; v2's
 * BPF program, devices-bpf.c, takes the access mask).
 */
#include "cgroup-internal.h"

#include <stdio.h>
#include <string.h>

#include "../base/cleanup.h"
#include "../base/util.h"

#define DEV_RWM(t, maj, min)                                                                       \
	{                                                                                          \
		.allow = true, .type = (t), .major = (maj), .minor = (min), .access = "rwm"        \
	}

/* runc's default allow list (libcontainer/specconv AllowedDevices) */
static const struct cell_device_rule default_rules[] = {
    DEV_RWM('c', 1, 3),	   /* /dev/null */
    DEV_RWM('c', 1, 5),	   /* /dev/zero */
    DEV_RWM('c', 1, 7),	   /* /dev/full */
    DEV_RWM('c', 1, 8),	   /* /dev/random */
    DEV_RWM('c', 1, 9),	   /* /dev/urandom */
    DEV_RWM('c', 5, 0),	   /* /dev/tty */
    DEV_RWM('c', 5, 1),	   /* /dev/console */
    DEV_RWM('c', 5, 2),	   /* /dev/ptmx */
    DEV_RWM('c', 136, -1), /* /dev/pts/N */
    {.allow = true, .type = 'c', .major = -1, .minor = -1, .access = "m"},
    {.allow = true, .type = 'b', .major = -1, .minor = -1, .access = "m"},
};

int cell_cgroup_default_device_rules(struct cell_device_rule **out, size_t *n)
{
	*out = xmalloc(sizeof(default_rules));
	memcpy(*out, default_rules, sizeof(default_rules));
	*n = ARRAY_SIZE(default_rules);
	return 0;
}

static bool is_deny_all(const struct cell_device_rule *d)
{
	return !d->allow && (d->type == 'a' || (d->major < 0 && d->minor < 0)) &&
	       strchr(d->access, 'r') && strchr(d->access, 'w') && strchr(d->access, 'm');
}

/* The defaults go after a leading deny-all (what runc spec and podman write),
 * else first: either way the config's own rules come later and win, so a
 * config can still deny a default device. */
struct cell_device_rule *cgroup_device_rules(const struct cell_resources *r, size_t *n)
{
	size_t total = r->n_devices + ARRAY_SIZE(default_rules);
	struct cell_device_rule *v = xcalloc(total, sizeof(*v));
	size_t head = 0;

	while (head < r->n_devices && is_deny_all(&r->devices[head]))
		head++;
	if (head)
		memcpy(v, r->devices, head * sizeof(*v));
	memcpy(v + head, default_rules, sizeof(default_rules));
	if (r->n_devices > head)
		memcpy(v + head + ARRAY_SIZE(default_rules), r->devices + head,
		       (r->n_devices - head) * sizeof(*v));
	*n = total;
	return v;
}

static void dev_number(char *buf, size_t len, int64_t v)
{
	if (v < 0)
		(void)snprintf(buf, len, "*");
	else
		(void)snprintf(buf, len, "%lld", (long long)v);
}

void cgroup_device_line(const struct cell_device_rule *d, char *buf, size_t len)
{
	char maj[24], min[24];

	if (d->type == 'a' || !d->type) {
		(void)snprintf(buf, len, "a");
		return;
	}
	dev_number(maj, sizeof(maj), d->major);
	dev_number(min, sizeof(min), d->minor);
	(void)snprintf(buf, len, "%c %s:%s %s", d->type, maj, min,
		       d->access[0] ? d->access : "rwm");
}

unsigned cgroup_device_access(const char *access)
{
	unsigned mask = 0;

	for (const char *c = access; *c; c++)
		mask |= *c == 'r'   ? BPF_DEVCG_ACC_READ
			: *c == 'w' ? BPF_DEVCG_ACC_WRITE
			: *c == 'm' ? BPF_DEVCG_ACC_MKNOD
				    : 0;
	return mask ? mask : BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
}
