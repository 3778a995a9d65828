/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lease.c - the DHCP lease pool (see lease.h).
 *
 * Everything lives in the caller's memory, laid out once by lease_pool_init():
 *
 *   struct lease_pool | subnets[] | ranges[] | slots[] | heap[] | mac index[]
 *
 * - slots[]: one per pool address (subnet by subnet, in address order), then
 *   one per reserved address outside every pool. A slot remembers the last MAC
 *   that took it (offer, commit, restore) even after release or expiry.
 * - ranges[]: address intervals sorted by start, each mapping to a base slot;
 *   address -> slot is a binary search over n_subnets + out-of-pool
 *   reservations, then arithmetic.
 * - per subnet, a doubly linked free list (by slot index) in LRU order: taken
 *   at the head, released/expired slots appended at the tail.
 * - heap[]: a binary min-heap on `expires` of every slot not stored as FREE
 *   (OFFERED, BOUND, DECLINED). Expiry is lazy: such a slot whose expires <= now
 *   reads as FREE everywhere; mutators move a few expired heap tops back to the
 *   free lists, and an offer that finds its subnet's list empty reclaims until
 *   one appears. Each slot is reclaimed once per use: amortised O(log n).
 * - the MAC index: open addressing (linear probing, backward-shift delete,
 *   power-of-two capacity >= 2x entries) keyed by (mac, subnet) for "the slot
 *   this MAC took last in this subnet", and by (mac, subnet | KEY_RESV) for its
 *   reservation. The core cannot use DPDK's rte_hash (no DPDK, no allocation),
 *   hence this small table. Invariant: if a MAC holds a slot in a subnet
 *   (unexpired OFFERED/BOUND), its (mac, subnet) entry points to it, and it
 *   holds no other slot of that subnet.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "lease.h"

#define NIL	     UINT32_MAX
#define KEY_RESV     0x8000u /* high bit of the index key: reservation entry */
#define MAX_SUBNETS  0x7fffu
#define MAX_SLOTS    (1u << 30)
#define RECLAIM_STEP 2 /* expired heap tops moved to the free lists per mutation */

enum {
	SLOT_RESERVED = 1, /* reserved for slot->mac, never handed to another MAC */
	SLOT_HAS_MAC = 2,  /* slot->mac is meaningful (current or last owner) */
	SLOT_DECLINED = 4, /* slot->mac DECLINEd it; cleared when the slot is taken again */
};

struct lease_slot {
	uint64_t expires; /* OFFERED/BOUND/DECLINED: until; FREE: unused */
	uint32_t ip;
	uint32_t prev, next; /* free list links (stored FREE and not reserved), or offer list
			      * links (stored OFFERED and not reserved) */
	uint32_t heap_idx;   /* position in heap[] (stored state != FREE), else NIL */
	uint16_t subnet;
	uint8_t mac[6];
	uint8_t state; /* enum lease_state as stored; see slot_state() for the read view */
	uint8_t flags;
};

struct lease_range {
	uint32_t start, end; /* inclusive, host order */
	uint32_t base;	     /* slot of start */
};

struct lease_subnet {
	uint32_t free_head, free_tail;
	uint32_t offer_head, offer_tail; /* OFFERED slots, oldest offer first */
};

struct lease_hent {
	uint8_t mac[6];
	uint16_t key; /* subnet, | KEY_RESV for a reservation */
	uint32_t slot; /* NIL = empty */
};

struct lease_pool {
	const struct sbcfg_dhcp *cfg;
	struct lease_subnet *subs;
	struct lease_range *ranges;
	struct lease_slot *slots;
	uint32_t *heap;
	struct lease_hent *htab;
	uint32_t n_subnets, n_ranges, n_slots, heap_n, hmask;
	uint32_t n_stored[4]; /* slots per stored state */
	uint32_t n_resv_free; /* stored FREE slots that are reserved */
	uint64_t offers_taken_over; /* offers given to another MAC before their REQUEST came */
};

/* ---- layout ---- */

struct lease_dims {
	uint64_t subnets, slots, ranges, resv, hcap;
};

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static bool subnet_has_pool(const struct sbcfg_subnet *s)
{
	return s->pool_start != 0 || s->pool_end != 0;
}

/* Upper bounds: every reservation with an address may need its own slot. */
static int lease_dims(const struct sbcfg_dhcp *cfg, struct lease_dims *d)
{
	memset(d, 0, sizeof(*d));
	if (cfg->n_subnets > MAX_SUBNETS || (cfg->n_subnets && !cfg->subnets) ||
	    (cfg->n_reservations && !cfg->reservations))
		return -EINVAL;
	for (size_t i = 0; i < cfg->n_subnets; i++) {
		const struct sbcfg_subnet *s = &cfg->subnets[i];
		if (subnet_has_pool(s) && s->pool_start <= s->pool_end)
			d->slots += (uint64_t)s->pool_end - s->pool_start + 1;
	}
	for (size_t i = 0; i < cfg->n_reservations; i++)
		if (cfg->reservations[i].ip != 0)
			d->resv++;
	d->subnets = cfg->n_subnets;
	d->slots += d->resv;
	d->ranges = cfg->n_subnets + d->resv;
	if (d->slots > MAX_SLOTS)
		return -ENOMEM;
	d->hcap = 16;
	while (d->hcap < 2 * (d->slots + d->resv))
		d->hcap <<= 1;
	return 0;
}

