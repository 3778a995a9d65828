/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * config_test.c - the JSON config parser against tests/fixtures/config:
 * good/ files parse to the expected values, every bad/ file is refused with
 * the expected field path and reason, every truncated prefix of a good file
 * fails cleanly, load -> to_json -> load gives the same config. The examples
 * in docs/examples must load too.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sbcfg_json.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static const char *fixtures_dir(void)
{
	const char *d = getenv("FIXTURES");

	return d ? d : "tests/fixtures";
}

static void fixture_path(char *buf, size_t cap, const char *sub, const char *name)
{
	snprintf(buf, cap, "%s/config/%s/%s", fixtures_dir(), sub, name);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		fail_msg("cannot open %s", path);
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		assert_non_null(buf);
		assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
		buf[n] = '\0';
		*len = (size_t)n;
	}
	fclose(f);
	assert_non_null(buf);
	return buf;
}

static bool is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Sorted *.json names in dir; returns the count, names freed by the caller. */
static size_t list_json(const char *dir, char ***names)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	*names = NULL;
	if (!d)
		fail_msg("cannot open %s (set FIXTURES)", dir);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		*names = realloc(*names, (n + 1) * sizeof(**names));
		assert_non_null(*names);
		(*names)[n++] = strdup(de->d_name);
	}
	closedir(d);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp((*names)[j - 1], (*names)[j]) > 0; j--) {
			char *t = (*names)[j];
			(*names)[j] = (*names)[j - 1];
			(*names)[j - 1] = t;
		}
	return n;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* ---- good files and the values they must give ---- */

