/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * storm.h - the pure part of stormboot-storm, the boot-storm generator: N simulated VMs
 * that boot as firmware does (DHCP DISCOVER/OFFER/REQUEST/ACK with RFC 2131 back-off, then
 * a loader and an image over TFTP), one state machine per VM in an array, timers on a wheel.
 *
 * No DPDK, no clock, no I/O: the caller passes every received frame and `now` (microseconds
 * since the run started), and gives a struct storm_io through which frames are sent. The
 * DPDK shell (storm_main.c) and the unit tests (storm_test.c) drive the same code.
 *
 * What a VM sends (see storm_fleet.c for the RFC sections):
 *  - OVMF-like: DHCP options 93 = 7 (x64 UEFI), 94, 97, 60 "PXEClient:Arch:00007:UNDI:003016";
 *    TFTP: an RRQ with tsize 0 only, aborted with ERROR 8 after the OACK (the size probe),
 *    then an RRQ with blksize 1468, windowsize 4, tsize 0 (RFC 7440 windows).
 *  - iPXE-like: options 93 = 0, 60 "PXEClient:Arch:00000:UNDI:002001", 77 "iPXE", 175;
 *    TFTP: an RRQ with blksize 1432 and tsize 0, lock-step.
 * Every byte received is checked against the expected file: SHA-256 as the data streams
 * (OpenSSL EVP), and a byte compare when the file's content is at hand.
 */
#ifndef SB_STORM_H
#define SB_STORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storm_wheel.h"

#define STORM_VMS_MAX	   10000
#define STORM_FILES_MAX	   16
#define STORM_NAME_MAX	   128	/* DHCP file field / option 67 */
#define STORM_MAC_OUI0	   0x02 /* VM i has MAC 02:57:(i+1 as 32 bits, big-endian) */
#define STORM_MAC_OUI1	   0x57
#define STORM_REFLECT_PORT 9 /* UDP discard: frames of the --reflect mode */

enum storm_kind {
	STORM_KIND_OVMF = 0,
	STORM_KIND_IPXE,
};

/* A VM's state. The progress line groups them: dhcp = SELECTING + REQUESTING,
 * loader = PROBE + LOADER. */
#define STORM_STATE_LIST(X)                                                                        \
	X(WAIT, "wait")		    /* not powered on yet */                                       \
	X(SELECTING, "selecting")   /* DISCOVER sent, waiting for an OFFER */                      \
	X(REQUESTING, "requesting") /* REQUEST sent, waiting for the ACK */                        \
	X(PROBE, "probe")	    /* OVMF's tsize-only RRQ */                                    \
	X(LOADER, "loader")	    /* the boot file named in the ACK */                           \
	X(IMAGE, "image")	    /* the second file (--image) */                                \
	X(DONE, "done")                                                                            \
	X(FAILED, "failed")                                                                        \
	X(REFLECT, "reflect") /* --reflect: frames bounced by a reflector */

enum storm_state {
#define X(e, s) STORM_ST_##e,
	STORM_STATE_LIST(X)
#undef X
		STORM_ST__COUNT
};

/* Why a VM failed: each reason is a counter in the report. */
#define STORM_FAIL_LIST(X)                                                                         \
	X(NONE, "none", "")                                                                        \
	X(DHCP_TIMEOUT, "dhcp_timeout", "no OFFER or no ACK after every DHCP retransmission")      \
	X(DHCP_NAK, "dhcp_nak", "NAKed three times")                                               \
	X(NO_BOOTFILE, "no_bootfile", "the ACK named no boot file (option 67 / file field)")       \
	X(UNKNOWN_FILE, "unknown_file", "the file is not among --file (nothing to check it by)")   \
	X(TFTP_TIMEOUT, "tftp_timeout", "a transfer stalled: no DATA after every ACK resent")      \
	X(TFTP_ERROR, "tftp_error", "the server sent a TFTP ERROR")                                \
	X(BAD_OACK, "bad_oack", "an OACK with a value larger than asked, or malformed")            \
	X(TSIZE, "tsize_mismatch", "the OACK's tsize is not the expected file's size")             \
	X(SIZE, "size_mismatch", "the transfer ended with another size than the expected file")    \
	X(BYTES, "bytes_mismatch", "a block differs from the expected file")                       \
	X(DIGEST, "digest_mismatch", "the SHA-256 of the received file is not the expected one")   \
	X(RUN_TIMEOUT, "run_timeout", "still booting when --timeout expired")                     \
	X(RRQ_UNANSWERED, "rrq_unanswered", "no answer to an RRQ after every retransmission")

