/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "signame.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "util.h"

/* signal(7)'s names, with the aliases docker's and podman's tables take too */
static const struct {
	const char *name;
	int sig;
} signals[] = {
    {"HUP", SIGHUP},	   {"INT", SIGINT},	{"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},	   {"ABRT", SIGABRT},	{"IOT", SIGIOT},   {"BUS", SIGBUS},
    {"FPE", SIGFPE},	   {"KILL", SIGKILL},	{"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},	   {"PIPE", SIGPIPE},	{"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},	{"CLD", SIGCHLD},  {"CONT", SIGCONT},
    {"STOP", SIGSTOP},	   {"TSTP", SIGTSTP},	{"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},	   {"XCPU", SIGXCPU},	{"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},	   {"WINCH", SIGWINCH}, {"IO", SIGIO},	   {"POLL", SIGPOLL},
    {"PWR", SIGPWR},	   {"SYS", SIGSYS},
};

/* after "RTMIN" or "RTMAX": nothing, or the sign given and decimal digits; the
 * result stays in SIGRTMIN..SIGRTMAX (kill(2) refuses a higher number, and
 * below SIGRTMIN are glibc's own and the standard signals) */
static int parse_rt(const char *rest, int base, char sign, int *sig)
{
	long long off = 0;

	if (*rest) {
		if (*rest != sign || rest[1] < '0' || rest[1] > '9' ||
		    cell_parse_long(rest + 1, &off) < 0 || off > SIGRTMAX - SIGRTMIN)
			return -EINVAL;
	}
	*sig = sign == '+' ? base + (int)off : base - (int)off;
	return 0;
}

int cell_signal_parse(const char *s, int *sig)
{
	long long n;

	if (cell_parse_long(s, &n) == 0) {
		if (n < 1 || n > SIGRTMAX)
			return -EINVAL;
		*sig = (int)n;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	if (strncasecmp(s, "RTMIN", 5) == 0)
		return parse_rt(s + 5, SIGRTMIN, '+', sig);
	if (strncasecmp(s, "RTMAX", 5) == 0)
		return parse_rt(s + 5, SIGRTMAX, '-', sig);
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		if (strcasecmp(s, signals[i].name) == 0) {
			*sig = signals[i].sig;
			return 0;
		}
	return -EINVAL;
}