static void check_full_lab(const struct sbcfg *c)
{
	assert_string_equal(c->interface, "sb0");
	assert_int_equal(c->server_ip, IP(198, 18, 0, 1));
	assert_int_equal(c->queues, 1);
	assert_int_equal(c->udp_csum, SBCFG_CSUM_ACCEPT);
	assert_int_equal(c->ipv6_ra, SBCFG_RA_AUTO); /* answer while no other router does */
	assert_int_equal(c->dhcp.mode, SBCFG_DHCP_FULL);
	assert_int_equal(c->dhcp.durability, SBCFG_DURABLE_STRICT); /* the default */
	assert_int_equal(c->dhcp.offer_hold, 30);
	assert_true(c->dhcp.offer_reuse);
	assert_int_equal(c->dhcp.decline_quarantine, 600);
	assert_int_equal(c->dhcp.max_lease_time, 86400);
	assert_string_equal(c->dhcp.boot.by_arch[SBCFG_ARCH_BIOS], "undionly.kpxe");
	assert_string_equal(c->dhcp.boot.by_arch[SBCFG_ARCH_UEFI_X64], "ipxe.efi");
	assert_string_equal(c->dhcp.boot.by_arch[SBCFG_ARCH_UEFI_IA32], "");
	assert_string_equal(c->dhcp.boot.by_arch[SBCFG_ARCH_UEFI_ARM64], "ipxe-arm64.efi");
	assert_string_equal(c->dhcp.boot.by_arch[SBCFG_ARCH_HTTP_X64],
			    "http://198.18.0.1/ipxe.efi");
	assert_string_equal(c->dhcp.boot.by_arch[SBCFG_ARCH_HTTP_ARM64], "");
	assert_string_equal(c->dhcp.boot.ipxe_script, "boot.ipxe");

	assert_int_equal(c->dhcp.n_subnets, 2);
	const struct sbcfg_subnet *s = &c->dhcp.subnets[0];
	assert_int_equal(s->network, IP(198, 18, 0, 0));
	assert_int_equal(s->netmask, IP(255, 255, 255, 0));
	assert_int_equal(s->pool_start, IP(198, 18, 0, 100));
	assert_int_equal(s->pool_end, IP(198, 18, 0, 200));
	assert_int_equal(s->router, IP(198, 18, 0, 1));
	assert_int_equal(s->n_dns, 1);
	assert_int_equal(s->dns[0], IP(198, 18, 0, 1));
	assert_string_equal(s->domain, "lab");
	assert_int_equal(s->lease_time, 3600);
	assert_int_equal(s->next_server, IP(198, 18, 0, 1));
	s = &c->dhcp.subnets[1];
	assert_int_equal(s->network, IP(198, 18, 1, 0));
	assert_int_equal(s->pool_start, IP(198, 18, 1, 10));
	assert_int_equal(s->pool_end, IP(198, 18, 1, 250));
	assert_int_equal(s->n_dns, 0);
	assert_string_equal(s->domain, "");
	assert_int_equal(s->lease_time, 7200);
	assert_int_equal(s->next_server, 0);

	assert_int_equal(c->dhcp.n_reservations, 2);
	const struct sbcfg_reservation *r = &c->dhcp.reservations[0];
	static const uint8_t mac0[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	assert_memory_equal(r->mac, mac0, 6);
	assert_int_equal(r->ip, IP(198, 18, 0, 50));
	assert_string_equal(r->hostname, "vm1");
	assert_string_equal(r->bootfile, "");
	assert_int_equal(c->dhcp.reservations[1].ip, IP(198, 18, 1, 5));

	assert_true(c->tftp.enabled);
	assert_int_equal(c->tftp.port_lo, 50000);
	assert_int_equal(c->tftp.port_hi, 50999);
	assert_int_equal(c->tftp.max_sessions, 4096);
	assert_int_equal(c->tftp.max_sessions_per_client, 8); /* the default */
	assert_int_equal(c->tftp.blksize_default, 512);
	assert_int_equal(c->tftp.blksize_max, 1468);
	assert_int_equal(c->tftp.windowsize_max, 64);
	assert_int_equal(c->tftp.timeout_ms, 1000);
	assert_int_equal(c->tftp.retries, 5);
	assert_int_equal(c->tftp.mtu, 1500);

	assert_int_equal(c->n_images, 3);
	assert_string_equal(c->images[0].name, "undionly.kpxe");
	assert_string_equal(c->images[0].path, "/usr/lib/ipxe/undionly.kpxe");
	assert_string_equal(c->images[2].name, "boot.ipxe");
}

static void check_proxy(const struct sbcfg *c)
{
	assert_int_equal(c->dhcp.mode, SBCFG_DHCP_PROXY);
	assert_int_equal(c->server_ip, IP(198, 18, 0, 2));
	assert_int_equal(c->dhcp.n_subnets, 1);
	assert_int_equal(c->dhcp.subnets[0].pool_start, 0);
	assert_int_equal(c->dhcp.subnets[0].pool_end, 0);
	assert_int_equal(c->dhcp.subnets[0].next_server, IP(198, 18, 0, 2));
	assert_int_equal(c->dhcp.subnets[0].lease_time, 3600); /* default */
	assert_int_equal(c->dhcp.n_reservations, 1);
	assert_int_equal(c->dhcp.reservations[0].ip, 0);
	assert_string_equal(c->dhcp.reservations[0].bootfile, "snponly.efi");
	assert_string_equal(c->dhcp.boot.by_arch[SBCFG_ARCH_HTTP_X64], "");
	assert_int_equal(c->n_images, 5);
	assert_string_equal(c->images[3].name, "ipxe-arm64.efi");
	assert_string_equal(c->images[3].path, "/srv/stormboot/arm64/ipxe.efi");
}

/* Everything left out takes sbcfg_defaults()' value. */
static void check_minimal(const struct sbcfg *c)
{
	struct sbcfg d;

	sbcfg_defaults(&d);
	assert_string_equal(c->interface, "sb0");
	assert_string_equal(c->dpdk_port, "");
	assert_string_equal(c->xdp_prog, "");
	assert_int_equal(c->queues, d.queues);
	assert_true(is_zero(c->server_mac, 6));
	assert_int_equal(c->udp_csum, d.udp_csum);
	assert_int_equal(c->dhcp.mode, d.dhcp.mode);
	assert_int_equal(c->dhcp.offer_hold, d.dhcp.offer_hold);
	assert_int_equal(c->dhcp.decline_quarantine, d.dhcp.decline_quarantine);
	assert_int_equal(c->dhcp.max_lease_time, d.dhcp.max_lease_time);
	assert_true(is_zero(&c->dhcp.boot, sizeof(c->dhcp.boot)));
	assert_int_equal(c->dhcp.n_subnets, 1);
	assert_int_equal(c->dhcp.subnets[0].router, 0);
	assert_int_equal(c->dhcp.subnets[0].lease_time, 3600);
	assert_int_equal(c->dhcp.n_reservations, 0);
	assert_null(c->dhcp.reservations);
	assert_memory_equal(&c->tftp, &d.tftp, sizeof(d.tftp));
	assert_int_equal(c->n_images, 0);
	assert_null(c->images);
}

static void check_relay_multi(const struct sbcfg *c)
{
	static const uint8_t smac[6] = {0x02, 0, 0, 0, 0, 0x01};

	assert_string_equal(c->interface, "eth1");
	assert_string_equal(c->dpdk_port, "0000:3b:00.0");
	assert_string_equal(c->xdp_prog, "/usr/lib/stormboot/stormboot_xdp.o");
	assert_memory_equal(c->server_mac, smac, 6);
	assert_int_equal(c->queues, 4);
	assert_int_equal(c->udp_csum, SBCFG_CSUM_VERIFY);
	assert_int_equal(c->ipv6_ra, SBCFG_RA_ON);
	assert_int_equal(c->dhcp.durability, SBCFG_DURABLE_AVAILABLE);
	assert_int_equal(c->tftp.max_sessions_per_client, 0); /* no cap */
	assert_int_equal(c->dhcp.decline_quarantine, 0);
	assert_int_equal(c->dhcp.max_lease_time, 600);
	assert_int_equal(c->dhcp.n_subnets, 3);
	const struct sbcfg_subnet *s = &c->dhcp.subnets[0];
	assert_int_equal(s->netmask, IP(255, 255, 240, 0));
	assert_int_equal(s->pool_end, IP(198, 18, 31, 250));
	assert_int_equal(s->n_dns, 4);
	assert_int_equal(s->dns[3], IP(198, 18, 255, 56));
	assert_string_equal(s->domain, "rack1.storm.example");
	/* lease_time left out and max_lease_time below 3600: the default is capped. */
	assert_int_equal(s->lease_time, 600);
	assert_int_equal(c->dhcp.subnets[1].pool_start, 0); /* reservations only */
	assert_int_equal(c->dhcp.subnets[1].lease_time, 300);
	assert_int_equal(c->dhcp.subnets[2].pool_start, c->dhcp.subnets[2].pool_end);
	assert_int_equal(c->dhcp.n_reservations, 3);
	assert_string_equal(c->dhcp.reservations[0].ipxe_script, "db.ipxe");
	assert_int_equal(c->dhcp.reservations[2].ip, 0);
	assert_int_equal(c->tftp.port_lo, 1024);
	assert_int_equal(c->tftp.port_hi, 4010);
	assert_int_equal(c->tftp.blksize_max, 8968);
	assert_int_equal(c->tftp.windowsize_max, 1);
	assert_int_equal(c->tftp.retries, 0);
	assert_int_equal(c->tftp.mtu, 9000);
	assert_string_equal(c->images[1].name, "efi/x64/ipxe.efi");
}

static void check_tftp_only(const struct sbcfg *c)
{
	assert_int_equal(c->dhcp.mode, SBCFG_DHCP_OFF);
	assert_int_equal(c->dhcp.n_subnets, 0);
	assert_true(c->tftp.enabled);
	assert_int_equal(c->tftp.port_lo, 60000);
	assert_int_equal(c->tftp.port_hi, 60099);
	assert_int_equal(c->tftp.max_sessions, 64);
	assert_int_equal(c->tftp.blksize_max, 1468);
	assert_int_equal(c->n_images, 1);
}

/* tftp.multicast set: parsed, the rest of tftp untouched. */
static void check_tftp_multicast(const struct sbcfg *c)
{
	assert_true(c->tftp.multicast.enabled);
	assert_int_equal(c->tftp.multicast.group_lo, IP(239, 1, 2, 128));
	assert_int_equal(c->tftp.multicast.group_len, 25);
	assert_int_equal(c->tftp.multicast.port, 2000);
	assert_int_equal(c->tftp.windowsize_max, 64);
}

static const struct good_case {
	const char *file;
	void (*check)(const struct sbcfg *c);
} good_cases[] = {
	{"full-lab.json", check_full_lab},   {"minimal.json", check_minimal},
	{"proxy.json", check_proxy},	     {"relay-multi.json", check_relay_multi},
	{"tftp-only.json", check_tftp_only}, {"tftp-multicast.json", check_tftp_multicast},
};

/* Every good file is in the table (an untested fixture is a defect). */
static const struct good_case *good_lookup(const char *file)
{
	for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++)
		if (strcmp(good_cases[i].file, file) == 0)
			return &good_cases[i];
	return NULL;
}

