/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * commands_guard.c - the XDP flood guard at run time (docs/CONTROL.md, docs/XDP.md): the MAC
 * deny and allow lists, allow-list enforcement, per-source rate limits, and what is in force
 * with its drop counters; handlers of the table in commands.h, through bpf/xdp_ctl.h.
 *
 * The maps are those of the program attached to the config's interface (found in control's
 * network namespace), else those pinned under /sys/fs/bpf. A change takes effect on the next
 * packet. It is not written to the config file: the dataplane writes the config's "guard" into
 * the maps when it starts, so a restart of the dataplane returns to the config.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "ctl_log.h"
#include "daemon.h"
#ifdef SB_HAVE_XDP_CTL
#include "xdp_ctl.h"
#endif

#define NOTE_NOT_SAVED                                                                             \
	"in effect now; not written to the config file (a dataplane restart returns to its guard)"

#ifdef SB_HAVE_XDP_CTL

/*
 * The maps of the program on the boot interface, else the pinned ones. 0 with where they were
 * found in where, or -errno with the reason in err (x is closed then).
 */
static int guard_open(struct daemon *d, struct xdp_ctl *x, char *where, size_t wlen, char *err,
		      size_t errlen)
{
	const char *ifname = d->cur->cfg.interface;
	unsigned int ifindex = ifname[0] ? if_nametoindex(ifname) : 0;
	int rc = -ENOENT, rc2;

	if (ifindex) {
		rc = xdp_ctl_open_ifindex(x, ifindex);
		if (rc == 0) {
			snprintf(where, wlen, "interface %s", ifname);
			return 0;
		}
		xdp_ctl_close(x);
	}
	rc2 = xdp_ctl_open_pinned(x, NULL);
	if (rc2 == 0) {
		snprintf(where, wlen, "pinned under %s", XDP_CTL_PIN_ROOT);
		return 0;
	}
	xdp_ctl_close(x);
	snprintf(err, errlen,
		 "XDP guard unavailable: no stormboot XDP program on interface %s (%s) and no maps "
		 "pinned under %s (%s)",
		 ifname[0] ? ifname : "(none)", ifindex ? strerror(-rc) : "not in this namespace",
		 XDP_CTL_PIN_ROOT, strerror(-rc2));
	return rc2;
}

/* The MAC argument: 0, or an error reply in *reply. */
static int mac_arg(const char *cmd, json_t *args, uint8_t mac[6], char **reply)
{
	const char *m = api_arg_str(args, "mac");

	if (!m || running_config_parse_mac(m, mac) < 0 || (mac[0] & 1) ||
	    !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5])) {
		*reply = api_fail("%s: \"mac\" must be a unicast MAC address (52:54:00:12:34:56)",
				  cmd);
		return -EINVAL;
	}
	return 0;
}

static char *mac_change(struct daemon *d, const char *cmd, json_t *args, enum xdp_ctl_list list,
			bool add)
{
	char where[64], err[512], m[18], msg[400], *reply = NULL;
	struct xdp_ctl x;
	uint8_t mac[6];
	int rc;

	if (mac_arg(cmd, args, mac, &reply) < 0)
		return reply;
	if ((rc = guard_open(d, &x, where, sizeof(where), err, sizeof(err))) < 0)
		return api_fail("%s: %s", cmd, err);
	rc = add ? xdp_ctl_mac_add(&x, list, mac) : xdp_ctl_mac_del(&x, list, mac);
	xdp_ctl_close(&x);
	running_config_fmt_mac(mac, m);
	if (rc == -ENOENT)
		return api_reply(API_EMPTY, "not on the list", NULL);
	if (rc == -ENOSPC)
		return api_fail("%s: the list is full (%d entries)", cmd,
				list == XDP_CTL_DENY ? SB_XDP_DENY_MAX : SB_XDP_ALLOW_MAX);
	if (rc < 0)
		return api_fail("%s %s: %s", cmd, m, strerror(-rc));
	snprintf(msg, sizeof(msg), "%s %s on the %s list (maps %s); " NOTE_NOT_SAVED, m,
		 add ? "is" : "is no longer", list == XDP_CTL_DENY ? "deny" : "allow", where);
	ctl_log(LOG_INFO, "operator: %s %s", cmd, m);
	return api_reply(API_OK, msg, NULL);
}