static size_t lease_dims_size(const struct lease_dims *d)
{
	return align8(sizeof(struct lease_pool)) +
	       align8((size_t)d->subnets * sizeof(struct lease_subnet)) +
	       align8((size_t)d->ranges * sizeof(struct lease_range)) +
	       (size_t)d->slots * sizeof(struct lease_slot) + align8((size_t)d->slots * 4) +
	       (size_t)d->hcap * sizeof(struct lease_hent);
}

size_t lease_pool_memsize(const struct sbcfg_dhcp *cfg)
{
	struct lease_dims d;

	if (!cfg || lease_dims(cfg, &d) < 0)
		return 0;
	return lease_dims_size(&d);
}

/* ---- MAC index ---- */

static bool mac_eq(const uint8_t a[6], const uint8_t b[6])
{
	return memcmp(a, b, 6) == 0;
}

/* murmur3's 64-bit finaliser over the 48-bit MAC and the 16-bit key: sequential
 * MACs (perfdhcp, VM fleets) spread over the whole table. */
static uint32_t ht_home(const struct lease_pool *p, const uint8_t mac[6], uint16_t key)
{
	uint64_t x = (uint64_t)key << 48 | (uint64_t)mac[0] << 40 | (uint64_t)mac[1] << 32 |
		     (uint64_t)mac[2] << 24 | (uint64_t)mac[3] << 16 | (uint64_t)mac[4] << 8 |
		     mac[5];

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return (uint32_t)x & p->hmask;
}

static uint32_t ht_pos(const struct lease_pool *p, const uint8_t mac[6], uint16_t key)
{
	for (uint32_t h = ht_home(p, mac, key);; h = (h + 1) & p->hmask) {
		const struct lease_hent *e = &p->htab[h];
		if (e->slot == NIL)
			return NIL;
		if (e->key == key && mac_eq(e->mac, mac))
			return h;
	}
}

static uint32_t ht_get(const struct lease_pool *p, const uint8_t mac[6], uint16_t key)
{
	uint32_t h = ht_pos(p, mac, key);
	return h == NIL ? NIL : p->htab[h].slot;
}

/* Capacity is at least twice the most entries there can be: never full. */
static void ht_set(struct lease_pool *p, const uint8_t mac[6], uint16_t key, uint32_t slot)
{
	uint32_t h = ht_home(p, mac, key);

	while (p->htab[h].slot != NIL && !(p->htab[h].key == key && mac_eq(p->htab[h].mac, mac)))
		h = (h + 1) & p->hmask;
	memcpy(p->htab[h].mac, mac, 6);
	p->htab[h].key = key;
	p->htab[h].slot = slot;
}

