/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * latency.h - a log-linear histogram of per-packet latencies in nanoseconds:
 * exact below 16 ns, then 16 buckets per power of two (about 6 % wide), so
 * any u64 fits in 976 counters and recording is a clz, a shift and an add.
 * Percentiles are reported as the upper bound of the bucket holding the rank
 * (never more than the exact maximum). No DPDK: unit-tested on its own.
 */
#ifndef SB_ENG_LATENCY_H
#define SB_ENG_LATENCY_H

#include <stdint.h>

/* Log-linear latency histogram over nanoseconds: 2^ENG_LAT_SUB_BITS buckets per power of 2. */
#define ENG_LAT_SUB_BITS 4
#define ENG_LAT_SUB	 (1u << ENG_LAT_SUB_BITS)
#define ENG_LAT_BUCKETS	 ((64 - ENG_LAT_SUB_BITS + 1) * ENG_LAT_SUB)

struct eng_lat_hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t max_ns;
	uint64_t bucket[ENG_LAT_BUCKETS];
};

/* Bucket index of a latency in ns. */
static inline unsigned int eng_lat_bucket(uint64_t ns)
{
	unsigned int e;

	if (ns < ENG_LAT_SUB)
		return (unsigned int)ns;
	e = 63u - (unsigned int)__builtin_clzll(ns); /* e >= ENG_LAT_SUB_BITS */
	return (e - ENG_LAT_SUB_BITS + 1) * ENG_LAT_SUB +
	       (unsigned int)((ns >> (e - ENG_LAT_SUB_BITS)) & (ENG_LAT_SUB - 1));
}

/* Smallest latency (ns) that falls into bucket b (the next bucket's lower bound is its upper). */
uint64_t eng_lat_bucket_low(unsigned int b);

static inline void eng_lat_record(struct eng_lat_hist *h, uint64_t ns)
{
	h->count++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	h->bucket[eng_lat_bucket(ns)]++;
}

/* Percentile summary of a histogram. */
struct eng_lat_summary {
	uint64_t count, mean_ns, p50_ns, p90_ns, p99_ns, p999_ns, max_ns;
};

/* Percentiles (upper bound of the bucket holding the rank; max is exact). */
void eng_lat_summarize(const struct eng_lat_hist *h, struct eng_lat_summary *out);

/*
 * Samples whose bucket lies wholly at or below le_ns (its upper bound <= le_ns): the cumulative
 * count of a Prometheus histogram bucket "le". A sample in the one bucket that straddles le_ns
 * is counted in the next bound up: a count is exact to within one bucket (about 6 %).
 */
uint64_t eng_lat_count_le(const struct eng_lat_hist *h, uint64_t le_ns);

/* The bounds (ns) the views show as latency_le_<N>_ns: 1-2-5 steps from 1 us to 1 s. */
#define ENG_LAT_LE_BOUNDS(X)                                                                       \
	X(1000)                                                                                    \
	X(2000) X(5000) X(10000) X(20000) X(50000) X(100000) X(200000) X(500000) X(1000000)        \
		X(2000000) X(5000000) X(10000000) X(20000000) X(50000000) X(100000000)             \
			X(200000000) X(500000000) X(1000000000)

/* Add the samples of from into to. */
void eng_lat_merge(struct eng_lat_hist *to, const struct eng_lat_hist *from);

#endif