static void test_good_files(void **state)
{
	char dir[512], path[1024], err[SBCFG_ERR_MAX];
	char **names;
	size_t n;

	snprintf(dir, sizeof(dir), "%s/config/good", fixtures_dir());
	n = list_json(dir, &names);
	assert_int_equal(n, sizeof(good_cases) / sizeof(good_cases[0]));
	for (size_t i = 0; i < n; i++) {
		const struct good_case *gc = good_lookup(names[i]);
		struct sbcfg c;

		if (!gc)
			fail_msg("good/%s has no entry in good_cases", names[i]);
		fixture_path(path, sizeof(path), "good", names[i]);
		int rc = sbcfg_load_file(path, &c, err, sizeof(err));
		if (rc != 0)
			fail_msg("%s: rc %d: %s", names[i], rc, err);
		assert_string_equal(err, "");
		gc->check(&c);
		sbcfg_free(&c);
		assert_true(is_zero(&c, sizeof(c)));
	}
	free_names(names, n);
}

/* ---- bad files: one rule each; the message must name the field and the reason ---- */

static const struct bad_case {
	const char *file;
	const char *field;  /* "path: " the message must contain */
	const char *reason; /* and this */
} bad_cases[] = {
	/* JSON syntax: file:line:column */
	{"syntax-trailing-comma.json", ":4:1: invalid JSON", "'}'"},
	{"syntax-missing-comma.json", ":3:13: invalid JSON", "'}' expected"},
	{"syntax-duplicate-key.json", ":5:10: invalid JSON", "duplicate object key"},
	{"syntax-integer-overflow.json", ":4:", "too big integer"},
	{"syntax-empty.json", ":1:0: invalid JSON", "expected"},
	{"syntax-bad-utf8.json", ":2:", "unable to decode byte 0xff"},
	/* types */
	{"top-array.json", "(top level): ", "must be an object, not an array"},
	{"type-queues-string.json", ": queues: ", "must be an integer, not a string"},
	{"type-enabled-string.json", "tftp.enabled: ", "must be true or false"},
	{"type-ipv6-ra-string.json", ": ipv6_ra: ", "\"yes\" is not true, false or \"auto\""},
	{"type-subnets-object.json", "dhcp.subnets: ", "must be an array, not an object"},
	{"type-lease-real.json", "dhcp.subnets[0].lease_time: ", "must be an integer"},
	{"type-dhcp-null.json", ": dhcp: ", "must be an object, not null"},
	/* unknown fields */
	{"unknown-top.json", ": intreface: ", "did you mean \"interface\""},
	{"unknown-subnet.json", "dhcp.subnets[1].lease_tme: ", "did you mean \"lease_time\""},
	{"unknown-nosuggest.json", "tftp.colour: ", "unknown field (known fields here: enabled"},
	/* required fields */
	{"missing-server-ip.json", ": server_ip: ", "required field is missing"},
	{"missing-interface.json", ": interface: ", "required field is missing"},
	{"missing-network.json", "dhcp.subnets[0].network: ", "required field is missing"},
	{"pool-missing-end.json", "dhcp.subnets[0].pool.end: ", "required field is missing"},
	{"image-missing-path.json", "images[0].path: ", "required field is missing"},
	/* IPv4 syntax */
	{"ip-bad-octet.json", ": server_ip: ", "\"198.18.0.256\" is not an IPv4 address"},
	{"ip-leading-zero.json", "dhcp.subnets[0].router: ", "is not an IPv4 address"},
	{"ip-zero.json", "dhcp.subnets[0].router: ", "0.0.0.0 is not allowed"},
	{"dns-bad.json", "dhcp.subnets[0].dns[1]: ", "\"8.8.8\" is not an IPv4 address"},
	{"server-ip-multicast.json", ": server_ip: ", "239.1.1.1 is not a unicast"},
	/* CIDR */
	{"cidr-no-prefix.json", "dhcp.subnets[0].network: ", "is not an IPv4 prefix"},
	{"cidr-host-bits.json",
	 "dhcp.subnets[0].network: ", "host bits set (the network is 198.18.0.0/24)"},
	{"cidr-prefix-too-long.json", "dhcp.subnets[1].network: ", "prefix length /31"},
	/* pools */
	{"pool-outside.json",
	 "dhcp.subnets[1].pool.start: ", "198.18.2.10 is outside subnet 198.18.1.0/24"},
	{"pool-end-broadcast.json", "dhcp.subnets[0].pool.end: ", "is the broadcast address"},
	{"pool-inverted.json", "dhcp.subnets[0].pool.start: ", "is after pool.end"},
	{"pool-overlap.json", "dhcp.subnets[1].pool: ", "overlaps the pool of dhcp.subnets[0]"},
	{"subnet-overlap.json", "dhcp.subnets[1].network: ", "overlaps dhcp.subnets[0]"},
	{"pool-contains-server.json", "dhcp.subnets[0].pool: ", "contains server_ip"},
	{"pool-too-big.json", "dhcp.subnets[1].pool: ", "at most 1048576"},
	/* router, next server, DNS, domain */
	{"router-outside.json", "dhcp.subnets[0].router: ", "198.18.1.1 is outside subnet"},
	{"router-in-pool.json", "dhcp.subnets[0].router: ", "is inside the pool"},
	{"next-server-multicast.json", "dhcp.subnets[0].next_server: ", "not a unicast address"},
	{"dns-too-many.json", "dhcp.subnets[0].dns: ", "at most 4"},
	{"domain-bad.json", "dhcp.subnets[0].domain: ", "may contain only letters"},
	/* reservations */
	{"mac-bad.json", "dhcp.reservations[0].mac: ", "is not a MAC address"},
	{"mac-multicast.json", "dhcp.reservations[1].mac: ", "multicast"},
	{"resv-dup-mac.json", "dhcp.reservations[2].mac: ", "also the MAC of dhcp.reservations[0]"},
	{"resv-dup-ip.json", "dhcp.reservations[1].ip: ", "also reserved by dhcp.reservations[0]"},
	{"resv-ip-outside.json", "dhcp.reservations[0].ip: ", "not inside any subnet"},
	{"resv-ip-server.json", "dhcp.reservations[0].ip: ", "is the server_ip"},
	{"resv-hostname-bad.json", "dhcp.reservations[0].hostname: ", "may contain only"},
	/* lease times */
	{"lease-zero.json", "dhcp.subnets[0].lease_time: ", "0 is out of range 1.."},
	{"lease-above-max.json",
	 "dhcp.subnets[1].lease_time: ", "out of range 1..86400 (max_lease_time)"},
	{"max-lease-zero.json", "dhcp.max_lease_time: ", "out of range"},
	{"offer-hold-zero.json", "dhcp.offer_hold: ", "out of range 1..3600"},
	/* string lengths, control characters */
	{"name-too-long.json", "dhcp.boot.bios: ", "128 bytes long, at most 127"},
	{"interface-too-long.json", ": interface: ", "16 bytes long, at most 15"},
	{"hostname-too-long.json", "dhcp.reservations[0].hostname: ", "64 bytes long, at most 63"},
	{"image-name-too-long.json", "images[0].name: ", "200 bytes long, at most 127"},
	{"control-char.json", "dhcp.boot.ipxe_script: ", "control character"},
	/* TFTP */
	{"ports-low.json", "tftp.transfer_ports.first: ", "1000 is out of range 1024..65535"},
	{"ports-high.json", "tftp.transfer_ports.last: ", "70000 is out of range"},
	{"ports-inverted.json", "tftp.transfer_ports.first: ", "is above last"},
	{"ports-4011.json", "tftp.transfer_ports: ", "includes port 4011"},
	{"ports-half.json", "tftp.transfer_ports: ", "needs both"},
	{"blksize-small.json", "tftp.blksize_max: ", "7 is out of range 8..65464"},
	{"blksize-big.json", "tftp.blksize_default: ", "65465 is out of range 8..65464"},
	{"blksize-default-above-max.json", "tftp.blksize_default: ", "above blksize_max"},
	{"blksize-default-above-mtu.json",
	 "tftp.blksize_default: ", "does not fit one frame of mtu 576"},
	{"windowsize-zero.json", "tftp.windowsize_max: ", "0 is out of range 1.."},
	{"mtu-small.json", "tftp.mtu: ", "500 is out of range 576..9000"},
	{"multicast-outside-239.json", "tftp.multicast.groups: ", "must lie inside 239.0.0.0/8"},
	{"multicast-short-prefix.json", "tftp.multicast.groups: ", "a length of 24..32"},
	{"multicast-host-bits.json", "tftp.multicast.groups: ", "has host bits set"},
	{"multicast-not-prefix.json", "tftp.multicast.groups: ", "is not an IPv4 prefix"},
	{"multicast-port-low.json", "tftp.multicast.port: ", "69 is out of range 1024..65535"},
	{"multicast-unknown-key.json", "tftp.multicast.group: ", "did you mean \"groups\""},
	/* http (stormboot-control's HTTP boot server) */
	{"http-listen-no-port.json", "http.listen: ", "is not ADDRESS:PORT"},
	{"http-listen-port-zero.json", "http.listen: ", "\"198.18.0.1:0\" is not ADDRESS:PORT"},
	{"http-listen-bad-ip.json", "http.listen: ", "is not ADDRESS:PORT"},
	{"http-missing-listen.json", "http.listen: ", "required field is missing"},
	{"http-max-connections-zero.json", "http.max_connections: ", "0 is out of range 1..16384"},
	{"http-unknown-field.json", "http.idle_timeout: ", "unknown field (known fields here: listen,"},
	{"mtu-big.json", "tftp.mtu: ", "9001 is out of range"},
	{"timeout-zero.json", "tftp.timeout_ms: ", "out of range"},
	{"retries-too-many.json", "tftp.retries: ", "256 is out of range 0..255"},
	{"sessions-zero.json", "tftp.max_sessions: ", "out of range"},
	{"sessions-per-client-big.json", "tftp.max_sessions_per_client: ",
	 "1048577 is out of range 0..1048576"},
	{"sessions-per-client-negative.json", "tftp.max_sessions_per_client: ", "out of range"},
	{"queues-zero.json", ": queues: ", "0 is out of range 1..64"},
	{"queues-too-many.json", ": queues: ", "65 is out of range 1..64"},
	/* images */
	{"image-dup-name.json", "images[3].name: ", "also the name of images[1]"},
	{"image-leading-slash.json", "images[0].name: ", "must not start with '/'"},
	{"image-dotdot.json", "images[1].name: ", "\"..\" component"},
	{"image-backslash.json", "images[1].name: ", "not '\\'"},
	{"image-empty-component.json", "images[1].name: ", "empty path component"},
	{"image-relative-path.json", "images[0].path: ", "not an absolute path"},
	/* enums, modes */
	{"mode-bad.json", "dhcp.mode: ", "\"server\" is not one of \"full\", \"proxy\", \"off\""},
	{"durability-bad.json", "dhcp.durability: ",
	 "\"fast\" is not one of \"strict\", \"available\""},
	{"durability-not-string.json", "dhcp.durability: ", "a string"},
	{"csum-bad.json", "udp_checksum: ", "\"ignore\" is not one of \"accept\", \"verify\""},
	{"proxy-with-pool.json", "dhcp.subnets[0].pool: ", "proxy mode hands out no addresses"},
	{"proxy-no-bootfile.json", "dhcp.boot: ", "proxy mode only hands out boot files"},
	{"proxy-resv-ip.json", "dhcp.reservations[0].ip: ", "proxy mode hands out no addresses"},
	{"full-no-subnets.json", "dhcp.subnets: ", "full mode needs at least one subnet"},
	{"nothing-to-serve.json", "tftp.enabled: ", "nothing to serve"},
	{"http-not-url.json", "dhcp.boot.http_x64: ", "needs a URL"},
	{"server-mac-multicast.json", ": server_mac: ", "multicast"},
	{"xdp-prog-relative.json", ": xdp_prog: ", "absolute path"},
};

