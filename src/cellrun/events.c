/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * events [--stats] [--interval D] ID: runc's event stream, one JSON object a line:
 * {"type":"stats","id":ID,"data":{...}} every interval (default 5s; the first after one
 * interval, as runc's ticker) and {"type":"oom","id":ID} whenever the cgroup's OOM-kill
 * counter rises, until the container stops.  --stats prints one stats event and exits.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cellrun.h"
#include "libcell/base/cleanup.h"
#include "libcell/base/log.h"
#include "libcell/base/util.h"

#define POLL_MS 100 /* how often the OOM counter and the container's life are looked at */

/* A Go duration: "5s", "100ms", "1m30s", "1.5h"; > 0. */
int cli_parse_duration(const char *s, long long *ms)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = { { "ns", 1e-6 }, { "us", 1e-3 }, { "µs", 1e-3 }, { "ms", 1 },
		      { "s", 1e3 },   { "m", 6e4 },   { "h", 3.6e6 } };
	double total = 0;
	char *end;

	if (!*s)
		return -EINVAL;
	while (*s) {
		double v = strtod(s, &end);
		size_t best = 0, blen = 0;
		if (end == s || v < 0)
			return -EINVAL;
		for (size_t i = 0; i < ARRAY_SIZE(units); i++) /* longest unit: "ms" before "m" */
			if (cell_startswith(end, units[i].unit) && strlen(units[i].unit) > blen)
				best = i, blen = strlen(units[i].unit);
		if (!blen)
			return streq(s, "0") ? (*ms = 0, 0) : -EINVAL;
		total += v * units[best].ms;
		s = end + blen;
	}
	if (!isfinite(total) || total > 9e15)
		return -ERANGE;
	*ms = (long long)total;
	*ms += (double)*ms < total; /* round up: 1us is not 0 */
	return 0;
}

static long long now_ms(void)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void emit(const char *type, const char *id, json_t *data)
{
	json_t *e = json_pack("{s:s,s:s}", "type", type, "id", id);
	_cleanup_free_ char *text = NULL;

	if (data)
		json_object_set_new(e, "data", data);
	text = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(e);
	printf("%s\n", text);
	(void)fflush(stdout);
}

static int emit_stats(struct cli *c, const char *id, struct cell_error *err)
{
	json_t *data = NULL;
	int r = cell_container_stats(&c->rt, id, &data, err);

	if (r == 0)
		emit("stats", id, data);
	return r;
}

/* Until the container stops; a stats read that fails is logged and skipped, as runc.  The
 * OOM counter is read once more after the stop: the kill that ended it is reported. */
static int stream(struct cli *c, const char *id, long long interval, struct cell_error *err)
{
	struct cell_error e = { 0 };
	uint64_t seen = 0, cur = 0;
	bool running = true;
	long long next = now_ms() + interval;
	int r = cell_container_oom_count(&c->rt, id, &seen, &running, err);

	if (r < 0)
		return r;
	if (!running)
		return cell_err(err, ESRCH, "container with id %s is not running", id);
	while (running) {
		struct timespec pause = { 0, POLL_MS * 1000000L };
		(void)nanosleep(&pause, NULL);
		if (cell_container_oom_count(&c->rt, id, &cur, &running, &e) < 0)
			return 0; /* deleted meanwhile */
		if (cur > seen)
			emit("oom", id, NULL);
		seen = cur > seen ? cur : seen;
		if (!running || now_ms() < next)
			continue;
		next += interval;
		if (emit_stats(c, id, &e) < 0)
			cell_warn("%s", e.msg);
	}
	return 0;
}

int cmd_events(struct cli *c, struct cell_error *err)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "stats", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	long long interval = 5000;
	bool once = false;
	const char *id;
	int o, r;

	while ((o = getopt_long(c->argc, c->argv, "h", opts, NULL)) != -1) {
		if (o == 'h') {
			printf("Usage: cellrun events [--stats] [--interval 5s] ID\n");
			return 0;
		}
		if (o == 's')
			once = true;
		else if (o != 'i')
			return cell_err(err, EINVAL, "events: bad option (see --help)");
		else if (cli_parse_duration(optarg, &interval) < 0)
			return cell_err(err, EINVAL, "events: invalid --interval \"%s\"", optarg);
	}
	if ((r = cli_one_id(c, optind, &id, err)) < 0)
		return r;
	if (interval <= 0)
		return cell_err(err, EINVAL, "duration interval must be greater than 0");
	return once ? emit_stats(c, id, err) : stream(c, id, interval, err);
}
