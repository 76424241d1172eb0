/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* exec: -p process.json, or CMD... with runc's flags on top of the
 * container's own process settings (env, user, capabilities, rlimits). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cellrun.h"
#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"

struct exec_args {
	const char *process_file, *cwd, *user, *apparmor, *label;
	char **env, **caps;
	uint32_t *gids;
	size_t n_gids;
	bool tty, no_new_privs;
	struct cell_exec_opts o;
};

static void exec_usage(void)
{
	printf("Usage: cellrun exec [options] ID [CMD ARGS...]\n\n"
	       "  -p, --process FILE      the process as JSON (runtime-spec process object)\n"
	       "  -t, --tty               allocate a terminal\n"
	       "  -d, --detach            do not wait for the process\n"
	       "      --cwd DIR           working directory\n"
	       "  -e, --env K=V           add an environment variable\n"
	       "  -u, --user UID[:GID]    run as this user\n"
	       "  -g, --additional-gids G add a supplementary group (repeatable)\n"
	       "      --cap CAP           add a capability\n"
	       "      --no-new-privs      set no_new_privs\n"
	       "      --apparmor PROFILE  the AppArmor profile of the process\n"
	       "      --process-label L   the SELinux label of the process\n"
	       "      --pid-file P        write the process's pid here\n"
	       "      --console-socket P  send the terminal master to this socket\n"
	       "      --preserve-fds N    pass N extra fds\n"
	       "      --ignore-paused     exec into a paused container (the process waits for resume)\n"
	       "      --cgroup [C,..:]P   join sub-cgroup P of the container's (in controllers C)\n");
}