#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

static void test_bad_files(void **state)
{
	char dir[512], path[1024], err[SBCFG_ERR_MAX];
	char **names;
	size_t n;

	snprintf(dir, sizeof(dir), "%s/config/bad", fixtures_dir());
	n = list_json(dir, &names);
	for (size_t i = 0; i < n; i++) {
		size_t j;
		for (j = 0; j < N_BAD; j++)
			if (strcmp(bad_cases[j].file, names[i]) == 0)
				break;
		if (j == N_BAD)
			fail_msg("bad/%s has no entry in bad_cases", names[i]);
	}
	assert_int_equal(n, N_BAD);
	free_names(names, n);

	for (size_t i = 0; i < N_BAD; i++) {
		const struct bad_case *bc = &bad_cases[i];
		struct sbcfg c;

		fixture_path(path, sizeof(path), "bad", bc->file);
		memset(&c, 0xa5, sizeof(c));
		int rc = sbcfg_load_file(path, &c, err, sizeof(err));
		print_message("%s\n", err);
		if (rc != -EINVAL)
			fail_msg("%s: rc %d, expected -EINVAL (%s)", bc->file, rc, err);
		/* The message names the file first, then the field, then the reason. */
		const char *field = strstr(err + strlen(path), bc->field);
		if (strncmp(err, path, strlen(path)) != 0 || !field ||
		    !strstr(field + strlen(bc->field), bc->reason))
			fail_msg("%s: message \"%s\" lacks \"%s\" ... \"%s\"", bc->file, err,
				 bc->field, bc->reason);
		assert_true(is_zero(&c, sizeof(c)));
	}
}