enum storm_fail {
#define X(e, s, d) STORM_FAIL_##e,
	STORM_FAIL_LIST(X)
#undef X
		STORM_FAIL__COUNT
};

/* Counters of the fleet: name, then what it counts. "ours" retransmissions are what the
 * generator resent on a timeout; "theirs" are duplicates the server sent. */
#define STORM_COUNTER_LIST(X)                                                                      \
	X(dhcp_discover_tx, "DISCOVERs sent, retransmissions included")                            \
	X(dhcp_request_tx, "REQUESTs sent, retransmissions included")                              \
	X(dhcp_retrans_tx, "ours: DISCOVER/REQUEST resent after a back-off")                       \
	X(dhcp_offer_rx, "OFFERs taken")                                                           \
	X(dhcp_ack_rx, "ACKs taken: DORAs completed")                                              \
	X(dhcp_nak_rx, "NAKs")                                                                     \
	X(dhcp_dup_rx, "theirs: OFFER/ACK for a VM no longer waiting for it")                      \
	X(dhcp_foreign_rx, "DHCP replies for no VM of ours, or another xid")                       \
	X(tftp_rrq_tx, "RRQs sent, retransmissions included")                                      \
	X(tftp_rrq_retrans, "ours: RRQs resent on timeout")                                        \
	X(tftp_oack_rx, "OACKs taken")                                                             \
	X(tftp_dup_oack_rx, "theirs: OACKs repeated")                                              \
	X(tftp_data_rx, "DATA taken in order")                                                     \
	X(tftp_data_bytes, "payload bytes taken in order")                                         \
	X(tftp_dup_data_rx, "theirs: DATA already taken (duplicates)")                             \
	X(tftp_gap_rx, "DATA beyond a lost block (window restarted)")                              \
	X(tftp_ack_tx, "ACKs sent, retransmissions included")                                      \
	X(tftp_ack_retrans, "ours: ACKs resent on timeout")                                        \
	X(tftp_reack_tx, "ours: ACKs resent on a duplicate or a gap")                              \
	X(tftp_dally_ack_tx, "last ACK resent for a finished transfer (RFC 1350 6)")               \
	X(tftp_err_tx, "ERRORs sent (size probe's ERROR 8 included)")                              \
	X(tftp_err_rx, "ERRORs received")                                                          \
	X(tftp_foreign_tid, "frames from another port than the locked TID (ERROR 5 answered)")     \
	X(tftp_stale_rx, "TFTP frames for a transfer no longer running")                           \
	X(tftp_stale_err_tx, "ERRORs sent to a server TID of a finished transfer (RFC 1350 4)")    \
	X(tftp_transfers, "transfers completed and verified")                                      \
	X(arp_req_rx, "ARP requests for a leased address")                                         \
	X(arp_reply_tx, "ARP replies sent")                                                        \
	X(rx_csum_partial, "UDP checksums that did not verify (veth tx offload), accepted")        \
	X(rx_malformed, "frames refused by the parsers")                                           \
	X(rx_not_ours, "frames for no VM (other MACs, ICMP, IPv6...)")                             \
	X(tx_nobuf, "frames not sent: no transmit buffer")                                         \
	X(reflect_tx, "--reflect: frames sent")                                                    \
	X(reflect_rx, "--reflect: frames back")                                                    \
	X(reflect_lost, "--reflect: frames given up after a timeout")                              \
	X(loops, "--loop: boots (--dhcp-only: DORAs) or transfers begun again by a VM done")       \
	X(arp_request_tx, "--arp: ARP requests for the TFTP server's address sent")                \
	X(arp_reply_rx, "--arp: ARP replies for a VM's address taken")                             \
	X(arp_server_mac_ok, "--arp: ARP replies naming the MAC the DHCP replies came from")       \
	X(mc_rrq_tx, "--multicast: image RRQs sent with the RFC 2090 multicast option")           \
	X(mc_oack_rx, "--multicast: OACKs taken that named a group (the VM joined it)")            \
	X(mc_plain_oack_rx, "--multicast: OACKs without multicast (served unicast)")               \
	X(mc_master_oack_rx, "--multicast: OACKs that made a VM the master client (mc=1)")         \
	X(mc_listen_oack_rx, "--multicast: OACKs that made a VM a listener (mc=0)")                \
	X(mc_group_frames_rx, "--multicast: frames to a group some VM listens to")                 \
	X(mc_group_wire_bytes, "--multicast: Ethernet bytes of every frame to a group (the wire)") \
	X(mc_group_foreign_rx, "--multicast: frames to a group (or MAC) no VM listens to")         \
	X(mc_group_data_rx, "--multicast: new blocks taken from the group (per VM)")               \
	X(mc_group_bytes, "--multicast: payload bytes of new blocks taken from the group")         \
	X(mc_unicast_data_rx, "--multicast: new blocks taken unicast (the server's fallback)")    \
	X(mc_unicast_bytes, "--multicast: payload bytes of new blocks taken unicast")              \
	X(mc_dup_rx, "--multicast: blocks a VM already held (per VM)")                             \
	X(mc_out_of_order, "--multicast: new blocks beyond a VM's first hole (late joiners)")     \
	X(mc_bad_block, "--multicast: DATA numbering no block of the image (ignored)")            \
	X(mc_master_ack_tx, "--multicast: ACKs sent as the master client")                        \
	X(mc_done_ack_tx, "--multicast: last block ACKed by a VM done, made master again")        \
	X(mc_done_master, "--multicast: transfers completed as the master client")                \
	X(mc_done_listener, "--multicast: transfers completed as a listener (no ACK)")            \
	X(mc_unicast_retry, "--multicast: multicast transfers given up, image fetched again unicast")

