/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fixtures.h - test support: real-client packets captured in the lab
 * (tests/fixtures/<proto>/<client>.pcap, made by tests/lab/capture-fixtures.sh),
 * read back with libpcap, and the "every truncated prefix" check.
 */
#ifndef SB_TEST_FIXTURES_H
#define SB_TEST_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

struct fixture_pkt {
	char file[256];	   /* pcap file name, for messages */
	unsigned index;	   /* frame number in that file, from 1 */
	uint8_t *frame;	   /* whole Ethernet frame */
	size_t frame_len;
	const uint8_t *udp_payload; /* inside frame; NULL when not UDP/IPv4 */
	size_t udp_len;
	uint16_t src_port, dst_port; /* host order */
};

struct fixture_set {
	struct fixture_pkt *pkts;
	size_t n;
};

/*
 * Load every frame of every *.pcap under $FIXTURES/<subdir> (sorted by name).
 * Fails the test (cmocka fail_msg) if the folder has no capture.
 */
void fixture_load(const char *subdir, struct fixture_set *out);
void fixture_free(struct fixture_set *set);

/*
 * Call fn on every strict prefix of buf (lengths 0 .. len-1), each copied into
 * a fresh heap buffer of exactly that size so ASan catches any over-read.
 * fn returns its parse result; fixture_for_each_prefix fails the test if fn
 * returns >= 0 for a prefix shorter than min_ok_len (a truncated packet must
 * give a clean error) and returns the number of prefixes tried.
 */
size_t fixture_for_each_prefix(const uint8_t *buf, size_t len, size_t min_ok_len,
			       int (*fn)(const uint8_t *buf, size_t len, void *arg), void *arg);

#endif
