// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * rtt: TCP request/response round trip of 1-byte messages, for bench/net.
 *
 *   rtt [-a CPU] -s PORT [-d]      echo server on 0.0.0.0:PORT (-d: detach, so
 *                                  that `cell exec` / `lxc-attach` return at once)
 *   rtt [-a CPU] -c ADDR PORT [N]  N round trips (default 20000) after 1000
 *                                  warm-up ones; prints "median_us p10_us p90_us"
 *
 * -a pins the process to one CPU.  bench/net pins both ends to the same one:
 * on a small VM a wake-up on the other CPU costs tens of µs more and happens
 * at random, which would hide the cost of the path.
 *
 * Built statically by bench/net (gcc -static) so that the same binary runs in
 * a busybox container with no libc of its own.  One connection, TCP_NODELAY on
 * both ends: each round trip is one segment each way, the cost of the path.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <sched.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WARMUP 1000

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		die("setsockopt TCP_NODELAY");
}

/* Echo every byte back until the peer closes. */
static void echo(int fd)
{
	char buf[64];
	ssize_t n;

	nodelay(fd);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			break;
	close(fd);
}

static int listener(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("bind");
	if (listen(fd, 16) < 0)
		die("listen");
	return fd;
}

/* One child per connection, so that a stuck client does not block the next. */
static int serve(int port, int detach)
{
	int fd = listener(port);

	signal(SIGCHLD, SIG_IGN);
	if (detach) {
		if (daemon(0, 0) < 0)
			die("daemon");
	}
	for (;;) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			continue;
		if (fork() == 0) {
			close(fd);
			echo(c);
			_exit(0);
		}
		close(c);
	}
}

static int dial(const char *host, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd;

	/* numeric addresses only: a static glibc's getaddrinfo wants NSS modules */
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		fprintf(stderr, "rtt: not an IPv4 address: %s\n", host);
		exit(1);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	nodelay(fd);
	return fd;
}

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static double once(int fd)
{
	char b = 'x';
	double t0 = now_us();

	if (write(fd, &b, 1) != 1 || read(fd, &b, 1) != 1) {
		fprintf(stderr, "rtt: connection lost\n");
		exit(1);
	}
	return now_us() - t0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int client(const char *host, int port, long n)
{
	int fd = dial(host, port);
	double *t = calloc((size_t)n, sizeof(*t));

	if (!t)
		die("calloc");
	for (int i = 0; i < WARMUP; i++)
		once(fd);
	for (long i = 0; i < n; i++)
		t[i] = once(fd);
	close(fd);
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("%.1f %.1f %.1f\n", t[n / 2], t[n / 10], t[n * 9 / 10]);
	free(t);
	return 0;
}

static void pin(const char *cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(atoi(cpu), &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		die("sched_setaffinity");
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "-a") == 0) {
		pin(argv[2]);
		argc -= 2;
		argv += 2;
	}
	if (argc >= 3 && strcmp(argv[1], "-s") == 0)
		return serve(atoi(argv[2]), argc > 3 && strcmp(argv[3], "-d") == 0);
	if (argc >= 4 && strcmp(argv[1], "-c") == 0)
		return client(argv[2], atoi(argv[3]), argc > 4 ? atol(argv[4]) : 20000);
	fprintf(stderr, "usage: rtt [-a CPU] -s PORT [-d] | rtt [-a CPU] -c ADDR PORT [N]\n");
	return 2;
}