/* ---- every truncated prefix of a good file fails cleanly ---- */

static void truncate_file(const char *path)
{
	char err[SBCFG_ERR_MAX];
	size_t len = 0, end;
	char *full = read_all(path, &len);
	struct sbcfg c;

	/* A prefix that still holds the whole object is valid: trailing blanks are optional. */
	for (end = len; end > 0 && strchr(" \t\r\n", full[end - 1]); end--)
		;
	for (size_t l = 0; l < end; l++) {
		char *buf = malloc(l ? l : 1); /* exactly l bytes: ASan sees any over-read */
		assert_non_null(buf);
		memcpy(buf, full, l);
		memset(&c, 0xa5, sizeof(c));
		err[0] = '\0';
		int rc = sbcfg_load_buffer(buf, l, "trunc.json", &c, err, sizeof(err));
		if (rc != -EINVAL)
			fail_msg("%s cut at %zu of %zu: rc %d", path, l, len, rc);
		if (strncmp(err, "trunc.json:", 11) != 0)
			fail_msg("%s cut at %zu: message \"%s\"", path, l, err);
		assert_true(is_zero(&c, sizeof(c)));
		free(buf);
	}
	assert_int_equal(sbcfg_load_buffer(full, end, "whole", &c, err, sizeof(err)), 0);
	sbcfg_free(&c);
	free(full);
}

static void test_truncated(void **state)
{
	char path[1024];

	for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
		fixture_path(path, sizeof(path), "good", good_cases[i].file);
		truncate_file(path);
	}
}

/* ---- load -> to_json -> load gives the same config ---- */

