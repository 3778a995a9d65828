/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * engine_test.c - the engine's parts that need no DPDK runtime: command line and EAL
 * argument building, the latency histogram, TSC scaling, the image cache (keys, references,
 * what is read again; rte_malloc_socket/rte_free are wrapped with -Wl,--wrap onto malloc and
 * free and counted), the free transfer ports (an order drawn per seed, least recently used
 * first). No EAL, no hugepages, no root.
 */
#define _GNU_SOURCE /* mkdtemp, utimensat */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "clock.h"
#include "eal_args.h"
#include "image_cache.h"
#include "latency.h"
#include "tftp.h"
#include "tftp_ports.h"

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

/* -H (tx hold) and -v (debug log): parsed, bounded, off unless given. */
static void test_opts_hold_verbose(void **state)
{
	char *def[] = {"sb", "--", "-c", "c.json", NULL};
	char *set[] = {"sb", "--", "-c", "c.json", "-H", "0", "-v", NULL};
	char *big[] = {"sb", "--", "-c", "c.json", "-H", "2500", NULL};
	char *bad[] = {"sb", "--", "-c", "c.json", "-H", "1000001", NULL};
	char *junk[] = {"sb", "--", "-c", "c.json", "-H", "4us", NULL};
	struct eng_opts o;

	(void)state;
	assert_int_equal(eng_opts_parse(&o, 4, def), 0);
	assert_false(o.tx_hold_set);
	assert_false(o.verbose);
	assert_int_equal(eng_opts_parse(&o, 7, set), 0);
	assert_true(o.tx_hold_set);
	assert_int_equal(o.tx_hold_ns, 0);
	assert_true(o.verbose);
	assert_int_equal(eng_opts_parse(&o, 6, big), 0);
	assert_int_equal(o.tx_hold_ns, 2500);
	assert_int_equal(eng_opts_parse(&o, 6, bad), -EINVAL);
	assert_int_equal(eng_opts_parse(&o, 6, junk), -EINVAL);
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
	{"", "net_memif0,role=server,socket=/run/sb/memif.sock", "1", NULL, 1, -1, 0,
	 "-l 1 --huge-unlink --file-prefix=sb-net_memif0 --no-pci --vdev "
	 "net_memif0,role=server,socket=/run/sb/memif.sock"},
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

/* -I: "auto" by default, "auto" or 0..100000 given; anything else refused. */
static void test_idle_option(void **state)
{
	char *def[] = {"sb", "--", "-c", "x.json", NULL};
	char *zero[] = {"sb", "--", "-c", "x.json", "-I", "0", NULL};
	char *us[] = {"sb", "--", "-c", "x.json", "-I", "50", NULL};
	char *aut[] = {"sb", "--", "-c", "x.json", "-I", "auto", NULL};
	char *bad[] = {"sb", "--", "-c", "x.json", "-I", "fast", NULL};
	char *big[] = {"sb", "--", "-c", "x.json", "-I", "100001", NULL};
	struct eng_opts o;

	assert_int_equal(eng_opts_parse(&o, 4, def), 0);
	assert_int_equal(o.idle_us, ENG_IDLE_AUTO);
	assert_int_equal(eng_opts_parse(&o, 6, zero), 0);
	assert_int_equal(o.idle_us, 0);
	assert_int_equal(eng_opts_parse(&o, 6, us), 0);
	assert_int_equal(o.idle_us, 50);
	assert_int_equal(eng_opts_parse(&o, 6, aut), 0);
	assert_int_equal(o.idle_us, ENG_IDLE_AUTO);
	assert_int_equal(eng_opts_parse(&o, 6, bad), -EINVAL);
	assert_int_equal(eng_opts_parse(&o, 6, big), -EINVAL);
}

/* The kernel's CPU list format (/sys/devices/system/cpu/isolated) and what auto makes of it. */
static void test_idle_auto(void **state)
{
	assert_true(eng_cpulist_has("1", 1));
	assert_false(eng_cpulist_has("1", 0));
	assert_true(eng_cpulist_has("2-3,5\n", 3));
	assert_true(eng_cpulist_has("2-3,5\n", 5));
	assert_false(eng_cpulist_has("2-3,5\n", 4));
	assert_false(eng_cpulist_has("", 0));
	assert_false(eng_cpulist_has("\n", 0));
	assert_false(eng_cpulist_has("x", 0));
	assert_false(eng_cpulist_has("3-2", 2));
	assert_false(eng_cpulist_has("1-", 1));
	assert_false(eng_cpulist_has("1;2", 2));
	/* auto: busy poll only on an isolated CPU; a number given is kept */
	assert_int_equal(eng_idle_us_for(ENG_IDLE_AUTO, "1\n", 1), 0);
	assert_int_equal(eng_idle_us_for(ENG_IDLE_AUTO, "1\n", 0), ENG_IDLE_AUTO_US);
	assert_int_equal(eng_idle_us_for(ENG_IDLE_AUTO, "", 0), ENG_IDLE_AUTO_US);
	assert_int_equal(eng_idle_us_for(ENG_IDLE_AUTO, NULL, 0), ENG_IDLE_AUTO_US);
	assert_int_equal(eng_idle_us_for(0, "", 0), 0);
	assert_int_equal(eng_idle_us_for(7, "0", 0), 7);
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

/* Cumulative counts for Prometheus buckets: monotonic in le, exact to one bucket. */
static void test_lat_count_le(void **state)
{
	static struct eng_lat_hist h;
	uint64_t prev = 0;

	memset(&h, 0, sizeof(h));
	assert_int_equal(eng_lat_count_le(&h, 1000), 0);
	eng_lat_record(&h, 500);     /* well below 1 us */
	eng_lat_record(&h, 3000);    /* between 2 and 5 us */
	eng_lat_record(&h, 3000);
	eng_lat_record(&h, 2000000); /* 2 ms: in the bucket that holds 2 ms itself */
	assert_int_equal(eng_lat_count_le(&h, 1000), 1);
	assert_int_equal(eng_lat_count_le(&h, 2000), 1);
	assert_int_equal(eng_lat_count_le(&h, 5000), 3);
	assert_int_equal(eng_lat_count_le(&h, 1000000), 3);
	/* 2 ms straddles the bound 2 ms (its bucket ends above it): counted at the next bound */
	assert_int_equal(eng_lat_count_le(&h, 2000000), 3);
	assert_int_equal(eng_lat_count_le(&h, 5000000), 4);
	assert_int_equal(eng_lat_count_le(&h, UINT64_MAX), 4);
#define LE_MONOTONIC(b)                                                                            \
	assert_true(eng_lat_count_le(&h, b) >= prev);                                              \
	prev = eng_lat_count_le(&h, b);
	ENG_LAT_LE_BOUNDS(LE_MONOTONIC)
#undef LE_MONOTONIC
	assert_int_equal(prev, 4);
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

/* ---- image cache ---- */

/* rte_malloc_socket/rte_free of image_cache.c, linked with -Wl,--wrap=... */
void *__wrap_rte_malloc_socket(const char *type, size_t size, unsigned int align, int socket);
void __wrap_rte_free(void *p);

static size_t mem_allocs, mem_frees;
static bool mem_fail_next;

void *__wrap_rte_malloc_socket(const char *type, size_t size, unsigned int align, int socket)
{
	if (mem_fail_next) {
		mem_fail_next = false;
		return NULL;
	}
	mem_allocs++;
	return malloc(size);
}

void __wrap_rte_free(void *p)
{
	if (p == NULL)
		return;
	mem_frees++;
	free(p);
}

static char img_dir[64];

static const char *img_path(const char *name)
{
	static char path[4][128];
	static unsigned int next;
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%s", img_dir, name);
	return p;
}

static void img_write(const char *name, const char *content)
{
	FILE *f = fopen(img_path(name), "w");

	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, strlen(content), f), strlen(content));
	assert_int_equal(fclose(f), 0);
}

static void hex_of(const struct eng_image *img, char hex[65])
{
	eng_image_sha256_hex(img, hex);
}

static int img_setup(void **state)
{
	snprintf(img_dir, sizeof(img_dir), "/tmp/engine_test.XXXXXX");
	if (mkdtemp(img_dir) == NULL)
		return -1;
	mem_allocs = mem_frees = 0;
	return 0;
}

static int img_teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", img_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The same file again is the same image, read once; another path is another image. */
static void test_image_cache_reuse(void **state)
{
	struct eng_image_cache c;
	struct eng_image *a, *a2, *b;
	uint64_t bytes;
	bool read;
	char err[256], hex[65];

	img_write("a.img", "hello");
	img_write("b.img", "hello");
	eng_image_cache_init(&c, 0);
	assert_int_equal(
		eng_image_cache_get(&c, "a", img_path("a.img"), &a, &read, err, sizeof(err)), 0);
	assert_true(read);
	assert_int_equal(a->refs, 1);
	assert_int_equal(a->size, 5);
	assert_int_equal(a->netascii_size, 5);
	assert_memory_equal(a->data, "hello", 5);
	hex_of(a, hex);
	assert_string_equal(hex,
			    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
	assert_int_equal(mem_allocs, 1);

	assert_int_equal(
		eng_image_cache_get(&c, "a2", img_path("a.img"), &a2, &read, err, sizeof(err)), 0);
	assert_false(read);
	assert_ptr_equal(a2, a);
	assert_int_equal(a->refs, 2);
	assert_int_equal(mem_allocs, 1); /* nothing read, nothing allocated */
	assert_int_equal(c.reads, 1);
	assert_int_equal(c.hits, 1);

	assert_int_equal(
		eng_image_cache_get(&c, "b", img_path("b.img"), &b, &read, err, sizeof(err)), 0);
	assert_true(read);
	assert_ptr_not_equal(b, a);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.bytes, 10);

	/* Held images stay; the one nobody holds goes, and only then. */
	assert_int_equal(eng_image_cache_collect(&c, &bytes), 0);
	eng_image_put(a);
	assert_int_equal(eng_image_cache_collect(&c, &bytes), 0);
	eng_image_put(a);
	assert_int_equal(eng_image_cache_collect(&c, &bytes), 1);
	assert_int_equal(bytes, 5);
	assert_int_equal(mem_frees, 1);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.bytes, 5);
	assert_int_equal(c.freed, 1);

	/* Freed: asked for again, it is read again. */
	assert_int_equal(
		eng_image_cache_get(&c, "a", img_path("a.img"), &a, &read, err, sizeof(err)), 0);
	assert_true(read);
	assert_int_equal(c.reads, 3);
	assert_int_equal(eng_image_cache_destroy(&c), 2); /* a and b still held */
	assert_int_equal(mem_allocs, mem_frees);
}