struct storm_counters {
#define X(n, d) uint64_t n;
	STORM_COUNTER_LIST(X)
#undef X
};

/* One expected file: what the VMs fetch and how it is checked. */
struct storm_file {
	char name[STORM_NAME_MAX]; /* as the VMs ask for it (no leading '/') */
	uint64_t size;
	uint8_t sha256[32];
	bool has_sha;
	const uint8_t *data; /* the content, or NULL (digest and size only) */
};

struct storm_files {
	struct storm_file f[STORM_FILES_MAX];
	unsigned n;
};

/* The file named `name` (a leading '/' ignored), or -1. */
int storm_files_find(const struct storm_files *fs, const char *name, size_t len);

enum storm_verify {
	STORM_VERIFY_AUTO = 0, /* SHA-256, and a byte compare when the content is known */
	STORM_VERIFY_SHA,      /* SHA-256 only */
	STORM_VERIFY_CMP,      /* byte compare only */
	STORM_VERIFY_NONE,     /* sizes only (to measure the generator's own ceiling) */
};

struct storm_cfg {
	uint32_t n_vms;		  /* 1..STORM_VMS_MAX */
	double ovmf_ratio;	  /* share of OVMF-like VMs, 0..1; the rest are iPXE-like */
	uint64_t seed;		  /* random numbers: kinds, xids, ports, jitter */
	uint32_t ramp_ms;	  /* power-on times spread uniformly over [0, ramp_ms] */
	double backoff_scale;	  /* RFC 2131 back-off (4 s, 8 s...) multiplied by this */
	uint32_t dhcp_tries;	  /* DISCOVERs (and REQUESTs) before a VM gives up, >= 1 */
	/* TFTP retransmission (RFC 1350 2). tftp_timeout_ms 0 = as the firmware does
	 * (storm_tftp_timeout_ms): OVMF (EDK2 PxeBcDxe) 4 s fixed, tftp_retries times; iPXE
	 * (core/retry.c) 250 ms doubled at each retransmission, given up once the doubled
	 * timeout passes 10 s (retransmits at 0.25, 0.75, 1.75, 3.75, 7.75 s, fails at
	 * 15.75 s). Otherwise that fixed timeout and tftp_retries for both kinds. */
	uint32_t tftp_timeout_ms;
	uint32_t tftp_retries; /* retransmissions without progress before giving up (6) */
	uint16_t ovmf_blksize;	  /* 1468 */
	uint16_t ovmf_window;	  /* 4 */
	uint16_t ipxe_blksize;	  /* 1432 */
	bool ovmf_probe;	  /* OVMF's tsize-only RRQ first */
	enum storm_verify verify;
	char loader[STORM_NAME_MAX]; /* "" = the boot file the ACK names */
	char image[STORM_NAME_MAX];  /* "" = no second file */
	uint32_t server_ip;	     /* host order; 0 = take the first server that answers */
	bool dhcp_only;		     /* a VM is done at its ACK (DORA storms) */
	/* --loop: saturation, to measure a server's limit rather than a storm: a VM that is
	 * done starts again at once (--dhcp-only: a new DISCOVER with a new xid; else the last
	 * transfer again from a new TID) until --timeout, which then ends a run that did not
	 * fail. Counted as `loops`. */
	bool loop;
	uint32_t loop_gap_us; /* --loop-gap-ms: a VM done waits this long first (paced load) */
	/* --arp: after its ACK a VM asks the TFTP server's MAC with an ARP request (RFC 826),
	 * as PXE firmware does, and counts the replies; it goes on without waiting (it already
	 * knows the MAC the DHCP replies came from). */
	bool arp;
	bool random_macs;	     /* MACs spread (storm_vm_mac), not in sequence */
	/* --multicast R: this share of the VMs asks for the image with the RFC 2090
	 * "multicast" option (as iPXE's tftm:// does): joins the group the OACK names, ACKs
	 * only while master (mc=1), keeps a bitmap of the blocks it holds, and on a timeout
	 * or an ERROR fetches the image again by plain unicast (iPXE's "tftm://... ||
	 * tftp://..."). Needs --image and its content (--file NAME=PATH). */
	double mcast_ratio;
	/* --reflect: no DHCP/TFTP; every VM keeps reflect_window frames of reflect_size bytes
	 * in flight towards a reflector (dpdk-testpmd macswap) and checks what comes back as
	 * it checks DATA (parse, checksums, SHA-256). */
	bool reflect;
	uint16_t reflect_size;	 /* frame bytes, 64..1514 */
	uint16_t reflect_window; /* frames in flight per VM */
};

