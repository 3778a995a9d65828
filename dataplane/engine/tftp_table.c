/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "log.h"
#include "tftp_table.h"

static struct rte_hash *hash_new(const char *what, unsigned int lcore, int socket, uint32_t entries,
				 uint32_t key_len)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {0};

	snprintf(name, sizeof(name), "sb_%s_%u", what, lcore);
	hp.name = name;
	hp.entries = entries < 8 ? 8 : entries; /* rte_hash minimum 8 */
	hp.key_len = key_len;
	hp.hash_func = rte_hash_crc;
	hp.socket_id = socket;
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE; /* never refuse a key below capacity */
	return rte_hash_create(&hp);
}

int tftp_table_create(struct tftp_table *t, unsigned int lcore, int socket, uint32_t cap,
		      uint16_t port_lo, uint16_t port_hi, uint64_t seed, uint32_t client_cap)
{
	uint32_t n_ports = (uint32_t)port_hi - port_lo + 1;

	memset(t, 0, sizeof(*t));
	if (port_hi < port_lo || cap == 0)
		return -EINVAL;
	if (cap > n_ports)
		cap = n_ports;
	t->cap = cap;
	t->lcore = lcore;
	t->port_lo = port_lo;
	t->port_hi = port_hi;
	t->client_cap = client_cap;
	t->refused = ENG_DROP_RRQ_PACED;

	/* two keys per session (tftp_table_by_client); at most one client per session */
	t->hash = hash_new("sess", lcore, socket, 2 * cap, sizeof(struct eng_sess_key));
	t->clients = hash_new("sess_cli", lcore, socket, cap, sizeof(uint32_t));
	t->v = rte_zmalloc_socket("sb_sess", sizeof(*t->v) * cap, RTE_CACHE_LINE_SIZE, socket);
	t->free_slots = rte_malloc_socket("sb_sess_free", sizeof(uint32_t) * cap, 0, socket);
	t->port_ring = rte_malloc_socket("sb_sess_ports", sizeof(uint16_t) * n_ports, 0, socket);
	t->port_slot = rte_malloc_socket("sb_sess_pslot", sizeof(uint32_t) * n_ports, 0, socket);
	if (t->clients)
		t->client_n = rte_zmalloc_socket(
			"sb_sess_cli_n",
			sizeof(uint32_t) * ((size_t)rte_hash_max_key_id(t->clients) + 1), 0,
			socket);
	if (!t->hash || !t->clients || !t->client_n || !t->v || !t->free_slots || !t->port_ring ||
	    !t->port_slot) {
		tftp_table_destroy(t);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < cap; i++) {
		t->v[i].idx = i;
		rte_timer_init(&t->v[i].timer);
		t->free_slots[i] = cap - 1 - i; /* pop gives slot 0 first */
	}
	t->n_free_slots = cap;
	for (uint32_t i = 0; i < n_ports; i++)
		t->port_slot[i] = UINT32_MAX;
	tftp_ports_init(&t->ports, t->port_ring, port_lo, port_hi, seed);
	return 0;
}

void tftp_table_destroy(struct tftp_table *t)
{
	if (t->v)
		for (uint32_t i = 0; i < t->cap; i++)
			tftp_table_close(t, &t->v[i]);
	rte_hash_free(t->hash);
	rte_hash_free(t->clients);
	rte_free(t->client_n);
	rte_free(t->v);
	rte_free(t->free_slots);
	rte_free(t->port_ring);
	rte_free(t->port_slot);
	memset(t, 0, sizeof(*t));
}

uint32_t tftp_table_client_sessions(const struct tftp_table *t, uint32_t client_ip)
{
	int32_t pos = rte_hash_lookup(t->clients, &client_ip);

	return pos >= 0 ? t->client_n[pos] : 0;
}

/* Is client ip at its cap? Counted and warned about (powers of two: no log storm). */
static bool client_capped(struct tftp_table *t, uint32_t ip)
{
	uint32_t n;

	if (t->client_cap == 0 || (n = tftp_table_client_sessions(t, ip)) < t->client_cap)
		return false;
	if (rte_is_power_of_2(++t->client_capped))
		ENG_LOG(WARNING,
			"lcore %u: TFTP client %u.%u.%u.%u has %u sessions "
			"(tftp.max_sessions_per_client %u): %" PRIu64
			" requests held unanswered so far (the clients retransmit)",
			t->lcore, ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255, n,
			t->client_cap, t->client_capped);
	return true;
}