/* Backward-shift deletion: no tombstones, probe chains stay short. */
static void ht_del(struct lease_pool *p, uint32_t i)
{
	for (;;) {
		uint32_t j = i, k;

		p->htab[i].slot = NIL;
		for (;;) {
			j = (j + 1) & p->hmask;
			if (p->htab[j].slot == NIL)
				return;
			k = ht_home(p, p->htab[j].mac, p->htab[j].key);
			/* the entry at j may stay if its home lies cyclically in (i, j] */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		p->htab[i] = p->htab[j];
		i = j;
	}
}

/* ---- expiry heap ---- */

static bool heap_less(const struct lease_pool *p, uint32_t a, uint32_t b)
{
	return p->slots[p->heap[a]].expires < p->slots[p->heap[b]].expires;
}

static void heap_swap(struct lease_pool *p, uint32_t a, uint32_t b)
{
	uint32_t t = p->heap[a];

	p->heap[a] = p->heap[b];
	p->heap[b] = t;
	p->slots[p->heap[a]].heap_idx = a;
	p->slots[p->heap[b]].heap_idx = b;
}

static void heap_up(struct lease_pool *p, uint32_t k)
{
	while (k > 0) {
		uint32_t parent = (k - 1) / 2;
		if (!heap_less(p, k, parent))
			break;
		heap_swap(p, k, parent);
		k = parent;
	}
}

static void heap_down(struct lease_pool *p, uint32_t k)
{
	for (;;) {
		uint32_t l = 2 * k + 1, m = l;
		if (l >= p->heap_n)
			break;
		if (l + 1 < p->heap_n && heap_less(p, l + 1, l))
			m = l + 1;
		if (!heap_less(p, m, k))
			break;
		heap_swap(p, k, m);
		k = m;
	}
}

static void heap_fix(struct lease_pool *p, uint32_t slot)
{
	heap_up(p, p->slots[slot].heap_idx);
	heap_down(p, p->slots[slot].heap_idx);
}

static void heap_push(struct lease_pool *p, uint32_t slot)
{
	uint32_t k = p->heap_n++;

	p->heap[k] = slot;
	p->slots[slot].heap_idx = k;
	heap_up(p, k);
}

static void heap_remove(struct lease_pool *p, uint32_t slot)
{
	uint32_t k = p->slots[slot].heap_idx, last = --p->heap_n;

	if (k != last) {
		p->heap[k] = p->heap[last];
		p->slots[p->heap[k]].heap_idx = k;
		heap_down(p, k);
		heap_up(p, p->slots[p->heap[k]].heap_idx);
	}
	p->slots[slot].heap_idx = NIL;
}

/* ---- free lists ---- */

/*
 * Two lists per subnet share the slots' prev/next links (a slot is on one at most): the free
 * list (stored FREE, not reserved) in LRU order, and the offer list (stored OFFERED, not
 * reserved) oldest offer first, from which a DISCOVER takes an address when no free one is
 * left (RFC 2131 4.3.1 does not make a server hold its offers).
 */
static void list_remove(struct lease_pool *p, uint32_t i, uint32_t *head, uint32_t *tail)
{
	struct lease_slot *s = &p->slots[i];

	if (s->prev != NIL)
		p->slots[s->prev].next = s->next;
	else
		*head = s->next;
	if (s->next != NIL)
		p->slots[s->next].prev = s->prev;
	else
		*tail = s->prev;
	s->prev = s->next = NIL;
}

static void list_append(struct lease_pool *p, uint32_t i, uint32_t *head, uint32_t *tail)
{
	struct lease_slot *s = &p->slots[i];

	s->next = NIL;
	s->prev = *tail;
	if (*tail != NIL)
		p->slots[*tail].next = i;
	else
		*head = i;
	*tail = i;
}

static void flist_remove(struct lease_pool *p, uint32_t i)
{
	struct lease_subnet *sub = &p->subs[p->slots[i].subnet];

	list_remove(p, i, &sub->free_head, &sub->free_tail);
}

static void flist_append(struct lease_pool *p, uint32_t i)
{
	struct lease_subnet *sub = &p->subs[p->slots[i].subnet];

	list_append(p, i, &sub->free_head, &sub->free_tail);
}

void lease_prefer(struct lease_pool *p, const uint64_t map[4])
{
	for (uint32_t sn = 0; sn < p->n_subnets; sn++) {
		const struct sbcfg_subnet *cs = &p->cfg->subnets[sn];
		struct lease_subnet *sub = &p->subs[sn];
		uint32_t ph = NIL, pt = NIL, oh = NIL, ot = NIL, i = sub->free_head;
		uint64_t size = (uint64_t)cs->pool_end - cs->pool_start + 1;

		if (!subnet_has_pool(cs) || cs->pool_end < cs->pool_start)
			continue;
		while (i != NIL) {
			uint32_t next = p->slots[i].next, ip = p->slots[i].ip;
			uint64_t seg = ip >= cs->pool_start && ip <= cs->pool_end
					       ? ((uint64_t)(ip - cs->pool_start) << 8) / size
					       : 0;
			if ((map[seg >> 6] >> (seg & 63)) & 1)
				list_append(p, i, &ph, &pt);
			else
				list_append(p, i, &oh, &ot);
			i = next;
		}
		if (pt != NIL) {
			p->slots[pt].next = oh;
			if (oh != NIL)
				p->slots[oh].prev = pt;
		}
		sub->free_head = ph != NIL ? ph : oh;
		sub->free_tail = ot != NIL ? ot : pt;
	}
}

/* ---- slot state ---- */

static bool slot_reserved(const struct lease_slot *s)
{
	return s->flags & SLOT_RESERVED;
}

/* The state as callers see it: expired reads as FREE. */
static enum lease_state slot_state(const struct lease_slot *s, uint64_t now)
{
	if (s->state != LEASE_FREE && s->expires <= now)
		return LEASE_FREE;
	return s->state;
}

/* Offered or bound to someone, unexpired. */
static bool slot_held(const struct lease_slot *s, uint64_t now)
{
	enum lease_state st = slot_state(s, now);
	return st == LEASE_OFFERED || st == LEASE_BOUND;
}

static bool slot_held_by(const struct lease_slot *s, const uint8_t mac[6], uint64_t now)
{
	return slot_held(s, now) && mac_eq(s->mac, mac);
}

static void slot_set_stored(struct lease_pool *p, uint32_t i, enum lease_state st)
{
	struct lease_slot *s = &p->slots[i];
	struct lease_subnet *sub = &p->subs[s->subnet];

	/* the offer list: leaving OFFERED, or offered anew (to the tail, the newest) */
	if (s->state == LEASE_OFFERED && !slot_reserved(s))
		list_remove(p, i, &sub->offer_head, &sub->offer_tail);
	if (st == LEASE_OFFERED && !slot_reserved(s))
		list_append(p, i, &sub->offer_head, &sub->offer_tail);
	p->n_stored[s->state]--;
	if (s->state == LEASE_FREE && slot_reserved(s))
		p->n_resv_free--;
	s->state = (uint8_t)st;
	p->n_stored[st]++;
	if (st == LEASE_FREE && slot_reserved(s))
		p->n_resv_free++;
}

/* Remember mac as the slot's owner and point mac's index entry at the slot. */
static void slot_set_mac(struct lease_pool *p, uint32_t i, const uint8_t mac[6])
{
	struct lease_slot *s = &p->slots[i];

	if ((s->flags & SLOT_HAS_MAC) && !mac_eq(s->mac, mac)) {
		uint32_t h = ht_pos(p, s->mac, s->subnet);
		if (h != NIL && p->htab[h].slot == i)
			ht_del(p, h);
	}
	memcpy(s->mac, mac, 6);
	s->flags |= SLOT_HAS_MAC;
	ht_set(p, mac, s->subnet, i);
}

/* Back to FREE (memory of the owner kept), at the tail of the LRU list. */
static void slot_free(struct lease_pool *p, uint32_t i)
{
	struct lease_slot *s = &p->slots[i];

	if (s->state == LEASE_FREE)
		return;
	heap_remove(p, i);
	slot_set_stored(p, i, LEASE_FREE);
	if (!slot_reserved(s))
		flist_append(p, i);
}

/* Give slot i to mac in state st until expires. */
static void slot_take(struct lease_pool *p, uint32_t i, const uint8_t mac[6], enum lease_state st,
		      uint64_t expires)
{
	struct lease_slot *s = &p->slots[i];

	if (s->state == LEASE_FREE && !slot_reserved(s))
		flist_remove(p, i);
	slot_set_mac(p, i, mac);
	s->flags &= (uint8_t)~SLOT_DECLINED;
	s->expires = expires;
	if (s->state == LEASE_FREE)
		heap_push(p, i);
	else
		heap_fix(p, i);
	slot_set_stored(p, i, st);
}

/* Move up to max expired heap tops back to FREE; stop early once subnet has a
 * free slot (subnet = NIL: do not stop early). */
static void reclaim(struct lease_pool *p, uint64_t now, uint32_t max, uint32_t subnet)
{
	while (max-- > 0 && p->heap_n > 0 && p->slots[p->heap[0]].expires <= now) {
		if (subnet != NIL && p->subs[subnet].free_head != NIL)
			return;
		slot_free(p, p->heap[0]);
	}
}

/* Slot of ip among the first n (sorted) ranges, or NIL. */
static uint32_t slot_in_ranges(const struct lease_pool *p, uint32_t n, uint32_t ip)
{
	uint32_t lo = 0, hi = n;

	/* last range with start <= ip */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (p->ranges[mid].start <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || ip > p->ranges[lo - 1].end)
		return NIL;
	return p->ranges[lo - 1].base + (ip - p->ranges[lo - 1].start);
}

static uint32_t slot_of_ip(const struct lease_pool *p, uint32_t ip)
{
	return slot_in_ranges(p, p->n_ranges, ip);
}

/* The slot mac holds (unexpired OFFERED/BOUND) in subnet, or NIL. */
static uint32_t held_slot(const struct lease_pool *p, const uint8_t mac[6], uint32_t subnet,
			  uint64_t now)
{
	uint32_t i = ht_get(p, mac, (uint16_t)subnet);

	if (i != NIL && slot_held_by(&p->slots[i], mac, now))
		return i;
	return NIL;
}

/*
 * mac's reservation in subnet, or NIL if it has none or DECLINEd it: quarantined, or (the
 * quarantine over, or 0) not yet bound another address since (RFC 2131 4.3.3: the client
 * said the address is in use; offering it straight back would only loop).
 */
static uint32_t usable_resv(const struct lease_pool *p, const uint8_t mac[6], uint32_t subnet,
			    uint64_t now)
{
	uint32_t i = ht_get(p, mac, (uint16_t)(subnet | KEY_RESV));

	if (i != NIL && (slot_state(&p->slots[i], now) == LEASE_DECLINED ||
			 (p->slots[i].flags & SLOT_DECLINED)))
		return NIL;
	return i;
}

/*
 * The address mac DECLINEd last in subnet, if it has not taken another one there since
 * (its index entry still points at it), or NIL: never offered back to mac at once.
 */
static uint32_t declined_slot(const struct lease_pool *p, const uint8_t mac[6], uint32_t subnet)
{
	uint32_t i = ht_get(p, mac, (uint16_t)subnet);

	if (i != NIL && (p->slots[i].flags & SLOT_DECLINED) && mac_eq(p->slots[i].mac, mac))
		return i;
	return NIL;
}

static void fill_info(const struct lease_pool *p, uint32_t i, uint64_t now, struct lease_info *out)
{
	const struct lease_slot *s = &p->slots[i];

	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	out->ip = s->ip;
	if (s->flags & SLOT_HAS_MAC)
		memcpy(out->mac, s->mac, 6);
	out->state = slot_state(s, now);
	out->expires = out->state == LEASE_FREE ? 0 : s->expires;
	out->subnet = s->subnet;
}

/* ---- init ---- */

static bool range_less(const struct lease_range *a, const struct lease_range *b)
{
	return a->start < b->start;
}

/* In-place heapsort (no allocation, unlike some qsort implementations). */
static void ranges_sort(struct lease_range *r, uint32_t n)
{
	for (uint32_t start = n / 2; n > 1;) {
		uint32_t root, child;
		struct lease_range t;

		if (start > 0) {
			root = --start;
		} else {
			n--;
			t = r[0];
			r[0] = r[n];
			r[n] = t;
			root = 0;
		}
		while ((child = 2 * root + 1) < n) {
			if (child + 1 < n && range_less(&r[child], &r[child + 1]))
				child++;
			if (!range_less(&r[root], &r[child]))
				break;
			t = r[root];
			r[root] = r[child];
			r[child] = t;
			root = child;
		}
	}
}

static bool ranges_disjoint(const struct lease_range *r, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++)
		if (r[i].start <= r[i - 1].end)
			return false;
	return true;
}

