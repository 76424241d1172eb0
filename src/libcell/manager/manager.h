/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The `cell` manager's model: a store of named containers, each an OCI
 * bundle plus cell.json (its persistent settings).  Settings are compiled
 * into config.json, which cellrun, runc or crun can run as well; cell itself
 * runs it through the same container.c as cellrun.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "../base/error.h"
#include "../container.h"
#include "../net/net.h"

struct cell_bind {
	char *source, *destination;
	bool readonly;
};

struct cell_settings {
	char *name;
	char *template_name; /* "busybox", "debian:bookworm", "oci:/path", "dir:/path" */
	char *storage;       /* "dir", "overlay", "btrfs", "image:SIZE"; NULL: CELL_STORAGE_DEFAULT */
	/* false: a privileged container (no user namespace: its root is host root, not
	 * root-safe); true (cell create's default): its ids 0-65535 are host ids
	 * idmap_host..+idmap_size-1, a range of root's /etc/subuid and /etc/subgid
	 * that no other container of any store has (idmap-registry.c) */
	bool unprivileged;
	uint32_t idmap_host, idmap_size; /* when unprivileged */
	int64_t memory;      /* bytes, 0: none */
	double cpus;         /* 0: none */
	int64_t pids;        /* 0: none */
	char *hostname;
	struct cell_bind *binds;
	size_t n_binds;
	char **env;
	char **command;      /* process args: init (system) or the app's command */
	char *init;          /* the init path when command is NULL */
	char *net;           /* --net: "bridge[=NET]", "none", "host", ... (net/net.h); NULL: none */
	char *ip, *ip6;      /* pinned addresses (bridge: ADDR; macvlan, ipvlan: ADDR/PREFIX) */
	char *mac;           /* pinned MAC of eth0 */
	char **publish;      /* -p [HOSTIP:]HOSTPORT:CTRPORT[/PROTO] */
	char *cwd;
	char *user;          /* "uid[:gid]" for app containers */
	bool autostart;
	bool system;         /* boots an init (stop = power off), else an app */
	bool terminal;       /* app containers: a pty (-t); system containers always have one */
	char *stop_signal;   /* as the init understands it: "SIGRTMIN+3", "SIGUSR2", "SIGTERM" */
	char *created;
};

/*
 * Where a store and what it uses live.  The front-end fills it from its options
 * and its environment (CELL_ROOT, CELL_RUNTIME_DIR, ...: libcell reads none);
 * NULL takes the default.
 */
#define CELL_STORAGE_DEFAULT "dir"

struct cell_store_paths {
	const char *root;	    /* the store: /var/lib/cell */
	const char *run;	    /* runtime state: /run/cell */
	const char *cache;	    /* downloads and packed trees (stores may share one): <root>/cache */
	const char *cgroup_parent;  /* the one parent of the containers' cgroups: "cell" */
	const char *binary;	    /* cell's real path when it runs from a sealed copy (cell-monitor
				     * lies next to it): /proc/self/exe */
	const char *subuid, *subgid; /* root's subordinate ids: /etc/subuid, /etc/subgid */
	const char *idmap_registry; /* the host-wide registry: /var/lib/cell-idmap/ranges.json */
	const char *net_state;	    /* the host-wide network registry: /var/lib/cell-net */
	const char *net_run;	    /* the networks' runtime state: /run/cell-net */
};

/* What the settings compiler takes from the store and the host, so that it reads
 * neither the environment nor the kernel. */
struct cell_compile_host {
	const char *cgroup_parent;
	uint64_t cap_bounding; /* the capabilities this process can hand on: bit n, capability n */
	const char *netns_path; /* the network namespace to join (--net container=), or NULL */
	const char *userns_path; /* and the user namespace that owns it (an unprivileged one's) */
	/* a rootless store (a caller without root, in the host's user namespace):
	 * containers start from `cellrun spec --rootless` (a user namespace whose
	 * root is the caller's one id, no helper; no uid=/gid= mount options, no
	 * cgroup mount), with a network namespace of their own */
	bool rootless_map;
};

struct cell_store {
	char *root, *run, *cache, *cgroup_parent, *subuid, *subgid, *idmap_registry;
	char *root_real; /* realpath(root): the store's name in host-wide registries */
	char *net_state, *net_run;
	struct cell_net_paths net; /* net_state, net_run and the store's liveness check */
	char *binary; /* NULL: /proc/self/exe */
	struct cell_compile_host host; /* read at open */
	struct cell_runtime rt; /* rt.root = <run>/state */
};

