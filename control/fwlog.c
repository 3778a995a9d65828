/* SPDX-License-Identifier: BSD-3-Clause */
/* fwlog.c - firmware failure reports over HTTP (see fwlog.h). */
#include "fwlog.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "http_parse.h"
#include "running_config.h"

/*
 * The POSIX part of an iPXE error number (bits 30-24) and its text, as iPXE's
 * src/include/errno.h defines them (EINFO_*, revision 36a4c85f of 2019-01-25, the one of
 * Debian 12's ipxe packages; unchanged upstream since).
 */
static const char *const posix_text[] = {
	[0x00] = "Operation completed successfully",		   /* ENOERR */
	[0x01] = "Argument list too long",			   /* E2BIG */
	[0x02] = "Permission denied",				   /* EACCES */
	[0x03] = "Address already in use",			   /* EADDRINUSE */
	[0x04] = "Address not available",			   /* EADDRNOTAVAIL */
	[0x05] = "Address family not supported",		   /* EAFNOSUPPORT */
	[0x06] = "Resource temporarily unavailable",		   /* EAGAIN */
	[0x07] = "Connection already in progress",		   /* EALREADY */
	[0x08] = "Bad file descriptor",				   /* EBADF */
	[0x09] = "Bad message",					   /* EBADMSG */
	[0x0a] = "Device or resource busy",			   /* EBUSY */
	[0x0b] = "Operation canceled",				   /* ECANCELED */
	[0x0c] = "No child processes",				   /* ECHILD */
	[0x0d] = "Connection aborted",				   /* ECONNABORTED */
	[0x0e] = "Connection refused",				   /* ECONNREFUSED */
	[0x0f] = "Connection reset",				   /* ECONNRESET */
	[0x10] = "Resource deadlock avoided",			   /* EDEADLK */
	[0x11] = "Destination address required",		   /* EDESTADDRREQ */
	[0x12] = "Mathematics argument out of domain of function", /* EDOM */
	[0x13] = "Disk quote exceeded",				   /* EDQUOT */
	[0x14] = "File exists",					   /* EEXIST */
	[0x15] = "Bad address",					   /* EFAULT */
	[0x16] = "File too large",				   /* EFBIG */
	[0x17] = "Host is unreachable",				   /* EHOSTUNREACH */
	[0x18] = "Identifier removed",				   /* EIDRM */
	[0x19] = "Illegal byte sequence",			   /* EILSEQ */
	[0x1a] = "Operation in progress",			   /* EINPROGRESS */
	[0x1b] = "Interrupted function call",			   /* EINTR */
	[0x1c] = "Invalid argument",				   /* EINVAL */
	[0x1d] = "Input/output error",				   /* EIO */
	[0x1e] = "Socket is connected",				   /* EISCONN */
	[0x1f] = "Is a directory",				   /* EISDIR */
	[0x20] = "Too many levels of symbolic links",		   /* ELOOP */
	[0x21] = "Too many open files",				   /* EMFILE */
	[0x22] = "Too many links",				   /* EMLINK */
	[0x23] = "Message too long",				   /* EMSGSIZE */
	[0x24] = "Multihop attempted",				   /* EMULTIHOP */
	[0x25] = "Filename too long",				   /* ENAMETOOLONG */
	[0x26] = "Network is down",				   /* ENETDOWN */
	[0x27] = "Connection aborted by network",		   /* ENETRESET */
	[0x28] = "Network unreachable",				   /* ENETUNREACH */
	[0x29] = "Too many open files in system",		   /* ENFILE */
	[0x2a] = "No buffer space available",			   /* ENOBUFS */
	[0x2b] = "No message is available on the STREAM",	   /* ENODATA */
	[0x2c] = "No such device",				   /* ENODEV */
	[0x2d] = "No such file or directory",			   /* ENOENT */
	[0x2e] = "Exec format error",				   /* ENOEXEC */
	[0x2f] = "No locks available",				   /* ENOLCK */
	[0x30] = "Link has been severed",			   /* ENOLINK */
	[0x31] = "Not enough space",				   /* ENOMEM */
	[0x32] = "No message of the desired type",		   /* ENOMSG */
	[0x33] = "Protocol not available",			   /* ENOPROTOOPT */
	[0x34] = "No space left on device",			   /* ENOSPC */
	[0x35] = "No STREAM resources",				   /* ENOSR */
	[0x36] = "Not a STREAM",				   /* ENOSTR */
	[0x37] = "Function not implemented",			   /* ENOSYS */
	[0x38] = "The socket is not connected",			   /* ENOTCONN */
	[0x39] = "Not a directory",				   /* ENOTDIR */
	[0x3a] = "Directory not empty",				   /* ENOTEMPTY */
	[0x3b] = "Not a socket",				   /* ENOTSOCK */
	[0x3c] = "Operation not supported",			   /* ENOTSUP */
	[0x3d] = "Inappropriate I/O control operation",		   /* ENOTTY */
	[0x3e] = "No such device or address",			   /* ENXIO */
	[0x3f] = "Operation not supported on socket",		   /* EOPNOTSUPP */
	[0x40] = "Value too large to be stored in data type",	   /* EOVERFLOW */
	[0x41] = "Operation not permitted",			   /* EPERM */
	[0x42] = "Broken pipe",					   /* EPIPE */
	[0x43] = "Protocol error",				   /* EPROTO */
	[0x44] = "Protocol not supported",			   /* EPROTONOSUPPORT */
	[0x45] = "Protocol wrong type for socket",		   /* EPROTOTYPE */
	[0x46] = "Result too large",				   /* ERANGE */
	[0x47] = "Read-only file system",			   /* EROFS */
	[0x48] = "Invalid seek",				   /* ESPIPE */
	[0x49] = "No such process",				   /* ESRCH */
	[0x4a] = "Stale file handle",				   /* ESTALE */
	[0x4b] = "Timer expired",				   /* ETIME */
	[0x4c] = "Connection timed out",			   /* ETIMEDOUT */
	[0x4d] = "Text file busy",				   /* ETXTBSY */
	[0x4e] = "Operation would block",			   /* EWOULDBLOCK */
	[0x4f] = "Improper link",				   /* EXDEV */
};