static void slot_init(struct lease_slot *s, uint32_t ip, uint16_t subnet)
{
	memset(s, 0, sizeof(*s));
	s->ip = ip;
	s->subnet = subnet;
	s->prev = s->next = s->heap_idx = NIL;
	s->state = LEASE_FREE;
}

static int pool_check_subnet(const struct sbcfg_subnet *s)
{
	uint32_t host = ~s->netmask;

	if (!subnet_has_pool(s))
		return 0;
	if (s->pool_start > s->pool_end)
		return -EINVAL;
	if ((s->pool_start & s->netmask) != s->network || (s->pool_end & s->netmask) != s->network)
		return -EINVAL;
	/* RFC 950/RFC 919: all-zeros and all-ones host parts are not host
	 * addresses (RFC 3021 /31 and /32 have no such parts to avoid). */
	if (host > 1 && (s->pool_start == s->network || s->pool_end == (s->network | host)))
		return -EINVAL;
	return 0;
}

/* Mark reserved pool slots; give each reservation outside the pools a slot and
 * a range of its own (appended unsorted after the n_pool_ranges pool ranges). */
static int reservations_init(struct lease_pool *p, const struct sbcfg_dhcp *cfg,
			     uint32_t n_pool_ranges)
{
	for (size_t r = 0; r < cfg->n_reservations; r++) {
		const struct sbcfg_reservation *res = &cfg->reservations[r];
		uint32_t i = slot_in_ranges(p, n_pool_ranges, res->ip);
		uint32_t subnet;

		if (res->ip == 0)
			continue; /* boot information only */
		if (i != NIL) {
			subnet = p->slots[i].subnet;
			if (slot_reserved(&p->slots[i]))
				return -EINVAL; /* two reservations for one address */
		} else {
			/* outside every pool: its own slot, in the subnet it belongs to */
			for (subnet = 0; subnet < p->n_subnets; subnet++)
				if ((res->ip & cfg->subnets[subnet].netmask) ==
				    cfg->subnets[subnet].network)
					break;
			if (subnet == p->n_subnets)
				return -EINVAL;
			i = p->n_slots++;
			slot_init(&p->slots[i], res->ip, (uint16_t)subnet);
			p->n_stored[LEASE_FREE]++;
			p->ranges[p->n_ranges++] =
				(struct lease_range){.start = res->ip, .end = res->ip, .base = i};
		}
		if (ht_get(p, res->mac, (uint16_t)(subnet | KEY_RESV)) != NIL)
			return -EINVAL; /* one MAC, two addresses in one subnet */
		p->slots[i].flags |= SLOT_RESERVED;
		p->n_resv_free++;
		slot_set_mac(p, i, res->mac);
		ht_set(p, res->mac, (uint16_t)(subnet | KEY_RESV), i);
	}
	return 0;
}

