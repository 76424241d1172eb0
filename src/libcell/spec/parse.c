/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * config.json -> struct cell_spec (runtime-spec config.md): the top-level
 * object, mounts and hooks; the other sections have files of their own.
 */
#include "parse-internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../base/cleanup.h"
#include "../base/util.h"

/* Same major version: "retains forward and backward compatibility within
 * major versions" (config.md, Specification version). */
static const char *check_oci_version(const char *s)
{
	if (!cell_startswith(s, "1."))
		return "unsupported version (this runtime implements 1.x)";
	return NULL;
}

/* sethostname(2)/setdomainname(2) refuse more than HOST_NAME_MAX (64). */
static const char *check_hostname(const char *s)
{
	return strlen(s) <= 64 ? NULL : "must be at most 64 characters";
}

#define MT struct cell_mount
static const struct spec_field mount_fields[] = {
	{ "destination", F_STR, M(MT, destination), .required = true,
	  .check = spec_check_abs_path },
	{ "source", F_STR, M(MT, source) },
	{ "type", F_STR, M(MT, type) },
	{ "options", F_STRV, M(MT, options) },
	{ "uidMappings", F_ARRAY, ARR(MT, uid_mappings, n_uid_mappings), .sub = &spec_idmap_obj },
	{ "gidMappings", F_ARRAY, ARR(MT, gid_mappings, n_gid_mappings), .sub = &spec_idmap_obj },
	FIELD_END,
};
static const struct spec_obj mount_obj = { mount_fields, sizeof(MT), NULL };

#define H struct cell_hook
static const struct spec_field hook_fields[] = {
	{ "path", F_STR, M(H, path), .required = true, .check = spec_check_abs_path },
	{ "args", F_STRV, M(H, args) },
	{ "env", F_STRV, M(H, env) },
	{ "timeout", F_SINT, M(H, timeout), SET(H, timeout_set), RANGE(1, INT_MAX) },
	FIELD_END,
};
static const struct spec_obj hook_obj = { hook_fields, sizeof(H), NULL };

#define S struct cell_spec
#define HOOKS(kind) ARR(S, hooks[kind].hooks, hooks[kind].n), .sub = &hook_obj
static const struct spec_field hooks_fields[] = {
	{ "prestart", F_ARRAY, HOOKS(CELL_HOOK_PRESTART) },
	{ "createRuntime", F_ARRAY, HOOKS(CELL_HOOK_CREATE_RUNTIME) },
	{ "createContainer", F_ARRAY, HOOKS(CELL_HOOK_CREATE_CONTAINER) },
	{ "startContainer", F_ARRAY, HOOKS(CELL_HOOK_START_CONTAINER) },
	{ "poststart", F_ARRAY, HOOKS(CELL_HOOK_POSTSTART) },
	{ "poststop", F_ARRAY, HOOKS(CELL_HOOK_POSTSTOP) },
	FIELD_END,
};
static const struct spec_obj hooks_obj = { hooks_fields, 0, NULL };

static const struct spec_field root_fields[] = {
	{ "path", F_STR, M(S, root.path), .required = true, .nonempty = true },
	{ "readonly", F_BOOL, M(S, root.readonly) },
	FIELD_END,
};
static const struct spec_obj root_obj = { root_fields, 0, NULL };

static int spec_post(struct pctx *c, const struct jp *at, json_t *obj, void *base)
{
	return spec_validate(c, base);
}

/* Unknown top-level keys (solaris, windows, vm, zos, ...) are ignored. */
static const struct spec_field spec_fields[] = {
	{ "ociVersion", F_STR, M(S, oci_version), .required = true, .check = check_oci_version },
	{ "root", F_OBJ, .required = true, .sub = &root_obj },
	{ "process", F_OBJ, M(S, process), SET(S, process_set), .sub = &spec_process_obj },
	{ "hostname", F_STR, M(S, hostname), .check = check_hostname },
	{ "domainname", F_STR, M(S, domainname), .check = check_hostname },
	{ "mounts", F_ARRAY, ARR(S, mounts, n_mounts), .sub = &mount_obj },
	{ "hooks", F_OBJ, .sub = &hooks_obj },
	{ "annotations", F_MAP, ARR(S, annotations, n_annotations), .check = spec_check_nonempty },
	{ "linux", F_OBJ, M(S, linux), .sub = &spec_linux_obj },
	FIELD_END,
};
static const struct spec_obj spec_obj = { spec_fields, sizeof(S), spec_post };

void cell_spec_free(struct cell_spec *s)
{
	if (!s)
		return;
	spec_release(&spec_obj, s);
	free(s->linux.seccomp.canonical); /* not a field of the table: made by its post hook */
	free(s);
}

int cell_spec_parse(const char *json, size_t len, struct cell_spec **out, struct cell_error *err)
{
	_cleanup_(spec_doc_done) struct spec_doc doc = { 0 };
	_cleanup_(cell_spec_freep) struct cell_spec *s = NULL;
	struct pctx c = { err, &doc };
	int r;

	if ((r = spec_doc_load(json, len, &doc, err)) < 0)
		return r;
	s = xzalloc(sizeof(*s));
	if ((r = spec_parse_object(&c, NULL, doc.root, &spec_obj, s)) < 0)
		return r;
	*out = TAKE_PTR(s);
	return 0;
}

int cell_spec_load(const char *path, struct cell_spec **out, struct cell_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r;

	if ((r = cell_read_file(path, &text, &len)) < 0)
		return cell_err(err, r, "read %s", path);
	if (cell_spec_parse(text, len, out, err) < 0)
		return cell_err_prefix(err, "%s", path);
	return 0;
}
