/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ls, info, top, config */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cell.h"
#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"

static bool want_json(struct cli *c)
{
	for (int i = 1; i < c->argc; i++)
		if (streq(c->argv[i], "--json")) {
			memmove(c->argv + i, c->argv + i + 1, (size_t)(c->argc - i) * sizeof(char *));
			c->argc--;
			return true;
		}
	return c->json;
}

static char *human_bytes(unsigned long long b)
{
	if (b == 0)
		return xstrdup("-");
	if (b >= (1ULL << 30))
		return xasprintf("%.1fG", (double)b / (1 << 30));
	if (b >= (1ULL << 20))
		return xasprintf("%.1fM", (double)b / (1 << 20));
	return xasprintf("%.1fK", (double)b / 1024);
}

static char *human_uptime(long s)
{
	if (s < 0)
		return xstrdup("-");
	if (s < 3600)
		return xasprintf("%ldm%02lds", s / 60, s % 60);
	return xasprintf("%ldh%02ldm", s / 3600, (s % 3600) / 60);
}

/* A container whose supervisor was killed still runs, but nothing reaps its init,
 * keeps its console or records its exit: said in the state, as `cell stop` fixes it. */
static const char *state_text(const struct cell_info *i)
{
	return i->supervisor_lost ? "running (supervisor lost)" : cell_status_name(i->status);
}

static json_t *info_json(struct cli *c, const char *name, const struct cell_info *i,
			 const struct cell_settings *s)
{
	_cleanup_free_ char *ip = cell_manager_net_address(&c->st, name);
	json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:I, s:I}", "name", name, "state",
			      state_text(i), "pid", (int)i->pid, "ip", ip ? ip : "",
			      "memory", (json_int_t)i->memory, "uptime", (json_int_t)i->uptime);
	if (s) {
		json_object_set_new(o, "template", json_string(s->template_name ? s->template_name : ""));
		json_object_set_new(o, "storage", json_string(cell_settings_storage(s)));
		json_object_set_new(o, "unprivileged", json_boolean(s->unprivileged));
		json_object_set_new(o, "privileged", json_boolean(!s->unprivileged));
		/* no user namespace: container root is host root, held by capabilities,
		 * seccomp and masks alone (no LSM here): not root-safe, as LXC says */
		json_object_set_new(o, "root_safe", json_boolean(s->unprivileged));
		if (s->unprivileged)
			json_object_set_new(o, "idmap", json_pack("{s:I, s:I}", "host",
								  (json_int_t)s->idmap_host, "size",
								  (json_int_t)s->idmap_size));
		json_object_set_new(o, "autostart", json_boolean(s->autostart));
		json_object_set_new(o, "kind", json_string(s->system ? "system" : "app"));
		json_object_set_new(o, "net", json_string(s->net ? s->net : "none"));
	}
	if (i->supervisor > 0)
		json_object_set_new(o, "supervisor", json_pack("{s:i, s:I}", "pid", (int)i->supervisor,
								"rss_kb", (json_int_t)i->supervisor_rss_kb));
	else if (i->supervisor_lost)
		json_object_set_new(o, "supervisor", json_pack("{s:i, s:b}", "pid", 0, "lost", 1));
	if (i->last_exit)
		json_object_set_new(o, "last_exit", json_string(i->last_exit));
	return o;
}

int cmd_ls(struct cli *c, struct cell_error *err)
{
	_cleanup_strv_free_ char **names = NULL;
	bool json = want_json(c);
	int r;

	if (cli_help(c, "ls [--json]"))
		return 0;
	if ((r = cli_store(c, err)) < 0 || (r = cell_store_list(&c->st, &names, err)) < 0)
		return r;
	json_t *arr = json_array();
	if (!json)
		printf("%-20s %-8s %-8s %-15s %-8s %s\n", "NAME", "STATE", "PID", "IP", "MEMORY",
		       "UPTIME");
	for (size_t k = 0; names[k]; k++) {
		struct cell_info i;
		if (cell_manager_info(&c->st, names[k], &i, err) < 0)
			continue;
		if (json) {
			_cleanup_(cell_settings_freep) struct cell_settings *s = NULL;
			struct cell_error ignored = { 0 };
			(void)cell_settings_load(&c->st, names[k], &s, &ignored);
			json_array_append_new(arr, info_json(c, names[k], &i, s));
		} else {
			_cleanup_free_ char *mem = human_bytes(i.memory), *up = human_uptime(i.uptime);
			_cleanup_free_ char *ip = cell_manager_net_address(&c->st, names[k]);
			printf("%-20s %-8s %-8d %-15s %-8s %s\n", names[k], state_text(&i),
			       (int)i.pid, ip && *ip ? ip : "-", mem, up);
			if (i.supervisor_lost && fflush(stdout) == 0)
				fprintf(stderr, "cell: %s: its supervisor was killed; `cell stop %s` "
						"or `cell destroy --force %s` cleans up\n",
					names[k], names[k], names[k]);
		}
		cell_info_free(&i);
	}
	if (json) {
		_cleanup_free_ char *t = json_dumps(arr, JSON_INDENT(2));
		printf("%s\n", t);
	}
	json_decref(arr);
	return 0;
}

