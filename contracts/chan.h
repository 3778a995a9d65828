/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * chan.h - the control <-> dataplane channel: framing and a non-blocking client.
 *
 * One Unix stream socket (CHAN_DEFAULT_PATH); stormboot-control listens, the dataplane
 * connects. Every message is a frame: struct chan_hdr, then hdr.len payload bytes. Both ends
 * run on the same host, so header and payload integers are in NATIVE byte order. A request
 * carries an id chosen by its sender; the reply has type (request type | CHAN_REPLY), the
 * same id (for_id) and a status (0 or a negative errno). The first frame on a connection is
 * the dataplane's HELLO; a frame with another version gets a -EPROTONOSUPPORT reply and the
 * connection is closed. A payload larger than CHAN_MSG_MAX closes the connection.
 * Protocol reference: docs/CONTROL.md.
 *
 * Framing (chan_frame_*) is pure. The client (chan_client_*) does socket I/O but never
 * blocks, never sleeps and uses no DPDK: call chan_client_poll() from a service loop.
 */
#ifndef SB_CHAN_H
#define SB_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CHAN_DEFAULT_PATH "/run/stormboot/dataplane.sock"
#define CHAN_VERSION	  1
#define CHAN_MAGIC	  0x48434253u /* "SBCH" in little-endian memory order */
#define CHAN_MSG_MAX	  (64u << 20) /* payload cap: a leases snapshot of ~2.7M leases */
#define CHAN_REPLY	  0x8000u     /* type bit: this frame answers request `id` */

enum chan_type {
	/* dp -> control, first frame. Payload JSON {"pid": N, "version": "x.y.z"}.
	 * Reply status 0, payload JSON {"version": "..."}; then control sends
	 * CONFIG_SNAPSHOT and LEASES_SNAPSHOT. */
	CHAN_MSG_HELLO = 1,
	/* control -> dp. Payload: the whole config as JSON (sbcfg_to_json), id = config
	 * generation. The reply comes once every worker has adopted it (the change is in
	 * effect), status 0, or -errno with the reason as payload (the running config kept);
	 * a reply for generation N also answers every earlier one. */
	CHAN_MSG_CONFIG_SNAPSHOT = 2,
	/* control -> dp. Payload: struct chan_lease[] (event CHAN_LEASE_BOUND), every durable
	 * unexpired lease. The dataplane restores them (lease_restore). Reply status. */
	CHAN_MSG_LEASES_SNAPSHOT = 3,
	/* dp -> control. Payload: struct chan_lease[1..n]. The reply is LEASE_DURABLE: status 0
	 * once every record is on disk (fdatasync), or -errno (e.g. -EADDRINUSE: control holds
	 * that address for another MAC) and then none of them was written. */
	CHAN_MSG_LEASE_EVENT = 4,
	/* control -> dp, empty payload; reply payload JSON (docs/CONTROL.md). */
	CHAN_MSG_STATS_REQUEST = 5,
	CHAN_MSG_SESSIONS_REQUEST = 6,
	CHAN_MSG_LATENCY_REQUEST = 7,
	/* control -> dp. Payload: one struct chan_lease (CHAN_LEASE_RELEASED): the operator
	 * released it (lease-release); the dataplane frees it (lease_release). Reply status. */
	CHAN_MSG_LEASE_REVOKE = 8,
	/* control -> dp, empty payload; reply payload JSON {image name: TFTP bytes served}. */
	CHAN_MSG_IMAGES_REQUEST = 9,
	/* control -> dp (cluster mode, docs/SCALE-OUT.md). Payload: 32 bytes, the bitmap of the
	 * RFC 3074 buckets this server answers (bit b of byte b / 8, b = bucket 0..255), or empty:
	 * answer every client again. Reply status. */
	CHAN_MSG_BUCKETS = 10,
	/* dp -> control. Payload: struct sb_tl_event[1..n] (sb_timeline.h), boot steps of
	 * clients for their timelines. No reply. */
	CHAN_MSG_TIMELINE = 11,
	/* control -> dp. Payload: one struct chan_token_keys, the boot token keys
	 * (boot_token.h) control holds now, sent on connect and after token-key-rotate. The
	 * dataplane mints with them the token of a protected image in the DHCP boot-file URL
	 * of UEFI HTTP boot clients. Reply status (-EINVAL: not one record). */
	CHAN_MSG_TOKEN_KEYS = 12,
	CHAN_MSG__COUNT,

	CHAN_MSG_LEASE_DURABLE = CHAN_MSG_LEASE_EVENT | CHAN_REPLY,
	CHAN_MSG_STATS_REPLY = CHAN_MSG_STATS_REQUEST | CHAN_REPLY,
	CHAN_MSG_SESSIONS_REPLY = CHAN_MSG_SESSIONS_REQUEST | CHAN_REPLY,
	CHAN_MSG_LATENCY_REPLY = CHAN_MSG_LATENCY_REQUEST | CHAN_REPLY,
	CHAN_MSG_IMAGES_REPLY = CHAN_MSG_IMAGES_REQUEST | CHAN_REPLY,

	/* Never on the wire: what chan_client_poll() reports about the connection. */
	CHAN_EV_CONNECTED = 0x7f01,    /* connected, HELLO queued */
	CHAN_EV_DISCONNECTED = 0x7f02, /* lost; every request without a reply is lost too */
};

struct chan_hdr {
	uint32_t magic;	  /* CHAN_MAGIC */
	uint16_t version; /* CHAN_VERSION */
	uint16_t type;	  /* enum chan_type, | CHAN_REPLY for a reply */
	uint32_t id;	  /* request id; in a reply the id it answers (for_id) */
	int32_t status;	  /* reply: 0 or -errno; request: 0 */
	uint32_t len;	  /* payload bytes after the header, <= CHAN_MSG_MAX */
	uint32_t reserved; /* 0 */
};
_Static_assert(sizeof(struct chan_hdr) == 24, "chan_hdr is a wire format");