/* Wait until the file system's coarse clock gives path a ctime other than before. */
static void touch_until_ctime_moves(const char *path, const struct stat *before)
{
	struct stat st;

	for (int i = 0; i < 1000; i++) {
		assert_int_equal(chmod(path, 0644 ^ (i & 1 ? 0 : 0004)), 0);
		assert_int_equal(stat(path, &st), 0);
		if (st.st_ctim.tv_sec != before->st_ctim.tv_sec ||
		    st.st_ctim.tv_nsec != before->st_ctim.tv_nsec)
			return;
		usleep(1000);
	}
	fail_msg("ctime of %s did not move", path);
}

/*
 * A changed file is read again, whatever the change: replaced by a rename (new inode, same
 * size and mtime), rewritten in place with another size, rewritten in place with the same
 * size and its old mtime put back (cp --preserve=timestamps: only the ctime tells). The old
 * copy stays for its holders (a transfer) and goes with the last one.
 */
static void test_image_cache_changed(void **state)
{
	struct eng_image_cache c;
	struct eng_image *v1, *v2, *v3, *v4, *again;
	struct timespec times[2];
	struct stat st;
	uint64_t bytes;
	bool read;
	char err[256];

	img_write("k.img", "version 1");
	eng_image_cache_init(&c, 0);
	assert_int_equal(
		eng_image_cache_get(&c, "k", img_path("k.img"), &v1, &read, err, sizeof(err)), 0);
	eng_image_ref(v1); /* a TFTP session on it */
	assert_int_equal(stat(img_path("k.img"), &st), 0);

	/* 1. replaced by a rename, same size, the old mtime */
	img_write("k.new", "version 2");
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, img_path("k.new"), times, 0), 0);
	assert_int_equal(rename(img_path("k.new"), img_path("k.img")), 0);
	assert_int_equal(
		eng_image_cache_get(&c, "k", img_path("k.img"), &v2, &read, err, sizeof(err)), 0);
	assert_true(read);
	assert_ptr_not_equal(v2, v1);
	assert_memory_equal(v2->data, "version 2", 9);
	assert_memory_equal(v1->data, "version 1", 9); /* the session still reads its bytes */

	/* 2. rewritten in place, another size */
	img_write("k.img", "version three");
	assert_int_equal(
		eng_image_cache_get(&c, "k", img_path("k.img"), &v3, &read, err, sizeof(err)), 0);
	assert_true(read);
	assert_int_equal(v3->size, 13);

	/* 3. rewritten in place, same size, the mtime put back */
	assert_int_equal(stat(img_path("k.img"), &st), 0);
	img_write("k.img", "version four!");
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, img_path("k.img"), times, 0), 0);
	touch_until_ctime_moves(img_path("k.img"), &st);
	assert_int_equal(
		eng_image_cache_get(&c, "k", img_path("k.img"), &v4, &read, err, sizeof(err)), 0);
	assert_true(read);
	assert_memory_equal(v4->data, "version four!", 13);
	assert_int_equal(c.n, 4);
	assert_int_equal(c.bytes, 9 + 9 + 13 + 13);

	/* The snapshots let go of v1..v3: v2 and v3 go, v1 waits for its session. */
	eng_image_put(v1);
	eng_image_put(v2);
	eng_image_put(v3);
	assert_int_equal(eng_image_cache_collect(&c, &bytes), 2);
	assert_int_equal(bytes, 9 + 13);
	assert_memory_equal(v1->data, "version 1", 9);
	eng_image_put(v1); /* the session closes */
	assert_int_equal(eng_image_cache_collect(&c, &bytes), 1);
	assert_int_equal(bytes, 9);
	assert_int_equal(c.n, 1);

	/* Unchanged since: found, not read. */
	assert_int_equal(
		eng_image_cache_get(&c, "k", img_path("k.img"), &again, &read, err, sizeof(err)),
		0);
	assert_false(read);
	assert_ptr_equal(again, v4);
	eng_image_put(again);
	eng_image_put(v4);
	assert_int_equal(eng_image_cache_destroy(&c), 0);
	assert_int_equal(mem_allocs, mem_frees);
}

