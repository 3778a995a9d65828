/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_access.h - who may use stormboot-control's sockets (docs/SECURITY.md): the peer's
 * credentials (SO_PEERCRED, and its supplementary groups from SO_PEERGROUPS) against the users
 * and groups of the config's "control" section, resolved to ids here. Root and the daemon's
 * own user are always allowed. The file mode of the socket still applies before this.
 */
#ifndef SB_CTL_ACCESS_H
#define SB_CTL_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sbcfg.h"

#define CTL_PEER_GROUPS_MAX 64 /* supplementary groups looked at; more are not checked */

/* The process at the other end of a Unix socket, as the kernel saw it at connect(). */
struct ctl_peer {
	long pid; /* 0: not visible from our PID namespace */
	uid_t uid;
	gid_t gid;
	gid_t groups[CTL_PEER_GROUPS_MAX]; /* supplementary groups (SO_PEERGROUPS) */
	size_t n_groups;
};

/* Fill p from a connected Unix stream socket. 0, or -errno of SO_PEERCRED. */
int ctl_peer_get(int fd, struct ctl_peer *p);

/* Who may connect: root, self, users, members of groups (and of socket_gid if set). */
struct ctl_access {
	char what[64]; /* the config fields, for messages: "control.api_users/api_groups" */
	uid_t self;    /* the daemon's own effective uid */
	uid_t *users;
	size_t n_users;
	gid_t *groups;
	size_t n_groups;
	bool socket_group; /* the default of the API: members of the socket file's group */
	gid_t socket_gid;
};

/*
 * A policy of the users and groups named in the config (names or numeric ids; names looked
 * up in the user and group databases now) into *out: root, the calling process's user, and
 * those. what names the fields ("control.api_users/api_groups"); users_key and groups_key name
 * each list ("control.api_users") in errors. 0, or -ENOENT ("control.api_users[1]: no user
 * \"bob\" on this host") or -ENOMEM with the reason in err. *out is then empty.
 */
int ctl_access_resolve(struct ctl_access *out, const char *what, const char *users_key,
		       char (*users)[SBCFG_ACCOUNT_MAX], size_t n_users, const char *groups_key,
		       char (*groups)[SBCFG_ACCOUNT_MAX], size_t n_groups, char *err,
		       size_t errlen);

/* Release what ctl_access_resolve allocated; *a is then empty (root and self only). */
void ctl_access_free(struct ctl_access *a);

/* A copy of src into dst (which is freed first). 0 or -ENOMEM (dst then empty). */
int ctl_access_copy(struct ctl_access *dst, const struct ctl_access *src);

/* May p connect? */
bool ctl_access_allows(const struct ctl_access *a, const struct ctl_peer *p);

/*
 * The refusal as one line: "access denied for uid 1000 (alice): not in
 * control.api_users/api_groups". Returns buf.
 */
const char *ctl_access_denial(const struct ctl_access *a, const struct ctl_peer *p, char *buf,
			      size_t cap);

#endif
