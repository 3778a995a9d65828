/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tftp_table.h - one lcore's TFTP session table: sessions preallocated to
 * capacity, found through an rte_hash keyed by {client ip, client port,
 * server port}, each with its own server transfer port (TID) from this lcore's
 * share of the configured range, its own rte_timer, and a reference on the
 * image it serves (image_cache.h), held from open to close: a session outlives
 * the config snapshot it started under.
 *
 * Per client address the table counts its open sessions (a second rte_hash, keyed by the
 * client's IPv4 address, a counter per key): a client at client_cap sessions is not given
 * another one (tftp.max_sessions_per_client; paced like the session cap, see
 * tftp_table_open).
 *
 * Transfer ports come from tftp_ports.h: a FIFO, least recently used first, filled in an
 * order drawn from the table's seed, so consecutive sessions do not get consecutive ports.
 *
 * Single-threaded: only the owning lcore touches a table (no locks). The
 * hashes are created without multi-writer / RW-concurrency flags for that reason.
 */
#ifndef SB_ENG_TFTP_TABLE_H
#define SB_ENG_TFTP_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_timer.h>

#include "engine_drops.h"
#include "image_cache.h"
#include "pkt.h"
#include "mtftp.h"
#include "tftp_ports.h"
#include "tftp_session.h"

struct rte_hash;

struct eng_sess_key {
	uint32_t client_ip; /* host order */
	uint16_t client_port;
	uint16_t server_port;
};
_Static_assert(sizeof(struct eng_sess_key) == 8, "hash key is 8 bytes, no padding");

struct eng_mstream;

struct eng_sess {
	struct tftp_session ts; /* the protocol state (core); ts.data is img's bytes */
	struct eng_mstream *mc; /* a multicast stream's slot (its port, image, timer); NULL = unicast */
	struct eng_image *img;	/* held while open */
	struct rte_timer timer;
	uint64_t armed_ms; /* deadline the timer is armed for, 0 = not armed */
	struct eng_sess_key key;
	struct pkt_udp peer; /* the RRQ's addressing (MACs, VLAN tags); payload not kept */
	uint64_t start_tsc;
	uint64_t bytes_block; /* highest block whose bytes were counted as served */
	uint64_t bytes_served; /* file bytes of those blocks: added to img->served at close */
	uint32_t idx;	      /* slot in the table */
	bool open;
} __rte_cache_aligned;

/*
 * A multicast TFTP stream (RFC 2090, mtftp.h) of worker 0: the protocol state, the table
 * slot that holds its transfer port, image reference and timer, and per client the MAC its
 * RRQ came from (the OACK's destination). Every multicast RRQ goes to worker 0, so one image
 * has one stream per group across the server.
 */
#define ENG_MTFTP_STREAMS 16
#define ENG_MTFTP_GROUPS  256 /* tftp.multicast.groups is a /24 at most */
struct eng_mstream {
	struct mtftp_stream ms;
	struct eng_sess *slot;
	uint32_t group_idx; /* position in tftp.multicast.groups */
	bool open;
	uint8_t mac[MTFTP_CLIENTS_MAX][6];
	struct mtftp_stats reported; /* ms.stats already added to the worker's counters */
	char image[SBCFG_NAME_MAX]; /* for the log and the sessions view */
};

struct tftp_table {
	struct rte_hash *hash;
	struct eng_sess *v; /* cap slots */
	uint32_t cap;
	uint32_t n_active;
	uint32_t *free_slots; /* stack of free slot indexes */
	uint32_t n_free_slots;
	/* Transfer ports [port_lo, port_hi]: the free ones, least recently used first, in a
	 * random order (tftp_ports.h). */
	uint16_t port_lo, port_hi;
	uint16_t *port_ring;
	struct tftp_ports ports;
	uint32_t *port_slot; /* port - port_lo -> slot, UINT32_MAX = unused */
	/* Open sessions per client address: clients maps the address to a position, client_n
	 * holds the count there; a key lives while its count is above 0. */
	struct rte_hash *clients;
	uint32_t *client_n;
	uint32_t client_cap;	/* sessions per client address, 0 = no cap (set by the worker) */
	uint64_t client_capped; /* RRQs refused at client_cap (for the log's powers of two) */
	enum eng_drop refused;	/* why the last tftp_table_open() gave NULL */
	unsigned int lcore;
};

/*
 * Create the table of lcore `lcore` on NUMA socket `socket`, with room for cap
 * sessions on transfer ports [port_lo, port_hi], handed out in an order drawn from seed
 * (one per lcore), and at most client_cap sessions per client address (0 = no cap).
 * cap is lowered to the number of ports. Returns 0 or a negative errno.
 */
int tftp_table_create(struct tftp_table *t, unsigned int lcore, int socket, uint32_t cap,
		      uint16_t port_lo, uint16_t port_hi, uint64_t seed, uint32_t client_cap);

/* Free everything (stops the timers, drops the open sessions' image references). */
void tftp_table_destroy(struct tftp_table *t);

/*
 * Take a slot and a transfer port for a new session with client ip:port that serves img
 * (a reference is taken; the caller holds img already). The session's ts is zeroed.
 * NULL when the request must wait, with the reason in t->refused: ENG_DROP_RRQ_CLIENT_CAP
 * when client ip already has client_cap sessions (a WARNING at 1, 2, 4... of them),
 * ENG_DROP_RRQ_PACED when the table or the ports are exhausted. Either way the caller
 * holds the RRQ unanswered and counts t->refused: storms are paced, never refused.
 */
struct eng_sess *tftp_table_open(struct tftp_table *t, uint32_t client_ip, uint16_t client_port,
				 struct eng_image *img);

/* The session for this exact {client ip, client port, server port}, or NULL. */
struct eng_sess *tftp_table_lookup(const struct tftp_table *t, uint32_t client_ip,
				     uint16_t client_port, uint16_t server_port);

/*
 * The open session of client ip:port, whatever its transfer port, or NULL.
 * Each session is also in the hash under {client ip, client port, 0} (0 is
 * never a transfer port), so a retransmitted RRQ finds the session it opened.
 */
struct eng_sess *tftp_table_by_client(const struct tftp_table *t, uint32_t client_ip,
					uint16_t client_port);

/* The session holding server_port (whoever the client), or NULL. */
struct eng_sess *tftp_table_by_port(const struct tftp_table *t, uint16_t server_port);

/* Open sessions of client ip now (0 when it has none). */
uint32_t tftp_table_client_sessions(const struct tftp_table *t, uint32_t client_ip);

/* True if server_port is in this table's range. */
static inline bool tftp_table_owns_port(const struct tftp_table *t, uint16_t server_port)
{
	return server_port >= t->port_lo && server_port <= t->port_hi;
}

/*
 * Release a session: timer stopped, image reference dropped, key removed, slot and port back
 * to the free lists.
 */
void tftp_table_close(struct tftp_table *t, struct eng_sess *s);

#endif
