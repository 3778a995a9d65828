/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sbcfg.h - stormboot's configuration model.
 *
 * Plain C data, no jansson, no DPDK: the JSON parser (dataplane/config) fills a
 * struct sbcfg, the protocol core reads the parts it needs, the control process
 * serialises it back. Every IPv4 address in these structs is in HOST byte order;
 * wire fields elsewhere carry a _be suffix.
 */
#ifndef SB_SBCFG_H
#define SB_SBCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of a config error message ("path: reason"; sbcfg_json.h). */
#define SBCFG_ERR_MAX 1024

#define SBCFG_NAME_MAX	   128 /* boot file names, image names, URLs (DHCP file field is 128) */
#define SBCFG_PATH_MAX	   4096
#define SBCFG_IFNAME_MAX   16
#define SBCFG_HOSTNAME_MAX 64
#define SBCFG_MAX_DNS	   4
#define SBCFG_SHA256_HEX   65 /* 64 lower-case hex digits and the NUL */

/*
 * "images_allowed" of a subnet, a reservation or tftp: the image names (fnmatch(3) patterns,
 * flags 0) a client there may fetch. The patterns live in sbcfg.image_patterns[first..first+n).
 */
struct sbcfg_images_allowed {
	uint32_t first;
	uint16_t n;	 /* 0 with restricted: no image at all */
	bool restricted; /* false: no list here (the next, less specific one applies) */
};

/* How stormboot answers DHCP. */
enum sbcfg_dhcp_mode {
	SBCFG_DHCP_FULL = 0, /* full server: addresses + boot information */
	SBCFG_DHCP_PROXY,    /* proxyDHCP: boot information only, to PXE clients (port 67 and 4011) */
	SBCFG_DHCP_OFF,	     /* TFTP only */
};

/*
 * Client architecture classes that select a boot file (option 93, RFC 4578 and
 * the IANA "Processor Architecture Types" registry). pxe.c maps the raw value
 * to one of these.
 */
enum sbcfg_arch {
	SBCFG_ARCH_BIOS = 0,   /* 0: x86 BIOS */
	SBCFG_ARCH_UEFI_X64,   /* 7, 9: x64 UEFI */
	SBCFG_ARCH_UEFI_IA32,  /* 6: x86 UEFI */
	SBCFG_ARCH_UEFI_ARM64, /* 11 */
	SBCFG_ARCH_HTTP_X64,   /* 16: x64 UEFI HTTP boot, boot file is a URL */
	SBCFG_ARCH_HTTP_ARM64, /* 19: ARM64 UEFI HTTP boot */
	SBCFG_ARCH__COUNT,
};

/* What to hand out as boot file (option 67 / file field), by architecture. */
struct sbcfg_bootfiles {
	char by_arch[SBCFG_ARCH__COUNT][SBCFG_NAME_MAX]; /* "" = no boot file for that arch */
	/* What a client that identifies as iPXE (option 77 "iPXE" or option 175) gets
	 * instead, so it is not sent the iPXE binary again (no chainload loop). */
	char ipxe_script[SBCFG_NAME_MAX];
};

struct sbcfg_subnet {
	uint32_t network; /* host order */
	uint32_t netmask;
	uint32_t pool_start; /* first dynamic address, inclusive */
	uint32_t pool_end;   /* last dynamic address, inclusive */
	uint32_t router;     /* option 3, 0 = none */
	uint32_t dns[SBCFG_MAX_DNS];
	uint8_t n_dns;
	char domain[SBCFG_HOSTNAME_MAX]; /* option 15, "" = none */
	uint32_t lease_time;		 /* seconds, option 51 */
	uint32_t next_server;		 /* siaddr / option 66 for this subnet, 0 = server_ip */
	uint16_t vlan; /* 802.1Q VLAN ID (1..4094) whose unrelayed requests it serves, 0 = none */
	struct sbcfg_images_allowed images_allowed; /* for clients whose address is in it */
};

struct sbcfg_reservation {
	uint8_t mac[6];
	uint32_t ip;			     /* host order, 0 = boot information only, address from the pool */
	char hostname[SBCFG_HOSTNAME_MAX];   /* option 12, "" = none */
	char bootfile[SBCFG_NAME_MAX];	     /* overrides the per-arch boot file, "" = none */
	char ipxe_script[SBCFG_NAME_MAX];    /* overrides bootfiles.ipxe_script, "" = none */
	struct sbcfg_images_allowed images_allowed; /* for this MAC, before its subnet's */
};

