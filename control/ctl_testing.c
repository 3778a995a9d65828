/* SPDX-License-Identifier: BSD-3-Clause */
/* ctl_testing.c - what the control unit tests share (see ctl_testing.h). */
#include "ctl_testing.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

uint64_t ctl_testing_clock(void *arg)
{
	return *(const uint64_t *)arg;
}

void ctl_testing_config(char *buf, size_t cap, const char *dhcp_more, const char *top_more)
{
	int n = snprintf(buf, cap,
			 "{\"interface\": \"sb0\", \"server_ip\": \"198.18.0.1\", \"dhcp\": "
			 "{\"subnets\": [{\"network\": \"198.18.0.0/24\", \"pool\": {\"start\": "
			 "\"198.18.0.10\", \"end\": \"198.18.0.250\"}}]%s}%s}",
			 dhcp_more, top_more);

	assert_true(n > 0 && (size_t)n < cap);
}

int ctl_testing_connect(const char *path, const char *req, bool half_close)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	if (half_close)
		shutdown(fd, SHUT_WR);
	return fd;
}

void ctl_testing_write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}
