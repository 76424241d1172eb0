/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* -p [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp], as docker and podman spell it. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "../base/cleanup.h"
#include "../base/util.h"
#include "nft.h"

static const struct {
	const char *name;
	int proto;
} protos[] = {
    {"tcp", IPPROTO_TCP},
    {"udp", IPPROTO_UDP},
};

static int parse_proto(const char *s, int *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(protos); i++)
		if (streq(s, protos[i].name)) {
			*out = protos[i].proto;
			return 0;
		}
	return -EINVAL;
}

static const char *proto_name(int proto)
{
	for (size_t i = 0; i < ARRAY_SIZE(protos); i++)
		if (protos[i].proto == proto)
			return protos[i].name;
	return "tcp";
}

/* 1..65535, decimal digits only (no sign, no space). */
static int parse_port(const char *s, size_t n, uint16_t *out)
{
	unsigned v = 0;

	if (n == 0 || n > 5)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* "HOSTPORT:CTRPORT" */
static int parse_pair(const char *s, struct cell_port *p)
{
	const char *colon = strchr(s, ':');

	if (!colon || strchr(colon + 1, ':'))
		return -EINVAL;
	if (parse_port(s, (size_t)(colon - s), &p->host_port) < 0)
		return -EINVAL;
	return parse_port(colon + 1, strlen(colon + 1), &p->ctr_port);
}

/* "[V6]:rest" or "V4:rest": *rest points past the address's colon. */
static int parse_host(char *s, struct cell_port *p, char **rest)
{
	char *end;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		*end = '\0';
		p->host_family = AF_INET6;
		*rest = end + 2;
		return inet_pton(AF_INET6, s + 1, p->host_ip) == 1 ? 0 : -EINVAL;
	}
	end = strchr(s, ':');
	if (!end)
		return -EINVAL;
	*end = '\0';
	p->host_family = AF_INET;
	*rest = end + 1;
	return inet_pton(AF_INET, s, p->host_ip) == 1 ? 0 : -EINVAL;
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

static int parse(char *s, struct cell_port *p)
{
	char *slash = strrchr(s, '/');

	p->proto = IPPROTO_TCP;
	if (slash) {
		*slash = '\0';
		if (parse_proto(slash + 1, &p->proto) < 0)
			return -EINVAL;
	}
	/* an address needs a third field: two colons, or brackets */
	if (s[0] == '[' || count_char(s, ':') == 2) {
		char *rest;
		if (parse_host(s, p, &rest) < 0)
			return -EINVAL;
		s = rest;
	}
	return parse_pair(s, p);
}

int cell_port_parse(const char *s, struct cell_port *out, struct cell_error *err)
{
	_cleanup_free_ char *copy = xstrdup(s);
	struct cell_port p = {0};

	if (parse(copy, &p) < 0)
		return cell_errx(err, EINVAL,
				 "port \"%s\": not [HOSTIP:]HOSTPORT:CTRPORT[/tcp|udp] with ports "
				 "1-65535 (an IPv6 host address in brackets: [::1]:8080:80)",
				 s);
	*out = p;
	return 0;
}

void cell_port_format(const struct cell_port *p, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "";

	if (p->host_family && !inet_ntop(p->host_family, p->host_ip, ip, sizeof(ip)))
		ip[0] = '\0';
	if (p->host_family == AF_INET6)
		(void)snprintf(buf, len, "[%s]:%u:%u/%s", ip, p->host_port, p->ctr_port,
			       proto_name(p->proto));
	else if (p->host_family == AF_INET)
		(void)snprintf(buf, len, "%s:%u:%u/%s", ip, p->host_port, p->ctr_port,
			       proto_name(p->proto));
	else
		(void)snprintf(buf, len, "%u:%u/%s", p->host_port, p->ctr_port,
			       proto_name(p->proto));
}
