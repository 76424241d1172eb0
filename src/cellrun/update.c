/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* update: -r resources.json (or - for stdin) and/or runc's single-value flags */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cellrun.h"
#include "libcell/base/cleanup.h"
#include "libcell/base/log.h"
#include "libcell/base/util.h"

enum { U_MEM = 256, U_SWAP, U_RESV, U_KMEM, U_KTCP, U_QUOTA, U_PERIOD, U_SHARES, U_RTP, U_RTR,
       U_CPUS, U_MEMS, U_PIDS, U_BLKIO, U_L3, U_MBA, U_END };

/* After "resources", in the order of the enum (set_value names a flag by it). */
static const struct option update_opts[] = {
	{ "resources", required_argument, NULL, 'r' },
	{ "memory", required_argument, NULL, U_MEM },
	{ "memory-swap", required_argument, NULL, U_SWAP },
	{ "memory-reservation", required_argument, NULL, U_RESV },
	{ "kernel-memory", required_argument, NULL, U_KMEM },
	{ "kernel-memory-tcp", required_argument, NULL, U_KTCP },
	{ "cpu-quota", required_argument, NULL, U_QUOTA },
	{ "cpu-period", required_argument, NULL, U_PERIOD },
	{ "cpu-share", required_argument, NULL, U_SHARES },
	{ "cpu-rt-period", required_argument, NULL, U_RTP },
	{ "cpu-rt-runtime", required_argument, NULL, U_RTR },
	{ "cpuset-cpus", required_argument, NULL, U_CPUS },
	{ "cpuset-mems", required_argument, NULL, U_MEMS },
	{ "pids-limit", required_argument, NULL, U_PIDS },
	{ "blkio-weight", required_argument, NULL, U_BLKIO },
	{ "l3-cache-schema", required_argument, NULL, U_L3 },
	{ "mem-bw-schema", required_argument, NULL, U_MBA },
	{ "help", no_argument, NULL, 'h' },
	{},
};

static void update_usage(void)
{
	printf("Usage: cellrun update [options] ID\n\n"
	       "  -r, --resources FILE   linux.resources as JSON (- reads stdin)\n"
	       "  --memory N, --memory-swap N, --memory-reservation N  (k/m/g suffixes, -1)\n"
	       "  --kernel-memory N, --kernel-memory-tcp N  (ignored, as runc)\n"
	       "  --cpu-quota N, --cpu-period N, --cpu-share N, --cpu-rt-period N, --cpu-rt-runtime N\n"
	       "  --cpuset-cpus LIST, --cpuset-mems LIST, --pids-limit N, --blkio-weight N\n"
	       "  --l3-cache-schema S, --mem-bw-schema S  (Intel RDT: not supported)\n"
	       "A value of 0 (or \"\") leaves that setting as it is.\n");
}

#define EMPTY_CONFIG "{\"ociVersion\":\"" CELL_OCI_VERSION "\",\"root\":{\"path\":\"/\"}}"

/* Parse the resources object by wrapping it in a config (one parser for both). */
static int load_resources(const char *file, struct cell_spec **out, struct cell_error *err)
{
	_cleanup_free_ char *text = NULL, *wrapped = NULL;
	int r = streq(file, "-") ? cell_read_fd(STDIN_FILENO, &text, NULL)
				 : cell_read_file(file, &text, NULL);

	if (r < 0)
		return cell_err(err, r, "read %s", file);
	wrapped = xasprintf("{\"ociVersion\":\"" CELL_OCI_VERSION
			    "\",\"root\":{\"path\":\"/\"},\"linux\":{\"resources\":\n%s\n}}",
			    text);
	r = cell_spec_parse(wrapped, strlen(wrapped), out, err);
	return r < 0 ? cell_err_prefix(err, "resources %s (line numbers count from 2)", file) : 0;
}

/* runc parses these with ParseUint: no sign. */
static bool unsigned_opt(int opt)
{
	return opt == U_PERIOD || opt == U_SHARES || opt == U_RTP || opt == U_BLKIO;
}