/*
 * "dhcp.durability": when a DHCPACK may leave, with a control process (-C) keeping the leases
 * (docs/CONTROL.md, "Durability"). Without one the dataplane keeps leases in memory only.
 */
enum sbcfg_durability {
	SBCFG_DURABLE_STRICT = 0, /* "strict" (default): only once control has the lease on disk */
	SBCFG_DURABLE_AVAILABLE,  /* "available": also undurable (control away, slow, queue full) */
};

struct sbcfg_dhcp {
	enum sbcfg_dhcp_mode mode;
	enum sbcfg_durability durability;
	uint32_t offer_hold;	    /* seconds an OFFERed address is held for its MAC */
	bool offer_reuse; /* no free address: the oldest offer is made again to a new client, and a
			   * REQUEST may bind an address offered to another MAC (RFC 2131 4.3.1) */
	uint32_t decline_quarantine; /* seconds a DECLINEd address stays out of the pool */
	uint32_t max_lease_time;     /* cap on a client's requested lease time (option 51) */
	uint32_t min_lease_time;     /* floor on a client's requested lease time (51), 0 = none */
	/* Conflict detection (RFC 2131 2.2, RFC 5227 probe): an OFFER waits this long for an
	 * ARP reply from a host already using the address; 0 = off (the default: storms). */
	uint32_t conflict_probe_ms;
	uint32_t conflict_probe_max; /* OFFERs held pending a probe at once (more: held back) */
	struct sbcfg_bootfiles boot;
	struct sbcfg_subnet *subnets;
	size_t n_subnets;
	struct sbcfg_reservation *reservations;
	size_t n_reservations;
};

/*
 * Multicast TFTP (RFC 2090), tftp.multicast: clients that ask for it share one stream per
 * image, sent to a group of groups (a prefix inside 239.0.0.0/8, at most 256 groups) on port.
 */
struct sbcfg_mtftp {
	bool enabled;	   /* off by default: multicast needs a fabric that carries it */
	uint32_t group_lo; /* host order, first group of the range (the prefix's network) */
	uint8_t group_len; /* prefix length, 24..32 */
	uint16_t port;	   /* UDP port of the groups (atftpd's default: 1758) */
};

struct sbcfg_tftp {
	bool enabled;
	uint16_t port_lo;	/* server transfer ports (TIDs), inclusive range, steered by XDP */
	uint16_t port_hi;
	uint32_t max_sessions;
	uint32_t max_sessions_per_client; /* per client IPv4 address and lcore, 0 = no cap */
	uint16_t blksize_default; /* RFC 1350: 512 */
	uint16_t blksize_max;	  /* further clamped to mtu - 32 (IPv4 + UDP + TFTP headers) */
	uint16_t windowsize_max;  /* RFC 7440; 1 = lock-step */
	uint32_t timeout_ms;	  /* retransmission timeout when the client asks for none */
	uint32_t retries;	  /* deprecated: give_up_ms = timeout_ms * (retries + 1) when unset */
	uint32_t give_up_ms;	  /* a transfer without progress for this long is given up */
	uint16_t mtu;		  /* link MTU, for clamping blksize */
	struct sbcfg_images_allowed images_allowed; /* for clients no other list covers */
	struct sbcfg_mtftp multicast;
};

struct sbcfg_image {
	char name[SBCFG_NAME_MAX]; /* what clients ask for, normalised (no leading '/', '/' separators) */
	char path[SBCFG_PATH_MAX]; /* where the file is read from, once, at load */
	char sha256[SBCFG_SHA256_HEX]; /* pinned digest, lower-case hex; "" = not pinned */
	bool from_root; /* found under tftp_root (sbcfg_root.h), not listed: not written back */
	bool protected_;	       /* "protected": HTTP serves it only with a boot token */
};

/*
 * The HTTP boot server of stormboot-control (kernel TCP path, not the dataplane): images of
 * the registry by name, rendered iPXE scripts under /ipxe/ (docs/HTTP.md). port 0 = off.
 */
struct sbcfg_http {
	uint32_t listen_ip;	  /* host order; 0 = every address */
	uint16_t port;		  /* 0 = no HTTP server */
	uint32_t max_conns;	  /* concurrent connections; more are refused with 503 */
	uint32_t idle_timeout_ms; /* a connection with no progress for this long is closed */
	uint32_t max_per_ip;	  /* concurrent connections from one address; more: 503 */
	uint32_t header_timeout_ms; /* a whole request head must arrive within this */
	uint16_t https_port;	    /* HTTPS on listen's address, 0 = none */
	char tls_cert[SBCFG_PATH_MAX]; /* PEM certificate (chain) file, "" = none */
	char tls_key[SBCFG_PATH_MAX];  /* PEM private key file */
	uint32_t token_ttl_s;	       /* life of the boot tokens put in rendered scripts */
};

