/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mstream.h - multicast TFTP (RFC 2090) in the engine: worker 0's streams (at most
 * ENG_MTFTP_STREAMS, each in a slot of the session table for its transfer port and timer),
 * driven by the pure core's state machine (mtftp.h). DATA goes to the stream's group (MAC
 * 01:00:5e + the low 23 bits), OACKs and the unicast fallback to one client; what a stream
 * counts goes to the worker's counters.
 *
 * After each call that names a session, the caller runs eng_mc_close_if_ended() and, if the
 * stream stays open, arms the session's timer for mtftp_next_deadline() (lcore.c owns timers).
 */
#ifndef SB_ENG_MSTREAM_H
#define SB_ENG_MSTREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "engine.h"
#include "pkt.h"
#include "tftp.h"
#include "tftp_table.h"

/*
 * An RRQ with the multicast option (octet, multicast on, worker 0): join the image's stream
 * or start one. Returns 0 when handled (answered, or held like any paced RRQ), -1 when it is
 * to be served unicast (stream full, no stream or group free). *touched: the stream's session
 * to settle afterwards (NULL: none).
 */
int eng_mc_request(struct eng_worker *w, const struct pkt_udp *u, const struct tftp_rrq *rrq,
		   const struct catalog_entry *ce, uint64_t rx_tsc, struct eng_sess **touched);
/* A packet (ACK, ERROR) to the stream's transfer port. */
void eng_mc_packet(struct eng_worker *w, struct eng_sess *s, const struct pkt_udp *u,
		   uint64_t rx_tsc);
/* The stream's timer fired: resend what is due. */
void eng_mc_timer(struct eng_worker *w, struct eng_sess *s);
/* Count what the stream did; once its last client left, close it and its slot (true). */
bool eng_mc_close_if_ended(struct eng_worker *w, struct eng_sess *s);

#endif
