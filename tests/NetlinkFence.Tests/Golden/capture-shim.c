/* LD_PRELOAD shim used only by capture.sh (never by the product): wraps sendmsg/sendto and appends
 * every AF_NETLINK datagram that contains an nfnetlink BATCH_BEGIN (nlmsg_type 0x10) to the file named by
 * $NLF_CAPTURE, one netlink message per line as lowercase hex. Cache requests (GETGEN, dumps) are skipped. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

static void dump(const unsigned char *buf, size_t len)
{
	const char *path = getenv("NLF_CAPTURE");
	if (!path || len < 16)
		return;
	uint16_t type;
	memcpy(&type, buf + 4, 2);
	if (type != 0x10) /* NFNL_MSG_BATCH_BEGIN */
		return;
	FILE *f = fopen(path, "a");
	if (!f)
		return;
	size_t off = 0;
	while (off + 16 <= len) {
		uint32_t mlen;
		memcpy(&mlen, buf + off, 4);
		if (mlen < 16 || off + mlen > len)
			break;
		for (size_t i = 0; i < mlen; i++)
			fprintf(f, "%02x", buf[off + i]);
		fputc('\n', f);
		off += (mlen + 3) & ~3u;
	}
	fclose(f);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	static ssize_t (*real)(int, const struct msghdr *, int);
	if (!real)
		real = dlsym(RTLD_NEXT, "sendmsg");
	size_t total = 0;
	for (size_t i = 0; i < msg->msg_iovlen; i++)
		total += msg->msg_iov[i].iov_len;
	unsigned char *buf = malloc(total ? total : 1);
	if (buf) {
		size_t off = 0;
		for (size_t i = 0; i < msg->msg_iovlen; i++) {
			memcpy(buf + off, msg->msg_iov[i].iov_base, msg->msg_iov[i].iov_len);
			off += msg->msg_iov[i].iov_len;
		}
		dump(buf, total);
		free(buf);
	}
	return real(fd, msg, flags);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr, socklen_t alen)
{
	static ssize_t (*real)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	if (!real)
		real = dlsym(RTLD_NEXT, "sendto");
	dump(buf, len);
	return real(fd, buf, len, flags, addr, alen);
}