/* Fills cfg with the defaults described in storm_opts.c. */
void storm_cfg_defaults(struct storm_cfg *cfg);

/* How frames leave: a buffer per frame, then commit it. */
struct storm_io {
	void *ctx;
	/* A buffer for one frame; *cap gets its size. NULL: none free (counted, not sent). */
	uint8_t *(*tx_get)(void *ctx, size_t *cap);
	/* Send the frame just written in the buffer tx_get returned. */
	void (*tx_put)(void *ctx, size_t len);
};

struct evp_md_ctx_st;

/* One simulated VM. */
struct storm_vm {
	uint8_t mac[6];
	uint8_t kind;	    /* enum storm_kind */
	uint8_t state;	    /* enum storm_state */
	uint8_t fail;	    /* enum storm_fail */
	uint8_t fail_state; /* the state it failed in */
	uint8_t tries;	    /* retransmissions since the last progress */
	uint8_t naks;
	bool locked;	   /* srv_port is the server's TID */
	bool oack;	   /* the OACK of this transfer was taken */
	bool reacked;	   /* a re-ACK was sent since the last progress */
	bool has_prev;	   /* prev_* describe the last finished transfer (dally) */
	bool prev_probe;   /* ... and it was OVMF's size probe */
	int8_t file;	   /* index in storm_files of the current transfer, -1 = unknown */
	int8_t loader;	   /* the loader's index */
	uint16_t port;	   /* our TID (host order) */
	uint16_t srv_port; /* the server's TID */
	uint16_t prev_port, prev_srv_port, prev_block;
	uint16_t blksize, window, in_window;
	uint16_t err_code; /* last TFTP ERROR received */
	uint32_t xid;
	uint32_t ip;	    /* leased address, host order */
	uint32_t offered;   /* yiaddr of the OFFER */
	uint32_t server_id; /* option 54 */
	uint32_t tftp_ip;   /* siaddr / option 66 / server id */
	uint8_t server_mac[6];
	uint32_t next_block; /* next expected block, counted without rollover */
	uint64_t bytes;	     /* taken in order in this transfer */
	uint64_t t_on, t_bound, t_loader, t_done; /* us since the run started */
	uint64_t t_xfer, t_progress; /* this transfer's RRQ, its last in-order DATA (us) */
	uint32_t reflect_seq;			  /* --reflect: next sequence number */
	uint32_t reflect_out;			  /* --reflect: frames in flight */
	char bootfile[STORM_NAME_MAX];
	struct evp_md_ctx_st *md;
	/* --multicast (storm_mtftpc.c) */
	bool mc_want;	 /* this VM asks for the image by multicast */
	bool mc;	 /* this transfer: the RRQ carried the multicast option */
	bool mc_joined;	 /* the OACK named a group: listening to mc_group:mc_gport */
	bool mc_master;	 /* mc=1: our ACKs drive the stream */
	bool mc_retried; /* given up once, now fetching unicast */
	bool prev_mc;	 /* the finished transfer was multicast (answer a late mc=1 OACK) */
	uint8_t mg;	 /* index of the group in storm_fleet.mg */
	uint16_t mc_gport;
	uint32_t mc_group;    /* host order */
	uint32_t mc_have;     /* blocks held */
	uint32_t mc_nblocks;  /* blocks of the image at this blksize */
	uint32_t mc_last;     /* the last block taken (to map 16-bit block numbers) */
	int32_t mc_prev_vm, mc_next_vm; /* the group's member list, -1 = end */
	uint64_t *mc_bits;    /* held blocks, bit b-1 for block b (allocated at init) */
};

