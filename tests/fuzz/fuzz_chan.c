/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_chan.c - libFuzzer harness: the control <-> dataplane channel codec (contracts/chan.c)
 * on a byte stream: frames are decoded one after the other as a receiver does; each decoded
 * frame is encoded again and must give the same bytes. Also fed through chan_buf.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t again[sizeof(struct chan_hdr) + 65536];
	struct chan_buf b = {0};
	size_t off = 0;

	while (off < size) {
		struct chan_hdr h;
		const void *payload;
		ssize_t n = chan_frame_decode(data + off, size - off, 65536, &h, &payload);

		if (n <= 0)
			break;
		if ((size_t)n > size - off || (size_t)n != sizeof(h) + h.len)
			abort();
		if (chan_frame_encode(again, sizeof(again), h.type, h.id, h.status, payload,
				      h.len) != n ||
		    memcmp(again, data + off, (size_t)n) != 0)
			abort(); /* decode and encode are inverse */
		if (chan_buf_put_frame(&b, h.type, h.id, h.status, payload, h.len) < 0)
			abort();
		off += (size_t)n;
	}
	chan_buf_free(&b);
	return 0;
}