static void test_image_cache_errors(void **state)
{
	struct eng_image_cache c;
	struct eng_image *img;
	bool read;
	char err[256], hex[65];

	eng_image_cache_init(&c, 0);
	assert_int_equal(eng_image_cache_get(&c, "gone", img_path("missing.img"), &img, &read, err,
					     sizeof(err)),
			 -ENOENT);
	assert_null(img);
	assert_non_null(strstr(err, "\"gone\""));
	assert_non_null(strstr(err, "missing.img"));

	assert_int_equal(eng_image_cache_get(&c, "dir", img_dir, &img, &read, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));

	img_write("big.img", "some bytes");
	mem_fail_next = true;
	assert_int_equal(
		eng_image_cache_get(&c, "big", img_path("big.img"), &img, &read, err, sizeof(err)),
		-ENOMEM);
	assert_non_null(strstr(err, "nr_hugepages"));
	assert_int_equal(c.n, 0);

	/* An empty image: no memory, the SHA-256 of nothing. */
	img_write("empty.img", "");
	assert_int_equal(eng_image_cache_get(&c, "empty", img_path("empty.img"), &img, &read, err,
					     sizeof(err)),
			 0);
	assert_null(img->data);
	assert_int_equal(img->size, 0);
	assert_int_equal(img->netascii_size, 0);
	hex_of(img, hex);
	assert_string_equal(hex,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	eng_image_put(img);
	assert_int_equal(eng_image_cache_destroy(&c), 0);
	assert_int_equal(mem_allocs, mem_frees);
}

/* A pinned SHA-256 (config images[].sha256): other bytes are refused, read or cached. */
static void test_image_cache_pinned(void **state)
{
	static const char hello[] =
		"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
	static const char other[] =
		"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
	struct eng_image_cache c;
	struct eng_image *img, *again;
	bool read;
	char err[512];

	img_write("p.img", "hello");
	eng_image_cache_init(&c, 0);
	/* pinned to other bytes: refused at the read, naming both digests, nothing kept */
	assert_int_equal(eng_image_cache_get_pinned(&c, "p", img_path("p.img"), other, &img, &read,
						    err, sizeof(err)),
			 -EBADMSG);
	assert_null(img);
	assert_non_null(strstr(err, "image \"p\""));
	assert_non_null(strstr(err, hello));
	assert_non_null(strstr(err, other));
	assert_int_equal(c.n, 0);
	assert_int_equal(mem_allocs, mem_frees);
	/* the right digest (either case) is accepted */
	assert_int_equal(
		eng_image_cache_get_pinned(&c, "p", img_path("p.img"),
					   "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E7"
					   "3043362938B9824",
					   &img, &read, err, sizeof(err)),
		0);
	assert_true(read);
	/* the cached bytes are checked too: a pin added later refuses the unchanged file */
	assert_int_equal(eng_image_cache_get_pinned(&c, "p", img_path("p.img"), other, &again,
						    &read, err, sizeof(err)),
			 -EBADMSG);
	assert_null(again);
	assert_int_equal(img->refs, 1); /* no reference taken for the refusal */
	assert_int_equal(eng_image_cache_get_pinned(&c, "p", img_path("p.img"), "", &again, &read,
						    err, sizeof(err)),
			 0);
	assert_false(read);
	assert_ptr_equal(again, img);
	eng_image_put(again);
	eng_image_put(img);
	assert_int_equal(eng_image_cache_destroy(&c), 0);
	assert_int_equal(mem_allocs, mem_frees);
}

/* A file of several read chunks: the bytes, the hash and the netascii size of the whole. */
static void test_image_cache_large(void **state)
{
	const size_t size = 9 * 1048576 + 3;
	uint8_t *want = malloc(size), md[32];
	unsigned int mdlen = 0;
	struct eng_image_cache c;
	struct eng_image *img;
	uint32_t x = 12345;
	bool read;
	char err[256];
	FILE *f;

	assert_non_null(want);
	for (size_t i = 0; i < size; i++) { /* about 1 byte in 128 a CR or an LF */
		x = x * 1103515245u + 12345u;
		want[i] = (x >> 24) == 10 || (x >> 24) == 13 ? (uint8_t)(x >> 24)
							     : (uint8_t)(x >> 16);
	}
	f = fopen(img_path("large.img"), "w");
	assert_non_null(f);
	assert_int_equal(fwrite(want, 1, size, f), size);
	assert_int_equal(fclose(f), 0);
	eng_image_cache_init(&c, 0);
	assert_int_equal(eng_image_cache_get(&c, "large", img_path("large.img"), &img, &read, err,
					     sizeof(err)),
			 0);
	assert_int_equal(img->size, size);
	assert_memory_equal(img->data, want, size);
	assert_true(EVP_Digest(want, size, md, &mdlen, EVP_sha256(), NULL));
	assert_memory_equal(img->sha256, md, sizeof(md));
	assert_int_equal(img->netascii_size, tftp_netascii_size(want, size));
	assert_true(img->netascii_size > size);
	eng_image_put(img);
	assert_int_equal(eng_image_cache_destroy(&c), 0);
	free(want);
}

/* Two lcores taking and dropping references on one image: no update is lost. */
static void *refs_loop(void *arg)
{
	for (int i = 0; i < 1000000; i++) {
		eng_image_ref(arg);
		eng_image_put(arg);
	}
	return NULL;
}

static void test_image_refs_concurrent(void **state)
{
	struct eng_image *img = calloc(1, sizeof(*img) + 1);
	pthread_t t[2];

	assert_non_null(img);
	img->refs = 1;
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, refs_loop, img), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(img->refs, 1);
	free(img);
}

