/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <run>/links/<ifname>.json: which container a host-side veth belongs to,
 * with what it publishes.  Written after the link exists and trusted only
 * while it does (sync.c drops the others), so a crash at any moment leaves
 * nothing that outlives its link.
 *
 *   { "store": "/var/lib/cell", "name": "web", "network": "cell0",
 *     "dns_name": "web", "ports": ["8080:80/tcp"] }
 */
#include "net-internal.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/cleanup.h"
#include "../base/util.h"

char *cell_net_dns_dir(const struct cell_net_paths *p, const char *network)
{
	return xasprintf("%s/dns/%s", p->run_dir, network);
}

static char *rec_path(const struct cell_net_paths *p, const char *ifname)
{
	return xasprintf("%s/links/%s.json", p->run_dir, ifname);
}

int cell_net_rec_write(const struct cell_net_paths *p, const struct cell_net_link_rec *r,
		       struct cell_error *err)
{
	_cleanup_free_ char *dir = xasprintf("%s/links", p->run_dir),
			    *path = rec_path(p, r->ifname);
	json_t *ports = json_array();
	char buf[CELL_PORT_STRLEN];
	int rc;

	for (size_t i = 0; i < r->n_ports; i++) {
		cell_port_format(&r->ports[i], buf, sizeof(buf));
		json_array_append_new(ports, json_string(buf));
	}
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o}", "store", r->store, "name", r->name,
			      "network", r->network, "dns_name", r->dns_name, "ports", ports);
	_cleanup_free_ char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return cell_errx(err, ENOMEM, "encode %s", path);
	if ((rc = cell_mkdir_p(dir, 0755)) < 0)
		return cell_err(err, rc, "create %s", dir);
	rc = cell_write_file_replace(path, text, strlen(text), 0644, false);
	return rc < 0 ? cell_err(err, rc, "write %s", path) : 0;
}

void cell_net_rec_remove(const struct cell_net_paths *p, const char *ifname)
{
	_cleanup_free_ char *path = rec_path(p, ifname);

	(void)unlink(path);
}

void cell_net_rec_clear(struct cell_net_link_rec *r)
{
	free(r->store);
	free(r->name);
	free(r->network);
	free(r->dns_name);
	free(r->ports);
}

static int rec_ports(json_t *a, struct cell_net_link_rec *r)
{
	size_t i;
	json_t *v;

	r->ports = xcalloc(json_array_size(a) + 1, sizeof(*r->ports));
	json_array_foreach(a, i, v)
	{
		struct cell_error ignored = {0};
		if (!json_is_string(v) ||
		    cell_port_parse(json_string_value(v), &r->ports[r->n_ports], &ignored) < 0)
			return -EINVAL;
		r->n_ports++;
	}
	return 0;
}

/* One record; -EINVAL for a file that is not one (it is then dropped). */
static int rec_load(const char *path, const char *ifname, struct cell_net_link_rec *r)
{
	json_t *o = json_load_file(path, 0, NULL), *ports;
	const char *store = NULL, *name = NULL, *network = NULL, *dns = NULL;
	int rc = -EINVAL;

	memset(r, 0, sizeof(*r));
	if (o &&
	    json_unpack(o, "{s:s, s:s, s:s, s:s, s:o}", "store", &store, "name", &name, "network",
			&network, "dns_name", &dns, "ports", &ports) == 0 &&
	    json_is_array(ports) && strlen(ifname) < CELL_IFNAMSIZ) {
		(void)snprintf(r->ifname, sizeof(r->ifname), "%s", ifname);
		r->store = xstrdup(store);
		r->name = xstrdup(name);
		r->network = xstrdup(network);
		r->dns_name = xstrdup(dns);
		rc = rec_ports(ports, r);
	}
	json_decref(o);
	if (rc < 0)
		cell_net_rec_clear(r);
	return rc;
}

void cell_net_recs_free(struct cell_net_link_rec *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++)
		cell_net_rec_clear(&r[i]);
	free(r);
}

int cell_net_recs_read(const struct cell_net_paths *p, struct cell_net_link_rec **out, size_t *n,
		       struct cell_error *err)
{
	_cleanup_free_ char *dir = xasprintf("%s/links", p->run_dir);
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct cell_net_link_rec *recs = NULL;
	size_t count = 0;
	struct dirent *e;

	if (!d && errno != ENOENT)
		return cell_err(err, errno, "open %s", dir);
	while (d && (e = readdir(d))) {
		char *dot = strrchr(e->d_name, '.');
		if (e->d_name[0] == '.' || !dot || !streq(dot, ".json"))
			continue;
		_cleanup_free_ char *ifname = xstrndup(e->d_name, (size_t)(dot - e->d_name));
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, e->d_name);
		recs = xrealloc(recs, (count + 1) * sizeof(*recs));
		if (rec_load(path, ifname, &recs[count]) == 0)
			count++;
		else /* half written by a crash (written by rename: not ours) */
			(void)unlink(path);
	}
	*out = recs;
	*n = count;
	return 0;
}
