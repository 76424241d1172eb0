/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* spec, features */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cellrun.h"
#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/cgroup/cgroup.h"

int cmd_spec(struct cli *c, struct cell_error *err)
{
	static const struct option opts[] = {
		{ "rootless", no_argument, NULL, 'r' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *bundle = ".";
	bool rootless = false;
	int o;

	while ((o = getopt_long(c->argc, c->argv, "b:h", opts, NULL)) != -1) {
		if (o == 'r')
			rootless = true;
		else if (o == 'b')
			bundle = optarg;
		else if (o == 'h') {
			printf("Usage: cellrun spec [--rootless] [-b DIR]\n");
			return 0;
		} else
			return cell_err(err, EINVAL, "spec: unknown option (see --help)");
	}
	/* runc's example spec: a cgroup namespace on a unified host only */
	enum cell_cgroup_mode mode = CELL_CGROUP_V1;
	struct cell_error ignored = { 0 };
	bool unified = cell_cgroup_detect("/sys/fs/cgroup", &mode, &ignored) == 0 &&
		       mode == CELL_CGROUP_V2;
	_cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
	_cleanup_free_ char *json = cell_spec_default_json(rootless, unified);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return cell_err(err, errno, "create %s%s", path,
				errno == EEXIST ? " (remove it first)" : "");
	int r = cell_write_all(fd, json, strlen(json));
	if (r >= 0)
		r = cell_write_all(fd, "\n", 1);
	return r < 0 ? cell_err(err, r, "write %s", path) : 0;
}

int cmd_features(struct cli *c, struct cell_error *err)
{
	if (c->argc > 1 && (streq(c->argv[1], "--help") || streq(c->argv[1], "-h"))) {
		printf("Usage: cellrun features\n\nPrint the runtime's features document (JSON).\n");
		return 0;
	}
	_cleanup_free_ char *json = cell_features_json();
	(void)err;
	printf("%s\n", json);
	return 0;
}
