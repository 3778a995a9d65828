/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * engine_test.c - the engine's pure parts: command line and EAL argument
 * building, the latency histogram, TSC scaling. No DPDK runtime, no root.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "eal_args.h"
#include "latency.h"

/* ---- options ---- */

struct opts_case {
	const char *argv[12];
	int rc;
	bool eal_given;
	int eal_argc;
	const char *config, *iface;
};

static const struct opts_case opts_cases[] = {
	{{"sb", "--", "-c", "a.json", NULL}, 0, false, 0, "a.json", NULL},
	{{"sb", "-c", "a.json", "-i", "eth1", NULL}, 0, false, 0, "a.json", "eth1"},
	{{"sb", "-l", "1", "--vdev", "net_null0", "--", "-c", "b.json", NULL},
	 0,
	 true,
	 5,
	 "b.json",
	 NULL},
	{{"sb", "--", "-i", "eth1", NULL}, -EINVAL, false, 0, NULL, NULL}, /* no config */
	{{"sb", "--", "-c", "a.json", "stray", NULL}, -EINVAL, false, 0, NULL, NULL}, /* stray */
	{{"sb", "--", "-q", NULL}, -EINVAL, false, 0, NULL, NULL}, /* unknown option */
	{{"sb", "--", "-h", NULL}, 1, false, 0, NULL, NULL},
};

static void test_opts(void **state)
{
	for (size_t i = 0; i < sizeof(opts_cases) / sizeof(opts_cases[0]); i++) {
		const struct opts_case *c = &opts_cases[i];
		struct eng_opts o;
		char *argv[12];
		int argc = 0;

		while (c->argv[argc]) {
			argv[argc] = (char *)(uintptr_t)c->argv[argc];
			argc++;
		}
		argv[argc] = NULL;
		assert_int_equal(eng_opts_parse(&o, argc, argv), c->rc);
		if (c->rc != 0)
			continue;
		assert_int_equal(o.eal_given, c->eal_given);
		assert_int_equal(o.eal_argc, c->eal_argc);
		assert_string_equal(o.config_path, c->config);
		if (c->iface)
			assert_string_equal(o.iface, c->iface);
		else
			assert_null(o.iface);
	}
}

/* ---- EAL arguments ---- */

static void join(const struct eng_opts *o, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	for (int i = 1; i < o->eal_argc; i++)
		n += (size_t)snprintf(out + n, cap - n, "%s%s", i > 1 ? " " : "", o->eal_argv[i]);
}

struct eal_case {
	const char *interface, *dpdk_port, *cpus, *xdp;
	uint16_t queues;
	int busy_budget;
	int rc;
	const char *want;
};

static const struct eal_case eal_cases[] = {
	{"sb0", "", "0", "/x/sb.o", 1, -1, 0,
	 "-l 0 --in-memory --file-prefix=sb-sb0 --no-pci --vdev "
	 "net_af_xdp0,iface=sb0,start_queue=0,queue_count=1,xdp_prog=/x/sb.o"},
	{"sb0", "", "2,3", "/x/sb.o", 2, 0, 0,
	 "-l 2,3 --in-memory --file-prefix=sb-sb0 --no-pci --vdev "
	 "net_af_xdp0,iface=sb0,start_queue=0,queue_count=2,xdp_prog=/x/sb.o,busy_budget=0"},
	{"", "net_pcap0,rx_pcap=/t/in.pcap,tx_pcap=/t/out.pcap", "1", NULL, 1, -1, 0,
	 "-l 1 --in-memory --file-prefix=sb-net_pcap0 --no-pci --vdev "
	 "net_pcap0,rx_pcap=/t/in.pcap,tx_pcap=/t/out.pcap"},
	{"eth9", "0000:01:00.0", "0", NULL, 1, -1, 0,
	 "-l 0 --in-memory --file-prefix=sb-0000_01_00.0 -a 0000:01:00.0"},
	{"", "", "0", NULL, 1, -1, -EINVAL, NULL}, /* neither interface nor port */
};

static void test_eal_args(void **state)
{
	for (size_t i = 0; i < sizeof(eal_cases) / sizeof(eal_cases[0]); i++) {
		const struct eal_case *c = &eal_cases[i];
		struct sbcfg cfg;
		struct eng_opts o;
		char err[256], got[1024];
		char *argv[] = {"sb", "--", "-c", "x.json", NULL};

		memset(&cfg, 0, sizeof(cfg));
		snprintf(cfg.interface, sizeof(cfg.interface), "%s", c->interface);
		snprintf(cfg.dpdk_port, sizeof(cfg.dpdk_port), "%s", c->dpdk_port);
		cfg.queues = c->queues;
		assert_int_equal(eng_opts_parse(&o, 4, argv), 0);
		o.cpus = c->cpus;
		o.xdp_prog = c->xdp;
		o.busy_budget = c->busy_budget;
		assert_int_equal(eng_eal_args_build(&o, &cfg, "sb", err, sizeof(err)), c->rc);
		if (c->rc != 0) {
			assert_true(strlen(err) > 0);
			continue;
		}
		assert_string_equal(o.eal_argv[0], "sb");
		assert_null(o.eal_argv[o.eal_argc]);
		join(&o, got, sizeof(got));
		assert_string_equal(got, c->want);
	}
}