int cell_store_open(struct cell_store *st, const struct cell_store_paths *paths,
		    struct cell_error *err);
void cell_store_close(struct cell_store *st);
bool cell_name_valid(const char *name);
char *cell_store_dir(const struct cell_store *st, const char *name);  /* <root>/containers/<name> */
char *cell_store_rundir(const struct cell_store *st, const char *name);
/* <root>/containers/<name>.lock: the lock file, removed with the container */
char *cell_store_lockpath(const struct cell_store *st, const char *name);
/* 0 when a container of that name is in the store, else -ENOENT said as
 * "no container named" (what every verb on one container answers). */
int cell_store_exists(const struct cell_store *st, const char *name, struct cell_error *err);
/* flock on cell_store_lockpath() of an existing container (-ENOENT, as
 * cell_store_exists(), for a name the store has not: no lock file is made for
 * it); returns the fd. */
int cell_store_lock(const struct cell_store *st, const char *name, struct cell_error *err);
/* The same for a container about to be made (create, clone's target). */
int cell_store_lock_new(const struct cell_store *st, const char *name, struct cell_error *err);
/* Names of existing containers, sorted. */
int cell_store_list(const struct cell_store *st, char ***names, struct cell_error *err);

int cell_settings_load(const struct cell_store *st, const char *name, struct cell_settings **out,
		       struct cell_error *err);
int cell_settings_save(const struct cell_store *st, const struct cell_settings *s,
		       struct cell_error *err);
void cell_settings_free(struct cell_settings *s);
/* The storage backend: s->storage, else CELL_STORAGE_DEFAULT. */
const char *cell_settings_storage(const struct cell_settings *s);
DEFINE_FREEP(struct cell_settings *, cell_settings_free)
/* `cell config NAME KEY VALUE`: validated; error names the key. */
int cell_settings_set(struct cell_settings *s, const char *key, const char *value,
		      struct cell_error *err);
/* Value of one key as text (caller frees), or NULL for an unknown key. */
char *cell_settings_get(const struct cell_settings *s, const char *key);
/* config's i-th key in the order it lists them, NULL past the last; *help (when
 * help is not NULL): what a value looks like ("K=V,..."), or NULL when the name
 * says it. */
const char *cell_settings_key(size_t i, const char **help);

/* "SRC:DST[:ro]" (both absolute). */
int cell_bind_parse(const char *spec, struct cell_bind *b, struct cell_error *err);
/* Settings → the bundle's config.json text. */
char *cell_settings_compile(const struct cell_settings *s, const struct cell_compile_host *host,
			    const char *rootfs, struct cell_error *err);
/* Parse "512M", "2G"... */
int cell_parse_bytes(const char *s, int64_t *out);

/* ---- supervisor (one small process per running container) ---- */

enum cell_start_mode {
	CELL_START_DETACHED,   /* a background supervisor (cell-monitor) */
	CELL_START_FOREGROUND, /* this process becomes the supervisor (systemd's ExecStart) */
	CELL_START_RUN,        /* foreground, and control comes back here (cell run) */
};


/* Fork the supervisor: it creates and starts the container (console on a
 * pty it holds, output to a size-capped console.log), reaps the init,
 * records the exit status, cleans up, and talks sd_notify.  Returns once the
 * container runs (or failed to start).  foreground: no fork, the caller's
 * terminal is attached.  lock_fd (the caller's store lock, or -1) is closed
 * by the supervisor once the container runs. */
int cell_supervise(const struct cell_store *st, const char *name, enum cell_start_mode mode,
		   bool console, int lock_fd, struct cell_error *err);
/* After the init exited (cell-monitor execs `cell __finish`): record the
 * status, delete the container, unmount, tell systemd.  Returns the exit code. */
int cell_supervise_finish(const struct cell_store *st, const char *name, int status);
/* Pid of the live supervisor of name, or 0. */
pid_t cell_supervisor_pid(const struct cell_store *st, const char *name);

/* ---- operations (manager.c); each takes the container's lock ---- */

struct cell_create_req {
	struct cell_settings *s; /* name, template, storage, limits... (taken over) */
	char **packages;         /* extra packages for the debian template */
	const char *idmap_share; /* unprivileged: the container whose ids to share, or NULL */
	char *notice;            /* out (caller frees): what was changed on the host, e.g.
				  * root's entry added to /etc/subuid, or NULL */
	void (*progress)(const char *line, void *arg);
	void *progress_arg;
};

int cell_manager_create(const struct cell_store *st, struct cell_create_req *req,
			struct cell_error *err);
