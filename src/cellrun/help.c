/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --version, --help, `help [VERB]`: laid out as runc's (urfave/cli) pages,
 * which clients and runc's own tests read: the first line "PROG version X.Y.Z"
 * and "spec: ", "NAME:" then "   PROG - Open Container Initiative runtime",
 * "   PROG VERB - ..." for a verb.  PROG is the name cellrun was called by, as
 * urfave/cli's default is (so a cellrun installed as runc calls itself runc).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cellrun.h"
#include "libcell/base/cleanup.h"
#include "libcell/base/util.h"
#include "libcell/spec/spec.h"

const char *cli_prog_name(const char *argv0)
{
	const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
	const char *name = slash ? slash + 1 : argv0;

	return name && *name ? name : "cellrun";
}

void cli_print_version(const char *prog)
{
	_cleanup_free_ char *text = cell_version_text(prog);

	fputs(text, stdout);
}

static const char global_options[] =
    "GLOBAL OPTIONS:\n"
    "   --debug             enable debug logging\n"
    "   --log value         write log lines to this file (default is stderr)\n"
    "   --log-format value  set the log format ('text' (default), or 'json')\n"
    "   --root value        root directory for storage of container state (default: "
    "\"/run/cellrun\";\n"
    "                       for other users, and root in a user namespace,\n"
    "                       $XDG_RUNTIME_DIR/cellrun, else /tmp/cellrun-UID)\n"
    "   --criu value        accepted for runc compatibility\n"
    "   --systemd-cgroup    cgroupsPath is \"slice:prefix:name\"\n"
    "   --rootless value    ignore cgroup permission errors ('true', 'false', or 'auto')\n"
    "   --help, -h          show help\n"
    "   --version, -v       print the version\n";

void cli_print_help(FILE *f, const char *prog, const struct cli_verb *verbs, size_t n)
{
	_cleanup_free_ char *version = cell_version_text(prog);
	/* VERSION: shows the lines after "PROG version ", as urfave/cli does */
	const char *v = version + strlen(prog) + strlen(" version ");

	fprintf(f,
		"NAME:\n   %s - Open Container Initiative runtime\n\n"
		"%s is an OCI runtime (runtime-spec 1.0 to %s) with runc's command line.\n\n"
		"USAGE:\n   %s [global options] command [command options] [arguments...]\n\n"
		"VERSION:\n   %s\nCOMMANDS:\n",
		prog, prog, CELL_OCI_VERSION_MAX, prog, v);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "   %-10s  %s\n", verbs[i].name, verbs[i].help);
	fprintf(f, "   %-10s  %s\n\n%s", "help, h",
		"Shows a list of commands or help for one command", global_options);
}

void cli_print_verb_name(const char *prog, const struct cli_verb *v)
{
	printf("NAME:\n   %s %s - %s\n\n", prog, v->name, v->help);
}

bool cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && argv[i][0] == '-' && !streq(argv[i], "--"); i++)
		if (streq(argv[i], "-h") || streq(argv[i], "--help"))
			return true;
	return false;
}