struct eng_sess *tftp_table_open(struct tftp_table *t, uint32_t client_ip, uint16_t client_port,
				 struct eng_image *img)
{
	struct eng_sess_key ck;
	struct eng_sess *s;
	int32_t cpos;
	uint32_t slot;
	uint16_t port;

	if (client_capped(t, client_ip)) {
		t->refused = ENG_DROP_RRQ_CLIENT_CAP;
		return NULL;
	}
	t->refused = ENG_DROP_RRQ_PACED;
	port = tftp_ports_peek(&t->ports);
	if (t->n_free_slots == 0 || port == 0)
		return NULL;
	slot = t->free_slots[t->n_free_slots - 1];
	s = &t->v[slot];
	s->key = (struct eng_sess_key){
		.client_ip = client_ip, .client_port = client_port, .server_port = port};
	if (rte_hash_add_key_data(t->hash, &s->key, s) < 0)
		return NULL;
	ck = s->key;
	ck.server_port = 0; /* the by-client key, see tftp_table_by_client() */
	if (rte_hash_add_key_data(t->hash, &ck, s) < 0) {
		rte_hash_del_key(t->hash, &s->key);
		return NULL;
	}
	cpos = rte_hash_add_key(t->clients, &client_ip); /* its position if it has one already */
	if (cpos < 0) {
		rte_hash_del_key(t->hash, &ck);
		rte_hash_del_key(t->hash, &s->key);
		return NULL;
	}
	t->client_n[cpos]++;
	(void)tftp_ports_take(&t->ports);
	t->n_free_slots--;
	t->port_slot[port - t->port_lo] = slot;
	memset(&s->ts, 0, sizeof(s->ts));
	s->mc = NULL;
	s->armed_ms = 0;
	s->img = img;
	s->bytes_served = 0;
	eng_image_ref(img);
	s->open = true;
	t->n_active++;
	return s;
}

struct eng_sess *tftp_table_lookup(const struct tftp_table *t, uint32_t client_ip,
				     uint16_t client_port, uint16_t server_port)
{
	struct eng_sess_key k = {
		.client_ip = client_ip, .client_port = client_port, .server_port = server_port};
	void *data;

	if (rte_hash_lookup_data(t->hash, &k, &data) < 0)
		return NULL;
	return data;
}

struct eng_sess *tftp_table_by_client(const struct tftp_table *t, uint32_t client_ip,
					uint16_t client_port)
{
	return tftp_table_lookup(t, client_ip, client_port, 0);
}

struct eng_sess *tftp_table_by_port(const struct tftp_table *t, uint16_t server_port)
{
	uint32_t slot;

	if (!tftp_table_owns_port(t, server_port))
		return NULL;
	slot = t->port_slot[server_port - t->port_lo];
	return slot == UINT32_MAX ? NULL : &t->v[slot];
}

void tftp_table_close(struct tftp_table *t, struct eng_sess *s)
{
	uint16_t port = s->key.server_port;
	struct eng_sess_key ck = s->key;
	int32_t cpos;
	void *data;

	if (!s->open)
		return;
	rte_timer_stop(&s->timer);
	s->armed_ms = 0;
	__atomic_fetch_add(&s->img->served, s->bytes_served, __ATOMIC_RELAXED);
	eng_image_put(s->img);
	s->img = NULL;
	rte_hash_del_key(t->hash, &s->key);
	ck.server_port = 0;
	if (rte_hash_lookup_data(t->hash, &ck, &data) >= 0 && data == s)
		rte_hash_del_key(t->hash, &ck);
	cpos = rte_hash_lookup(t->clients, &s->key.client_ip);
	if (cpos >= 0 && --t->client_n[cpos] == 0)
		rte_hash_del_key(t->clients, &s->key.client_ip);
	t->port_slot[port - t->port_lo] = UINT32_MAX;
	tftp_ports_put(&t->ports, port);
	t->free_slots[t->n_free_slots++] = s->idx;
	s->open = false;
	t->n_active--;
}
