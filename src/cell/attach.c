/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* exec, console, logs */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "cell.h"
#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"

#define EXEC_USAGE "exec NAME [-t] [-u USER] [-w DIR] [-e K=V]... -- CMD [ARGS...]"

struct exec_opts {
	bool tty;
	const char *user, *cwd;
	char **env;
};

static int exec_parse(struct cli *c, struct exec_opts *x, struct cell_error *err)
{
	static const struct option opts[] = {
		{ "tty", no_argument, NULL, 't' }, { "interactive", no_argument, NULL, 'i' },
		{ "user", required_argument, NULL, 'u' }, { "workdir", required_argument, NULL, 'w' },
		{ "env", required_argument, NULL, 'e' }, {},
	};
	int o;

	while ((o = getopt_long(c->argc, c->argv, "+tiu:w:e:", opts, NULL)) != -1) {
		switch (o) {
		case 't': x->tty = true; break;
		case 'i': break;
		case 'u': x->user = optarg; break;
		case 'w': x->cwd = optarg; break;
		case 'e': cell_strv_push(&x->env, xstrdup(optarg)); break;
		default: return cell_errx(err, EINVAL, "usage: cell %s", EXEC_USAGE);
		}
	}
	if (c->argc - optind < 1)
		return cell_errx(err, EINVAL, "usage: cell %s", EXEC_USAGE);
	return 0;
}

/* The runtime has no container by that name: a cell that is stopped, or no cell
 * at all.  Any other failure to read its config is reported as it is. */
static int exec_not_running(struct cli *c, const char *name, struct cell_error *err)
{
	struct cell_settings *s = NULL;
	int r;

	if (!cell_name_valid(name))
		return cell_errx(err, EINVAL, "invalid name \"%s\"", name);
	if ((r = cell_settings_load(&c->st, name, &s, err)) < 0)
		return r;
	cell_settings_free(s);
	return cell_errx(err, ESRCH, "%s is not running", name);
}

int cmd_exec(struct cli *c, struct cell_error *err)
{
	_cleanup_(cell_spec_freep) struct cell_spec *spec = NULL;
	struct exec_opts x = { 0 };
	struct cell_exec_opts eo = { 0 };
	int r;

	if (cli_help(c, EXEC_USAGE))
		return 0;
	/* NAME may come first (cell exec web -t -- sh) or after the options */
	const char *name = NULL;
	if (c->argc > 1 && c->argv[1][0] != '-') {
		name = c->argv[1];
		c->argv[1] = c->argv[0];
		c->argv++;
		c->argc--;
	}
	if ((r = exec_parse(c, &x, err)) < 0 || (r = cli_store(c, err)) < 0)
		goto out;
	if (!name)
		name = c->argv[optind++];
	if (optind < c->argc && streq(c->argv[optind], "--"))
		optind++;
	if (optind >= c->argc) {
		r = cell_errx(err, EINVAL, "usage: cell %s", EXEC_USAGE);
		goto out;
	}
	if ((r = cell_container_config(&c->st.rt, name, &spec, err)) < 0) {
		if (r == -ENOENT)
			r = exec_not_running(c, name, err);
		goto out;
	}
	struct cell_process *p = &spec->process;
	cell_strv_free(p->args);
	p->args = cell_strv_copy(c->argv + optind);
	p->terminal = x.tty;
	p->console_size_set = false;
	for (size_t i = 0; x.env && x.env[i]; i++)
		cell_strv_push(&p->env, xstrdup(x.env[i]));
	if (x.cwd) {
		free(p->cwd);
		p->cwd = xstrdup(x.cwd);
	}
	if (x.user && cell_manager_exec_user(spec->root.path, x.user, &p->user, err) < 0) {
		r = cell_err_prefix(err, "-u %s", x.user);
		goto out;
	}
	r = cell_container_exec(&c->st.rt, name, p, &eo, &c->exit_status, err);
out:
	cell_strv_free(x.env);
	return r < 0 ? r : 0;
}

/* ---- console ---- */

static int console_connect(struct cli *c, const char *name, struct cell_error *err)
{
	_cleanup_free_ char *rundir = cell_store_rundir(&c->st, name);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	(void)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/console.sock", rundir);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return cell_err(err, errno, "%s has no console (is it running?)", name);
	return TAKE_FD(fd);
}

/* Relay until the container ends or the user types the detach key Ctrl-a q. */
static void relay(int fd)
{
	bool prefix = false;
	char buf[4096];

	for (;;) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { STDIN_FILENO, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return;
		if (p[0].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n <= 0 || cell_write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
				return;
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0)
				return;
			for (ssize_t i = 0; i < n; i++) {
				if (prefix && buf[i] == 'q')
					return;
				prefix = buf[i] == 0x01;
			}
			if (cell_write_all(fd, buf, (size_t)n) < 0)
				return;
		}
	}
}

int cmd_console(struct cli *c, struct cell_error *err)
{
	const char *usage = "console NAME   (detach with Ctrl-a q)";
	struct termios saved, raw;
	int r;

	if (cli_help(c, usage))
		return 0;
	if ((r = cli_positional(c, 1, usage, err)) < 0 || (r = cli_store(c, err)) < 0)
		return r;
	_cleanup_close_ int fd = console_connect(c, c->argv[1], err);
	if (fd < 0)
		return fd;
	bool tty = tcgetattr(STDIN_FILENO, &saved) == 0;
	if (tty) {
		fprintf(stderr, "Connected to %s's console; Ctrl-a q detaches.\r\n", c->argv[1]);
		raw = saved;
		cfmakeraw(&raw);
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	relay(fd);
	if (tty)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return 0;
}

/* ---- logs ---- */

static void print_tail(const char *text, size_t len, long lines)
{
	const char *start = text;

	if (lines >= 0) {
		long seen = 0;
		for (const char *p = text + len; p > text; p--)
			if (p[-1] == '\n' && p != text + len && ++seen == lines) {
				start = p;
				break;
			}
	}
	fwrite(start, 1, len - (size_t)(start - text), stdout);
}

int cmd_logs(struct cli *c, struct cell_error *err)
{
	static const struct option opts[] = { { "follow", no_argument, NULL, 'f' },
					      { "lines", required_argument, NULL, 'n' }, {} };
	const char *usage = "logs NAME [-f] [-n LINES]";
	bool follow = false;
	long long lines = -1;
	int o, r;

	if (cli_help(c, usage))
		return 0;
	while ((o = getopt_long(c->argc, c->argv, "fn:", opts, NULL)) != -1) {
		if (o == 'f')
			follow = true;
		else if (o == 'n' && cell_parse_long(optarg, &lines) == 0 && lines >= 0)
			continue;
		else
			return cell_errx(err, EINVAL, "usage: cell %s", usage);
	}
	if ((r = cli_positional(c, 1, usage, err)) < 0 || (r = cli_store(c, err)) < 0)
		return r;
	const char *name = c->argv[optind];
	_cleanup_free_ char *dir = cell_store_dir(&c->st, name);
	_cleanup_free_ char *path = xasprintf("%s/console.log", dir);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;

	if (fd < 0)
		return cell_err(err, errno, "%s has no log yet (%s)", name, path);
	if ((r = cell_read_fd(fd, &text, &len)) < 0)
		return cell_err(err, r, "read %s", path);
	print_tail(text, len, (long)lines);
	fflush(stdout);
	while (follow) {
		char buf[4096];
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			(void)cell_write_all(STDOUT_FILENO, buf, (size_t)n);
			continue;
		}
		if (cell_supervisor_pid(&c->st, name) <= 0)
			break;
		(void)poll(NULL, 0, 200);
	}
	return 0;
}