struct lease_pool *lease_pool_init(void *mem, size_t memsize, const struct sbcfg_dhcp *cfg,
				   int *err)
{
	struct lease_dims d;
	struct lease_pool *p = mem;
	uint8_t *cur = mem;
	uint32_t n_pool = 0, n_pool_ranges;
	int rc, dummy;

	if (!err)
		err = &dummy;
	if (!mem || !cfg || ((uintptr_t)mem & 7) != 0) {
		*err = -EINVAL;
		return NULL;
	}
	rc = lease_dims(cfg, &d);
	if (rc < 0) {
		*err = rc;
		return NULL;
	}
	if (memsize < lease_dims_size(&d)) {
		*err = -ENOMEM;
		return NULL;
	}

	memset(p, 0, sizeof(*p));
	cur += align8(sizeof(*p));
	p->subs = (struct lease_subnet *)cur;
	cur += align8(cfg->n_subnets * sizeof(struct lease_subnet));
	p->ranges = (struct lease_range *)cur;
	cur += align8((size_t)d.ranges * sizeof(struct lease_range));
	p->slots = (struct lease_slot *)cur;
	cur += (size_t)d.slots * sizeof(struct lease_slot);
	p->heap = (uint32_t *)cur;
	cur += align8((size_t)d.slots * 4);
	p->htab = (struct lease_hent *)cur;
	p->hmask = (uint32_t)d.hcap - 1;
	p->cfg = cfg;
	p->n_subnets = (uint32_t)cfg->n_subnets;
	for (uint32_t h = 0; h <= p->hmask; h++)
		p->htab[h].slot = NIL;

	for (uint32_t sn = 0; sn < p->n_subnets; sn++) {
		const struct sbcfg_subnet *s = &cfg->subnets[sn];

		p->subs[sn].free_head = p->subs[sn].free_tail = NIL;
		p->subs[sn].offer_head = p->subs[sn].offer_tail = NIL;
		if (pool_check_subnet(s) < 0) {
			*err = -EINVAL;
			return NULL;
		}
		if (!subnet_has_pool(s))
			continue;
		p->ranges[p->n_ranges++] = (struct lease_range){
			.start = s->pool_start, .end = s->pool_end, .base = n_pool};
		for (uint64_t ip = s->pool_start; ip <= s->pool_end; ip++)
			slot_init(&p->slots[n_pool++], (uint32_t)ip, (uint16_t)sn);
	}
	p->n_slots = n_pool;
	p->n_stored[LEASE_FREE] = n_pool;
	n_pool_ranges = p->n_ranges;
	ranges_sort(p->ranges, p->n_ranges);
	if (!ranges_disjoint(p->ranges, p->n_ranges)) {
		*err = -EINVAL; /* pools overlap */
		return NULL;
	}

	/* Reservations look addresses up in the pool ranges only, then add theirs. */
	rc = reservations_init(p, cfg, n_pool_ranges);
	if (rc < 0) {
		*err = rc;
		return NULL;
	}
	if (p->n_ranges != n_pool_ranges) {
		ranges_sort(p->ranges, p->n_ranges);
		if (!ranges_disjoint(p->ranges, p->n_ranges)) {
			*err = -EINVAL; /* two reservations for one address */
			return NULL;
		}
	}

	for (uint32_t i = 0; i < n_pool; i++)
		if (!slot_reserved(&p->slots[i]))
			flist_append(p, i);
	*err = 0;
	return p;
}