static void round_trip(const char *path)
{
	char err[SBCFG_ERR_MAX];
	struct sbcfg a, b;

	if (sbcfg_load_file(path, &a, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	char *json = sbcfg_to_json(&a);
	assert_non_null(json);
	if (sbcfg_load_string(json, &b, err, sizeof(err)) != 0)
		fail_msg("%s: reloading to_json output: %s\n%s", path, err, json);
	assert_true(sbcfg_equal(&a, &b));
	char *again = sbcfg_to_json(&b);
	assert_non_null(again);
	assert_string_equal(json, again); /* a fixed point after one round */
	assert_int_equal(json[strlen(json) - 1], '\n');
	free(json);
	free(again);
	sbcfg_free(&a);
	sbcfg_free(&b);
}

static void test_round_trip(void **state)
{
	char path[1024];

	for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
		fixture_path(path, sizeof(path), "good", good_cases[i].file);
		round_trip(path);
	}
}

/* sbcfg_equal must see a change in any part, or the round trip proves nothing. */
static void test_equal_detects_changes(void **state)
{
	char path[1024], err[SBCFG_ERR_MAX];
	struct sbcfg a, b;

	fixture_path(path, sizeof(path), "good", "relay-multi.json");
	assert_int_equal(sbcfg_load_file(path, &a, err, sizeof(err)), 0);
	for (int change = 0; change < 12; change++) {
		assert_int_equal(sbcfg_load_file(path, &b, err, sizeof(err)), 0);
		assert_true(sbcfg_equal(&a, &b));
		switch (change) {
		case 0:
			b.interface[0] = 'x';
			break;
		case 1:
			b.server_mac[5]++;
			break;
		case 2:
			b.udp_csum = SBCFG_CSUM_ACCEPT;
			break;
		case 3:
			b.dhcp.boot.by_arch[SBCFG_ARCH_HTTP_ARM64][0] = 'H';
			break;
		case 4:
			b.dhcp.subnets[0].dns[3]++;
			break;
		case 5:
			b.dhcp.subnets[2].pool_end++;
			break;
		case 6:
			b.dhcp.reservations[0].ipxe_script[0] = 'D';
			break;
		case 7:
			b.dhcp.n_reservations--;
			break;
		case 8:
			b.tftp.retries++;
			break;
		case 9:
			b.tftp.enabled = false;
			break;
		case 10:
			b.images[3].path[1] = 'S';
			break;
		case 11:
			b.n_images--;
			break;
		}
		assert_false(sbcfg_equal(&a, &b));
		if (change == 7)
			b.dhcp.n_reservations++;
		if (change == 11)
			b.n_images++;
		sbcfg_free(&b);
	}
	sbcfg_free(&a);
}

/* ---- the examples in docs/ are real, valid configs ---- */

static void test_doc_examples(void **state)
{
	char dir[512], path[1024], err[SBCFG_ERR_MAX];
	char **names;
	size_t n;

	snprintf(dir, sizeof(dir), "%s/../../docs/examples", fixtures_dir());
	n = list_json(dir, &names);
	assert_true(n >= 2);
	for (size_t i = 0; i < n; i++) {
		struct sbcfg c;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (sbcfg_load_file(path, &c, err, sizeof(err)) != 0)
			fail_msg("%s", err);
		sbcfg_free(&c);
		round_trip(path);
		truncate_file(path);
	}
	free_names(names, n);
}

/* Many subnets and reservations: lookups and duplicate checks must scale and stay exact. */
static char *big_config(size_t n_subnets, size_t per_subnet, const char *extra)
{
	size_t cap = 4096 + n_subnets * (120 + per_subnet * 80), off = 0;
	char *j = malloc(cap);

	assert_non_null(j);
	off += (size_t)snprintf(j + off, cap - off,
				"{\"interface\":\"sb0\",\"server_ip\":\"198.19.0.1\","
				"\"dhcp\":{\"subnets\":[");
	for (size_t i = 0; i < n_subnets; i++) /* /28s tiling 198.18.0.0/16 */
		off += (size_t)snprintf(j + off, cap - off,
					"%s{\"network\":\"198.18.%zu.%zu/28\",\"pool\":{"
					"\"start\":\"198.18.%zu.%zu\",\"end\":\"198.18.%zu.%zu\"}}",
					i ? "," : "", i / 16, i % 16 * 16, i / 16, i % 16 * 16 + 12,
					i / 16, i % 16 * 16 + 14);
	off += (size_t)snprintf(j + off, cap - off, "],\"reservations\":[");
	for (size_t i = 0; i < n_subnets; i++)
		for (size_t r = 0; r < per_subnet; r++)
			off += (size_t)snprintf(j + off, cap - off,
						"%s{\"mac\":\"52:54:00:%02zx:%02zx:%02zx\",\"ip\":"
						"\"198.18.%zu.%zu\"}",
						i || r ? "," : "", i >> 8, i & 0xff, r, i / 16,
						i % 16 * 16 + 1 + r);
	off += (size_t)snprintf(j + off, cap - off, "%s]}}", extra);
	assert_true(off < cap);
	return j;
}

static void test_large_config(void **state)
{
	char err[SBCFG_ERR_MAX];
	struct sbcfg c;
	char *j = big_config(4096, 10, "");

	if (sbcfg_load_string(j, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.dhcp.n_subnets, 4096);
	assert_int_equal(c.dhcp.n_reservations, 40960);
	assert_int_equal(c.dhcp.reservations[40959].ip, IP(198, 18, 255, 250));
	sbcfg_free(&c);
	free(j);

	/* One duplicate address at the very end is found and named. */
	j = big_config(4096, 10, ",{\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.18.0.1\"}");
	assert_int_equal(sbcfg_load_string(j, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "dhcp.reservations[40960].ip: 198.18.0.1 is also reserved by "
				    "dhcp.reservations[0]"));
	free(j);
	/* An address just past the last subnet is in none. */
	j = big_config(4096, 10, ",{\"mac\":\"02:00:00:00:00:01\",\"ip\":\"198.19.0.9\"}");
	assert_int_equal(sbcfg_load_string(j, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(
		strstr(err, "dhcp.reservations[40960].ip: 198.19.0.9 is not inside any subnet"));
	free(j);
}

/* ---- API edges ---- */

static void test_defaults(void **state)
{
	struct sbcfg d;
	char err[SBCFG_ERR_MAX];

	sbcfg_defaults(&d);
	assert_int_equal(d.queues, 1);
	assert_int_equal(d.dhcp.mode, SBCFG_DHCP_FULL);
	assert_int_equal(d.tftp.blksize_default, 512);
	assert_int_equal(d.tftp.port_lo, 61000);
	assert_false(d.tftp.multicast.enabled); /* a fabric must be made to carry multicast */
	assert_int_equal(d.tftp.multicast.group_lo, IP(239, 255, 0, 0));
	assert_int_equal(d.tftp.multicast.port, 1758);
	/* Defaults alone are not a config: the boot interface, address and a subnet are needed. */
	assert_int_equal(sbcfg_validate(&d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "interface: required"));
	strcpy(d.interface, "sb0");
	assert_int_equal(sbcfg_validate(&d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "server_ip: required"));
	d.server_ip = IP(198, 18, 0, 1);
	assert_int_equal(sbcfg_validate(&d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "dhcp.subnets: full mode needs"));
	d.dhcp.mode = SBCFG_DHCP_OFF;
	assert_int_equal(sbcfg_validate(&d, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

/* Rules that JSON cannot express but a config built in C (control API) can break. */
static void test_validate_struct(void **state)
{
	char path[1024], err[SBCFG_ERR_MAX];
	struct sbcfg c;

	fixture_path(path, sizeof(path), "good", "full-lab.json");
	assert_int_equal(sbcfg_load_file(path, &c, err, sizeof(err)), 0);
	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), 0);

	memset(c.interface, 'x', sizeof(c.interface)); /* no NUL */
	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "interface: is not NUL-terminated"));
	strcpy(c.interface, "sb0");

	c.dhcp.subnets[1].netmask = IP(255, 0, 255, 0);
	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(
		strstr(err, "dhcp.subnets[1].network: netmask 255.0.255.0 is not contiguous"));
	c.dhcp.subnets[1].netmask = IP(255, 255, 255, 0);

	c.dhcp.mode = (enum sbcfg_dhcp_mode)7;
	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "dhcp.mode: invalid value 7"));
	c.dhcp.mode = SBCFG_DHCP_FULL;

	c.dhcp.subnets[0].n_dns = 5;
	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "dhcp.subnets[0].dns: at most 4"));
	c.dhcp.subnets[0].n_dns = 1;

	c.tftp.port_lo = 60;
	c.tftp.port_hi = 70;
	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "tftp.transfer_ports.first: 60 is out of range"));
	c.tftp.port_lo = 50000;
	c.tftp.port_hi = 50999;

	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), 0);
	sbcfg_free(&c);
}