/*
 * "syslog": firmware logs (docs/TIMELINE.md). enabled: DHCP replies to PXE and iPXE clients
 * carry option 7 (log server) = server_ip, and stormboot-control receives syslog datagrams on
 * UDP port (kernel path) and joins each to its client's timeline by source address.
 * Option 7 names an address only: firmware sends to 514; another port is for tests.
 */
struct sbcfg_syslog {
	bool enabled;
	uint16_t port; /* 514 */
};

/*
 * "metrics": the Prometheus endpoint and status page of stormboot-control (kernel TCP path,
 * not the dataplane; docs/METRICS.md). port 0 = off.
 */
struct sbcfg_metrics {
	uint32_t listen_ip; /* host order; 0 = every address */
	uint16_t port;
};

/* What to do with a UDP checksum that does not verify (see docs/ARCHITECTURE.md). */
enum sbcfg_csum_policy {
	SBCFG_CSUM_ACCEPT = 0, /* count it, accept: veth/tap tx offload leaves partial sums */
	SBCFG_CSUM_VERIFY,     /* count it, drop */
};

/*
 * "ipv6_ra": answer IPv6 router solicitations with a router advertisement that configures
 * nothing (ends iPXE's wait for an RA). OFF is 0, so `if (cfg->ipv6_ra)` reads "answer the
 * solicitations the XDP program steers"; in AUTO mode it steers them only while no other router
 * advertises on the segment.
 */
enum sbcfg_ra_mode {
	SBCFG_RA_OFF = 0, /* false */
	SBCFG_RA_ON,	  /* true: always */
	SBCFG_RA_AUTO,	  /* "auto" (default): only while no other router is live */
};

/* Which IPv4 destinations of DHCP (67) and PXE (4011) the XDP program steers. */
enum sbcfg_dhcp_dst {
	SBCFG_DHCP_DST_ANY = 0, /* any (default) */
	SBCFG_DHCP_DST_SERVER,	/* 255.255.255.255 and server_ip only */
};

/* A per-source packet-rate limit; per_second 0 = none. */
struct sbcfg_rate {
	uint32_t per_second;
	uint32_t burst; /* packets at once */
};

#define SBCFG_VLAN_UNTAGGED	 0u
#define SBCFG_VLAN(outer, inner) ((uint32_t)(outer) << 16 | (uint32_t)(inner))
#define SBCFG_VLAN_ID_MAX	 4094u /* IEEE 802.1Q: 4095 is reserved */

/* Limits of the guard; the XDP maps (bpf/xdp_shared.h) are at least this large. */
#define SBCFG_GUARD_VLANS_MAX 1024
#define SBCFG_GUARD_DENY_MAX  4096
#define SBCFG_GUARD_ALLOW_MAX 65536
#define SBCFG_RATE_MAX	      1000000 /* packets per second, and burst */

/*
 * "guard": what the XDP program lets through to the dataplane (docs/CONFIG.md, docs/XDP.md).
 * Written into the program's maps when the dataplane starts (net_af_xdp ports only).
 */
struct sbcfg_guard {
	uint32_t *vlans; /* SBCFG_VLAN(outer, inner) VLAN IDs, SBCFG_VLAN_UNTAGGED = no tag */
	size_t n_vlans;	 /* 0 = every VLAN and untagged */
	enum sbcfg_dhcp_dst dhcp_dst;
	uint8_t (*mac_deny)[6]; /* DHCP/PXE/TFTP from these MACs is dropped */
	size_t n_mac_deny;
	uint8_t (*mac_allow)[6]; /* n_mac_allow > 0: DHCP/PXE/TFTP only from these MACs */
	size_t n_mac_allow;
	struct sbcfg_rate dhcp_rate; /* per client MAC, DHCP + PXE */
	struct sbcfg_rate tftp_rate; /* per source IPv4 address, TFTP requests + transfer ports */
};

#define SBCFG_ACCOUNT_MAX     33 /* user and group names (32 bytes, as useradd takes) or ids */
#define SBCFG_ACCESS_LIST_MAX 256
#define SBCFG_IMAGES_DIRS_MAX 64
#define SBCFG_PATTERNS_MAX    64 /* patterns in one images_allowed list */

#define SBCFG_RESTRICTED_RESERVATIONS 1u /* sbcfg.images_restricted */
#define SBCFG_RESTRICTED_SUBNETS      2u
#define SBCFG_RESTRICTED_TFTP	      4u

