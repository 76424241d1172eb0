/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `--net`'s text: one row per kind. */
#include "net.h"

#include <errno.h>
#include <string.h>

#include "../base/util.h"
#include "netlink.h"

static const struct {
	const char *word;
	enum cell_net_kind kind;
	int arg; /* 0 none, 1 optional, 2 required */
	const char *want;
} kinds[] = {
    {"none", CELL_NET_NONE, 0, NULL},
    {"host", CELL_NET_HOST, 0, NULL},
    {"bridge", CELL_NET_BRIDGE, 1, "a network's name"},
    {"macvlan", CELL_NET_MACVLAN, 2, "a host link's name"},
    {"ipvlan", CELL_NET_IPVLAN, 2, "a host link's name"},
    {"netns", CELL_NET_NETNS, 2, "an absolute path"},
    {"container", CELL_NET_CONTAINER, 2, "a container's name"},
    {"pasta", CELL_NET_PASTA, 0, NULL},
};

static bool arg_valid(enum cell_net_kind kind, const char *arg)
{
	switch (kind) {
	case CELL_NET_BRIDGE:
		return cell_net_name_valid(arg);
	case CELL_NET_MACVLAN:
	case CELL_NET_IPVLAN:
		return strlen(arg) < CELL_IFNAMSIZ && !strchr(arg, '/') && !strchr(arg, ' ');
	case CELL_NET_NETNS:
		return arg[0] == '/';
	default:
		return *arg != '\0';
	}
}

int cell_net_mode_parse(const char *text, enum cell_net_kind *kind, const char **arg,
			struct cell_error *err)
{
	const char *eq = strchr(text, '=');
	size_t len = eq ? (size_t)(eq - text) : strlen(text);

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (strlen(kinds[i].word) != len || strncmp(text, kinds[i].word, len) != 0)
			continue;
		if ((eq && kinds[i].arg == 0) || (!eq && kinds[i].arg == 2) ||
		    (eq && !arg_valid(kinds[i].kind, eq + 1)))
			return kinds[i].arg == 0
				   ? cell_errx(err, EINVAL, "net \"%s\": %s takes no value", text,
					       kinds[i].word)
				   : cell_errx(err, EINVAL, "net \"%s\": want %s=%s", text,
					       kinds[i].word, kinds[i].want);
		*kind = kinds[i].kind;
		*arg = eq ? eq + 1 : NULL;
		return 0;
	}
	return cell_errx(err, EINVAL,
			 "net \"%s\": want bridge[=NETWORK], none, host, macvlan=DEV, ipvlan=DEV, "
			 "netns=PATH, container=NAME or pasta",
			 text);
}

bool cell_net_kind_own_netns(enum cell_net_kind kind)
{
	return kind != CELL_NET_HOST && kind != CELL_NET_NETNS && kind != CELL_NET_CONTAINER;
}
