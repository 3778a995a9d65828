/* SPDX-License-Identifier: BSD-3-Clause */
/* ctl_access.c - peer credentials against the configured users and groups (ctl_access.h). */
#define _GNU_SOURCE /* struct ucred, SO_PEERGROUPS */
#include "ctl_access.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59 /* Linux 4.13 */
#endif

int ctl_peer_get(int fd, struct ctl_peer *p)
{
	struct ucred cr = {0};
	socklen_t len = sizeof(cr);
	gid_t g[CTL_PEER_GROUPS_MAX];

	memset(p, 0, sizeof(*p));
	p->uid = (uid_t)-1;
	p->gid = (gid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return -errno;
	p->pid = (long)cr.pid;
	p->uid = cr.uid;
	p->gid = cr.gid;
	/* ERANGE with more groups than room: the first CTL_PEER_GROUPS_MAX are not returned,
	 * so only the primary group counts then (never more access than the kernel says). */
	len = sizeof(g);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == 0) {
		p->n_groups = len / sizeof(g[0]);
		memcpy(p->groups, g, p->n_groups * sizeof(g[0]));
	}
	return 0;
}

/* A decimal id, or -1 when s is a name. */
static long long numeric_id(const char *s)
{
	char *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v >= 4294967295ull)
		return -1;
	return (long long)v;
}

/* A name or an id into *id: 0, -ENOENT (no such user or group) or -errno of the lookup. */
static int lookup(const char *name, bool group, uint32_t *id)
{
	long long n = numeric_id(name);
	char buf[16384];
	int rc;

	if (n >= 0) { /* an id need not exist in the databases (a container's user) */
		*id = (uint32_t)n;
		return 0;
	}
	if (group) {
		struct group gr, *res = NULL;
		rc = getgrnam_r(name, &gr, buf, sizeof(buf), &res);
		if (rc == 0 && res) {
			*id = (uint32_t)res->gr_gid;
			return 0;
		}
	} else {
		struct passwd pw, *res = NULL;
		rc = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
		if (rc == 0 && res) {
			*id = (uint32_t)res->pw_uid;
			return 0;
		}
	}
	return rc ? -rc : -ENOENT;
}

/* Resolve n names of one list; the ids into a fresh array (uid_t and gid_t are 32 bits). */
static int resolve_list(const char *key, char (*names)[SBCFG_ACCOUNT_MAX], size_t n, bool group,
			uint32_t **out, char *err, size_t errlen)
{
	*out = NULL;
	if (n == 0)
		return 0;
	if (!(*out = calloc(n, sizeof(**out)))) {
		snprintf(err, errlen, "%s: out of memory", key);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		int rc = lookup(names[i], group, &(*out)[i]);

		if (rc < 0) {
			if (rc == -ENOENT)
				snprintf(err, errlen, "%s[%zu]: no %s \"%s\" on this host", key, i,
					 group ? "group" : "user", names[i]);
			else
				snprintf(err, errlen, "%s[%zu]: looking up \"%s\": %s", key, i,
					 names[i], strerror(-rc));
			free(*out);
			*out = NULL;
			return rc;
		}
	}
	return 0;
}

_Static_assert(sizeof(uid_t) == sizeof(uint32_t) && sizeof(gid_t) == sizeof(uint32_t),
	       "uid_t and gid_t are 32 bits on Linux");

int ctl_access_resolve(struct ctl_access *out, const char *what, const char *users_key,
		       char (*users)[SBCFG_ACCOUNT_MAX], size_t n_users, const char *groups_key,
		       char (*groups)[SBCFG_ACCOUNT_MAX], size_t n_groups, char *err, size_t errlen)
{
	uint32_t *u = NULL, *g = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(out->what, sizeof(out->what), "%s", what);
	out->self = geteuid();
	if ((rc = resolve_list(users_key, users, n_users, false, &u, err, errlen)) < 0 ||
	    (rc = resolve_list(groups_key, groups, n_groups, true, &g, err, errlen)) < 0) {
		free(u);
		return rc;
	}
	out->users = (uid_t *)u;
	out->n_users = n_users;
	out->groups = (gid_t *)g;
	out->n_groups = n_groups;
	return 0;
}

void ctl_access_free(struct ctl_access *a)
{
	free(a->users);
	free(a->groups);
	a->users = NULL;
	a->groups = NULL;
	a->n_users = a->n_groups = 0;
}

int ctl_access_copy(struct ctl_access *dst, const struct ctl_access *src)
{
	ctl_access_free(dst);
	*dst = *src;
	dst->users = NULL;
	dst->groups = NULL;
	dst->n_users = dst->n_groups = 0;
	if (src->n_users && !(dst->users = malloc(src->n_users * sizeof(*dst->users))))
		return -ENOMEM;
	if (src->n_groups && !(dst->groups = malloc(src->n_groups * sizeof(*dst->groups)))) {
		ctl_access_free(dst);
		return -ENOMEM;
	}
	if (src->n_users)
		memcpy(dst->users, src->users, src->n_users * sizeof(*dst->users));
	if (src->n_groups)
		memcpy(dst->groups, src->groups, src->n_groups * sizeof(*dst->groups));
	dst->n_users = src->n_users;
	dst->n_groups = src->n_groups;
	return 0;
}

static bool in_group(const struct ctl_peer *p, gid_t g)
{
	if (p->gid == g)
		return true;
	for (size_t i = 0; i < p->n_groups; i++)
		if (p->groups[i] == g)
			return true;
	return false;
}

bool ctl_access_allows(const struct ctl_access *a, const struct ctl_peer *p)
{
	if (p->uid == (uid_t)-1)
		return false; /* credentials unknown */
	if (p->uid == 0 || p->uid == a->self)
		return true;
	for (size_t i = 0; i < a->n_users; i++)
		if (a->users[i] == p->uid)
			return true;
	for (size_t i = 0; i < a->n_groups; i++)
		if (in_group(p, a->groups[i]))
			return true;
	return a->socket_group && in_group(p, a->socket_gid);
}

const char *ctl_access_denial(const struct ctl_access *a, const struct ctl_peer *p, char *buf,
			      size_t cap)
{
	char pwbuf[4096], grbuf[4096], who[80] = "?", grp[80] = "";
	struct passwd pw, *pr = NULL;
	struct group gr, *gres = NULL;

	if (getpwuid_r(p->uid, &pw, pwbuf, sizeof(pwbuf), &pr) == 0 && pr)
		snprintf(who, sizeof(who), "%s", pr->pw_name);
	if (a->socket_group) {
		if (getgrgid_r(a->socket_gid, &gr, grbuf, sizeof(grbuf), &gres) == 0 && gres)
			snprintf(grp, sizeof(grp), " (%s)", gres->gr_name);
		snprintf(buf, cap,
			 "access denied for uid %u (%s): not in the socket's group %u%s, which is "
			 "allowed while %s are not set",
			 (unsigned)p->uid, who, (unsigned)a->socket_gid, grp, a->what);
	} else {
		snprintf(buf, cap, "access denied for uid %u (%s): not in %s", (unsigned)p->uid,
			 who, a->what);
	}
	return buf;
}