/* ---- transfer ports: every port once, an order per seed, least recently used first ---- */

#define PORTS_LO 61000
#define PORTS_N	 1000

/* Every port of the range exactly once among the free ones. */
static void assert_permutation(const struct tftp_ports *p)
{
	static uint8_t seen[PORTS_N];

	memset(seen, 0, sizeof(seen));
	assert_int_equal(p->n_free, PORTS_N);
	for (uint32_t i = 0; i < p->n; i++) {
		uint16_t port = p->v[(p->head + i) % p->n];

		assert_true(port >= PORTS_LO && port < PORTS_LO + PORTS_N);
		assert_int_equal(seen[port - PORTS_LO]++, 0);
	}
}

static void test_ports_random(void **state)
{
	static uint16_t a[PORTS_N], b[PORTS_N], c[PORTS_N];
	struct tftp_ports pa, pb, pc;
	uint32_t in_sequence = 0, same_ab = 0, same_ac = 0;
	uint16_t prev = 0, port, one;

	tftp_ports_init(&pa, a, PORTS_LO, PORTS_LO + PORTS_N - 1, 1);
	tftp_ports_init(&pb, b, PORTS_LO, PORTS_LO + PORTS_N - 1, 1);
	tftp_ports_init(&pc, c, PORTS_LO, PORTS_LO + PORTS_N - 1, 2);
	assert_permutation(&pa);
	assert_permutation(&pc);
	for (uint32_t i = 0; i < PORTS_N; i++) {
		same_ab += a[i] == b[i];
		same_ac += a[i] == c[i];
	}
	assert_int_equal(same_ab, PORTS_N); /* a seed gives one order */
	assert_true(same_ac < 20);	    /* another seed another (about 1 in common) */
	/* Consecutive sessions do not get consecutive ports (before: lo, lo + 1, ...). */
	for (uint32_t i = 0; i < PORTS_N; i++) {
		port = tftp_ports_take(&pa);
		assert_int_not_equal(port, 0);
		in_sequence += i > 0 && port == prev + 1;
		prev = port;
	}
	print_message("ports: %u of %u handed out right after their predecessor\n", in_sequence,
		      PORTS_N);
	assert_true(in_sequence < 20);
	assert_int_equal(tftp_ports_take(&pa), 0); /* all taken: none (0 is never a port) */
	assert_int_equal(tftp_ports_peek(&pa), 0);
	/* A range of one port. */
	tftp_ports_init(&pb, &one, 4012, 4012, 7);
	assert_int_equal(tftp_ports_take(&pb), 4012);
	assert_int_equal(tftp_ports_take(&pb), 0);
	tftp_ports_put(&pb, 4012);
	assert_int_equal(tftp_ports_peek(&pb), 4012);
}

