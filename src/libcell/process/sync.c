/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sync.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../base/util.h"

static int send_record(int sock, const struct cell_sync_msg *m, const int *fds, int nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 2)];
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	memset(cbuf, 0, sizeof(cbuf));
	if (nfds > 0) {
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int cell_sync_send(int sock, int type, int value, const int *fds, int nfds)
{
	struct cell_sync_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.value = value;
	return send_record(sock, &m, fds, nfds > 2 ? 2 : nfds);
}

void cell_sync_send_error(int sock, const struct cell_error *err)
{
	struct cell_sync_msg m;

	memset(&m, 0, sizeof(m));
	m.type = CELL_SYNC_ERROR;
	m.err = *err;
	(void)send_record(sock, &m, NULL, 0);
}

static void take_fds(struct msghdr *mh, int *fds, int maxfds)
{
	for (int i = 0; i < maxfds; i++)
		fds[i] = -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		int got[2];
		memcpy(got, CMSG_DATA(c), sizeof(int) * (size_t)(n > 2 ? 2 : n));
		for (int i = 0; i < n && i < 2; i++) {
			if (i < maxfds)
				fds[i] = got[i];
			else
				(void)close(got[i]);
		}
	}
}

int cell_sync_recv(int sock, struct cell_sync_msg *msg, int *fds, int maxfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 2)];
	struct iovec iov = { .iov_base = msg, .iov_len = sizeof(*msg) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	ssize_t n;

	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	if ((size_t)n != sizeof(*msg))
		return -EBADMSG;
	msg->err.msg[sizeof(msg->err.msg) - 1] = '\0';
	if (fds)
		take_fds(&mh, fds, maxfds);
	return 0;
}

int cell_sync_expect(int sock, int type, struct cell_sync_msg *msg, int *fds, int maxfds,
		     struct cell_error *err)
{
	int r = cell_sync_recv(sock, msg, fds, maxfds);

	if (r == -EPIPE)
		return cell_errx(err, EPIPE, "container process exited during setup");
	if (r < 0)
		return cell_err(err, r, "read from container process");
	if (msg->type == CELL_SYNC_ERROR) {
		*err = msg->err;
		return err->code ? -err->code : -EINVAL;
	}
	if (msg->type != type)
		return cell_err(err, EPROTO, "unexpected message %d from container process (wanted %d)",
				msg->type, type);
	return 0;
}