/* ---- operations ---- */

int lease_offer(struct lease_pool *p, uint16_t subnet, const uint8_t mac[6], uint32_t requested,
		uint64_t now, uint32_t *ip_out)
{
	uint32_t cur, pick, i, declined;

	if (!p || !mac || !ip_out || subnet >= p->n_subnets)
		return -EINVAL;
	reclaim(p, now, RECLAIM_STEP, NIL);
	cur = held_slot(p, mac, subnet, now);
	declined = declined_slot(p, mac, subnet);
	pick = usable_resv(p, mac, subnet, now);
	if (pick == NIL && cur != NIL)
		pick = cur;
	if (pick != NIL && pick == cur) {
		/* already ours: a BOUND lease stays as it is, an offer is held anew */
		if (p->slots[cur].state == LEASE_OFFERED) {
			p->slots[cur].expires = now + p->cfg->offer_hold;
			heap_fix(p, cur);
			slot_set_stored(p, cur, LEASE_OFFERED); /* the newest offer now */
		}
		*ip_out = p->slots[cur].ip;
		return 0;
	}
	if (pick == NIL) {
		i = slot_of_ip(p, requested);
		if (requested != 0 && i != NIL && i != declined && p->slots[i].subnet == subnet &&
		    !slot_reserved(&p->slots[i]) && slot_state(&p->slots[i], now) == LEASE_FREE)
			pick = i;
	}
	if (pick == NIL) {
		i = ht_get(p, mac, subnet);
		if (i != NIL && i != declined && !slot_reserved(&p->slots[i]) &&
		    slot_state(&p->slots[i], now) == LEASE_FREE)
			pick = i;
	}
	if (pick == NIL) {
		reclaim(p, now, UINT32_MAX, subnet);
		pick = p->subs[subnet].free_head;
		if (pick != NIL && pick == declined) {
			/* the only other candidates may still sit expired in the heap */
			if (p->slots[pick].next == NIL)
				reclaim(p, now, UINT32_MAX, NIL);
			pick = p->slots[pick].next;
		}
	}
	if (pick == NIL) {
		/*
		 * No free address: the oldest offer goes to this client (RFC 2131 4.3.1: a
		 * server need not reserve what it offered). A flood of DISCOVERs from new MACs
		 * then cycles through offers instead of holding the pool for offer_hold, and a
		 * client whose REQUEST comes still gets the address it was offered
		 * (lease_commit takes an address offered to another MAC).
		 */
		pick = p->cfg->offer_reuse ? p->subs[subnet].offer_head : NIL;
		if (pick == NIL)
			return -ENOSPC;
		p->offers_taken_over++;
	}
	slot_take(p, pick, mac, LEASE_OFFERED, now + p->cfg->offer_hold);
	/* a reservation replaces whatever else the MAC held here */
	if (cur != NIL && cur != pick)
		slot_free(p, cur);
	*ip_out = p->slots[pick].ip;
	return 0;
}

