/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux security modules (runtime-spec config.md "process.apparmorProfile",
 * "process.selinuxLabel", config-linux.md "mountLabel").  Both labels are
 * set "on exec": the kernel applies them at the next execve, so they are
 * written just before exec and the runtime itself stays unconfined.
 */
#include "identity.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"

/* "apparmor" is one item of the comma-separated active LSM list. */
static bool lsm_list_has(const char *list, const char *name)
{
	for (const char *c = list; *c;) {
		size_t len = strcspn(c, ",\n");
		if (len == strlen(name) && strncmp(c, name, len) == 0)
			return true;
		c += len;
		if (*c)
			c++;
	}
	return false;
}

static bool apparmor_enabled(void)
{
	_cleanup_free_ char *on = NULL, *lsm = NULL;

	if (cell_read_file("/sys/module/apparmor/parameters/enabled", &on, NULL) == 0 &&
	    on[0] == 'Y')
		return true;
	return cell_read_file("/sys/kernel/security/lsm", &lsm, NULL) == 0 &&
	       lsm_list_has(lsm, "apparmor");
}

static bool selinux_enabled(void)
{
	/* selinuxfs registers its mount point only when SELinux is enabled */
	return access("/sys/fs/selinux", F_OK) == 0;
}

static int attr_write(const char *path, const char *data)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return cell_write_all(fd, data, strlen(data));
}

static int apparmor_apply(const char *profile, struct cell_error *err)
{
	_cleanup_free_ char *cmd = NULL;
	int r;

	if (!apparmor_enabled())
		return cell_errx(err, ENOTSUP,
				 "apparmorProfile \"%s\": AppArmor is not enabled on this host",
				 profile);
	cmd = xasprintf("exec %s", profile);
	/* the per-LSM file exists with LSM stacking; older kernels only have attr/exec */
	r = attr_write("/proc/thread-self/attr/apparmor/exec", cmd);
	if (r == -ENOENT)
		r = attr_write("/proc/self/attr/exec", cmd);
	if (r < 0)
		return cell_err(err, r, "apparmorProfile \"%s\": write attr/exec", profile);
	return 0;
}

static int selinux_apply(const char *label, struct cell_error *err)
{
	int r;

	if (!selinux_enabled())
		return cell_errx(err, ENOTSUP,
				 "selinuxLabel \"%s\": SELinux is not enabled on this host", label);
	r = attr_write("/proc/thread-self/attr/exec", label);
	if (r < 0)
		return cell_err(err, r, "selinuxLabel \"%s\": write /proc/thread-self/attr/exec",
				label);
	return 0;
}

int cell_lsm_apply(const struct cell_process *p, struct cell_error *err)
{
	int r;

	if (p->apparmor_profile && *p->apparmor_profile &&
	    (r = apparmor_apply(p->apparmor_profile, err)) < 0)
		return r;
	if (p->selinux_label && *p->selinux_label)
		return selinux_apply(p->selinux_label, err);
	return 0;
}

int cell_lsm_mount_label_check(const char *label, struct cell_error *err)
{
	if (label && *label && !selinux_enabled())
		return cell_errx(err, ENOTSUP,
				 "linux.mountLabel \"%s\": SELinux is not enabled on this host",
				 label);
	return 0;
}