static void test_ports_lru(void **state)
{
	static uint16_t v[PORTS_N], order[PORTS_N];
	struct tftp_ports p;
	uint16_t first[3];

	tftp_ports_init(&p, v, PORTS_LO, PORTS_LO + PORTS_N - 1, 42);
	memcpy(order, v, sizeof(order));
	for (int i = 0; i < 3; i++)
		first[i] = tftp_ports_take(&p);
	assert_memory_equal(first, order, sizeof(first)); /* in the drawn order */
	/* Given back in the order 2, 0, 1: handed out again after the 997 free ones, so. */
	tftp_ports_put(&p, first[2]);
	tftp_ports_put(&p, first[0]);
	tftp_ports_put(&p, first[1]);
	assert_permutation(&p);
	for (int i = 3; i < PORTS_N; i++)
		assert_int_equal(tftp_ports_take(&p), order[i]);
	assert_int_equal(tftp_ports_take(&p), first[2]);
	assert_int_equal(tftp_ports_take(&p), first[0]);
	assert_int_equal(tftp_ports_peek(&p), first[1]);
	assert_int_equal(tftp_ports_take(&p), first[1]);
	assert_int_equal(p.n_free, 0);
	/* All given back from empty, then many rounds about the ring: every port once. */
	for (int i = PORTS_N - 1; i >= 0; i--)
		tftp_ports_put(&p, order[i]);
	assert_permutation(&p);
	assert_int_equal(tftp_ports_peek(&p), order[PORTS_N - 1]);
	for (int round = 0; round < 5 * PORTS_N + 3; round++)
		tftp_ports_put(&p, tftp_ports_take(&p));
	assert_permutation(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opts),
		cmocka_unit_test(test_opts_hold_verbose),
		cmocka_unit_test(test_eal_args),
		cmocka_unit_test(test_eal_args_given),
		cmocka_unit_test(test_idle_option),
		cmocka_unit_test(test_idle_auto),
		cmocka_unit_test(test_lat_buckets),
		cmocka_unit_test(test_lat_count_le),
		cmocka_unit_test(test_lat_summary),
		cmocka_unit_test(test_clock_scale),
		cmocka_unit_test_setup_teardown(test_image_cache_reuse, img_setup, img_teardown),
		cmocka_unit_test_setup_teardown(test_image_cache_changed, img_setup, img_teardown),
		cmocka_unit_test_setup_teardown(test_image_cache_errors, img_setup, img_teardown),
		cmocka_unit_test_setup_teardown(test_image_cache_pinned, img_setup, img_teardown),
		cmocka_unit_test_setup_teardown(test_image_cache_large, img_setup, img_teardown),
		cmocka_unit_test(test_image_refs_concurrent),
		cmocka_unit_test(test_ports_random),
		cmocka_unit_test(test_ports_lru),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