static char *mac_list(struct daemon *d, const char *cmd, enum xdp_ctl_list list)
{
	struct xdp_ctl_mac_entry *v = NULL;
	char where[64], err[512], m[18], t[128];
	struct xdp_ctl x;
	int n, rc, cap = 0;

	if ((rc = guard_open(d, &x, where, sizeof(where), err, sizeof(err))) < 0)
		return api_fail("%s: %s", cmd, err);
	/* the list may grow between the count and the read: read until it fits */
	for (int tries = 0; tries < 4; tries++) {
		n = xdp_ctl_mac_list(&x, list, v, (size_t)cap);
		if (n < 0 || n <= cap)
			break;
		free(v);
		cap = n + 64;
		if (!(v = calloc((size_t)cap, sizeof(*v)))) {
			n = -ENOMEM;
			break;
		}
	}
	xdp_ctl_close(&x);
	if (n < 0) {
		free(v);
		return api_fail("%s: %s", cmd, strerror(-n));
	}
	if (n > cap)
		n = cap;
	json_t *a = json_array();
	for (int i = 0; i < n; i++) {
		json_t *o = json_pack("{s:s}", "mac", running_config_fmt_mac(v[i].mac, m));
		if (list == XDP_CTL_DENY)
			json_object_set_new(o, "drops", json_integer((json_int_t)v[i].drops));
		json_array_append_new(a, o);
	}
	free(v);
	snprintf(t, sizeof(t), "%d MAC%s on the %s list (maps %s)", n, n == 1 ? "" : "s",
		 list == XDP_CTL_DENY ? "deny" : "allow", where);
	return api_reply(n ? API_OK : API_EMPTY, t, json_pack("{s:o}", "macs", a));
}

char *cmd_guard_deny_add(struct daemon *d, uint64_t conn_id, json_t *args)
{
	return mac_change(d, "guard-deny-add", args, XDP_CTL_DENY, true);
}

char *cmd_guard_deny_del(struct daemon *d, uint64_t conn_id, json_t *args)
{
	return mac_change(d, "guard-deny-del", args, XDP_CTL_DENY, false);
}

char *cmd_guard_deny_list(struct daemon *d, uint64_t conn_id, json_t *args)
{
	return mac_list(d, "guard-deny-list", XDP_CTL_DENY);
}

char *cmd_guard_allow_add(struct daemon *d, uint64_t conn_id, json_t *args)
{
	return mac_change(d, "guard-allow-add", args, XDP_CTL_ALLOW, true);
}

char *cmd_guard_allow_del(struct daemon *d, uint64_t conn_id, json_t *args)
{
	return mac_change(d, "guard-allow-del", args, XDP_CTL_ALLOW, false);
}

char *cmd_guard_allow_list(struct daemon *d, uint64_t conn_id, json_t *args)
{
	return mac_list(d, "guard-allow-list", XDP_CTL_ALLOW);
}

char *cmd_guard_allow_enforce(struct daemon *d, uint64_t conn_id, json_t *args)
{
	json_t *on = json_object_get(args, "on");
	char where[64], err[512], msg[300];
	struct xdp_ctl x;
	int rc;

	if (!json_is_boolean(on))
		return api_fail("guard-allow-enforce: arguments need \"on\": true or false");
	if ((rc = guard_open(d, &x, where, sizeof(where), err, sizeof(err))) < 0)
		return api_fail("guard-allow-enforce: %s", err);
	rc = xdp_ctl_mac_allow_only(&x, json_is_true(on));
	xdp_ctl_close(&x);
	if (rc == -ENODATA)
		return api_fail("guard-allow-enforce: the allow list is empty: enforcing it would "
				"drop every client (guard-allow-add first)");
	if (rc < 0)
		return api_fail("guard-allow-enforce: %s", strerror(-rc));
	snprintf(msg, sizeof(msg), "allow list %s (maps %s); " NOTE_NOT_SAVED,
		 json_is_true(on) ? "enforced: only its MACs get through" : "not enforced", where);
	ctl_log(LOG_INFO, "operator: guard-allow-enforce %s", json_is_true(on) ? "on" : "off");
	return api_reply(API_OK, msg, NULL);
}