/* EAL arguments given by the user are kept as they are. */
static void test_eal_args_given(void **state)
{
	char *argv[] = {"sb", "--vdev", "net_null0", "--", "-c", "x.json", NULL};
	struct sbcfg cfg;
	struct eng_opts o;
	char err[64];

	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(eng_opts_parse(&o, 6, argv), 0);
	assert_int_equal(eng_eal_args_build(&o, &cfg, "sb", err, sizeof(err)), 0);
	assert_int_equal(o.eal_argc, 3);
	assert_string_equal(o.eal_argv[2], "net_null0");
}

/* ---- latency histogram ---- */

static void test_lat_buckets(void **state)
{
	static const uint64_t v[] = {0,
				     1,
				     15,
				     16,
				     17,
				     31,
				     32,
				     33,
				     1000,
				     65535,
				     65536,
				     1000000,
				     (1ull << 40) + 7,
				     UINT64_MAX / 3,
				     UINT64_MAX};
	unsigned int prev = 0;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		unsigned int b = eng_lat_bucket(v[i]);

		assert_true(b < ENG_LAT_BUCKETS);
		assert_true(eng_lat_bucket_low(b) <= v[i]);
		if (b + 1 < ENG_LAT_BUCKETS)
			assert_true(v[i] < eng_lat_bucket_low(b + 1));
		assert_true(b >= prev); /* monotonic */
		prev = b;
	}
	/* every bucket's lower bound maps back to that bucket */
	for (unsigned int b = 0; b < ENG_LAT_BUCKETS; b++)
		assert_int_equal(eng_lat_bucket(eng_lat_bucket_low(b)), b);
	/* below 16 ns exact; above, buckets are at most 1/16 of their value wide */
	assert_int_equal(eng_lat_bucket(7), 7);
	assert_true(eng_lat_bucket_low(eng_lat_bucket(1000) + 1) -
			    eng_lat_bucket_low(eng_lat_bucket(1000)) <=
		    1000 / 16 + 1);
}

static void test_lat_summary(void **state)
{
	static struct eng_lat_hist h, h2;
	struct eng_lat_summary s;

	memset(&h, 0, sizeof(h));
	eng_lat_summarize(&h, &s);
	assert_int_equal(s.count, 0);
	assert_int_equal(s.p99_ns, 0);

	eng_lat_record(&h, 700);
	eng_lat_summarize(&h, &s);
	assert_int_equal(s.p50_ns, 700); /* capped at the exact max */
	assert_int_equal(s.p999_ns, 700);

	memset(&h, 0, sizeof(h));
	for (uint64_t i = 1; i <= 10000; i++)
		eng_lat_record(&h, i * 100); /* 100 ns .. 1 ms */
	eng_lat_summarize(&h, &s);
	assert_int_equal(s.count, 10000);
	assert_int_equal(s.mean_ns, 500050);
	assert_int_equal(s.max_ns, 1000000);
	/* upper bound of the bucket: >= the true percentile, < 7 % above it */
	assert_true(s.p50_ns >= 500000 && s.p50_ns < 535000);
	assert_true(s.p90_ns >= 900000 && s.p90_ns < 963000);
	assert_true(s.p99_ns >= 990000 && s.p99_ns <= 1000000);
	assert_true(s.p999_ns >= 999000 && s.p999_ns <= 1000000);
	assert_true(s.p50_ns <= s.p90_ns && s.p90_ns <= s.p99_ns && s.p99_ns <= s.p999_ns);

	/* merging two lcores' histograms = recording everything in one */
	memset(&h2, 0, sizeof(h2));
	eng_lat_record(&h2, 5000000);
	eng_lat_merge(&h2, &h);
	eng_lat_summarize(&h2, &s);
	assert_int_equal(s.count, 10001);
	assert_int_equal(s.max_ns, 5000000);
}

/* ---- TSC scaling ---- */

static void test_clock_scale(void **state)
{
	static const uint64_t ticks[] = {0,	     1,		 2999999999ull, 3000000000ull,
					 1ull << 40, 1ull << 62, UINT64_MAX};
	const uint64_t hz = 3000000000ull;

	for (size_t i = 0; i < sizeof(ticks) / sizeof(ticks[0]); i++) {
		unsigned __int128 want = (unsigned __int128)ticks[i] * 1000 / hz;

		assert_true((unsigned __int128)eng_clock_scale(ticks[i], 1000, hz) == want);
	}
	assert_int_equal(eng_clock_scale(1500, 3000000000ull, 1000), 4500000000ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opts),	       cmocka_unit_test(test_eal_args),
		cmocka_unit_test(test_eal_args_given), cmocka_unit_test(test_lat_buckets),
		cmocka_unit_test(test_lat_summary),    cmocka_unit_test(test_clock_scale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
