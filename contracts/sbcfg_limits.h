/* SPDX-License-Identifier: BSD-3-Clause */
/* sbcfg_limits.h - private to the config module in contracts/: its limits and defaults. */
#ifndef SB_SBCFG_LIMITS_H
#define SB_SBCFG_LIMITS_H

/* Limits; docs/CONFIG.md lists them, keep both in step. */
#define LIM_QUEUES_MAX	     64
#define LIM_SUBNETS_MAX	     4096 /* lease_info.subnet is a uint16_t index */
#define LIM_RESERVATIONS_MAX 1048576
#define LIM_IMAGES_MAX	     65536
#define LIM_POOL_MAX	     1048576 /* addresses in one pool (a /12) */
#define LIM_PREFIX_MIN	     8
#define LIM_PREFIX_MAX	     30		 /* a /31 or /32 has no room for a pool */
#define LIM_LEASE_MAX	     0x7fffffffu /* 0xffffffff means "infinite" (RFC 2132 9.2) */
#define LIM_OFFER_HOLD_MAX   3600
#define LIM_QUARANTINE_MAX   31536000 /* a year */
#define LIM_PROBE_MS_MIN     10	      /* dhcp.conflict_probe_ms, when not 0 */
#define LIM_PROBE_MS_MAX     5000     /* a client's DISCOVER retransmission is ~4 s */
#define LIM_PROBE_MAX	     1024     /* dhcp.conflict_probe_max (the engine's table) */
#define LIM_VLAN_MAX	     4094     /* IEEE 802.1Q: 0 and 4095 are reserved VIDs */
#define LIM_PORT_MIN	     1024
#define LIM_SESSIONS_MAX     1048576
#define LIM_BLKSIZE_MIN	     8	   /* RFC 2348 */
#define LIM_BLKSIZE_MAX	     65464 /* RFC 2348 */
#define LIM_WINDOW_MAX	     32768 /* RFC 7440; 16-bit block numbers stay unambiguous */
#define LIM_TIMEOUT_MS_MIN   10
#define LIM_TIMEOUT_MS_MAX   255000 /* RFC 2349: timeout 1..255 s */
#define LIM_RETRIES_MAX	     255
#define LIM_GIVE_UP_MS_MIN   100
#define LIM_GIVE_UP_MS_MAX   3600000
#define LIM_MTU_MIN	     576 /* RFC 791 */
#define LIM_MTU_MAX	     9000
#define LIM_HTTP_CONNS_MAX   16384
#define LIM_HTTP_IDLE_MIN    100
#define LIM_HTTP_IDLE_MAX    3600000
#define TFTP_OVERHEAD	     32 /* IPv4 20 + UDP 8 + TFTP DATA 4 */
#define LIM_FILE_MAX	     (64u << 20)
#define DEFAULT_LEASE_TIME   3600
#define DEFAULT_MIN_LEASE    60 /* issue 15: a client may not ask for a 1-second lease */

#endif
