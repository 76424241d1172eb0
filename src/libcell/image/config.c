/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The image config blob (image-spec config.md): the "config" object's
 * process fields, os/architecture, and rootfs.diff_ids for layer checks.
 * Errors name the field: "config.Env[2]: not a string".
 */
#include "image-internal.h"
#include "../base/cleanup.h"
#include "../base/signame.h"
#include "../base/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void cell_image_config_free(struct cell_image_config *cfg)
{
	if (!cfg)
		return;
	cell_strv_free(cfg->entrypoint);
	cell_strv_free(cfg->cmd);
	cell_strv_free(cfg->env);
	free(cfg->working_dir);
	free(cfg->user);
	free(cfg->additional_gids);
	free(cfg->stop_signal);
	for (size_t i = 0; i < cfg->n_labels; i++) {
		free(cfg->labels[i].key);
		free(cfg->labels[i].value);
	}
	free(cfg->labels);
	free(cfg->os);
	free(cfg->architecture);
	*cfg = (struct cell_image_config){0};
}

char **cell_image_config_args(const struct cell_image_config *cfg)
{
	char **args = NULL;

	for (size_t i = 0; cfg->entrypoint && cfg->entrypoint[i]; i++)
		cell_strv_push(&args, xstrdup(cfg->entrypoint[i]));
	for (size_t i = 0; cfg->cmd && cfg->cmd[i]; i++)
		cell_strv_push(&args, xstrdup(cfg->cmd[i]));
	return args;
}

/* An optional string member; null and absent are unset. */
static int get_string(json_t *obj, const char *key, const char *where, char **out,
		      struct cell_error *err)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return cell_errx(err, EINVAL, "%s%s%s: not a string", where, *where ? "." : "",
				 key);
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int get_strv(json_t *obj, const char *key, const char *where, char ***out,
		    struct cell_error *err)
{
	json_t *arr = json_object_get(obj, key), *v;
	size_t i;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return cell_errx(err, EINVAL, "%s.%s: not an array", where, key);
	*out = xcalloc(json_array_size(arr) + 1, sizeof(char *));
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v))
			return cell_errx(err, EINVAL, "%s.%s[%zu]: not a string", where, key, i);
		(*out)[i] = xstrdup(json_string_value(v));
	}
	return 0;
}

static int get_labels(json_t *obj, struct cell_image_config *cfg, struct cell_error *err)
{
	json_t *labels = json_object_get(obj, "Labels"), *v;
	const char *key;

	if (!labels || json_is_null(labels))
		return 0;
	if (!json_is_object(labels))
		return cell_errx(err, EINVAL, "config.Labels: not an object");
	cfg->labels = xcalloc(json_object_size(labels) + 1, sizeof(*cfg->labels));
	json_object_foreach(labels, key, v)
	{
		if (!json_is_string(v))
			return cell_errx(err, EINVAL, "config.Labels.%s: not a string", key);
		cfg->labels[cfg->n_labels].key = xstrdup(key);
		cfg->labels[cfg->n_labels++].value = xstrdup(json_string_value(v));
	}
	return 0;
}

static int get_process(json_t *c, struct cell_image_config *cfg, struct cell_error *err)
{
	int r = 0;

	if (!c || json_is_null(c))
		return 0; /* "config" is optional: an image with no defaults */
	if (!json_is_object(c))
		return cell_errx(err, EINVAL, "config: not an object");
	r = get_strv(c, "Entrypoint", "config", &cfg->entrypoint, err);
	if (r == 0)
		r = get_strv(c, "Cmd", "config", &cfg->cmd, err);
	if (r == 0)
		r = get_strv(c, "Env", "config", &cfg->env, err);
	if (r == 0)
		r = get_string(c, "WorkingDir", "config", &cfg->working_dir, err);
	if (r == 0)
		r = get_string(c, "User", "config", &cfg->user, err);
	if (r == 0)
		r = get_string(c, "StopSignal", "config", &cfg->stop_signal, err);
	if (r == 0)
		r = get_labels(c, cfg, err);
	if (r == 0 && cfg->stop_signal && *cfg->stop_signal &&
	    cell_signal_parse(cfg->stop_signal, &cfg->stop_signo) < 0)
		r = cell_errx(err, EINVAL, "config.StopSignal: unknown signal %s",
			      cfg->stop_signal);
	return r;
}

static int get_diff_ids(json_t *root, char ***diff_ids, struct cell_error *err)
{
	json_t *rootfs = json_object_get(root, "rootfs");
	int r;

	if (!json_is_object(rootfs))
		return cell_errx(err, EINVAL, "rootfs: missing");
	r = get_strv(rootfs, "diff_ids", "rootfs", diff_ids, err);
	if (r < 0)
		return r;
	for (size_t i = 0; *diff_ids && (*diff_ids)[i]; i++)
		if (!image_digest_valid((*diff_ids)[i]))
			return cell_errx(err, EINVAL, "rootfs.diff_ids[%zu]: invalid digest %s", i,
					 (*diff_ids)[i]);
	return 0;
}

static int parse_root(json_t *root, struct cell_image_config *c, char ***diff_ids,
		      struct cell_error *err)
{
	int r;

	if (!json_is_object(root))
		return cell_errx(err, EINVAL, "not a JSON object");
	r = get_string(root, "os", "", &c->os, err);
	if (r == 0)
		r = get_string(root, "architecture", "", &c->architecture, err);
	if (r == 0)
		r = get_process(json_object_get(root, "config"), c, err);
	if (r == 0)
		r = get_diff_ids(root, diff_ids, err);
	return r;
}

int image_config_parse(const char *json, size_t len, struct cell_image_config *cfg,
		       char ***diff_ids, struct cell_error *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(json, len, 0, &jerr);
	struct cell_image_config c = {0};
	_cleanup_strv_free_ char **ids = NULL;
	int r;

	if (!root)
		return cell_errx(err, EINVAL, "line %d: %s", jerr.line, jerr.text);
	r = parse_root(root, &c, &ids, err);
	json_decref(root);
	if (r < 0) {
		cell_image_config_free(&c);
		return r;
	}
	*cfg = c;
	*diff_ids = TAKE_PTR(ids);
	return 0;
}