int cmd_info(struct cli *c, struct cell_error *err)
{
	_cleanup_(cell_settings_freep) struct cell_settings *s = NULL;
	bool json = want_json(c);
	struct cell_info i;
	int r;

	if (cli_help(c, "info NAME [--json]"))
		return 0;
	if ((r = cli_positional(c, 1, "info NAME [--json]", err)) < 0 || (r = cli_store(c, err)) < 0 ||
	    (r = cell_settings_load(&c->st, c->argv[optind], &s, err)) < 0 ||
	    (r = cell_manager_info(&c->st, c->argv[optind], &i, err)) < 0)
		return r;
	json_t *o = info_json(c, c->argv[optind], &i, s);
	if (json) {
		_cleanup_free_ char *t = json_dumps(o, JSON_INDENT(2));
		printf("%s\n", t);
	} else {
		const char *k;
		json_t *v;
		json_object_foreach(o, k, v)
		{
			_cleanup_free_ char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
			if (streq(k, "privileged"))
				printf("%-14s %s\n", k, s->unprivileged ? "no" : "yes (not root-safe)");
			else
				printf("%-14s %s\n", k, t);
		}
	}
	json_decref(o);
	cell_info_free(&i);
	return 0;
}

int cmd_top(struct cli *c, struct cell_error *err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int r;

	if (cli_help(c, "top NAME"))
		return 0;
	if ((r = cli_positional(c, 1, "top NAME", err)) < 0 || (r = cli_store(c, err)) < 0 ||
	    (r = cell_container_pids(&c->st.rt, c->argv[optind], &pids, &n, err)) < 0)
		return r;
	printf("%-8s %-6s %-10s %s\n", "PID", "STATE", "RSS", "COMMAND");
	for (size_t k = 0; k < n; k++) {
		char path[64];
		_cleanup_free_ char *cmd = NULL, *status = NULL;
		size_t len = 0;
		(void)snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pids[k]);
		if (cell_read_file(path, &cmd, &len) < 0)
			continue;
		for (size_t j = 0; j + 1 < len; j++)
			if (!cmd[j])
				cmd[j] = ' ';
		(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pids[k]);
		(void)cell_read_file(path, &status, NULL);
		char *st = status ? strstr(status, "State:") : NULL, *rss = status ? strstr(status, "VmRSS:") : NULL;
		printf("%-8d %-6c %-10lu %s\n", (int)pids[k], st ? st[7] : '?',
		       rss ? strtoul(rss + 6, NULL, 10) : 0UL, cmd);
	}
	return 0;
}

#define CONFIG_USAGE_WIDTH 79

/* "config NAME [KEY [VALUE]]" and the keys from the settings table, wrapped */
static char *config_usage(void)
{
	char *u = xstrdup("config NAME [KEY [VALUE]]\n  keys:");
	const char *key, *help;
	size_t col = strlen("  keys:");

	for (size_t i = 0; (key = cell_settings_key(i, &help)); i++) {
		_cleanup_free_ char *word = help ? xasprintf("%s (%s)", key, help) : xstrdup(key);
		bool wrap = col + 1 + strlen(word) > CONFIG_USAGE_WIDTH;
		char *n = xasprintf("%s%s %s", u, wrap ? "\n       " : "", word);
		free(u);
		u = n;
		col = (wrap ? strlen("       ") : col) + 1 + strlen(word);
	}
	char *n = xasprintf("%s\n  changes apply at the next start", u);
	free(u);
	return n;
}

static bool config_key_known(const char *name)
{
	const char *key;

	for (size_t i = 0; (key = cell_settings_key(i, NULL)); i++)
		if (streq(name, key))
			return true;
	return false;
}

/* every key, or the one asked for (argc 3) */
static void config_show(struct cli *c, const struct cell_settings *s, bool json)
{
	json_t *o = json_object();
	const char *key;

	for (size_t i = 0; (key = cell_settings_key(i, NULL)); i++) {
		if (c->argc == 3 && !streq(c->argv[2], key))
			continue;
		_cleanup_free_ char *v = cell_settings_get(s, key);
		if (json)
			json_object_set_new(o, key, json_string(v));
		else if (c->argc == 3)
			printf("%s\n", v);
		else
			printf("%-12s %s\n", key, v);
	}
	if (json) {
		_cleanup_free_ char *t = json_dumps(o, JSON_INDENT(2));
		printf("%s\n", t);
	}
	json_decref(o);
}

int cmd_config(struct cli *c, struct cell_error *err)
{
	_cleanup_(cell_settings_freep) struct cell_settings *s = NULL;
	_cleanup_free_ char *usage = config_usage();
	bool json = want_json(c);
	int r;

	if (cli_help(c, usage))
		return 0;
	if (c->argc < 2 || c->argc > 4)
		return cell_errx(err, EINVAL, "usage: cell %s", usage);
	if ((r = cli_store(c, err)) < 0 || (r = cell_settings_load(&c->st, c->argv[1], &s, err)) < 0)
		return r;
	if (c->argc == 4) {
		int lock = cell_store_lock(&c->st, c->argv[1], err);
		if (lock < 0)
			return lock;
		static const char *const net_keys[] = { "net", "ip", "ip6", "mac", NULL };
		r = cell_settings_set(s, c->argv[2], c->argv[3], err);
		/* the lease follows (a pinned address another container holds: refused) */
		if (r >= 0 && cell_strv_contains((char **)net_keys, c->argv[2]))
			r = cell_manager_net_lease(&c->st, s, err);
		if (r >= 0)
			r = cell_settings_save(&c->st, s, err);
		/* a systemd init sets the name from /etc/hostname over the runtime's */
		if (r >= 0 && streq(c->argv[2], "hostname"))
			r = cell_manager_write_hostname(&c->st, s, err);
		(void)close(lock);
		return r;
	}
	if (c->argc == 3 && !config_key_known(c->argv[2]))
		return cell_errx(err, EINVAL, "unknown setting \"%s\" (see cell config --help)",
				 c->argv[2]);
	config_show(c, s, json);
	return 0;
}