int cell_manager_start(const struct cell_store *st, const char *name, enum cell_start_mode mode,
		       struct cell_error *err);
/* Ask the init to power off; SIGKILL everything after timeout seconds. */
int cell_manager_stop(const struct cell_store *st, const char *name, int timeout,
		      struct cell_error *err);
int cell_manager_kill(const struct cell_store *st, const char *name, int sig,
		      struct cell_error *err);
int cell_manager_destroy(const struct cell_store *st, const char *name, bool force,
			 struct cell_error *err);

struct cell_info {
	enum cell_status status;
	pid_t pid;           /* init, host view */
	pid_t supervisor;
	bool supervisor_lost; /* no live supervisor, yet processes in the container's cgroup */
	unsigned long long memory; /* bytes, 0 if unknown */
	long uptime;         /* seconds, -1 when stopped */
	unsigned long supervisor_rss_kb;
	char *last_exit;     /* "exited 0" ... or NULL */
};
int cell_manager_info(const struct cell_store *st, const char *name, struct cell_info *out,
		      struct cell_error *err);
void cell_info_free(struct cell_info *i);

/* ---- network (net-glue.c): net/net.h for what the settings ask ---- */
/* What s asks of net/ (ports parsed into *ports, caller frees). */
int cell_manager_net_want(const struct cell_store *st, const struct cell_settings *s,
			  struct cell_net_want *w, struct cell_port **ports, struct cell_error *err);
/* Create and config: a bridged container's lease (made or changed); a container
 * on no bridge holds none. */
int cell_manager_net_lease(const struct cell_store *st, const struct cell_settings *s,
			   struct cell_error *err);
/* The supervisor, between create and start: the network of init's namespace,
 * and the container's /etc/hosts and /etc/resolv.conf. */
int cell_manager_net_up(const struct cell_store *st, const char *name, pid_t init,
			struct cell_error *err);
/* Cleanup: the host side of name's link (and what no container needs any more). */
int cell_manager_net_down(const struct cell_store *st, const char *name, struct cell_error *err);
/* Start, rootless --net pasta: the user and network namespace made first (a
 * holder process's) with pasta on it, as /proc paths for config.json. */
int cell_manager_pasta_first(const struct cell_store *st, const struct cell_settings *s,
			     char **netns, char **userns, struct cell_error *err);
/* Cleanup, before <run>/<name> goes: its --net pasta daemon, if it still runs. */
int cell_manager_pasta_stop(const struct cell_store *st, const char *name, struct cell_error *err);
/* Destroy: name's lease goes. */
int cell_manager_net_release(const struct cell_store *st, const char *name,
			     struct cell_error *err);
/* name's leased addresses as "10.66.0.2" (and ",fd66::2"), or NULL. */
char *cell_manager_net_address(const struct cell_store *st, const char *name);
/* The namespace files that s (--net container=OTHER) joins: OTHER's network
 * namespace and, when OTHER is unprivileged, the user namespace that owns it
 * (s must then have OTHER's ids: create shares them).  OTHER must run. */
int cell_manager_netns_of(const struct cell_store *st, const struct cell_settings *s,
			  const char *other, char **netns, char **userns, struct cell_error *err);

/* ---- exec (exec-user.c) ---- */
/* `exec -u USER` of the container whose root is `rootfs` into *u: "uid[:gid]"
 * as given (the gid defaults to the uid), else "name", "name:group" or
 * "uid:group" from the container's /etc/passwd and /etc/group (the named
 * user's supplementary groups too), read inside its root (sys/rootfile.h). */
int cell_manager_exec_user(const char *rootfs, const char *user, struct cell_user *u,
			   struct cell_error *err);

/* ---- storage verbs (storage-glue.c) ---- */
/* A system container's /etc/hostname after `config hostname`: through the mounted root
 * while it runs (a systemd init reads it at its next boot), else mounted for the
 * while.  Not for app containers (their hostname is the runtime's). */
int cell_manager_write_hostname(const struct cell_store *st, const struct cell_settings *s,
				struct cell_error *err);
/* An unprivileged clone gets ids of its own (*notice as for create). */
int cell_manager_clone(const struct cell_store *st, const char *src, const char *dst,
		       char **notice, struct cell_error *err);
/* snap NULL: a name from the time */
int cell_manager_snapshot(const struct cell_store *st, const char *name, const char *snap,
			  char **made, struct cell_error *err);
int cell_manager_snapshots(const struct cell_store *st, const char *name, char ***snaps,
			   struct cell_error *err);
int cell_manager_rollback(const struct cell_store *st, const char *name, const char *snap,
			  struct cell_error *err);