int fwlog_errno_parse(const char *s, uint32_t *out)
{
	uint64_t v = 0;
	size_t i = 0, n;

	if (!s || !s[0])
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (i = 2; s[i]; i++) {
			char c = s[i];
			int d = c >= '0' && c <= '9'   ? c - '0'
				: c >= 'a' && c <= 'f' ? c - 'a' + 10
				: c >= 'A' && c <= 'F' ? c - 'A' + 10
						       : -1;
			if (d < 0 || i >= 10)
				return -EINVAL;
			v = v * 16 + (uint64_t)d;
		}
		n = i - 2;
	} else {
		for (; s[i]; i++) {
			if (s[i] < '0' || s[i] > '9' || i >= 10)
				return -EINVAL;
			v = v * 10 + (uint64_t)(s[i] - '0');
		}
		n = i;
	}
	if (n == 0 || v > 0x7fffffffu) /* bit 31 is reserved (errors travel negated) */
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

const char *fwlog_errno_text(uint32_t err)
{
	uint32_t posix = (err >> 24) & 0x7f;

	return posix < sizeof(posix_text) / sizeof(posix_text[0]) ? posix_text[posix] : NULL;
}

static int step_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > FWLOG_STEP_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

int fwlog_parse(const char *query, struct fwlog_report *out, const char **why)
{
	char buf[FWLOG_QUERY_MAX + 1];
	int rc;

	memset(out, 0, sizeof(*out));
	*why = "";
	if (strlen(query) > FWLOG_QUERY_MAX) {
		*why = "query longer than 512 bytes";
		return -EINVAL;
	}
	if ((rc = http_query_get(query, "mac", buf, sizeof(buf))) < 0) {
		*why = rc == -ENOENT ? "no mac=" : "mac: bad escape";
		return -EINVAL;
	}
	if (running_config_parse_mac(buf, out->mac) < 0) {
		*why = "mac: not a MAC address (aa:bb:cc:dd:ee:ff)";
		return -EINVAL;
	}
	if ((rc = http_query_get(query, "step", buf, sizeof(buf))) < 0) {
		*why = rc == -ENOENT ? "no step=" : "step: bad escape";
		return -EINVAL;
	}
	if (!step_ok(buf)) {
		*why = "step: 1..16 characters of A-Z a-z 0-9 . _ -";
		return -EINVAL;
	}
	memcpy(out->step, buf, strlen(buf) + 1);
	rc = http_query_get(query, "err", buf, sizeof(buf));
	if (rc == 0) {
		if (fwlog_errno_parse(buf, &out->err) < 0) {
			*why = "err: not an iPXE error number (0x + 1..8 hex digits, as ${errno})";
			return -EINVAL;
		}
		out->have_err = 1;
	} else if (rc != -ENOENT) {
		*why = "err: bad escape";
		return -EINVAL;
	}
	rc = http_query_get(query, "msg", buf, sizeof(buf));
	if (rc == 0) {
		size_t n = strlen(buf);
		if (n > FWLOG_MSG_MAX) {
			*why = "msg: longer than 64 bytes";
			return -EINVAL;
		}
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] >= 0x7f) {
				*why = "msg: not printable ASCII";
				return -EINVAL;
			}
		memcpy(out->msg, buf, n + 1);
	} else if (rc != -ENOENT) {
		*why = "msg: bad escape";
		return -EINVAL;
	}
	return 0;
}

int fwlog_describe(const struct fwlog_report *r, char *buf, size_t cap)
{
	const char *text = r->have_err ? fwlog_errno_text(r->err) : NULL;
	const char *sep = r->msg[0] ? " - " : "";

	if (!r->have_err || r->err == 0) /* ${errno} is 0 before any command failed */
		return snprintf(buf, cap, "%s failed%s%s", r->step, sep, r->msg);
	if (text)
		return snprintf(buf, cap, "%s: %s (0x%08x) https://ipxe.org/err/%08x%s%s", r->step,
				text, r->err, r->err, sep, r->msg);
	return snprintf(buf, cap, "%s: Error 0x%08x https://ipxe.org/err/%08x%s%s", r->step, r->err,
			r->err, sep, r->msg);
}
