/* SPDX-License-Identifier: BSD-3-Clause */
/* arp_probe.c - conflict detection before a DHCPOFFER (see arp_probe.h). */
#include <errno.h>
#include <string.h>

#include "arp_probe.h"
#include "pkt.h"
#include "sb_drop.h"

#define ARP_IPV4_LEN 28 /* RFC 826 for Ethernet/IPv4 */
#define ARP_OP_REQ   1
#define ARP_OP_REPLY 2
#define ETH_MIN_LEN  60 /* without the FCS */

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void probe_table_init(struct probe_table *t, struct probe_slot *slots, uint32_t cap)
{
	memset(slots, 0, sizeof(*slots) * cap);
	t->slots = slots;
	t->cap = cap;
	t->n = 0;
	t->next_deadline = PROBE_NONE;
}

int probe_start(struct probe_table *t, uint32_t limit, uint32_t ip, const uint8_t mac[6],
		uint8_t attempt, uint64_t now_ms, uint32_t timeout_ms)
{
	if (ip == 0 || attempt == 0 || attempt > PROBE_ATTEMPTS_MAX)
		return -EINVAL;
	if (limit > t->cap)
		limit = t->cap;
	if (t->n >= limit)
		return -ENOSPC;
	for (uint32_t i = 0; i < t->cap; i++) {
		struct probe_slot *s = &t->slots[i];

		if (s->ip != 0)
			continue;
		s->ip = ip;
		memcpy(s->mac, mac, 6);
		s->attempt = attempt;
		s->deadline_ms = now_ms + timeout_ms;
		if (s->deadline_ms < t->next_deadline)
			t->next_deadline = s->deadline_ms;
		t->n++;
		return (int)i;
	}
	return -ENOSPC;
}

int probe_find_mac(const struct probe_table *t, const uint8_t mac[6])
{
	for (uint32_t i = 0, seen = 0; i < t->cap && seen < t->n; i++) {
		if (t->slots[i].ip == 0)
			continue;
		seen++;
		if (memcmp(t->slots[i].mac, mac, 6) == 0)
			return (int)i;
	}
	return -ENOENT;
}

int probe_match_reply(const struct probe_table *t, uint32_t spa, const uint8_t sha[6])
{
	if (spa == 0)
		return -ENOENT;
	for (uint32_t i = 0, seen = 0; i < t->cap && seen < t->n; i++) {
		if (t->slots[i].ip == 0)
			continue;
		seen++;
		if (t->slots[i].ip != spa)
			continue;
		/* The client itself still holds the address (a reboot that lost its lease). */
		if (memcmp(t->slots[i].mac, sha, 6) == 0)
			return -EALREADY;
		return (int)i;
	}
	return -ENOENT;
}

int probe_expired(const struct probe_table *t, uint64_t now_ms)
{
	if (t->n == 0 || now_ms < t->next_deadline)
		return -ENOENT;
	for (uint32_t i = 0, seen = 0; i < t->cap && seen < t->n; i++) {
		if (t->slots[i].ip == 0)
			continue;
		seen++;
		if (t->slots[i].deadline_ms <= now_ms)
			return (int)i;
	}
	return -ENOENT;
}

void probe_finish(struct probe_table *t, int idx)
{
	uint64_t next = PROBE_NONE;

	if (idx < 0 || (uint32_t)idx >= t->cap || t->slots[idx].ip == 0)
		return;
	memset(&t->slots[idx], 0, sizeof(t->slots[idx]));
	t->n--;
	for (uint32_t i = 0, seen = 0; i < t->cap && seen < t->n; i++) {
		if (t->slots[i].ip == 0)
			continue;
		seen++;
		if (t->slots[i].deadline_ms < next)
			next = t->slots[i].deadline_ms;
	}
	t->next_deadline = next;
}

int probe_build_request(uint8_t *frame, size_t cap, const uint8_t our_mac[6],
			const uint16_t *vlan_tci, uint8_t n_vlans, uint32_t ip)
{
	size_t off = 12, len;

	if (n_vlans > PKT_MAX_VLANS)
		return -SB_DROP_VLAN_DEPTH;
	len = PKT_ETH_HLEN + n_vlans * PKT_VLAN_HLEN + ARP_IPV4_LEN;
	if (len < ETH_MIN_LEN)
		len = ETH_MIN_LEN;
	if (cap < len)
		return -SB_DROP_TX_NO_ROOM;
	memset(frame, 0, len);
	memset(frame, 0xff, 6); /* broadcast */
	memcpy(frame + 6, our_mac, 6);
	for (uint8_t i = 0; i < n_vlans; i++, off += PKT_VLAN_HLEN) {
		pkt_wr16(frame + off,
			 (n_vlans == 2 && i == 0) ? PKT_ETHERTYPE_QINQ : PKT_ETHERTYPE_VLAN);
		pkt_wr16(frame + off + 2, vlan_tci[i]);
	}
	pkt_wr16(frame + off, PKT_ETHERTYPE_ARP);
	uint8_t *a = frame + off + 2;
	pkt_wr16(a, 1);			     /* hardware: Ethernet */
	pkt_wr16(a + 2, PKT_ETHERTYPE_IPV4); /* protocol: IPv4 */
	a[4] = 6;
	a[5] = 4;
	pkt_wr16(a + 6, ARP_OP_REQ);
	memcpy(a + 8, our_mac, 6);
	/* sender IP 0.0.0.0 and target MAC 0 (RFC 5227 2.1.1): left zero */
	wr32(a + 24, ip);
	return (int)len;
}

int probe_parse_reply(const uint8_t *frame, size_t len, uint32_t *spa, uint8_t sha[6])
{
	size_t l3;
	int type = pkt_ethertype(frame, len, &l3);

	if (type < 0)
		return type;
	if (type != PKT_ETHERTYPE_ARP)
		return -SB_DROP_NOT_IPV4;
	if (len - l3 < ARP_IPV4_LEN)
		return -SB_DROP_ARP_BAD;
	const uint8_t *a = frame + l3;
	if (pkt_rd16(a) != 1 || pkt_rd16(a + 2) != PKT_ETHERTYPE_IPV4 || a[4] != 6 || a[5] != 4)
		return -SB_DROP_ARP_BAD;
	/* RFC 5227 2.1.1: the owner answers a probe with a reply to sender IP 0.0.0.0. */
	if (pkt_rd16(a + 6) != ARP_OP_REPLY || rd32(a + 24) != 0)
		return 1;
	memcpy(sha, a + 8, 6);
	*spa = rd32(a + 14);
	return 0;
}
