/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Host ids for unprivileged containers.  Root's subordinate ranges in
 * /etc/subuid and /etc/subgid are the policy (cell runs as root and writes
 * uid_map itself, so newuidmap is not involved, as with LXD); a host-wide
 * registry hands out 65536-id slices of them so that no two containers of
 * any store share ids unless asked.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manager.h"

#define CELL_IDMAP_SIZE 65536u

struct cell_id_range {
	uint64_t start, count;
};

/* One subordinate-id file: root's entries ("root" or "0") and where every entry ends. */
struct cell_subid {
	struct cell_id_range *root;
	size_t n_root;
	uint64_t max_end; /* end of the highest entry of any user */
	const char *path; /* the file it came from (not owned), for messages */
};

/* Parse the text of /etc/subuid or /etc/subgid (path names it in errors and
 * stays in out->path: it must outlive out). */
int cell_subid_parse(const char *text, const char *path, struct cell_subid *out,
		     struct cell_error *err);
void cell_subid_free(struct cell_subid *s);
/* Load both files (the store's paths.subuid and paths.subgid) and add an entry
 * for root to each that has none; *notice (caller frees) then says what was
 * added, else stays NULL. */
int cell_subid_load_root(const char *subuid, const char *subgid, struct cell_subid *uids,
			 struct cell_subid *gids, char **notice, struct cell_error *err);
/* The lowest start s, a multiple of 65536 from the start of one of root's uid
 * ranges, with [s, s+65536) inside root's uid and gid ranges and disjoint from
 * every used range. */
int cell_idmap_first_fit(const struct cell_subid *uids, const struct cell_subid *gids,
			 const struct cell_id_range *used, size_t n_used, uint64_t *start,
			 struct cell_error *err);

/* A range for container name of st (the registry: st->idmap_registry, under
 * flock, replaced atomically).
 * share: the name of a container of the same store whose range to share, or
 * NULL.  Any earlier entry of the same name is replaced; entries whose
 * container directory is gone are reclaimed. */
int cell_idmap_allocate(const struct cell_store *st, const char *name, const char *share,
			uint32_t *start, char **notice, struct cell_error *err);
/* Drop name's entry (destroy, or a create that failed). */
int cell_idmap_release(const struct cell_store *st, const char *name, struct cell_error *err);