/*
 * "control": who may use stormboot-control's sockets (names or numeric ids, resolved by
 * control; root is always allowed) and where image-add may take files from
 * (docs/SECURITY.md). The dataplane reads and ignores it.
 */
struct sbcfg_control {
	char (*api_users)[SBCFG_ACCOUNT_MAX];
	size_t n_api_users;
	char (*api_groups)[SBCFG_ACCOUNT_MAX];
	size_t n_api_groups;
	bool api_listed; /* api_users or api_groups given: only they; else the socket's group */
	char (*dp_users)[SBCFG_ACCOUNT_MAX]; /* "dataplane_users" */
	size_t n_dp_users;
	char (*dp_groups)[SBCFG_ACCOUNT_MAX]; /* "dataplane_groups" */
	size_t n_dp_groups;
	char (*images_dirs)[SBCFG_PATH_MAX]; /* image-add takes files under these only */
	size_t n_images_dirs;
};

/*
 * "cluster": several servers on one boot fabric with one truth in etcd (docs/SCALE-OUT.md).
 * Absent (enabled false): one server, leases in the local log. Only control uses it; the
 * dataplane is told which hash buckets to answer over the channel.
 */
#define SBCFG_CLUSTER_ENDPOINTS_MAX 8
#define SBCFG_CLUSTER_URL_MAX	    256
#define SBCFG_CLUSTER_PATH_MAX	    512
#define SBCFG_CLUSTER_ID_MAX	    64
#define SBCFG_CLUSTER_PREFIX_MAX    128
struct sbcfg_cluster {
	bool enabled;
	char server_id[SBCFG_CLUSTER_ID_MAX]; /* unique per server: [A-Za-z0-9._-] */
	char endpoints[SBCFG_CLUSTER_ENDPOINTS_MAX][SBCFG_CLUSTER_URL_MAX]; /* http(s)://h:p */
	size_t n_endpoints;
	char prefix[SBCFG_CLUSTER_PREFIX_MAX];	    /* "/stormboot/": starts, ends with '/' */
	char ca_file[SBCFG_CLUSTER_PATH_MAX];	    /* TLS: CA bundle to verify etcd */
	char cert_file[SBCFG_CLUSTER_PATH_MAX];	    /* TLS client certificate */
	char key_file[SBCFG_CLUSTER_PATH_MAX];	    /* ... and its key */
	char user[SBCFG_ACCOUNT_MAX * 2];	    /* etcd authentication */
	char password_file[SBCFG_CLUSTER_PATH_MAX]; /* the password, first line */
	uint32_t timeout_ms;			    /* one request to etcd */
	uint32_t lease_ttl_s; /* the server's registration: buckets move after this */
	uint32_t batch_max;   /* leases per transaction (etcd --max-txn-ops) */
	uint32_t apply_wait_ms; /* an API change waits this long for every live server (0: none) */
};

struct sbcfg {
	char interface[SBCFG_IFNAME_MAX]; /* boot interface (net_af_xdp) */
	char dpdk_port[256];		  /* optional DPDK --vdev/devargs overriding the default port */
	char xdp_prog[SBCFG_PATH_MAX];	  /* XDP object; "" = the installed default */
	uint16_t queues;		  /* rx/tx queues = lcores polling them */
	uint32_t server_ip;		  /* host order; our address on the boot network */
	uint8_t server_mac[6];		  /* used when the port has no kernel behind it; 0 = port's */
	enum sbcfg_csum_policy udp_csum;
	enum sbcfg_ra_mode ipv6_ra;
	struct sbcfg_guard guard;
	struct sbcfg_dhcp dhcp;
	struct sbcfg_tftp tftp;
	struct sbcfg_http http;
	struct sbcfg_image *images;
	size_t n_images;
	struct sbcfg_control control;
	struct sbcfg_syslog syslog;
	struct sbcfg_metrics metrics;
	/* "tftp_root": every regular file under it is an image named by its path below it
	 * (sbcfg_root.h); "" = none. Listed images win over a file of the same name. */
	char tftp_root[SBCFG_PATH_MAX];
	struct sbcfg_cluster cluster;
	char (*image_patterns)[SBCFG_NAME_MAX]; /* every images_allowed list's patterns */
	size_t n_image_patterns;
	/* Derived: which kinds of images_allowed lists exist, SBCFG_RESTRICTED_* (the parser sets
	 * it; sbcfg_access_refresh() after adding one in C). 0 lets the TFTP path skip the check
	 * in one branch. */
	uint8_t images_restricted;
};

#endif