static void test_error_buffer(void **state)
{
	char small[12];
	struct sbcfg c;

	/* Truncated, NUL-terminated, no overflow (ASan). */
	assert_int_equal(sbcfg_load_string("{\"queues\": \"x\"}", &c, small, sizeof(small)),
			 -EINVAL);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(sbcfg_load_string("{", &c, small, 1), -EINVAL);
	assert_string_equal(small, "");
	assert_int_equal(sbcfg_load_string("{", &c, NULL, 0), -EINVAL);
	assert_int_equal(sbcfg_load_string(NULL, &c, NULL, 0), -EINVAL);
	assert_int_equal(sbcfg_load_buffer(NULL, 0, "x", &c, small, sizeof(small)), -EINVAL);
	sbcfg_free(NULL);
}

static void test_load_file_errors(void **state)
{
	char path[1024], err[SBCFG_ERR_MAX];
	struct sbcfg c;

	snprintf(path, sizeof(path), "%s/config/no-such-file.json", fixtures_dir());
	assert_int_equal(sbcfg_load_file(path, &c, err, sizeof(err)), -ENOENT);
	assert_true(strncmp(err, path, strlen(path)) == 0);
	assert_non_null(strstr(err, "No such file"));
	snprintf(path, sizeof(path), "%s/config", fixtures_dir());
	assert_int_equal(sbcfg_load_file(path, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
}

/* Strings whose name fits exactly (limit - 1 bytes) are accepted. */
static void test_exact_fit(void **state)
{
	char json[1024], name[SBCFG_NAME_MAX], err[SBCFG_ERR_MAX];
	struct sbcfg c;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(json, sizeof(json),
		 "{\"interface\":\"abcdefghijklmno\",\"server_ip\":\"198.18.0.1\","
		 "\"dhcp\":{\"mode\":\"off\"},\"images\":[{\"name\":\"%s\",\"path\":\"/x\"}]}",
		 name);
	if (sbcfg_load_string(json, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(strlen(c.interface), SBCFG_IFNAME_MAX - 1);
	assert_int_equal(strlen(c.images[0].name), SBCFG_NAME_MAX - 1);
	sbcfg_free(&c);
}

/* ---- issue 15 (DHCP defects): dhcp.min_lease_time ---- */

/* A minimal full-mode config with `dhcp_extra` inside "dhcp" and `subnet_extra` in its subnet. */
static int load_dhcp(const char *dhcp_extra, const char *subnet_extra, struct sbcfg *c, char *err)
{
	char json[1024];

	snprintf(json, sizeof(json),
		 "{\"interface\":\"sb0\",\"server_ip\":\"198.18.0.1\",\"dhcp\":{%s%s"
		 "\"subnets\":[{\"network\":\"198.18.0.0/24\",\"pool\":{\"start\":"
		 "\"198.18.0.100\",\"end\":\"198.18.0.199\"}%s%s}]}}",
		 dhcp_extra, dhcp_extra[0] ? "," : "", subnet_extra[0] ? "," : "", subnet_extra);
	return sbcfg_load_string(json, c, err, SBCFG_ERR_MAX);
}

static void expect_refused(const char *dhcp_extra, const char *subnet_extra, const char *msg)
{
	char err[SBCFG_ERR_MAX];
	struct sbcfg c;

	assert_int_equal(load_dhcp(dhcp_extra, subnet_extra, &c, err), -EINVAL);
	if (!strstr(err, msg))
		fail_msg("%s / %s: \"%s\", expected \"%s\"", dhcp_extra, subnet_extra, err, msg);
}

static void test_min_lease_time(void **state)
{
	char err[SBCFG_ERR_MAX];
	struct sbcfg c, d;

	sbcfg_defaults(&d);
	assert_int_equal(d.dhcp.min_lease_time, 60);
	assert_int_equal(load_dhcp("", "", &c, err), 0);
	assert_int_equal(c.dhcp.min_lease_time, 60);
	sbcfg_free(&c);
	if (load_dhcp("\"min_lease_time\":300", "", &c, err) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.dhcp.min_lease_time, 300);
	/* Round trip and sbcfg_equal see it. */
	char *json = sbcfg_to_json(&c);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"min_lease_time\": 300"));
	assert_int_equal(sbcfg_load_string(json, &d, err, sizeof(err)), 0);
	assert_true(sbcfg_equal(&c, &d));
	d.dhcp.min_lease_time++;
	assert_false(sbcfg_equal(&c, &d));
	sbcfg_free(&d);
	free(json);
	sbcfg_free(&c);
	/* 0 turns it off. */
	assert_int_equal(load_dhcp("\"min_lease_time\":0", "", &c, err), 0);
	assert_int_equal(c.dhcp.min_lease_time, 0);
	sbcfg_free(&c);
	/* A max_lease_time below the default floor lowers the default, not the max. */
	if (load_dhcp("\"max_lease_time\":30", "", &c, err) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.dhcp.min_lease_time, 30);
	sbcfg_free(&c);
	expect_refused("\"min_lease_time\":\"60\"", "", "dhcp.min_lease_time: must be an integer");
	expect_refused("\"min_lease_time\":-1", "", "dhcp.min_lease_time: ");
	expect_refused("\"max_lease_time\":600,\"min_lease_time\":601", "",
		       "dhcp.min_lease_time: 601 is out of range 0..600 (max_lease_time)");
	expect_refused("\"min_lease_time\":120", "\"lease_time\":100",
		       "dhcp.subnets[0].lease_time: 100 is below min_lease_time 120");
	/* The C struct is checked the same way (control API). */
	assert_int_equal(load_dhcp("", "", &c, err), 0);
	c.dhcp.min_lease_time = c.dhcp.max_lease_time + 1;
	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "dhcp.min_lease_time: "));
	sbcfg_free(&c);
}

