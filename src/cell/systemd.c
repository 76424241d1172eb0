/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd-unit, enable, disable: a container as a Type=notify service */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cell.h"
#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"

static char *unit_text(struct cli *c, const char *name)
{
	char exe[PATH_MAX];
	const char *bin = getenv("CELL_BINARY");
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (bin && strlen(bin) < sizeof(exe))
		(void)snprintf(exe, sizeof(exe), "%s", bin);
	else if (n <= 0)
		(void)snprintf(exe, sizeof(exe), "/usr/local/bin/cell");
	else
		exe[n] = '\0';
	/* The supervisor runs in the foreground as the main process: it sends
	 * READY=1 once the init runs, turns systemd's SIGTERM into the init's
	 * power-off signal and STOPPING=1 when the init exits. */
	return xasprintf("[Unit]\n"
			 "Description=cell container %s\n"
			 "After=network.target\n"
			 "\n"
			 "[Service]\n"
			 "Type=notify\n"
			 "NotifyAccess=main\n"
			 "Environment=CELL_ROOT=%s CELL_RUNTIME_DIR=%s\n"
			 "ExecStart=%s start --foreground %s\n"
			 "KillMode=mixed\n"
			 "SuccessExitStatus=130 SIGINT\n"
			 "TimeoutStopSec=60\n"
			 "Delegate=yes\n"
			 "StandardInput=null\n"
			 "\n"
			 "[Install]\n"
			 "WantedBy=multi-user.target\n",
			 name, c->st.root, c->st.run, exe, name);
}

static int named(struct cli *c, const char *usage, struct cell_error *err)
{
	struct cell_settings *s = NULL;
	int r;

	if (c->argc != 2)
		return cell_errx(err, EINVAL, "usage: cell %s", usage);
	if ((r = cli_store(c, err)) < 0 || (r = cell_settings_load(&c->st, c->argv[1], &s, err)) < 0)
		return r;
	cell_settings_free(s);
	return 0;
}

int cmd_systemd_unit(struct cli *c, struct cell_error *err)
{
	int r;

	if (cli_help(c, "systemd-unit NAME"))
		return 0;
	if ((r = named(c, "systemd-unit NAME", err)) < 0)
		return r;
	_cleanup_free_ char *text = unit_text(c, c->argv[1]);
	fputs(text, stdout);
	return 0;
}

static char *unit_path(const char *name)
{
	const char *dir = getenv("CELL_SYSTEMD_DIR");
	return xasprintf("%s/cell-%s.service", dir && *dir ? dir : "/etc/systemd/system", name);
}

static bool systemd_running(void)
{
	return access("/run/systemd/system", F_OK) == 0;
}

static void systemctl(const char *verb, const char *unit)
{
	pid_t pid = fork();
	if (pid == 0) {
		execlp("systemctl", "systemctl", verb, unit, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		(void)waitpid(pid, NULL, 0);
}

int cmd_enable(struct cli *c, struct cell_error *err)
{
	int r;

	if (cli_help(c, "enable NAME"))
		return 0;
	if ((r = named(c, "enable NAME", err)) < 0)
		return r;
	_cleanup_free_ char *path = unit_path(c->argv[1]);
	_cleanup_free_ char *text = unit_text(c, c->argv[1]);
	_cleanup_free_ char *unit = xasprintf("cell-%s.service", c->argv[1]);
	if ((r = cell_write_file_atomic(path, text, strlen(text), 0644)) < 0)
		return cell_err(err, r, "write %s", path);
	if (systemd_running()) {
		systemctl("daemon-reload", NULL);
		systemctl("enable", unit);
	} else {
		printf("wrote %s; systemd is not running here: use `cell config %s autostart true` "
		       "and `cell start --all-autostart` at boot\n", path, c->argv[1]);
	}
	return 0;
}

int cmd_disable(struct cli *c, struct cell_error *err)
{
	int r;

	if (cli_help(c, "disable NAME"))
		return 0;
	if ((r = named(c, "disable NAME", err)) < 0)
		return r;
	_cleanup_free_ char *path = unit_path(c->argv[1]);
	_cleanup_free_ char *unit = xasprintf("cell-%s.service", c->argv[1]);
	if (systemd_running())
		systemctl("disable", unit);
	if (unlink(path) < 0 && errno != ENOENT)
		return cell_err(err, errno, "remove %s", path);
	if (systemd_running())
		systemctl("daemon-reload", NULL);
	return 0;
}