#define STORM_MGROUPS_MAX 64
#define STORM_FAIL_LOG_MAX 24 /* failed VMs described one per line on stderr */

/* A group some VM listens to: its members in a list through storm_vm.mc_next_vm. */
struct storm_mgroup {
	uint32_t ip; /* host order, 0 = free */
	uint16_t port;
	uint32_t members;
	int32_t head;
};

struct storm_fleet {
	struct storm_cfg cfg;
	const struct storm_files *files;
	struct storm_io io;
	struct storm_vm *vm;
	struct storm_wheel wheel;
	uint32_t *ip_tab; /* open addressing: VM index + 1, 0 = empty; key vm[i].ip */
	uint32_t ip_mask;
	uint64_t rng;
	uint32_t n_state[STORM_ST__COUNT];
	uint32_t n_fail[STORM_FAIL__COUNT];
	uint32_t n_fail_logged; /* failures described on stderr (the first STORM_FAIL_LOG_MAX) */
	uint32_t n_fail_state[STORM_ST__COUNT]; /* run_timeout VMs by the state they were in */
	uint32_t n_unanswered_state[STORM_ST__COUNT]; /* rrq_unanswered VMs by the RRQ's state */
	uint32_t n_ovmf;
	uint64_t t_last_done; /* the last VM done */
	uint64_t t_last_end;  /* the last VM done or failed */
	struct storm_counters c;
	const void *sha256; /* EVP_MD */
	struct storm_mgroup mg[STORM_MGROUPS_MAX];
	uint64_t *mc_bitmap; /* the VMs' mc_bits, one allocation */
	uint32_t mc_words;   /* 64-bit words per VM */
	uint32_t n_mc;	     /* VMs asking by multicast */
};

/*
 * Set up n VMs (array, timers, digests: every allocation of the run happens here). files
 * must outlive the fleet. Returns 0, or -errno with a message in err.
 */
int storm_fleet_init(struct storm_fleet *f, const struct storm_cfg *cfg,
		     const struct storm_files *files, const struct storm_io *io, char *err,
		     size_t errlen);
void storm_fleet_free(struct storm_fleet *f);

/* Power the VMs on at now_us + their ramp offsets (timers; storm_fleet_tick sends). */
void storm_fleet_start(struct storm_fleet *f, uint64_t now_us);

/* One received Ethernet frame. */
void storm_fleet_rx(struct storm_fleet *f, const uint8_t *frame, size_t len, uint64_t now_us);

/*
 * Run the timers due by now_us (power-on, back-off, retransmissions), at most budget of
 * them, so that the caller can poll its receive ring between batches (10,000 VMs powered
 * on at once are 10,000 timers in one millisecond). Returns how many ran; == budget means
 * more may be due.
 */
unsigned storm_fleet_tick(struct storm_fleet *f, uint64_t now_us, unsigned budget);

/* True when every VM is DONE or FAILED (never in --reflect mode). */
bool storm_fleet_finished(const struct storm_fleet *f);

/* End of the run: VMs still booting fail with STORM_FAIL_RUN_TIMEOUT. */
void storm_fleet_stop(struct storm_fleet *f, uint64_t now_us);

/*
 * RFC 2131 4.1: the delay before retransmission `attempt` (0 = after the first message) is
 * 4 s, 8 s, 16 s ... up to 64 s, randomized by a uniform number of seconds in [-1, +1]
 * (rnd: 32 random bits), all multiplied by scale. In microseconds, at least 1 ms.
 */
uint64_t storm_dhcp_backoff_us(unsigned attempt, uint32_t rnd, double scale);

/* MAC of VM i, and the index of the VM that has a MAC (-1 if none of ours). */
/* VM i's MAC: 02:57 and i + 1 in four bytes, or (spread, --random-macs) a reversible
 * scramble of i + 1; storm_mac_to_vm: the VM index of a MAC, -1 if none of ours. */
void storm_vm_mac(uint32_t i, bool spread, uint8_t mac[6]);
int64_t storm_mac_to_vm(const uint8_t mac[6], uint32_t n_vms, bool spread);

/* Names for the report. */
const char *storm_state_name(unsigned s);
const char *storm_fail_name(unsigned r);
const char *storm_fail_desc(unsigned r);

#endif