static int parse_exec(struct cli *c, struct exec_args *a, struct cell_error *err)
{
	static const struct option opts[] = {
		{ "process", required_argument, NULL, 'p' }, { "tty", no_argument, NULL, 't' },
		{ "detach", no_argument, NULL, 'd' },        { "cwd", required_argument, NULL, 'w' },
		{ "env", required_argument, NULL, 'e' },     { "user", required_argument, NULL, 'u' },
		{ "cap", required_argument, NULL, 'c' },     { "pid-file", required_argument, NULL, 'P' },
		{ "console-socket", required_argument, NULL, 'S' },
		{ "preserve-fds", required_argument, NULL, 'F' },
		{ "no-new-privs", no_argument, NULL, 'n' },
		{ "additional-gids", required_argument, NULL, 'g' },
		{ "ignore-paused", no_argument, NULL, 'i' },
		{ "apparmor", required_argument, NULL, 'a' },
		{ "process-label", required_argument, NULL, 'l' },
		{ "cgroup", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	long long n;
	int o;

	while ((o = getopt_long(c->argc, c->argv, "+p:tdw:e:u:g:h", opts, NULL)) != -1) {
		switch (o) {
		case 'p': a->process_file = optarg; break;
		case 't': a->tty = true; break;
		case 'd': a->o.detach = true; break;
		case 'w': a->cwd = optarg; break;
		case 'e': cell_strv_push(&a->env, xstrdup(optarg)); break;
		case 'u': a->user = optarg; break;
		case 'c': cell_strv_push(&a->caps, xstrdup(optarg)); break;
		case 'P': a->o.pid_file = optarg; break;
		case 'S': a->o.console_socket = optarg; break;
		case 'n': a->no_new_privs = true; break;
		case 'F':
			if (cell_parse_long(optarg, &n) < 0 || n < 0 || n > 65536)
				return cell_err(err, EINVAL, "--preserve-fds %s: want a count", optarg);
			a->o.preserve_fds = (int)n;
			break;
		case 'g':
			if (cell_parse_long(optarg, &n) < 0 || n < 0 || n > UINT32_MAX)
				return cell_err(err, EINVAL, "--additional-gids %s: want a gid", optarg);
			a->gids = xrealloc(a->gids, (a->n_gids + 1) * sizeof(uint32_t));
			a->gids[a->n_gids++] = (uint32_t)n;
			break;
		case 'a': a->apparmor = optarg; break;
		case 'l': a->label = optarg; break;
		case 'G': cell_strv_push(&a->o.cgroups, xstrdup(optarg)); break;
		case 'i': a->o.ignore_paused = true; break;
		case 'h': exec_usage(); return 1;
		default: return cell_err(err, EINVAL, "exec: unknown option (see --help)");
		}
	}
	if (optind >= c->argc)
		return cell_err(err, EINVAL, "exec: missing container id");
	if (!a->process_file && optind + 1 >= c->argc)
		return cell_err(err, EINVAL, "exec: give a command or --process FILE");
	return 0;
}

static int apply_user(struct cell_process *p, const char *u, struct cell_error *err)
{
	long long uid, gid = 0;
	_cleanup_free_ char *s = xstrdup(u);
	char *colon = strchr(s, ':');

	if (colon)
		*colon++ = '\0';
	if (cell_parse_long(s, &uid) < 0 || uid < 0 || uid > UINT32_MAX ||
	    (colon && (cell_parse_long(colon, &gid) < 0 || gid < 0 || gid > UINT32_MAX)))
		return cell_err(err, EINVAL, "--user %s: want numeric UID[:GID]", u);
	p->user.uid = (uint32_t)uid;
	p->user.gid = (uint32_t)gid;
	free(p->user.additional_gids);
	p->user.additional_gids = NULL;
	p->user.n_additional_gids = 0;
	return 0;
}

/* An unknown name goes to caps.unknown, printable only: libcell warns about it
 * and leaves it out, as runc does. */
static void unknown_cap(struct cell_caps *c, const char *name)
{
	size_t used = strlen(c->unknown);

	if (used + 2 >= sizeof(c->unknown))
		return;
	if (used)
		c->unknown[used++] = ' ';
	for (size_t i = 0; name[i] && used + 1 < sizeof(c->unknown); i++)
		c->unknown[used++] = isprint((unsigned char)name[i]) ? name[i] : '?';
	c->unknown[used] = '\0';
}

static void apply_caps(struct cell_process *p, char **caps)
{
	for (size_t i = 0; caps && caps[i]; i++) {
		int cap = cell_cap_from_name(caps[i]);
		if (cap < 0) {
			unknown_cap(&p->caps, caps[i]);
			continue;
		}
		uint64_t bit = 1ULL << cap;
		p->caps.set = true;
		p->caps.bounding |= bit;
		p->caps.effective |= bit;
		p->caps.permitted |= bit;
		/* as runc 1.1: asked for ambient but not made inheritable, so it
		 * is raised only when process.capabilities.inheritable has it */
		p->caps.ambient |= bit;
	}
}

/* The container's process with CMD... and the flags applied. */
static int build_from_args(struct cli *c, struct exec_args *a, struct cell_process *p,
			   struct cell_error *err)
{
	int r;

	cell_strv_free(p->args);
	p->args = cell_strv_copy(c->argv + optind + 1);
	p->terminal = a->tty;
	p->console_size_set = false;
	for (size_t i = 0; a->env && a->env[i]; i++)
		cell_strv_push(&p->env, xstrdup(a->env[i]));
	if (a->cwd) {
		free(p->cwd);
		p->cwd = xstrdup(a->cwd);
	}
	if (a->no_new_privs)
		p->no_new_privileges = true;
	/* applied where the LSM is enabled, a clear error where it is not (as at create) */
	if (a->apparmor) {
		free(p->apparmor_profile);
		p->apparmor_profile = xstrdup(a->apparmor);
	}
	if (a->label) {
		free(p->selinux_label);
		p->selinux_label = xstrdup(a->label);
	}
	if (a->user && (r = apply_user(p, a->user, err)) < 0)
		return r;
	if (a->n_gids) {
		free(p->user.additional_gids);
		p->user.additional_gids = TAKE_PTR(a->gids);
		p->user.n_additional_gids = a->n_gids;
	}
	apply_caps(p, a->caps);
	return 0;
}

int cmd_exec(struct cli *c, struct cell_error *err)
{
	struct exec_args a = { 0 };
	_cleanup_(cell_spec_freep) struct cell_spec *spec = NULL;
	_cleanup_(cell_process_freep) struct cell_process *own = NULL;
	_cleanup_free_ char *text = NULL;
	const struct cell_process *p;
	size_t len;
	int r = parse_exec(c, &a, err);

	/* runc exits 255 when exec itself fails (its arguments parsed), so that
	 * callers (containerd, podman) tell it from the process's own status */
	if (r == 0)
		c->error_status = 255;
	if (r == 0 && a.process_file) {
		if ((r = cell_read_file(a.process_file, &text, &len)) < 0)
			r = cell_err(err, r, "read %s", a.process_file);
		else if ((r = cell_process_parse(text, len, &own, err)) < 0)
			r = cell_err_prefix(err, "%s", a.process_file);
		p = own;
	} else if (r == 0) {
		r = cell_container_config(&c->rt, c->argv[optind], &spec, err);
		if (r < 0)
			(void)cell_err_prefix(err, "exec in %s", c->argv[optind]);
		else
			r = build_from_args(c, &a, &spec->process, err);
		p = spec ? &spec->process : NULL;
	}
	if (r == 0)
		r = cell_container_exec(&c->rt, c->argv[optind], p, &a.o, &c->exit_status, err);
	cell_strv_free(a.env);
	cell_strv_free(a.caps);
	cell_strv_free(a.o.cgroups);
	free(a.gids);
	return r < 0 ? r : 0;
}
