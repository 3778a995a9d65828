/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "tftp_table.h"

int tftp_table_create(struct tftp_table *t, unsigned int lcore, int socket, uint32_t cap,
			uint16_t port_lo, uint16_t port_hi)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {0};
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
	t->n_ports = n_ports;

	snprintf(name, sizeof(name), "sb_sess_%u", lcore);
	hp.name = name;
	hp.entries = cap < 4 ? 8 : 2 * cap; /* two keys per session; rte_hash minimum 8 */
	hp.key_len = sizeof(struct eng_sess_key);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = socket;
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE; /* never refuse a key below capacity */
	t->hash = rte_hash_create(&hp);
	t->v = rte_zmalloc_socket("sb_sess", sizeof(*t->v) * cap, RTE_CACHE_LINE_SIZE, socket);
	t->free_slots = rte_malloc_socket("sb_sess_free", sizeof(uint32_t) * cap, 0, socket);
	t->free_ports = rte_malloc_socket("sb_sess_ports", sizeof(uint16_t) * n_ports, 0, socket);
	t->port_slot = rte_malloc_socket("sb_sess_pslot", sizeof(uint32_t) * n_ports, 0, socket);
	if (!t->hash || !t->v || !t->free_slots || !t->free_ports || !t->port_slot) {
		tftp_table_destroy(t);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < cap; i++) {
		t->v[i].idx = i;
		rte_timer_init(&t->v[i].timer);
		t->free_slots[i] = cap - 1 - i; /* pop gives slot 0 first */
	}
	t->n_free_slots = cap;
	for (uint32_t i = 0; i < n_ports; i++) {
		t->free_ports[i] = (uint16_t)(port_lo + i);
		t->port_slot[i] = UINT32_MAX;
	}
	t->ports_head = 0;
	t->n_free_ports = n_ports;
	return 0;
}

void tftp_table_destroy(struct tftp_table *t)
{
	if (t->v)
		for (uint32_t i = 0; i < t->cap; i++)
			tftp_table_close(t, &t->v[i]);
	rte_hash_free(t->hash);
	rte_free(t->v);
	rte_free(t->free_slots);
	rte_free(t->free_ports);
	rte_free(t->port_slot);
	memset(t, 0, sizeof(*t));
}

struct eng_sess *tftp_table_open(struct tftp_table *t, uint32_t client_ip, uint16_t client_port,
				 struct eng_image *img)
{
	struct eng_sess_key ck;
	struct eng_sess *s;
	uint32_t slot;
	uint16_t port;

	if (t->n_free_slots == 0 || t->n_free_ports == 0)
		return NULL;
	port = t->free_ports[t->ports_head];
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
	t->ports_head = (t->ports_head + 1) % t->n_ports;
	t->n_free_ports--;
	t->n_free_slots--;
	t->port_slot[port - t->port_lo] = slot;
	memset(&s->ts, 0, sizeof(s->ts));
	s->armed_ms = 0;
	s->img = img;
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
	void *data;

	if (!s->open)
		return;
	rte_timer_stop(&s->timer);
	s->armed_ms = 0;
	eng_image_put(s->img);
	s->img = NULL;
	rte_hash_del_key(t->hash, &s->key);
	ck.server_port = 0;
	if (rte_hash_lookup_data(t->hash, &ck, &data) >= 0 && data == s)
		rte_hash_del_key(t->hash, &ck);
	t->port_slot[port - t->port_lo] = UINT32_MAX;
	t->free_ports[(t->ports_head + t->n_free_ports) % t->n_ports] = port;
	t->n_free_ports++;
	t->free_slots[t->n_free_slots++] = s->idx;
	s->open = false;
	t->n_active--;
}