/* ---- issue 15 (DHCP defects): dhcp.subnets[].vlan ---- */

static void test_subnet_vlan(void **state)
{
	char err[SBCFG_ERR_MAX], json[1024];
	struct sbcfg c, d;

	assert_int_equal(load_dhcp("", "", &c, err), 0);
	assert_int_equal(c.dhcp.subnets[0].vlan, 0);
	sbcfg_free(&c);
	if (load_dhcp("", "\"vlan\":4094", &c, err) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.dhcp.subnets[0].vlan, 4094);
	char *out = sbcfg_to_json(&c);
	assert_non_null(out);
	assert_non_null(strstr(out, "\"vlan\": 4094"));
	assert_int_equal(sbcfg_load_string(out, &d, err, sizeof(err)), 0);
	assert_true(sbcfg_equal(&c, &d));
	d.dhcp.subnets[0].vlan = 7;
	assert_false(sbcfg_equal(&c, &d));
	sbcfg_free(&d);
	free(out);
	sbcfg_free(&c);
	expect_refused("", "\"vlan\":0", "dhcp.subnets[0].vlan: 0 is out of range 1..4094");
	expect_refused("", "\"vlan\":4095", "dhcp.subnets[0].vlan: 4095 is out of range 1..4094");
	expect_refused("", "\"vlan\":\"10\"", "dhcp.subnets[0].vlan: must be an integer");
	/* Two subnets on one VLAN: which would an unrelayed request get? */
	snprintf(json, sizeof(json),
		 "{\"interface\":\"sb0\",\"server_ip\":\"198.18.0.1\",\"dhcp\":{\"subnets\":["
		 "{\"network\":\"198.18.0.0/24\",\"vlan\":10},"
		 "{\"network\":\"198.18.1.0/24\",\"vlan\":11},"
		 "{\"network\":\"198.18.2.0/24\",\"vlan\":10}]}}");
	assert_int_equal(sbcfg_load_string(json, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(
		strstr(err, "dhcp.subnets[2].vlan: 10 is also the VLAN of dhcp.subnets[0]"));
	/* The C struct is checked the same way. */
	assert_int_equal(load_dhcp("", "", &c, err), 0);
	c.dhcp.subnets[0].vlan = 5000;
	assert_int_equal(sbcfg_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "dhcp.subnets[0].vlan: 5000 is out of range"));
	sbcfg_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_files),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_equal_detects_changes),
		cmocka_unit_test(test_doc_examples),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_validate_struct),
		cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_load_file_errors),
		cmocka_unit_test(test_exact_fit),
		cmocka_unit_test(test_large_config),
		cmocka_unit_test(test_min_lease_time),
		cmocka_unit_test(test_subnet_vlan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