enum chan_lease_event {
	CHAN_LEASE_BOUND = 1,	 /* DHCPACK: mac holds ip until expires */
	CHAN_LEASE_RELEASED = 2, /* DHCPRELEASE, or expired early */
	CHAN_LEASE_DECLINED = 3, /* DHCPDECLINE: ip quarantined */
};

/* One lease record in LEASE_EVENT / LEASES_SNAPSHOT / LEASE_REVOKE payloads. */
struct chan_lease {
	uint64_t expires; /* unix seconds */
	uint32_t ip;	  /* host order */
	uint8_t mac[6];
	uint8_t event;	   /* enum chan_lease_event */
	uint8_t reserved0; /* 0 */
	uint16_t subnet;   /* index into the sender's config (informational) */
	uint16_t reserved1;
};
_Static_assert(sizeof(struct chan_lease) == 24, "chan_lease is a wire format");

/* The TOKEN_KEYS payload: the current key and the previous one (prev_id 0 = none). */
struct chan_token_keys {
	uint32_t cur_id;  /* 1.. */
	uint32_t prev_id; /* 0 = none */
	uint8_t cur[32];
	uint8_t prev[32];
};
_Static_assert(sizeof(struct chan_token_keys) == 72, "chan_token_keys is a wire format");

/* Name of a message type ("hello", "lease-durable", ...), "unknown" otherwise. */
const char *chan_type_name(uint16_t type);

/*
 * Encode one frame into buf: header + len payload bytes (payload may be NULL when len is 0).
 * Returns the frame size, -ENOSPC if cap is too small, -EMSGSIZE if len > CHAN_MSG_MAX.
 */
ssize_t chan_frame_encode(void *buf, size_t cap, uint16_t type, uint32_t id, int32_t status,
			  const void *payload, size_t len);

/*
 * Decode the frame at the start of buf (len bytes available). Returns the frame size
 * (header + payload) and fills *h and *payload (inside buf); 0 if buf holds only part of a
 * frame so far; -EBADMSG for a bad magic or non-zero reserved field; -EMSGSIZE if the
 * header announces more than max_payload bytes (0 = CHAN_MSG_MAX); -EPROTONOSUPPORT if the
 * version differs (*h is filled, so the caller can reply with its own version).
 */
ssize_t chan_frame_decode(const void *buf, size_t len, size_t max_payload, struct chan_hdr *h,
			  const void **payload);

/* A byte queue: frames to write, or bytes read and not yet decoded. */
struct chan_buf {
	uint8_t *data;
	size_t off; /* first unconsumed byte */
	size_t len; /* end of valid bytes */
	size_t cap;
};

/* Append a frame; -ENOMEM, -EMSGSIZE. */
int chan_buf_put_frame(struct chan_buf *b, uint16_t type, uint32_t id, int32_t status,
		       const void *payload, size_t len);
/* Append raw bytes; -ENOMEM. */
int chan_buf_put(struct chan_buf *b, const void *data, size_t len);
/* Write as much as the socket takes: 0 when empty, 1 if bytes remain (EAGAIN), -errno. */
int chan_buf_flush(struct chan_buf *b, int fd);
/* Read what the socket has (at most max bytes buffered): 1 read some, 0 EAGAIN,
 * -EPIPE at end of stream, -errno. */
int chan_buf_fill(struct chan_buf *b, int fd, size_t max);
/* Bytes waiting. */
size_t chan_buf_pending(const struct chan_buf *b);
/* Drop everything / free the memory. */
void chan_buf_reset(struct chan_buf *b);
void chan_buf_free(struct chan_buf *b);

/* A decoded message; payload points into the receiver's buffer until its next poll. */
struct chan_msg {
	struct chan_hdr hdr;
	const uint8_t *payload;
};

struct chan_client;

/*
 * A client for the dataplane side that connects to path (NULL = CHAN_DEFAULT_PATH) on the
 * first chan_client_poll(), sends HELLO with hello_json (NULL = {"pid": getpid()}) as
 * payload, and reconnects with backoff (100 ms doubling to 5 s) whenever the connection is
 * lost or refused. NULL on allocation failure.
 */
struct chan_client *chan_client_new(const char *path, const char *hello_json);
void chan_client_free(struct chan_client *c);

/*
 * Never blocks. Connects when due (now_ms: any monotonic milliseconds), writes queued
 * frames, reads. Returns 1 with one message (or CHAN_EV_CONNECTED / CHAN_EV_DISCONNECTED
 * in out->hdr.type) in *out, 0 when nothing is ready. Call it until it returns 0.
 */
int chan_client_poll(struct chan_client *c, uint64_t now_ms, struct chan_msg *out);

/* Queue a request with a fresh id (*id_out, may be NULL). -ENOTCONN, -ENOMEM, -EMSGSIZE. */
int chan_client_request(struct chan_client *c, uint16_t type, const void *payload, size_t len,
			uint32_t *id_out);
/* Queue a reply to request (type, for_id). */
int chan_client_reply(struct chan_client *c, uint16_t req_type, uint32_t for_id, int32_t status,
		      const void *payload, size_t len);

bool chan_client_connected(const struct chan_client *c);
/* The socket (-1 when not connected), to wait on it with poll/epoll if the caller wants. */
int chan_client_fd(const struct chan_client *c);
/* Bytes queued and not yet written. */
size_t chan_client_pending(const struct chan_client *c);

#endif
