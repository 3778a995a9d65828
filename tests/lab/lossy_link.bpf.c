/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause) */
/*
 * lossy_link.bpf.c - loss and duplication on a lab link, for tests (this kernel has no netem
 * and no gact). A tc clsact program in direct-action mode on one veth end, egress and ingress:
 * each IPv4/UDP frame is dropped with probability cfg.drop / 2^32 and otherwise duplicated
 * with probability cfg.dup / 2^32 (bpf_clone_redirect to the same hook's direction; the copy
 * carries a mark so that it is not dropped or copied again). Counters per direction.
 * Loaded and configured by lossy_link.c.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "lossy_link.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LOSSY_DIRS);
	__type(key, __u32);
	__type(value, struct lossy_cfg);
} lossy_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LOSSY_DIRS);
	__type(key, __u32);
	__type(value, struct lossy_cnt);
} lossy_cnt SEC(".maps");

static __always_inline int is_ipv4_udp(struct __sk_buff *skb)
{
	__u16 proto;
	__u8 l4;

	if (bpf_skb_load_bytes(skb, 12, &proto, sizeof(proto)) < 0 ||
	    proto != bpf_htons(ETH_P_IP))
		return 0;
	if (bpf_skb_load_bytes(skb, ETH_HLEN + 9, &l4, sizeof(l4)) < 0)
		return 0;
	return l4 == IPPROTO_UDP;
}

static __always_inline int lossy(struct __sk_buff *skb, __u32 dir)
{
	struct lossy_cfg *c = bpf_map_lookup_elem(&lossy_cfg, &dir);
	struct lossy_cnt *n = bpf_map_lookup_elem(&lossy_cnt, &dir);

	if (!c || !n)
		return TC_ACT_OK;
	if (skb->mark == LOSSY_MARK) { /* our own copy: through, untouched */
		skb->mark = 0;
		return TC_ACT_OK;
	}
	if (!is_ipv4_udp(skb))
		return TC_ACT_OK;
	n->seen++;
	if (c->drop && bpf_get_prandom_u32() < c->drop) {
		n->dropped++;
		return TC_ACT_SHOT;
	}
	if (c->dup && bpf_get_prandom_u32() < c->dup) {
		skb->mark = LOSSY_MARK;
		if (bpf_clone_redirect(skb, skb->ifindex, dir == LOSSY_INGRESS ? BPF_F_INGRESS : 0) ==
		    0)
			n->duplicated++;
		skb->mark = 0;
	}
	return TC_ACT_OK;
}

SEC("tc")
int lossy_egress(struct __sk_buff *skb)
{
	return lossy(skb, LOSSY_EGRESS);
}

SEC("tc")
int lossy_ingress(struct __sk_buff *skb)
{
	return lossy(skb, LOSSY_INGRESS);
}

char _license[] SEC("license") = "Dual BSD/GPL";
