/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Process attributes other than identity (runtime-spec config.md
 * "process"): umask, rlimits, scheduler, ioPriority, execCPUAffinity,
 * oomScoreAdj, noNewPrivileges and linux.personality.
 */
#include "identity.h"

#include <ctype.h>
#include <errno.h>
#include <linux/ioprio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "../base/cleanup.h"
#include "../base/util.h"
#include "../sys/syscalls.h"

struct limit_text {
	char s[24];
};

static struct limit_text limit_text(uint64_t v)
{
	struct limit_text t;

	if (v == (uint64_t)RLIM_INFINITY)
		(void)snprintf(t.s, sizeof(t.s), "unlimited");
	else
		(void)snprintf(t.s, sizeof(t.s), "%llu", (unsigned long long)v);
	return t;
}

static int rlimit_apply(const struct cell_rlimit *l, struct cell_error *err)
{
	const struct rlimit rl = {.rlim_cur = l->soft, .rlim_max = l->hard};

	if (setrlimit((__rlimit_resource_t)l->resource, &rl) == 0)
		return 0;
	if (l->type)
		return cell_err(err, errno, "setrlimit %s %s:%s", l->type, limit_text(l->soft).s,
				limit_text(l->hard).s);
	return cell_err(err, errno, "setrlimit %d %s:%s", l->resource, limit_text(l->soft).s,
			limit_text(l->hard).s);
}

static const char *sched_policy_name(int policy)
{
	static const char *const names[] = {
	    [SCHED_OTHER] = "SCHED_OTHER",
	    [SCHED_FIFO] = "SCHED_FIFO",
	    [SCHED_RR] = "SCHED_RR",
	    [SCHED_BATCH] = "SCHED_BATCH",
	    [4] = "SCHED_ISO",
	    [SCHED_IDLE] = "SCHED_IDLE",
	    [SCHED_DEADLINE] = "SCHED_DEADLINE",
	};

	if (policy < 0 || (size_t)policy >= ARRAY_SIZE(names))
		return "unknown policy";
	return names[policy];
}

static int scheduler_apply(const struct cell_scheduler *s, struct cell_error *err)
{
	struct cell_sched_attr a = {
	    .size = sizeof(a),
	    .sched_policy = (uint32_t)s->policy,
	    .sched_flags = s->flags,
	    .sched_nice = s->nice,
	    .sched_priority = (uint32_t)s->priority,
	    .sched_runtime = s->runtime,
	    .sched_deadline = s->deadline,
	    .sched_period = s->period,
	};

	if (!s->set || cell_sys_sched_setattr(0, &a, 0) == 0)
		return 0;
	return cell_err(err, errno, "sched_setattr %s priority %d nice %d",
			sched_policy_name(s->policy), s->priority, s->nice);
}

static int io_priority_apply(const struct cell_io_priority *io, struct cell_error *err)
{
	if (!io->set || cell_sys_ioprio_set(IOPRIO_WHO_PROCESS, 0,
					    IOPRIO_PRIO_VALUE(io->klass, io->priority)) == 0)
		return 0;
	return cell_err(err, errno, "ioprio_set class %d priority %d", io->klass, io->priority);
}

static int affinity_apply(pid_t pid, const char *list, const char *what, struct cell_error *err)
{
	cpu_set_t set;
	int r;

	if (!list)
		return 0;
	r = cell_cpulist_parse(list, &set);
	if (r < 0)
		return cell_errx(err, EINVAL, "%s \"%s\": invalid cpu list", what, list);
	if (sched_setaffinity(pid, sizeof(set), &set) < 0)
		return cell_err(err, errno, "%s \"%s\": sched_setaffinity", what, list);
	return 0;
}

int cell_process_attrs_apply(const struct cell_process *p, struct cell_error *err)
{
	int r;

	(void)umask(p->user.umask_set ? (mode_t)p->user.umask : 0022);
	for (size_t i = 0; i < p->n_rlimits; i++)
		if ((r = rlimit_apply(&p->rlimits[i], err)) < 0)
			return r;
	if ((r = scheduler_apply(&p->scheduler, err)) < 0 ||
	    (r = io_priority_apply(&p->io_priority, err)) < 0)
		return r;
	return affinity_apply(0, p->exec_cpu_affinity_initial, "execCPUAffinity.initial", err);
}

int cell_no_new_privs_apply(const struct cell_process *p, struct cell_error *err)
{
	if (!p->no_new_privileges || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0)
		return 0;
	return cell_err(err, errno, "prctl PR_SET_NO_NEW_PRIVS");
}

int cell_process_oom_score_apply(pid_t pid, const struct cell_process *p, struct cell_error *err)
{
	char path[64], val[16];
	int r;

	if (!p->oom_score_adj_set)
		return 0;
	(void)snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
	(void)snprintf(val, sizeof(val), "%d", p->oom_score_adj);
	r = cell_write_file(path, val, strlen(val));
	if (r < 0)
		return cell_err(err, r, "write %s to %s", val, path);
	return 0;
}

int cell_process_final_affinity_apply(pid_t pid, const struct cell_process *p,
				      struct cell_error *err)
{
	return affinity_apply(pid, p->exec_cpu_affinity_final, "execCPUAffinity.final", err);
}

int cell_personality_apply(const struct cell_personality *p, struct cell_error *err)
{
	if (!p->set)
		return 0;
	if (p->domain != PER_LINUX && p->domain != PER_LINUX32)
		return cell_errx(err, ENOTSUP, "linux.personality.domain %#lx: unsupported",
				 p->domain);
	/* runtime-spec defines no personality flag values yet */
	if (p->flags && p->flags[0])
		return cell_errx(err, EINVAL, "linux.personality.flags[0]: unknown flag \"%s\"",
				 p->flags[0]);
	if (personality(p->domain) < 0)
		return cell_err(err, errno, "personality %s",
				p->domain == PER_LINUX ? "LINUX" : "LINUX32");
	return 0;
}

/* One cpu number at *s, advancing it; digits only (no sign, no space). */
static int cpu_number(const char **s, unsigned long *out)
{
	char *end = NULL;
	unsigned long v;

	if (!isdigit((unsigned char)**s))
		return -EINVAL;
	errno = 0;
	v = strtoul(*s, &end, 10);
	if (errno || v >= CPU_SETSIZE)
		return -ERANGE;
	*s = end;
	*out = v;
	return 0;
}

int cell_cpulist_parse(const char *s, cpu_set_t *set)
{
	cpu_set_t tmp;
	unsigned long lo, hi;

	if (!s || !*s)
		return -EINVAL;
	CPU_ZERO(&tmp);
	for (;;) {
		int r = cpu_number(&s, &lo);
		if (r < 0)
			return r;
		hi = lo;
		if (*s == '-') {
			s++;
			if ((r = cpu_number(&s, &hi)) < 0)
				return r;
		}
		if (hi < lo)
			return -EINVAL;
		for (unsigned long c = lo; c <= hi; c++)
			CPU_SET(c, &tmp);
		if (*s == '\0')
			break;
		if (*s++ != ',')
			return -EINVAL;
	}
	*set = tmp;
	return 0;
}
