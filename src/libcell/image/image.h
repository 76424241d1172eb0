/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Root filesystems for the `cell` manager: OCI image import and the busybox
 * and debian templates.
 *
 * Destination contract, shared by every function below:
 *   - dest_rootfs must not exist, or be an empty directory (a freshly
 *     mounted image:SIZE volume, say); its parent must exist.  Anything else
 *     fails with EEXIST / ENOTDIR and leaves it alone.
 *   - On success the tree is complete.
 *   - On failure nothing is left behind: dest_rootfs is removed when the
 *     call created it, and emptied again when it was an existing empty
 *     directory.  A caller's rollback can rely on that and need not look
 *     inside.
 * Nothing is ever written outside dest_rootfs (and cache_dir for debian).
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "../base/error.h"

/* ---- OCI image import ---- */

struct cell_image_label {
	char *key, *value;
};

/*
 * The parts of an image config (image-spec config.md, "config" object) that
 * become the container's process.  Strings are NULL when the image leaves
 * them unset; vectors are NULL-terminated, NULL when unset.
 */
struct cell_image_config {
	char **entrypoint;	/* Entrypoint */
	char **cmd;		/* Cmd */
	char **env;		/* Env, "KEY=VALUE" */
	char *working_dir;	/* WorkingDir */
	char *user;		/* User as written: "name", "uid", "name:group", "uid:gid" */
	uid_t uid;		/* User resolved against the image's /etc/passwd */
	gid_t gid;		/* ... and /etc/group; 0:0 when User is unset */
	gid_t *additional_gids; /* groups of /etc/group listing the user by name */
	size_t n_additional_gids;
	char *stop_signal;		 /* StopSignal as written ("SIGQUIT", "15", "RTMIN+3") */
	int stop_signo;			 /* its number, 0 when unset */
	struct cell_image_label *labels; /* Labels, in the config's order */
	size_t n_labels;
	char *os, *architecture; /* top-level "os" and "architecture" */
};

/*
 * Import the image at `source` into dest_rootfs (see the destination
 * contract above) and, when cfg is not NULL, fill *cfg (only on success;
 * release it with cell_image_config_free).
 *
 * source is either
 *   - an OCI image layout directory (oci-layout, index.json, blobs/<alg>/...):
 *     the manifest for linux/<this machine's architecture> is used, or the
 *     only manifest; nested indexes are followed; or
 *   - a docker-archive tarball (`docker save` / `podman save`, optionally
 *     compressed): manifest.json with one image, its Config and Layers.
 * Every blob is checked: manifests, configs and layers against their sha256
 * (or sha512) digests and sizes, each layer's uncompressed stream against
 * the config's rootfs.diff_ids.  A digest that is not "<alg>:<hex>" is
 * refused, so a descriptor cannot name a path outside blobs/.
 *
 * Layers (tar, tar+gzip, tar+zstd; also xz, bzip2) are applied in order:
 * `.wh.NAME` removes NAME of lower layers, `.wh..wh..opq` empties its
 * directory of what lower layers put there (entries of the same layer stay,
 * whatever their order in the tar).  Directories, files, hardlinks,
 * symlinks, fifos and device nodes keep their numeric owner, mode
 * (setuid/setgid/sticky included), times and xattrs.  Device nodes that
 * may not be created (EPERM, as in a user namespace) are skipped.
 *
 * Containment: an entry or hardlink target with an absolute path or a ".."
 * component fails the import.  Parent directories are resolved with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): a symlink inside the
 * tree is followed as if dest_rootfs were "/" (what the container will see,
 * and what docker and containerd do), so "link -> /etc" followed by
 * "link/passwd" writes dest_rootfs/etc/passwd.  A parent reached through a
 * symlink whose target is not in the tree fails (nothing is created on the
 * way).  The last component is never followed: an existing entry is
 * replaced, not written through.  Sockets are skipped; ".wh..wh.*" names
 * other than the opaque marker (aufs leftovers) are ignored.
 *
 * Errors name the source and the part, prefixed "import <source>: ", e.g.
 * "layer 2 (sha256:ab12...): decompress: truncated gzip input",
 * "layer 1 (sha256:...): digest mismatch: content is sha256:...",
 * "blob sha256:...: open <source>/blobs/sha256/...", "<tar>: no member manifest.json",
 * "layer 1 (...): entry ../x refused: absolute or ".." path".
 */
int cell_image_import(const char *source, const char *dest_rootfs, struct cell_image_config *cfg,
		      struct cell_error *err);

