/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_tftp_session.c - libFuzzer harness: a TFTP read transfer (dataplane/core/tftp_session.c)
 * driven by an input that is a script: an RRQ, then packets from the client (or a stranger)
 * and timer ticks. Every DATA the session asks for must build, block numbers must stay in the
 * file, and the session must end or keep a deadline.
 *
 * Input: [len][RRQ bytes] then records [kind][dt][len][bytes]: kind & 3: 0 packet from the
 * client, 1 from another port, 2 timer at the deadline, 3 timer now; dt: ms to add to now.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tftp_session.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t image[70000];
static struct catalog cat;
static struct catalog_entry entries[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < sizeof(image); i++)
		image[i] = (uint8_t)((i * 31) ^ (i >> 8));
	image[100] = '\n'; /* netascii conversion has work to do */
	image[200] = '\r';
	strcpy(entries[0].name, "img");
	entries[0].data = image;
	entries[0].size = sizeof(image);
	strcpy(entries[1].name, "small");
	entries[1].data = image;
	entries[1].size = 1500;
	return catalog_init(&cat, entries, 2) < 0 ? -1 : 0;
}

static void send_tx(const struct tftp_session *s, const struct tftp_tx *tx)
{
	static uint8_t out[65536 + 4];

	if (tx->oack && tftp_build_oack(out, sizeof(out), &s->params) < 0)
		abort();
	for (uint32_t i = 0; i < tx->data_count; i++)
		if (tftp_build_data(out, sizeof(out), s, tx->data_first + i) < 0)
			abort(); /* the session only asks for blocks it can send */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbcfg_tftp cfg = {.enabled = true,
				 .blksize_default = 512,
				 .blksize_max = 65464,
				 .windowsize_max = 64,
				 .timeout_ms = 1000,
				 .give_up_ms = 30000};
	struct tftp_peer peer = {0xc6120010, 40000, 61000};
	struct tftp_session s;
	const struct catalog_entry *img;
	struct tftp_rrq rrq;
	struct tftp_tx tx;
	uint64_t now = 0;
	size_t off, n;
	int rc;

	if (size < 1 || (n = data[0]) > size - 1)
		return 0;
	if (tftp_parse_request(data + 1, n, &rrq) < 0)
		return 0;
	img = catalog_lookup(&cat, rrq.filename, rrq.filename_len, &rc);
	if (img == NULL)
		return 0;
	if (tftp_session_start(&s, &peer, &rrq, img, &cfg, now, &tx) < 0)
		abort();
	send_tx(&s, &tx);
	for (off = 1 + n; off + 3 <= size && !tftp_session_ended(&s);) {
		uint8_t kind = data[off], dt = data[off + 1], len = data[off + 2];

		off += 3;
		if (len > size - off)
			len = (uint8_t)(size - off);
		now += dt;
		switch (kind & 3) {
		case 0:
		case 1:
			tftp_session_on_packet(&s, peer.client_ip,
					       (kind & 3) ? peer.client_port + 1 : peer.client_port,
					       data + off, len, now, &tx);
			break;
		case 2:
			now = tftp_session_next_deadline(&s);
			/* fall through */
		default:
			tftp_session_on_timer(&s, now, &tx);
			break;
		}
		off += len;
		send_tx(&s, &tx);
		if (!tftp_session_ended(&s) && tftp_session_next_deadline(&s) == UINT64_MAX)
			abort(); /* a live session always has a deadline */
		if (s.acked > s.last_block || s.sent > s.last_block)
			abort();
	}
	return 0;
}
