# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# bench/lib.sh: what bench/run and bench/callgrind.sh share: the busybox
# rootfs, the OCI config, the cgroup parent cellbench-PID in every
# hierarchy, and the crun workaround for hybrid hosts.  Sourced; the caller
# sets CG (the parent's name) and LOG_PREFIX.

CGFS=/sys/fs/cgroup
PY=/usr/bin/python3

log() { printf '%s: %s\n' "${LOG_PREFIX:-bench}" "$*" >&2; }
die() { log "$*"; exit 1; }

# bwrap's outer process exits without reaping the sandbox's pid 1, which is
# then reparented to the nearest child subreaper.  Make that the calling
# script (bash reaps every child it is told about) rather than the
# machine's init.  The flag survives execve, and $$ stays the same.
become_subreaper() { # "$@" of the script
	[ "${CELLBENCH_SUBREAPER:-}" = "$$" ] && return
	[ -x $PY ] || die "$PY missing"
	exec $PY -c 'import ctypes, os, sys
if ctypes.CDLL(None).prctl(36, 1, 0, 0, 0) == 0:  # PR_SET_CHILD_SUBREAPER
    os.environ["CELLBENCH_SUBREAPER"] = str(os.getpid())
os.execv("/bin/bash", ["/bin/bash"] + sys.argv[1:])' "$0" "$@"
}

# ------------------------------------------------------------- cgroups

hybrid() { mountpoint -q "$CGFS/unified"; }

# crun 1.8 refuses a hybrid host (cgroup2 at /sys/fs/cgroup/unified next to
# the v1 hierarchies).  Its commands run in a private mount namespace
# without that one mount; private propagation keeps the umount out of the
# host's mount table.
crun_ns() { # COMMAND...
	if hybrid; then
		unshare -m --propagation private \
			sh -c 'umount "$0" && exec "$@"' "$CGFS/unified" "$@"
	else
		"$@"
	fi
}

cgroup_roots() { # the hierarchies: v1 (and hybrid) mounts under $CGFS, or $CGFS
	local d
	if [ "$(stat -f -c %T $CGFS)" = cgroup2fs ]; then
		echo $CGFS
		return
	fi
	for d in "$CGFS"/*/; do
		mountpoint -q "$d" && echo "${d%/}"
	done
	return 0
}

our_cgroups() { # every cgroup under our parents, deepest first
	local r
	for r in $(cgroup_roots); do
		[ -d "$r/$CG" ] && find "$r/$CG" -depth -type d
	done
	return 0
}

make_cgroup_parents() {
	local r
	for r in $(cgroup_roots); do
		mkdir "$r/$CG"
		# v1 cpuset: a new cgroup starts with no cpus and no mems; give our
		# parent the root's so that the runtimes' children inherit them.
		if [ -f "$r/cpuset.cpus" ] && [ ! -f "$r/cgroup.controllers" ]; then
			cat "$r/cpuset.cpus" >"$r/$CG/cpuset.cpus"
			cat "$r/cpuset.mems" >"$r/$CG/cpuset.mems"
		fi
	done
}

# After the runtimes' own delete: a container that outlived it (a runtime
# bug, or ^C at a bad moment) is still ours, as it sits under our parent.
remove_cgroup_parents() {
	local d pid _
	for d in $(our_cgroups); do
		for pid in $(cat "$d/cgroup.procs" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null || true
		done
	done
	for _ in $(seq 20); do
		for d in $(our_cgroups); do rmdir "$d" 2>/dev/null || true; done
		[ -z "$(our_cgroups)" ] && return 0
		sleep 0.1
	done
	log "left behind: $(our_cgroups | tr '\n' ' ')"
}

# ---------------------------------------------------------------- bundle

make_rootfs() { # DIR: /bin/busybox of busybox-static, one symlink per applet
	local dir=$1 bb=/bin/busybox applet
	[ -x $bb ] || die "$bb missing: apt-get install busybox-static"
	ldd $bb >/dev/null 2>&1 && die "$bb is dynamic: apt-get install busybox-static"
	mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,run}
	cp $bb "$dir/bin/busybox"
	for applet in $($bb --list); do
		[ "$applet" = busybox ] || ln -s busybox "$dir/bin/$applet"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$dir/etc/passwd"
	printf 'root:x:0:\n' >"$dir/etc/group"
}

# runc's default spec (`runc spec`, terminal off) with /bin/true as the
# process, less its "ambient" set: without "inheritable" the kernel cannot
# raise those (PR_CAP_AMBIENT_RAISE needs the capability in both permitted
# and inheritable), runc and crun skip them silently, a strict runtime
# rejects the config; leaving it out keeps the work the same.  One rootfs
# for all containers (read-only, as in that default); each container id
# gets its own config.json (@ID@ replaced) with cgroupsPath /$CG/<id>,
# because a bundle's config names exactly one cgroup.
write_config_template() { # FILE ROOTFS
	cat >"$1" <<EOF
{
	"ociVersion": "1.0.2",
	"process": {
		"terminal": false,
		"user": { "uid": 0, "gid": 0 },
		"args": [ "/bin/true" ],
		"env": [ "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm" ],
		"cwd": "/",
		"capabilities": {
			"bounding": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			"effective": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			"permitted": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ]
		},
		"rlimits": [ { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 } ],
		"noNewPrivileges": true
	},
	"root": { "path": "$2", "readonly": true },
	"hostname": "cellbench",
	"mounts": [
		{ "destination": "/proc", "type": "proc", "source": "proc" },
		{ "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
		  "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
		{ "destination": "/dev/pts", "type": "devpts", "source": "devpts",
		  "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" ] },
		{ "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
		  "options": [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ] },
		{ "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
		  "options": [ "nosuid", "noexec", "nodev" ] },
		{ "destination": "/sys", "type": "sysfs", "source": "sysfs",
		  "options": [ "nosuid", "noexec", "nodev", "ro" ] },
		{ "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
		  "options": [ "nosuid", "noexec", "nodev", "relatime", "ro" ] }
	],
	"linux": {
		"cgroupsPath": "/$CG/@ID@",
		"resources": { "devices": [ { "allow": false, "access": "rwm" } ] },
		"namespaces": [
			{ "type": "pid" }, { "type": "network" }, { "type": "ipc" },
			{ "type": "uts" }, { "type": "mount" }
		],
		"maskedPaths": [
			"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
			"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
			"/proc/sched_debug", "/sys/firmware", "/proc/scsi"
		],
		"readonlyPaths": [
			"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
		]
	}
}
EOF
}

make_bundle() { # TEMPLATE DIR ID: DIR/config.json for container ID
	mkdir "$2"
	sed "s/@ID@/$3/" "$1" >"$2/config.json"
}

first_error() { # FILE [FALLBACK]: its first non-empty line, shortened
	local line
	line=$(grep -m1 . "$1" 2>/dev/null || true)
	echo "${line:-${2:-no message}}" | cut -c1-160
}