/* Free what cell_image_import put in *cfg and zero it; cfg itself is the caller's. */
void cell_image_config_free(struct cell_image_config *cfg);

/* Entrypoint followed by Cmd (docker's rule), a new vector; NULL when both are empty. */
char **cell_image_config_args(const struct cell_image_config *cfg);

/* Resolve cfg->user into uid, gid, additional_gids with the /etc/passwd and
 * /etc/group of the tree rooted at rootfd, read inside it (sys/rootfile.h):
 * for an image's config.User and for `cell exec -u`. */
int cell_image_user_resolve(int rootfd, struct cell_image_config *cfg, struct cell_error *err);
/* The home directory of uid in the passwd file of the tree at rootfd (read inside
 * it), or NULL: no passwd, no such uid, or an empty home field. */
char *cell_image_user_home(int rootfd, uint32_t uid);

/* ---- templates ---- */

/*
 * A busybox system container from Debian's busybox-static (/bin/busybox, a
 * static binary: anything else is refused): the binary, a symlink per
 * applet (/sbin/init among them), /etc/passwd, group, shadow, hostname
 * ("busybox"; the manager overwrites it with the container's name), hosts,
 * profile, inittab and init.d/rcS (runs /etc/init.d/S??* start) and rcK
 * (K??* stop, at shutdown).  Works offline.
 *
 * Busybox init as pid 1 (init/init.c) understands:
 *   SIGUSR2  power off    SIGUSR1, SIGPWR  halt    SIGTERM  reboot
 *   SIGINT   "ctrlaltdel" (this inittab: /sbin/poweroff, so = SIGUSR2)
 *   SIGHUP   re-read inittab    SIGQUIT  "restart" action (none here)
 * On halt/poweroff/reboot it runs the "shutdown" actions, sends SIGTERM then
 * SIGKILL to every other process and calls reboot(2).  In a pid namespace
 * the kernel answers reboot(2) by killing the namespace's init: with SIGINT
 * for power off and halt, SIGHUP for reboot (kernel/pid_namespace.c,
 * reboot_pid_ns).  So `cell stop` sends CELL_BUSYBOX_STOP_SIGNAL and sees
 * the init end by SIGINT; SIGHUP means a reboot was asked for.  This needs
 * CAP_SYS_BOOT in the container (harmless in a pid namespace): without it
 * reboot(2) fails and busybox init sleeps forever after killing everything
 * else, so the stop timeout's SIGKILL ends it.
 */
#define CELL_BUSYBOX_STOP_SIGNAL_NAME "SIGUSR2"
int cell_template_busybox(const char *dest_rootfs, struct cell_error *err);

/*
 * A Debian system container made by debootstrap (--variant=minbase,
 * --include=systemd-sysv plus `packages`, mirror http://deb.debian.org/debian),
 * which boots systemd as init (stop it with SIGRTMIN+3).  The tree leaves
 * out the downloaded .debs, has /etc/hostname "debian" (the manager writes
 * the container's name) and an empty /etc/machine-id, so that systemd makes
 * a fresh one at first boot instead of every container sharing one.
 *
 * Two caches under cache_dir (created 0700 if missing), keyed by suite and
 * a hash of variant, mirror and the sorted package list:
 *   debian-<suite>-<hash>.tgz               debootstrap --make-tarball (the .debs)
 *   debian-<suite>-<hash>.rootfs.v<N>.tar.zst  the installed tree (N: its format)
 * each with a "<file>.sha256" beside it.  A create with the tree cache only
 * extracts it (seconds); without, it runs debootstrap --unpack-tarball from
 * the .debs cache (made first, from the network, if missing) and then saves
 * the tree cache.  Cache files are written to a temporary name and renamed,
 * so a crash never leaves a half file under the final name; a cache whose
 * digest does not match, or that does not extract, is removed and rebuilt.
 *
 * suite: [a-z0-9.-]+ ("bookworm", "stable"); packages: NULL or a
 * NULL-terminated list of Debian package names.  debootstrap's output (and a
 * few "cell: ..." lines of ours) goes to progress line by line, without the
 * newline, when progress is not NULL.  debootstrap runs in its own mount
 * namespace, so the /proc and /sys it mounts in the target vanish with it.
 */
typedef void (*cell_progress_fn)(const char *line, void *arg);
int cell_template_debian(const char *suite, char **packages, const char *dest_rootfs,
			 const char *cache_dir, cell_progress_fn progress, void *arg,
			 struct cell_error *err);
