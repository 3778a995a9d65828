/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dhcp_lb.h - which server of a cluster answers a DHCP client: RFC 3074 load balancing
 * (docs/SCALE-OUT.md). The client's MAC (chaddr) is hashed into one of 256 buckets with the
 * RFC's mixing table; control tells the dataplane which buckets are this server's (a bitmap,
 * computed from the live servers in etcd), and the dataplane answers only those clients.
 *
 * chaddr and not option 61: a PXE ROM and the iPXE it loads may send different client
 * identifiers, and every server must put a client in the same bucket at every stage.
 */
#ifndef SB_DHCP_LB_H
#define SB_DHCP_LB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp.h"

#define DHCP_LB_BUCKETS 256
#define DHCP_LB_WORDS	(DHCP_LB_BUCKETS / 64)

/* RFC 3074 section 6: the bucket of key (len bytes). */
uint8_t dhcp_lb_hash(const uint8_t *key, size_t len);

/* The bucket of a client: dhcp_lb_hash of its chaddr. */
static inline uint8_t dhcp_lb_bucket(const uint8_t mac[6])
{
	return dhcp_lb_hash(mac, 6);
}

static inline bool dhcp_lb_owned(const uint64_t map[DHCP_LB_WORDS], uint8_t bucket)
{
	return (map[bucket >> 6] >> (bucket & 63)) & 1;
}

/*
 * Is m load-balanced, i.e. answered only by the owner of its bucket? DISCOVER, and a REQUEST
 * that names no server (option 54 absent) and is not a unicast renewal (INIT-REBOOT: ciaddr
 * 0; REBINDING: ciaddr set, sent broadcast). A REQUEST that names a server is for that
 * server; a unicast renewal (RENEWING) is for the server it is sent to; RELEASE, DECLINE and
 * INFORM are answered (or applied) by whoever gets them.
 * broadcast: the request reached us at 255.255.255.255 (relayed requests never do).
 */
bool dhcp_lb_balanced(const struct dhcp_msg *m, bool broadcast);

/*
 * Should this server answer the DHCP payload (len bytes) given its buckets map? true when it
 * does not parse (the server's own parser counts that drop), when it is not load-balanced,
 * or when its client's bucket is set in map.
 */
bool dhcp_lb_should_answer(const uint8_t *payload, size_t len, bool broadcast,
			   const uint64_t map[DHCP_LB_WORDS]);

#endif
