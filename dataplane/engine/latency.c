/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "latency.h"

uint64_t eng_lat_bucket_low(unsigned int b)
{
	unsigned int e, sub;

	if (b < ENG_LAT_SUB)
		return b;
	e = b / ENG_LAT_SUB + ENG_LAT_SUB_BITS - 1;
	sub = b % ENG_LAT_SUB;
	return (1ull << e) | ((uint64_t)sub << (e - ENG_LAT_SUB_BITS));
}

void eng_lat_merge(struct eng_lat_hist *to, const struct eng_lat_hist *from)
{
	to->count += from->count;
	to->sum_ns += from->sum_ns;
	if (from->max_ns > to->max_ns)
		to->max_ns = from->max_ns;
	for (unsigned int b = 0; b < ENG_LAT_BUCKETS; b++)
		to->bucket[b] += from->bucket[b];
}

/* Latency of the sample at rank (0-based) in the merged histogram: its bucket's upper bound. */
static uint64_t lat_rank(const struct eng_lat_hist *h, uint64_t rank)
{
	uint64_t seen = 0, up;

	for (unsigned int b = 0; b < ENG_LAT_BUCKETS; b++) {
		seen += h->bucket[b];
		if (seen > rank) {
			up = b + 1 < ENG_LAT_BUCKETS ? eng_lat_bucket_low(b + 1) - 1 : UINT64_MAX;
			return up < h->max_ns ? up : h->max_ns;
		}
	}
	return h->max_ns;
}

static uint64_t lat_pct(const struct eng_lat_hist *h, unsigned int permille10)
{
	/* permille10: percentile in units of 0.01 % (5000 = p50, 9990 = p99.9) */
	uint64_t rank = (h->count * permille10 + 9999) / 10000;

	return lat_rank(h, rank ? rank - 1 : 0);
}

void eng_lat_summarize(const struct eng_lat_hist *h, struct eng_lat_summary *out)
{
	memset(out, 0, sizeof(*out));
	out->count = h->count;
	if (!h->count)
		return;
	out->mean_ns = h->sum_ns / h->count;
	out->p50_ns = lat_pct(h, 5000);
	out->p90_ns = lat_pct(h, 9000);
	out->p99_ns = lat_pct(h, 9900);
	out->p999_ns = lat_pct(h, 9990);
	out->max_ns = h->max_ns;
}

uint64_t eng_lat_count_le(const struct eng_lat_hist *h, uint64_t le_ns)
{
	uint64_t n = 0;

	/* bucket b holds [low(b), low(b + 1) - 1] */
	for (unsigned int b = 0; b + 1 < ENG_LAT_BUCKETS; b++) {
		if (eng_lat_bucket_low(b + 1) - 1 > le_ns)
			break;
		n += h->bucket[b];
	}
	return n;
}
