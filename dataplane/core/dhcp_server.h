/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dhcp_server.h - the DHCP server state machine (RFC 2131 4.3) with PXE boot
 * information and proxyDHCP, over a lease pool.
 *
 * Pure: the caller passes the received datagram (struct pkt_udp), `now`
 * (unix seconds) and an output buffer; it gets the reply payload, where the
 * reply goes (struct pkt_dest) and what happened (struct dhcp_result). A lease
 * that was bound is reported in the result BEFORE the caller sends the ACK,
 * so the caller can make it durable first.
 *
 * Subnet choice: giaddr when relayed (RFC 2131 4.3.1); else, for a unicast
 * renewal, the subnet holding ciaddr; else, for a frame with an 802.1Q tag,
 * the subnet mapped to the innermost tag's VLAN ID (sbcfg_subnet.vlan; none:
 * -SB_DROP_DHCP_VLAN_NO_SUBNET); else the subnet holding the server's own
 * address. Replies go (RFC 2131 4.1): to the relay at giaddr:67 (option 82
 * echoed, RFC 3046 2.2); else unicast to ciaddr:68 (not NAKs); else broadcast
 * for NAKs and when the client set the broadcast flag; else unicast to
 * yiaddr at chaddr. Requests to port 4011 (PXE boot server / proxyDHCP) are
 * answered to the client's source address and port, in every mode.
 *
 * A reply too big for the client (RFC 2131 2: 576 bytes unless option 57 says
 * more) is not refused whole: it is built again without the optional options,
 * in a fixed order (T1/T2, the option 82 echo, hostname/DNS/domain, PXE
 * extras, boot options, mask/router; see dhcp_server.c), and counted as
 * DHCP_ANOM_REPLY_TRIMMED. 53, 54, 51 and the option 61 echo always stay.
 *
 * INIT-REBOOT (RFC 2131 4.3.2): ACK if the address is ours and may be bound
 * to the client; NAK if it is on the wrong subnet, belongs to another client,
 * the client has a different (usable) reserved address, or it lies in the
 * subnet but outside every pool and is not reserved for the client (the subnet
 * is ours: such an address is incorrect for the client's network). RENEWING /
 * REBINDING an address in none of our subnets gets silence (a counted drop).
 */
#ifndef SB_DHCP_SERVER_H
#define SB_DHCP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot_token.h"
#include "dhcp.h"
#include "lease.h"
#include "pkt.h"
#include "pxe.h"
#include "sbcfg.h"

/* A boot-file URL with its token: option 67 holds at most 255 bytes (RFC 2132 9.5). */
#define DHCP_SERVER_URL_MAX 256

struct dhcp_server {
	const struct sbcfg *cfg;
	struct lease_pool *pool; /* NULL in proxy mode */
	uint32_t server_ip;	 /* host order: option 54, source of replies */
	int own_subnet;		 /* subnet holding server_ip, -1 if none */
	/*
	 * Boot token keys (control's, pushed over the channel), NULL = none. With them the
	 * boot-file URL (dhcp.boot.http_x64/http_arm64) offered to a UEFI HTTP boot client
	 * (option 60 "HTTPClient") that gets an address carries "?t=TOKEN" when the URL's path
	 * names a protected image: a token for (chaddr, yiaddr, image, now + http.token_ttl_s).
	 * The caller may change the pointer between calls.
	 */
	const struct boot_token_keys *token_keys;
	/* the last URL with a token (struct dhcp_result.bootfile points here) */
	char token_url[DHCP_SERVER_URL_MAX];
};

/*
 * Set up s. cfg and pool must outlive it. server_ip is the server identity
 * (host order, usually cfg->server_ip). pool may be NULL unless mode is
 * SBCFG_DHCP_FULL. Returns 0 or -EINVAL.
 */
int dhcp_server_init(struct dhcp_server *s, const struct sbcfg *cfg, struct lease_pool *pool,
		     uint32_t server_ip);

/* What a handled message did to the lease pool. */
enum dhcp_lease_event {
	DHCP_LEASE_NONE = 0,
	DHCP_LEASE_OFFERED,  /* held for the client (not durable) */
	DHCP_LEASE_BOUND,    /* ACKed: make durable before sending the reply */
	DHCP_LEASE_RELEASED, /* DHCPRELEASE: the binding is gone */
	DHCP_LEASE_DECLINED, /* DHCPDECLINE: address quarantined until lease.expires */
};

struct dhcp_result {
	uint8_t msg_in;	 /* option 53 of the request, 0 if it did not parse */
	uint8_t msg_out; /* DHCP_OFFER/ACK/NAK, 0 = no reply */
	uint32_t xid;
	uint8_t mac[6]; /* chaddr */
	enum dhcp_lease_event event;
	struct lease_info lease; /* valid when event != DHCP_LEASE_NONE */
	struct pxe_client client;
	const char *bootfile; /* what the reply names (points into cfg, or to the server's
			       * token_url until its next call), NULL = none */
	bool token;	      /* the boot-file URL carries a boot token */
	bool relayed;	      /* giaddr was set */
	bool boot_only;	      /* proxyDHCP / port 4011 reply: no address */
	/* DHCP_ANOM_* (dhcp.h): what was wrong but worked around, also when a reply was sent;
	 * bit k is counted under the sb_drop reason DHCP_ANOMALY_FIRST + k. */
	uint32_t anomalies;
};

/*
 * Handle one DHCP datagram received on port 67 or 4011 (in->dst_port).
 * Writes the reply payload to out[0..cap) and its destination to *dst.
 * Returns the payload length (> 0), 0 when the message needs no reply
 * (RELEASE, DECLINE), or -SB_DROP_x. *res is always filled.
 */
int dhcp_server_handle(struct dhcp_server *s, const struct pkt_udp *in, uint64_t now, uint8_t *out,
		       size_t cap, struct pkt_dest *dst, struct dhcp_result *res);

#endif
