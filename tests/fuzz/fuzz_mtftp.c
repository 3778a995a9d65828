/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_mtftp.c - libFuzzer harness: a multicast TFTP stream (dataplane/core/mtftp.c, RFC 2090)
 * driven by a script of RRQs and packets from up to 8 clients (or strangers) and timer ticks.
 * Every OACK and DATA the stream asks for must build, the master must be a client of the
 * stream, block numbers must stay in the file, and a live stream must keep a deadline.
 *
 * Input: records [kind][dt][who][len][bytes]: kind & 3: 0 RRQ from client who & 7 (bytes are
 * the RRQ; the first one that parses starts the stream), 1 packet from client who & 7 (who &
 * 8: from a stranger's port), 2 timer at the deadline, 3 timer now; dt: ms to add to now.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mtftp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t image[70000];
static struct catalog_entry img;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < sizeof(image); i++)
		image[i] = (uint8_t)((i * 31) ^ (i >> 8));
	strcpy(img.name, "img");
	img.data = image;
	img.size = sizeof(image);
	img.netascii_size = sizeof(image);
	return 0;
}

static void send_tx(const struct mtftp_stream *st, const struct mtftp_tx *tx)
{
	static uint8_t out[65536 + 4];

	if (tx->oack && mtftp_build_oack(out, sizeof(out), st, tx) < 0)
		abort();
	for (uint32_t i = 0; i < tx->data_count; i++)
		if (mtftp_build_data(out, sizeof(out), st, tx->data_first + i) < 0)
			abort(); /* the stream only asks for blocks it can send */
	if (tx->data_count && tx->data_unicast && mtftp_find(st, tx->data_ip, tx->data_port) < 0)
		abort(); /* unicast DATA only to a client of the stream */
	if (tx->data_count && !tx->data_group && !tx->data_unicast)
		abort(); /* DATA goes somewhere */
}

static void check(const struct mtftp_stream *st)
{
	uint32_t n = 0;

	for (int i = 0; i < MTFTP_CLIENTS_MAX; i++)
		n += st->c[i].state != MTFTP_C_FREE;
	if (n != st->n_clients)
		abort();
	if (mtftp_ended(st))
		return;
	if (st->master < 0 || st->master >= MTFTP_CLIENTS_MAX ||
	    (st->c[st->master].state != MTFTP_C_MASTER &&
	     st->c[st->master].state != MTFTP_C_MASTER_OACK))
		abort(); /* a live stream always has a master */
	if (mtftp_next_deadline(st) == UINT64_MAX)
		abort();
	if (st->acked > st->last_block || st->sent > st->last_block || st->high > st->last_block)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbcfg_tftp cfg = {.enabled = true,
				 .blksize_default = 512,
				 .blksize_max = 1468,
				 .windowsize_max = 16,
				 .timeout_ms = 1000,
				 .give_up_ms = 30000,
				 .mtu = 1500};
	struct mtftp_stream st;
	struct tftp_params p;
	struct tftp_rrq rrq;
	struct mtftp_tx tx;
	bool started = false;
	uint64_t now = 0;
	size_t off;
	int repeat;

	for (off = 0; off + 4 <= size;) {
		uint8_t kind = data[off], dt = data[off + 1], who = data[off + 2],
			len = data[off + 3];
		uint32_t ip = 0xc6120010u + (who & 7);
		uint16_t port = (uint16_t)(40000 + (who & 8 ? 100 : 0));

		off += 4;
		if (len > size - off)
			len = (uint8_t)(size - off);
		now += dt;
		memset(&tx, 0, sizeof(tx));
		switch (kind & 3) {
		case 0:
			if (tftp_parse_request(data + off, len, &rrq) < 0 ||
			    !(rrq.opts & TFTP_OPT_MULTICAST) || rrq.mode != TFTP_MODE_OCTET)
				break;
			if (!started) {
				tftp_negotiate(&rrq, img.size, img.size, &cfg, &p);
				if (mtftp_stream_init(&st, 0xefff0001u, 1758, 61000, &img,
						      p.blksize, &cfg, now) < 0)
					abort();
				started = true;
			}
			mtftp_join(&st, ip, port, &rrq, &cfg, now, &tx, &repeat);
			break;
		case 1:
			if (started)
				mtftp_on_packet(&st, ip, port, data + off, len, now, &tx);
			break;
		case 2:
			if (started && !mtftp_ended(&st))
				now = mtftp_next_deadline(&st);
			/* fall through */
		default:
			if (started)
				mtftp_on_timer(&st, now, &tx);
			break;
		}
		off += len;
		if (started) {
			send_tx(&st, &tx);
			check(&st);
		}
	}
	return 0;
}
