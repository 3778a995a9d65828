/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * control_link.h - the dataplane's end of the control channel (contracts/chan.h,
 * docs/CONTROL.md).
 *
 * A control thread (rte_ctrl_thread_create, never an lcore) runs the non-blocking channel
 * client: HELLO; CONFIG_SNAPSHOT, LEASES_SNAPSHOT and LEASE_REVOKE (applied through
 * snapshot.h: a config snapshot published with RCU, leases handed to worker 0); the
 * STATS/SESSIONS/LATENCY requests (answered from the per-lcore counters); and the lease
 * events below.
 *
 * Durability: worker 0 hands every BOUND/RELEASED/DECLINED lease to the thread through a
 * ring and HOLDS the built ACK frame in a small FIFO keyed by an event sequence number;
 * the thread batches events into LEASE_EVENT frames (group commit on control's side) and,
 * on LEASE_DURABLE, publishes "durable up to seq N" (plus a status per event). Worker 0
 * then transmits the held ACKs (a refused one is dropped and counted, acks_refused).
 *
 * An ACK whose lease control has not confirmed (no control connected, the hold queue or the
 * event ring full, no answer within ENG_CTL_ACK_WAIT_MS, the link lost while it was held, the
 * dataplane stopping) follows the config's dhcp.durability: "strict" (the default) drops it,
 * counted by reason (drop_dhcp_ack_control_away, _hold_full, _not_durable), and the client
 * asks again; "available" sends it anyway, counted acks_undurable. Under "strict" DHCP is
 * not served at all before control's LEASES_SNAPSHOT arrived (dhcp_waiting_for_leases), under
 * "available" for at most ENG_CTL_RESTORE_WAIT_MS. Nothing here takes a lock on the hot path.
 *
 * Without -C the dataplane runs standalone: eng_ctl stays NULL and no hook does anything.
 */
#ifndef SB_ENG_CONTROL_LINK_H
#define SB_ENG_CONTROL_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "dhcp_server.h"
#include "engine.h"
#include "sbcfg.h"

#define ENG_CTL_ACK_WAIT_MS	1000 /* longest an ACK waits for LEASE_DURABLE */
#define ENG_CTL_HOLD		4096 /* held ACKs (worker 0), power of 2 */
#define ENG_CTL_RESTORE_WAIT_MS 5000 /* DHCP waits this long for control's leases at start */

struct eng_ctl;

/* NULL when the dataplane runs without a control process. */
extern struct eng_ctl *eng_ctl;

/*
 * Before the lcores are launched: set up RCU, rings and the control thread that connects
 * to path. rt->snap is the snapshot main() built from its own config file (served until
 * control sends one). 0 or -errno with the reason in err.
 */
int eng_ctl_start(struct eng_runtime *rt, const char *path, char *err, size_t errlen);

/* Log what cfg's dhcp.durability promises (at start and when a reload changes it). */
void eng_ctl_log_durability(const struct sbcfg *cfg);

/* The link's counters (durable ACKs, snapshots) for stats.h's renderer. */
void eng_ctl_link_stats(struct eng_link_stats *out);

/*
 * After the lcores returned: stop the thread, free what it kept (the published snapshot
 * stays in rt->snap for main() to free).
 */
void eng_ctl_stop(void);

/* eng_ctl_worker_poll() with a control process. */
void eng_ctl_worker_sync(struct eng_worker *w, uint64_t tsc);

/*
 * Once per poll-loop iteration of every worker, outside any packet handling: adopt a newly
 * published snapshot into w->snap and report the quiescent state (snapshot_adopt), and on
 * worker 0 send the ACKs that became durable. Standalone: one test of a pointer.
 */
static inline void eng_ctl_worker_poll(struct eng_worker *w, uint64_t tsc)
{
	if (eng_ctl != NULL)
		eng_ctl_worker_sync(w, tsc);
}

/*
 * From handle_dhcp on worker 0, before the lease pool is touched: false while the
 * dataplane waits for control's LEASES_SNAPSHOT after its start ("strict": until it comes;
 * "available": at most ENG_CTL_RESTORE_WAIT_MS): a pool without the durable leases would
 * give away addresses that clients hold. The request is dropped (counted); the client
 * retransmits.
 */
bool eng_ctl_dhcp_ready(struct eng_worker *w);
/* Cluster mode: is u a DHCP request this server answers (its client's RFC 3074 bucket is
 * ours, or it is not load-balanced)? Always true until control sends a bucket map. */
bool eng_ctl_lb_answer(const struct pkt_udp *u);
/* From handle_dhcp on worker 0: control's boot token keys (CHAN_MSG_TOKEN_KEYS) for the DHCP
 * boot-file URLs of UEFI HTTP boot clients, NULL until control sent them. Copied from the
 * channel thread's record only when it changed (connect, rotation): no lock per packet. */
const struct boot_token_keys *eng_ctl_token_keys(void);

/* When a worker leaves its loop: it no longer takes part in grace periods (no-op standalone). */
void eng_ctl_worker_exit(struct eng_worker *w);

/* What became of a reply handed to eng_ctl_lease_event(). */
enum eng_ctl_ack {
	ENG_CTL_ACK_SEND,    /* not held: the caller sends the reply (if any) */
	ENG_CTL_ACK_HELD,    /* an ACK held until durable (sent then, counting tx_dhcp) */
	ENG_CTL_ACK_DROPPED, /* an ACK not sent ("strict"), freed and counted by reason */
};

/*
 * From handle_dhcp on worker 0, after dhcp_server_handle(): report res's lease event to
 * control. When res is an ACK (DHCP_LEASE_BOUND) and reply is not NULL, the frame is built
 * here (headers in front of the payload_len bytes already in reply) and held until durable:
 * ENG_CTL_ACK_HELD, reply is ours. An ACK that cannot be held is dropped under "strict"
 * (ENG_CTL_ACK_DROPPED, reply freed) and given back under "available" (ENG_CTL_ACK_SEND).
 */
enum eng_ctl_ack eng_ctl_lease_event(struct eng_worker *w, const struct dhcp_result *res,
				     struct rte_mbuf *reply, const struct pkt_udp *req,
				     const struct pkt_dest *dst, size_t payload_len,
				     uint64_t rx_tsc);

#endif