/* A non-negative integer argument: 0, or an error reply in *reply. */
static int uint_arg(json_t *args, const char *key, uint32_t max, uint32_t *out, char **reply)
{
	json_t *v = json_object_get(args, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) {
		*reply = api_fail("guard-rate-set: \"%s\" must be an integer 0..%u", key, max);
		return -EINVAL;
	}
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

char *cmd_guard_rate_set(struct daemon *d, uint64_t conn_id, json_t *args)
{
	const char *kind = api_arg_str(args, "kind");
	char where[64], err[512], msg[300], *reply = NULL;
	struct sb_xdp_rate r;
	struct xdp_ctl x;
	int rc;

	if (!kind || (strcmp(kind, "dhcp") && strcmp(kind, "tftp")))
		return api_fail("guard-rate-set: \"kind\" must be \"dhcp\" or \"tftp\"");
	if (uint_arg(args, "per_second", SB_XDP_RATE_PPS_MAX, &r.per_second, &reply) < 0 ||
	    uint_arg(args, "burst", SB_XDP_RATE_BURST_MAX, &r.burst, &reply) < 0)
		return reply;
	if ((r.per_second == 0) != (r.burst == 0))
		return api_fail("guard-rate-set: per_second and burst are both 0 (no limit) or "
				"both 1..%u",
				SB_XDP_RATE_PPS_MAX);
	if ((rc = guard_open(d, &x, where, sizeof(where), err, sizeof(err))) < 0)
		return api_fail("guard-rate-set: %s", err);
	rc = xdp_ctl_rate_set(&x, strcmp(kind, "dhcp") ? XDP_CTL_RATE_TFTP : XDP_CTL_RATE_DHCP, &r);
	xdp_ctl_close(&x);
	if (rc < 0)
		return api_fail("guard-rate-set: %s", strerror(-rc));
	if (r.per_second)
		snprintf(msg, sizeof(msg), "%s rate %u/s, burst %u (maps %s); " NOTE_NOT_SAVED,
			 kind, r.per_second, r.burst, where);
	else
		snprintf(msg, sizeof(msg), "%s rate: no limit (maps %s); " NOTE_NOT_SAVED, kind,
			 where);
	ctl_log(LOG_INFO, "operator: guard-rate-set %s %u %u", kind, r.per_second, r.burst);
	return api_reply(API_OK, msg, NULL);
}

char *cmd_guard_show(struct daemon *d, uint64_t conn_id, json_t *args)
{
	static const unsigned int drops[] = {SB_XDP_CNT_DROP_MAC_DENY,
					     SB_XDP_CNT_DROP_MAC_NOT_ALLOWED,
					     SB_XDP_CNT_DROP_RATE_DHCP, SB_XDP_CNT_DROP_RATE_TFTP};
	char where[64], err[512], t[128];
	struct sb_xdp_counters cnt;
	struct sb_xdp_settings st;
	struct xdp_ctl x;
	bool every = false;
	int rc, n_deny, n_allow, n_vlans;

	if ((rc = guard_open(d, &x, where, sizeof(where), err, sizeof(err))) < 0)
		return api_fail("guard-show: %s", err);
	if ((rc = xdp_ctl_settings_get(&x, &st)) < 0 ||
	    (rc = xdp_ctl_counters_read(&x, &cnt)) < 0 ||
	    (n_deny = rc = xdp_ctl_mac_list(&x, XDP_CTL_DENY, NULL, 0)) < 0 ||
	    (n_allow = rc = xdp_ctl_mac_list(&x, XDP_CTL_ALLOW, NULL, 0)) < 0 ||
	    (n_vlans = rc = xdp_ctl_vlans_get(&x, NULL, 0, &every)) < 0) {
		xdp_ctl_close(&x);
		return api_fail("guard-show: %s", strerror(-rc));
	}
	xdp_ctl_close(&x);
	json_t *c = json_object();
	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++)
		json_object_set_new(c, xdp_ctl_counter_name(drops[i]),
				    json_integer((json_int_t)cnt.v[drops[i]]));
	json_t *a = json_pack(
		"{s:s, s:b, s:b, s:i, s:i, s:o, s:{s:I, s:I}, s:{s:I, s:I}, s:o}", "maps", where,
		"steering", (st.flags & SB_XDP_F_VALID) == 0 || (st.flags & SB_XDP_F_ENABLE) != 0,
		"allow_enforced", (st.flags & SB_XDP_F_MAC_ALLOW) != 0, "deny_entries", n_deny,
		"allow_entries", n_allow, "vlans",
		every ? json_string("every") : json_integer(n_vlans), "dhcp_rate", "per_second",
		(json_int_t)st.dhcp_rate.per_second, "burst", (json_int_t)st.dhcp_rate.burst,
		"tftp_rate", "per_second", (json_int_t)st.tftp_rate.per_second, "burst",
		(json_int_t)st.tftp_rate.burst, "drops", c);
	if (!a)
		return api_fail("guard-show: out of memory");
	snprintf(t, sizeof(t), "XDP guard (maps %s)", where);
	return api_reply(API_OK, t, a);
}

#else /* built without libbpf */

#define NO_XDP(id, cmd)                                                                            \
	char *cmd_##id(struct daemon *d, uint64_t conn_id, json_t *args)                           \
	{                                                                                          \
		return api_fail("%s: XDP guard unavailable: built without libbpf", cmd);           \
	}
NO_XDP(guard_deny_add, "guard-deny-add")
NO_XDP(guard_deny_del, "guard-deny-del")
NO_XDP(guard_deny_list, "guard-deny-list")
NO_XDP(guard_allow_add, "guard-allow-add")
NO_XDP(guard_allow_del, "guard-allow-del")
NO_XDP(guard_allow_list, "guard-allow-list")
NO_XDP(guard_allow_enforce, "guard-allow-enforce")
NO_XDP(guard_rate_set, "guard-rate-set")
NO_XDP(guard_show, "guard-show")

#endif
