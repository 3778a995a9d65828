/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Locate the UDP payload of an Ethernet/802.1Q/IPv4 frame, for tests only. */
static void find_udp(struct fixture_pkt *p)
{
	const uint8_t *f = p->frame;
	size_t off = 12, len = p->frame_len;

	p->udp_payload = NULL;
	while (off + 2 <= len && ((f[off] == 0x81 && f[off + 1] == 0x00) ||
				  (f[off] == 0x88 && f[off + 1] == 0xa8)))
		off += 4;
	if (off + 2 > len || f[off] != 0x08 || f[off + 1] != 0x00)
		return;
	off += 2;
	if (off + 20 > len || (f[off] >> 4) != 4 || f[off + 9] != 17)
		return;
	size_t ihl = (size_t)(f[off] & 0xf) * 4;
	if (off + ihl + 8 > len)
		return;
	const uint8_t *u = f + off + ihl;
	size_t ulen = ((size_t)u[4] << 8) | u[5];
	if (ulen < 8 || off + ihl + ulen > len)
		return;
	p->src_port = (uint16_t)((u[0] << 8) | u[1]);
	p->dst_port = (uint16_t)((u[2] << 8) | u[3]);
	p->udp_payload = u + 8;
	p->udp_len = ulen - 8;
}

void fixture_load(const char *subdir, struct fixture_set *out)
{
	const char *root = getenv("FIXTURES");
	char dir[512], errbuf[PCAP_ERRBUF_SIZE];
	char *names[256];
	size_t n_names = 0, cap = 0;

	memset(out, 0, sizeof(*out));
	if (!root)
		root = "tests/fixtures";
	snprintf(dir, sizeof(dir), "%s/%s", root, subdir);
	DIR *d = opendir(dir);
	if (!d)
		fail_msg("fixtures: cannot open %s (set FIXTURES)", dir);
	struct dirent *de;
	while ((de = readdir(d)) && n_names < 256) {
		size_t l = strlen(de->d_name);
		if (l > 5 && strcmp(de->d_name + l - 5, ".pcap") == 0)
			names[n_names++] = strdup(de->d_name);
	}
	closedir(d);
	if (n_names == 0)
		fail_msg("fixtures: no .pcap in %s", dir);
	qsort(names, n_names, sizeof(names[0]), name_cmp);

	for (size_t i = 0; i < n_names; i++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		pcap_t *pc = pcap_open_offline(path, errbuf);
		if (!pc)
			fail_msg("fixtures: %s: %s", path, errbuf);
		if (pcap_datalink(pc) != DLT_EN10MB)
			fail_msg("fixtures: %s: not an Ethernet capture", path);
		struct pcap_pkthdr *h;
		const u_char *data;
		unsigned idx = 0;
		while (pcap_next_ex(pc, &h, &data) == 1) {
			idx++;
			if (out->n == cap) {
				cap = cap ? cap * 2 : 64;
				out->pkts = realloc(out->pkts, cap * sizeof(*out->pkts));
			}
			struct fixture_pkt *p = &out->pkts[out->n++];
			memset(p, 0, sizeof(*p));
			snprintf(p->file, sizeof(p->file), "%s", names[i]);
			p->index = idx;
			p->frame_len = h->caplen;
			p->frame = malloc(h->caplen ? h->caplen : 1);
			memcpy(p->frame, data, h->caplen);
			find_udp(p);
		}
		pcap_close(pc);
		free(names[i]);
	}
}

void fixture_free(struct fixture_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->pkts[i].frame);
	free(set->pkts);
	memset(set, 0, sizeof(*set));
}

size_t fixture_for_each_prefix(const uint8_t *buf, size_t len, size_t min_ok_len,
			       int (*fn)(const uint8_t *buf, size_t len, void *arg), void *arg)
{
	size_t tried = 0;

	for (size_t l = 0; l < len; l++) {
		uint8_t *copy = malloc(l ? l : 1);
		memcpy(copy, buf, l);
		int rc = fn(copy, l, arg);
		free(copy);
		if (l < min_ok_len && rc >= 0)
			fail_msg("prefix of %zu bytes (of %zu) parsed as valid (rc %d)", l, len, rc);
		tried++;
	}
	return tried;
}
