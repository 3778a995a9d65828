/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_frame.c - libFuzzer harness: one Ethernet frame through the protocol core as the
 * engine dispatches it: pkt_parse_udp, then DHCP (full server and proxyDHCP, reply built
 * with its headers), TFTP requests (parse, catalog lookup, OACK/ERROR built), ARP replies
 * and IPv6 router solicitations. Every call must return cleanly: a crash, a sanitizer
 * report or a leak is a finding. Seeds: the real-client captures in tests/fixtures/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arp_probe.h"
#include "catalog.h"
#include "dhcp_server.h"
#include "lease.h"
#include "ndp.h"
#include "pkt.h"
#include "sbcfg_json.h"
#include "tftp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char config_json[] =
	"{\"interface\": \"sb0\", \"server_ip\": \"198.18.0.1\","
	" \"dhcp\": {\"mode\": \"full\", \"boot\": {\"bios\": \"undionly.kpxe\","
	"  \"uefi_x64\": \"ipxe.efi\", \"http_x64\": \"http://198.18.0.1/ipxe.efi\","
	"  \"ipxe_script\": \"boot.ipxe\"},"
	"  \"subnets\": [{\"network\": \"198.18.0.0/24\","
	"   \"pool\": {\"start\": \"198.18.0.100\", \"end\": \"198.18.0.120\"},"
	"   \"router\": \"198.18.0.1\", \"dns\": [\"198.18.0.1\"], \"domain\": \"lab\"},"
	"   {\"network\": \"198.18.1.0/24\", \"pool\": {\"start\": \"198.18.1.10\","
	"   \"end\": \"198.18.1.20\"}}],"
	"  \"reservations\": [{\"mac\": \"52:54:00:12:34:56\", \"ip\": \"198.18.0.50\"}]},"
	" \"images\": [{\"name\": \"undionly.kpxe\", \"path\": \"/nonexistent/undionly.kpxe\"},"
	"  {\"name\": \"ipxe.efi\", \"path\": \"/nonexistent/ipxe.efi\", \"protected\": true}]}";

static struct sbcfg cfg_full, cfg_proxy;
static size_t pool_size;
static void *pool_mem;
static struct catalog cat;
static struct catalog_entry entries[2];
static uint8_t image[3000];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[SBCFG_ERR_MAX];

	(void)argc;
	(void)argv;
	if (sbcfg_load_buffer(config_json, strlen(config_json), "<fuzz>", &cfg_full, err,
			      sizeof(err)) < 0 ||
	    sbcfg_load_buffer(config_json, strlen(config_json), "<fuzz>", &cfg_proxy, err,
			      sizeof(err)) < 0)
		abort();
	cfg_proxy.dhcp.mode = SBCFG_DHCP_PROXY;
	pool_size = lease_pool_memsize(&cfg_full.dhcp);
	pool_mem = aligned_alloc(64, (pool_size + 63) / 64 * 64);
	if (pool_mem == NULL)
		abort();
	for (size_t i = 0; i < sizeof(image); i++)
		image[i] = (uint8_t)(i * 7);
	strcpy(entries[0].name, "undionly.kpxe");
	entries[0].data = image;
	entries[0].size = sizeof(image);
	strcpy(entries[1].name, "ipxe.efi");
	entries[1].data = image;
	entries[1].size = 1024;
	if (catalog_init(&cat, entries, 2) < 0)
		abort();
	return 0;
}

static void dhcp(const struct sbcfg *cfg, struct lease_pool *pool, const struct pkt_udp *u)
{
	static const uint8_t our_mac[6] = {0x02, 0x5b, 0, 0, 0, 1};
	struct dhcp_server s;
	struct dhcp_result res;
	struct pkt_dest dst;
	uint8_t frame[2048];
	size_t hdr = pkt_hdr_len(u);
	int n;

	/* control's boot token keys: an HTTPClient offered http_x64 gets a token in the URL */
	static const struct boot_token_keys keys = {.cur_id = 2, .prev_id = 1};

	if (dhcp_server_init(&s, cfg, pool, cfg->server_ip) < 0)
		abort();
	s.token_keys = &keys;
	/* twice: the second sees the state the first left (offer held, lease bound) */
	for (uint64_t now = 1700000000; now < 1700000002; now++) {
		n = dhcp_server_handle(&s, u, now, frame + hdr, sizeof(frame) - hdr, &dst, &res);
		if (n > 0 && pkt_build_udp(frame, sizeof(frame), u, our_mac, &dst, (size_t)n) < 0)
			abort(); /* a reply that fits its buffer must fit with its headers */
		/* the conflict probe the engine would send for an OFFER, in the client's VLANs */
		if (n > 0 && res.msg_out == DHCP_OFFER && res.lease.ip &&
		    probe_build_request(frame, sizeof(frame), our_mac, u->vlan_tci, u->n_vlans,
					res.lease.ip) < 0)
			abort();
	}
}

static void tftp_request(const struct pkt_udp *u)
{
	struct tftp_rrq rrq;
	struct tftp_params p;
	uint8_t out[TFTP_OACK_MAX];
	const struct catalog_entry *img;
	const char *msg;
	uint16_t code;
	int rc = tftp_parse_request(u->payload, u->payload_len, &rrq);

	if (rc < 0) {
		if (tftp_error_for_drop(rc, &code, &msg))
			tftp_build_error(out, sizeof(out), code, msg);
		return;
	}
	img = catalog_lookup(&cat, rrq.filename, rrq.filename_len, &rc);
	if (img == NULL)
		return;
	tftp_negotiate(&rrq, img->size, img->netascii_size, &cfg_full.tftp, &p);
	if (tftp_build_oack(out, sizeof(out), &p) < 0 && p.oack_opts)
		abort(); /* TFTP_OACK_MAX holds any OACK we build */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t our_mac[6] = {0x02, 0x5b, 0, 0, 0, 1};
	uint8_t copy[2048];
	struct lease_pool *pool;
	struct pkt_udp u;
	size_t l3;
	int rc, err;

	if (size > sizeof(copy))
		return 0;
	rc = pkt_parse_udp(data, size, (size & 1) != 0, &u);
	if (rc < 0) {
		memcpy(copy, data, size);
		switch (pkt_ethertype(data, size, &l3)) {
		case PKT_ETHERTYPE_ARP: {
			struct probe_slot slots[2];
			struct probe_table t;
			uint32_t spa = 0;
			uint8_t sha[6];

			/* a reply to a conflict probe (arp_probe.h) against a pending probe */
			if (probe_parse_reply(data, size, &spa, sha) == 0) {
				probe_table_init(&t, slots, 2);
				probe_start(&t, 2, spa ? spa : 1, our_mac, 1, 0, 100);
				probe_match_reply(&t, spa, sha);
				probe_finish(&t, probe_expired(&t, 100));
			}
			pkt_arp_reply(copy, size, cfg_full.server_ip, our_mac);
			break;
		}
		case PKT_ETHERTYPE_IPV6:
			ndp_rs_to_ra(copy, size, sizeof(copy), our_mac);
			break;
		default:
			break;
		}
		return 0;
	}
	switch (u.dst_port) {
	case SB_PORT_DHCP_SERVER:
	case SB_PORT_PXE:
		memset(pool_mem, 0, pool_size);
		pool = lease_pool_init(pool_mem, pool_size, &cfg_full.dhcp, &err);
		if (pool == NULL)
			abort();
		dhcp(&cfg_full, pool, &u);
		dhcp(&cfg_proxy, NULL, &u);
		break;
	case SB_PORT_TFTP:
		tftp_request(&u);
		break;
	default:
		break;
	}
	return 0;
}
