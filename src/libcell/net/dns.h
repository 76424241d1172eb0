/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * One DNS forwarder and DHCP server per network in use: dnsmasq (Debian's
 * dnsmasq-base), listening on the bridge's gateway addresses only.  It
 * answers the names of the containers on its network from a hosts file,
 * hands each container's MAC its leased address by DHCP (so a container's
 * own DHCP client, ifupdown or systemd-networkd, gets the address cell gave
 * it), and forwards everything else to the host's resolvers.  cell writes
 * the files and sends SIGHUP; the process is found again by its pid file
 * and start time (after a kill -9 of anything, the next sync starts it).
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../base/error.h"
#include "ipam.h"

struct cell_dns_host {
	const char *name;
	bool has4, has6;
	unsigned char ip4[16], ip6[16];
	unsigned char mac[6];
};

struct cell_dns_net {
	const char *network;
	const char *bridge;
	const char *rundir;	   /* its files: <rundir>/{hosts,dhcp-hosts,dnsmasq.pid,...} */
	bool has4, has6;
	struct cell_cidr subnet4, subnet6;
	unsigned char gw4[16], gw6[16];
	const struct cell_dns_host *hosts;
	size_t n_hosts;
};

/* The dnsmasq command line (NULL-terminated, caller frees with cell_strv_free);
 * dnsmasq is the program's path.  Pure: unit-tested. */
char **cell_dns_argv(const struct cell_dns_net *n, const char *dnsmasq);
/* The hosts file and the dhcp-hosts file.  Pure. */
char *cell_dns_hosts_text(const struct cell_dns_net *n);
char *cell_dns_dhcp_text(const struct cell_dns_net *n);
/* Write the files (atomically, readable by dnsmasq's unprivileged user); start
 * dnsmasq when it does not run, else SIGHUP it when a file changed.
 * dnsmasq: its path, NULL for the one on PATH (-ENOENT, said as "install
 * dnsmasq-base", when there is none). */
int cell_dns_sync(const struct cell_dns_net *n, const char *dnsmasq, struct cell_error *err);
/* Stop the network's dnsmasq (if it is the one the pid file names) and remove
 * rundir. */
int cell_dns_stop(const char *rundir, struct cell_error *err);
/* The pid of the network's running dnsmasq, or 0. */
pid_t cell_dns_pid(const char *rundir);
