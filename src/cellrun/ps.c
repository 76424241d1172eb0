/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ps ID [ps(1) options]: as runc's ps, the options after the id go to ps(1) (default
 * "-ef"), whose header and the rows of the container's pids are printed; --format json
 * prints the pids as a JSON array.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cellrun.h"
#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"

extern char **environ;

static int ps_opts(struct cli *c, bool *json, struct cell_error *err)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int o;

	/* "+": the first non-option is the id and everything after it is ps(1)'s */
	while ((o = getopt_long(c->argc, c->argv, "+f:h", opts, NULL)) != -1) {
		if (o == 'h') {
			printf("Usage: cellrun ps [--format table|json] ID [ps options]\n");
			return 1;
		}
		if (o != 'f')
			return cell_err(err, EINVAL, "ps: bad option (see --help)");
		if (!streq(optarg, "json") && !streq(optarg, "table"))
			return cell_err(err, EINVAL, "invalid format option");
		*json = streq(optarg, "json");
	}
	return 0;
}

/* Run ps(1) with argv, its stdout and stderr together in *out. */
static int run_ps(char **argv, char **out, struct cell_error *err)
{
	_cleanup_close_ int rd = -1, wr = -1;
	posix_spawn_file_actions_t fa;
	int fds[2], status = 0, r;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return cell_err(err, errno, "ps: pipe");
	rd = fds[0];
	wr = fds[1];
	(void)posix_spawn_file_actions_init(&fa);
	(void)posix_spawn_file_actions_adddup2(&fa, wr, STDOUT_FILENO);
	(void)posix_spawn_file_actions_adddup2(&fa, wr, STDERR_FILENO);
	r = posix_spawnp(&pid, "ps", &fa, NULL, argv, environ);
	(void)posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return cell_err(err, r, "ps: run ps(1)");
	close(TAKE_FD(wr));
	r = cell_read_fd(rd, out, NULL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		return cell_err(err, r, "ps: read the output of ps(1)");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return cell_err(err, EIO, "ps(1) failed (status %d): %s", status, *out);
	return 0;
}

static bool has_pid(const pid_t *pids, size_t n, long long p)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == p)
			return true;
	return false;
}

/* The idx-th blank-separated field of the line [p, end): start and length. */
static bool field_at(const char *p, const char *end, int idx, const char **f, size_t *len)
{
	for (int i = 0;; i++) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		const char *q = p;
		while (q < end && *q != ' ' && *q != '\t')
			q++;
		if (q == p)
			return false;
		if (i == idx) {
			*f = p;
			*len = (size_t)(q - p);
			return true;
		}
		p = q;
	}
}

static int pid_column(const char *line, const char *end)
{
	const char *f;
	size_t len;

	for (int i = 0; field_at(line, end, i, &f, &len); i++)
		if (len == 3 && strncmp(f, "PID", 3) == 0)
			return i;
	return -1;
}

static bool row_pid(const char *line, const char *end, int col, long long *pid)
{
	const char *f;
	size_t len;
	char buf[24];

	if (!field_at(line, end, col, &f, &len) || len >= sizeof(buf))
		return false;
	memcpy(buf, f, len);
	buf[len] = '\0';
	return cell_parse_long(buf, pid) == 0;
}

static int print_table(char **ps_argv, const pid_t *pids, size_t n, struct cell_error *err)
{
	_cleanup_free_ char *out = NULL;
	const char *line, *end;
	int col, r = run_ps(ps_argv, &out, err);

	if (r < 0)
		return r;
	end = strchrnul(out, '\n');
	if ((col = pid_column(out, end)) < 0)
		return cell_err(err, EINVAL, "couldn't find PID field in ps output");
	printf("%.*s\n", (int)(end - out), out);
	for (line = *end ? end + 1 : end; *line; line = *end ? end + 1 : end) {
		long long p;
		end = strchrnul(line, '\n');
		if (end == line)
			continue;
		if (!row_pid(line, end, col, &p))
			return cell_err(err, EINVAL, "unable to parse pid: %.*s", (int)(end - line),
					line);
		if (has_pid(pids, n, p))
			printf("%.*s\n", (int)(end - line), line);
	}
	return 0;
}

int cmd_ps(struct cli *c, struct cell_error *err)
{
	_cleanup_free_ pid_t *pids = NULL;
	_cleanup_free_ char **ps_argv = NULL;
	bool json = false;
	size_t n = 0;
	int r = ps_opts(c, &json, err);

	if (r != 0)
		return r < 0 ? r : 0;
	if (optind >= c->argc)
		return cell_err(err, EINVAL, "ps: needs a container id");
	if ((r = cell_container_pids(&c->rt, c->argv[optind], &pids, &n, err)) < 0)
		return r;
	if (json) {
		printf("[");
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", (int)pids[i]);
		printf("]\n");
		return 0;
	}
	ps_argv = xcalloc((size_t)(c->argc - optind) + 2, sizeof(char *));
	ps_argv[0] = (char *)"ps";
	for (int i = optind + 1; i < c->argc; i++)
		ps_argv[i - optind] = c->argv[i];
	if (c->argc - optind == 1)
		ps_argv[1] = (char *)"-ef";
	return print_table(ps_argv, pids, n, err);
}