static int parse_value(int opt, const char *v, long long *n)
{
	bool size = opt == U_MEM || opt == U_SWAP || opt == U_RESV || opt == U_KMEM || opt == U_KTCP;

	if (unsigned_opt(opt) && (v[0] == '-' || v[0] == '+'))
		return -EINVAL;
	if (size ? cli_parse_size(v, n) < 0 : cell_parse_long(v, n) < 0)
		return -EINVAL;
	return opt == U_BLKIO && *n > UINT16_MAX ? -ERANGE : 0;
}

static void set_number(struct cell_resources *res, int opt, long long n)
{
	switch (opt) {
	case U_MEM: res->memory.limit = (struct cell_i64){ true, n }; break;
	case U_SWAP: res->memory.swap = (struct cell_i64){ true, n }; break;
	case U_RESV: res->memory.reservation = (struct cell_i64){ true, n }; break;
	case U_QUOTA: res->cpu.quota = (struct cell_i64){ true, n }; break;
	case U_PERIOD: res->cpu.period = (struct cell_u64){ true, (uint64_t)n }; break;
	case U_SHARES: res->cpu.shares = (struct cell_u64){ true, (uint64_t)n }; break;
	case U_RTP: res->cpu.realtime_period = (struct cell_u64){ true, (uint64_t)n }; break;
	case U_RTR: res->cpu.realtime_runtime = (struct cell_i64){ true, n }; break;
	case U_PIDS: res->pids.limit = (struct cell_i64){ true, n }; break;
	case U_BLKIO: res->block_io.weight = (struct cell_u64){ true, (uint64_t)n }; break;
	default: break;
	}
}

static int set_value(struct cell_resources *res, int opt, const char *v, struct cell_error *err)
{
	long long n;

	if (opt == U_CPUS || opt == U_MEMS) {
		char **dst = opt == U_CPUS ? &res->cpu.cpus : &res->cpu.mems;
		free(*dst);
		*dst = xstrdup(v);
		return 0;
	}
	if (opt == U_L3 || opt == U_MBA) /* no resctrl group is ever made for a container */
		return *v ? cell_err(err, ENOTSUP, "Intel RDT/%s: %s is not enabled",
				     opt == U_L3 ? "CAT" : "MBA",
				     opt == U_L3 ? "l3 cache schema" : "memory bandwidth schema")
			  : 0;
	if (parse_value(opt, v, &n) < 0)
		return cell_err(err, EINVAL, "update: invalid value for --%s: \"%s\"",
				update_opts[opt - U_MEM + 1].name, v);
	if ((opt == U_KMEM || opt == U_KTCP) && n != 0)
		cell_warn("Kernel memory settings are ignored and will be removed");
	set_number(res, opt, n);
	return 0;
}

/* Flags override the file; a flag given twice counts once, the last (as runc's parser). */
int cmd_update(struct cli *c, struct cell_error *err)
{
	_cleanup_(cell_spec_freep) struct cell_spec *spec = NULL;
	const char *file = NULL, *id, *vals[U_END - U_MEM] = { 0 };
	int o, r;

	while ((o = getopt_long(c->argc, c->argv, "r:h", update_opts, NULL)) != -1) {
		if (o == 'h') {
			update_usage();
			return 0;
		}
		if (o == 'r')
			file = optarg;
		else if (o >= U_MEM && o < U_END)
			vals[o - U_MEM] = optarg;
		else
			return cell_err(err, EINVAL, "update: unknown option (see --help)");
	}
	if ((r = cli_one_id(c, optind, &id, err)) < 0)
		return r;
	if (file)
		r = load_resources(file, &spec, err);
	else
		r = cell_spec_parse(EMPTY_CONFIG, strlen(EMPTY_CONFIG), &spec, err);
	for (int i = 0; r >= 0 && i < U_END - U_MEM; i++)
		if (vals[i])
			r = set_value(&spec->linux.resources, U_MEM + i, vals[i], err);
	if (r < 0)
		return r;
	return cell_container_update(&c->rt, id, &spec->linux.resources, err);
}