int lease_commit(struct lease_pool *p, const uint8_t mac[6], uint32_t ip, uint32_t lease_time,
		 uint64_t now, struct lease_info *out)
{
	uint32_t i, cur, resv;
	struct lease_slot *s;

	if (!p || !mac || lease_time == 0)
		return -EINVAL;
	reclaim(p, now, RECLAIM_STEP, NIL);
	i = slot_of_ip(p, ip);
	if (i == NIL)
		return -ENOENT;
	s = &p->slots[i];
	if (slot_reserved(s) && !mac_eq(s->mac, mac))
		return -EADDRINUSE;
	/*
	 * Bound to another MAC, or quarantined: refused. Merely offered to another MAC: the
	 * first REQUEST wins (an offer binds nobody, RFC 2131 4.3.1), so a client keeps the
	 * address it was offered even when a flood of DISCOVERs offered it again meanwhile.
	 */
	if (slot_state(s, now) != LEASE_FREE && !slot_held_by(s, mac, now) &&
	    !(p->cfg->offer_reuse && slot_state(s, now) == LEASE_OFFERED && !slot_reserved(s)))
		return -EADDRINUSE;
	resv = usable_resv(p, mac, s->subnet, now);
	if (resv != NIL && resv != i)
		return -EADDRINUSE;
	cur = held_slot(p, mac, s->subnet, now);
	slot_take(p, i, mac, LEASE_BOUND, now + lease_time);
	if (cur != NIL && cur != i)
		slot_free(p, cur); /* one address per MAC and subnet */
	/* bound elsewhere: a reservation it DECLINEd is usable again once out of quarantine */
	resv = ht_get(p, mac, (uint16_t)(s->subnet | KEY_RESV));
	if (resv != NIL && resv != i)
		p->slots[resv].flags &= (uint8_t)~SLOT_DECLINED;
	fill_info(p, i, now, out);
	return 0;
}

int lease_release(struct lease_pool *p, const uint8_t mac[6], uint32_t ip, uint64_t now)
{
	uint32_t i;

	if (!p || !mac)
		return -EINVAL;
	reclaim(p, now, RECLAIM_STEP, NIL);
	i = slot_of_ip(p, ip);
	if (i == NIL || !slot_held(&p->slots[i], now))
		return -ENOENT;
	if (!mac_eq(p->slots[i].mac, mac))
		return -EADDRINUSE;
	slot_free(p, i);
	return 0;
}

int lease_decline(struct lease_pool *p, const uint8_t mac[6], uint32_t ip, uint64_t now)
{
	uint32_t i;

	if (!p || !mac)
		return -EINVAL;
	reclaim(p, now, RECLAIM_STEP, NIL);
	i = slot_of_ip(p, ip);
	/* RFC 2131 4.3.3: only the holder's DECLINE counts, else any client could
	 * quarantine the whole pool. */
	if (i == NIL || !slot_held(&p->slots[i], now))
		return -ENOENT;
	if (!mac_eq(p->slots[i].mac, mac))
		return -EADDRINUSE;
	p->slots[i].expires = now + p->cfg->decline_quarantine;
	p->slots[i].flags |= SLOT_DECLINED;
	heap_fix(p, i);
	slot_set_stored(p, i, LEASE_DECLINED);
	return 0;
}

int lease_reservation(const struct lease_pool *p, const uint8_t mac[6], uint16_t subnet,
		      uint64_t now, uint32_t *ip_out)
{
	uint32_t i;

	if (!p || !mac || !ip_out || subnet >= p->n_subnets)
		return -EINVAL;
	i = usable_resv(p, mac, subnet, now);
	if (i == NIL)
		return -ENOENT;
	*ip_out = p->slots[i].ip;
	return 0;
}

