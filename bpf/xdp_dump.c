/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xdp_dump - print what the XDP program on an interface holds, for lab tests and by hand (until
 * stormbootctl shows it): `xdp_dump IFACE` in the interface's network namespace (no bpffs
 * needed). One "name value" line per counter, then the settings and the routers seen:
 *
 *   redirected_dhcp 12
 *   ...
 *   settings flags 0x7 port_mask 0xf
 *   router vlan 0.0 mac 02:5b:00:00:0f:01 lifetime 1800 count 1 live 1
 */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "xdp_ctl.h"

#define ROUTERS_MAX 64

int main(int argc, char **argv)
{
	struct xdp_ctl_router r[ROUTERS_MAX];
	struct sb_xdp_settings s;
	struct sb_xdp_counters c;
	struct xdp_ctl ctl;
	unsigned int ifindex;
	int rc, n;

	if (argc != 2) {
		fprintf(stderr, "usage: %s IFACE\n", argv[0]);
		return 2;
	}
	ifindex = if_nametoindex(argv[1]);
	if (!ifindex) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	rc = xdp_ctl_open_ifindex(&ctl, ifindex);
	if (rc == 0)
		rc = xdp_ctl_counters_read(&ctl, &c);
	if (rc == 0)
		rc = xdp_ctl_settings_get(&ctl, &s);
	if (rc < 0) {
		fprintf(stderr, "%s: XDP maps: %s\n", argv[1], strerror(-rc));
		xdp_ctl_close(&ctl);
		return 1;
	}
	for (unsigned int i = 0; i < SB_XDP_CNT__COUNT; i++)
		printf("%s %" PRIu64 "\n", xdp_ctl_counter_name(i), (uint64_t)c.v[i]);
	printf("settings flags 0x%x port_mask 0x%x\n", s.flags, s.port_mask);
	n = xdp_ctl_routers_list(&ctl, r, ROUTERS_MAX);
	for (int i = 0; i < n && i < ROUTERS_MAX; i++) {
		const uint8_t *m = r[i].key.mac;

		printf("router vlan %u.%u mac %02x:%02x:%02x:%02x:%02x:%02x lifetime %u count %u "
		       "live %d\n",
		       r[i].key.vlan.outer, r[i].key.vlan.inner, m[0], m[1], m[2], m[3], m[4], m[5],
		       r[i].r.lifetime_s, r[i].r.count, r[i].live);
	}
	xdp_ctl_close(&ctl);
	return n < 0 ? 1 : 0;
}