int lease_find_mac(const struct lease_pool *p, const uint8_t mac[6], uint64_t now,
		   struct lease_info *out)
{
	if (!p || !mac)
		return -EINVAL;
	for (uint32_t sn = 0; sn < p->n_subnets; sn++) {
		uint32_t i = held_slot(p, mac, sn, now);
		if (i != NIL) {
			fill_info(p, i, now, out);
			return 0;
		}
	}
	return -ENOENT;
}

int lease_find_ip(const struct lease_pool *p, uint32_t ip, uint64_t now, struct lease_info *out)
{
	uint32_t i;

	if (!p)
		return -EINVAL;
	i = slot_of_ip(p, ip);
	if (i == NIL)
		return -ENOENT;
	fill_info(p, i, now, out);
	return 0;
}

int lease_restore(struct lease_pool *p, const struct lease_info *l, uint64_t now)
{
	uint32_t i, cur, resv;
	struct lease_slot *s;

	if (!p || !l || l->state != LEASE_BOUND)
		return -EINVAL;
	reclaim(p, now, RECLAIM_STEP, NIL);
	i = slot_of_ip(p, l->ip);
	if (i == NIL)
		return -ENOENT;
	s = &p->slots[i];
	if (slot_reserved(s) && !mac_eq(s->mac, l->mac))
		return -EADDRINUSE;
	if (l->expires <= now) {
		/* expired: only remember the owner, so it gets this address back */
		if (!(s->flags & SLOT_HAS_MAC) && slot_state(s, now) == LEASE_FREE &&
		    ht_get(p, l->mac, s->subnet) == NIL)
			slot_set_mac(p, i, l->mac);
		return 0;
	}
	if (slot_state(s, now) != LEASE_FREE && !slot_held_by(s, l->mac, now))
		return -EADDRINUSE;
	cur = held_slot(p, l->mac, s->subnet, now);
	if (cur != NIL && cur != i)
		return -EADDRINUSE;
	resv = usable_resv(p, l->mac, s->subnet, now);
	if (resv != NIL && resv != i)
		return -EADDRINUSE;
	slot_take(p, i, l->mac, LEASE_BOUND, l->expires);
	return 0;
}

int lease_foreach(const struct lease_pool *p, uint64_t now,
		  int (*fn)(const struct lease_info *l, void *arg), void *arg)
{
	struct lease_info info;

	if (!p || !fn)
		return -EINVAL;
	/* the heap holds exactly the slots not stored as FREE */
	for (uint32_t k = 0; k < p->heap_n; k++) {
		int rc;

		if (p->slots[p->heap[k]].expires <= now)
			continue;
		fill_info(p, p->heap[k], now, &info);
		rc = fn(&info, arg);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Count heap entries with expires <= now (a subtree at the top of the
 * min-heap): pre-order walk without a stack, O(expired). */
static void count_expired(const struct lease_pool *p, uint64_t now, uint32_t n[4],
			  uint32_t *resv)
{
	uint32_t k = 0;

#define EXPIRED(x) ((x) < p->heap_n && p->slots[p->heap[x]].expires <= now)
	if (!EXPIRED(0))
		return;
	for (;;) {
		const struct lease_slot *s = &p->slots[p->heap[k]];

		n[s->state]++;
		if (slot_reserved(s))
			(*resv)++;
		if (EXPIRED(2 * k + 1) || EXPIRED(2 * k + 2)) {
			k = EXPIRED(2 * k + 1) ? 2 * k + 1 : 2 * k + 2;
			continue;
		}
		for (;;) {
			if (k == 0)
				return;
			if ((k & 1) && EXPIRED(k + 1)) {
				k++;
				break;
			}
			k = (k - 1) / 2;
		}
	}
#undef EXPIRED
}

void lease_pool_stats(const struct lease_pool *p, uint64_t now, struct lease_stats *out)
{
	uint32_t exp[4] = {0}, exp_resv = 0, expired;

	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!p)
		return;
	count_expired(p, now, exp, &exp_resv);
	expired = exp[LEASE_OFFERED] + exp[LEASE_BOUND] + exp[LEASE_DECLINED];
	out->total = p->n_slots;
	out->offered = p->n_stored[LEASE_OFFERED] - exp[LEASE_OFFERED];
	out->bound = p->n_stored[LEASE_BOUND] - exp[LEASE_BOUND];
	out->declined = p->n_stored[LEASE_DECLINED] - exp[LEASE_DECLINED];
	out->reserved = p->n_resv_free + exp_resv;
	out->free = p->n_stored[LEASE_FREE] - p->n_resv_free + expired - exp_resv;
	out->offers_taken_over = p->offers_taken_over;
}
