/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lease_store_test.c - the durable lease log: commit and replay, duplicates refused, group
 * commit, torn and corrupt tails, every truncated prefix of a log, compaction, reconfig.
 */
#include <errno.h>
#include <fcntl.h>
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

#include "ctl_testing.h"
#include "lease_store.h"
#include "sbcfg_json.h"

static const char small_json[] =
	"{\"interface\": \"sb0\", \"server_ip\": \"198.18.0.1\", \"dhcp\": {\"subnets\": ["
	"{\"network\": \"198.18.0.0/24\", \"pool\": {\"start\": \"198.18.0.10\", "
	"\"end\": \"198.18.0.19\"}}]}}";

struct fx {
	char dir[64];
	char log[128];
	struct sbcfg cfg;
	struct lease_store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[SBCFG_ERR_MAX];

	snprintf(f->dir, sizeof(f->dir), "/tmp/lease_store_test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->log, sizeof(f->log), "%s/" LEASE_STORE_LOG, f->dir);
	char json[512];

	ctl_testing_config(json, sizeof(json), "", "");
	assert_int_equal(sbcfg_load_string(json, &f->cfg, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char path[160];

	lease_store_close(f->s);
	unlink(f->log);
	snprintf(path, sizeof(path), "%s/leases.lock", f->dir);
	unlink(path);
	rmdir(f->dir);
	sbcfg_free(&f->cfg);
	free(f);
	return 0;
}

static void reopen(struct fx *f)
{
	char err[512] = "";

	lease_store_close(f->s);
	f->s = lease_store_open(f->dir, &f->cfg, CTL_TESTING_NOW, err, sizeof(err));
	if (!f->s)
		fail_msg("open: %s", err);
}

static struct chan_lease ev(uint8_t event, unsigned int k, uint32_t ip)
{
	struct chan_lease e = {.expires = CTL_TESTING_NOW + 3600, .ip = ip, .event = event};

	e.mac[0] = 0x02;
	e.mac[4] = (uint8_t)(k >> 8);
	e.mac[5] = (uint8_t)k;
	return e;
}

static int bound(struct fx *f, unsigned int k, uint32_t ip)
{
	struct chan_lease e = ev(CHAN_LEASE_BOUND, k, ip);
	struct lease_info li;

	if (lease_find_ip(lease_store_pool(f->s), ip, CTL_TESTING_NOW, &li) < 0)
		return 0;
	return li.state == LEASE_BOUND && memcmp(li.mac, e.mac, 6) == 0;
}

static size_t n_bound(struct fx *f)
{
	struct lease_stats st;

	lease_pool_stats(lease_store_pool(f->s), CTL_TESTING_NOW, &st);
	return st.bound;
}

static off_t file_size(const char *p)
{
	struct stat sb;

	assert_int_equal(stat(p, &sb), 0);
	return sb.st_size;
}

static void bind_n(struct fx *f, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++) {
		struct chan_lease e = ev(CHAN_LEASE_BOUND, k, CTL_TESTING_IP(198, 18, 0, 10 + k));
		assert_int_equal(lease_store_apply(f->s, &e, CTL_TESTING_NOW), 0);
	}
	assert_int_equal(lease_store_commit(f->s, CTL_TESTING_NOW), (int)n);
}

static void test_commit_replay(void **state)
{
	struct fx *f = *state;
	struct lease_store_stats st;

	reopen(f);
	assert_int_equal(file_size(f->log), 16); /* header only */
	assert_int_equal(lease_store_commit(f->s, CTL_TESTING_NOW), 0);
	bind_n(f, 10);
	/* Queued but never committed: lost at close, as promised. */
	struct chan_lease e = ev(CHAN_LEASE_BOUND, 99, CTL_TESTING_IP(198, 18, 0, 99));
	assert_int_equal(lease_store_apply(f->s, &e, CTL_TESTING_NOW), 0);
	assert_int_equal(lease_store_pending(f->s), 1);
	reopen(f);
	assert_int_equal(n_bound(f), 10);
	for (unsigned int k = 0; k < 10; k++)
		assert_true(bound(f, k, CTL_TESTING_IP(198, 18, 0, 10 + k)));
	assert_false(bound(f, 99, CTL_TESTING_IP(198, 18, 0, 99)));
	lease_store_get_stats(f->s, &st);
	assert_int_equal(st.replayed, 10);
	assert_int_equal(st.replay_torn, 0);
	/* Release, then reopen: gone. Releasing what is gone records nothing. */
	e = ev(CHAN_LEASE_RELEASED, 3, CTL_TESTING_IP(198, 18, 0, 13));
	assert_int_equal(lease_store_apply(f->s, &e, CTL_TESTING_NOW), 0);
	assert_int_equal(lease_store_apply(f->s, &e, CTL_TESTING_NOW), 0);
	assert_int_equal(lease_store_commit(f->s, CTL_TESTING_NOW), 1);
	reopen(f);
	assert_int_equal(n_bound(f), 9);
	assert_false(bound(f, 3, CTL_TESTING_IP(198, 18, 0, 13)));
	/* Expired leases do not come back as bound. */
	e = ev(CHAN_LEASE_BOUND, 50, CTL_TESTING_IP(198, 18, 0, 60));
	e.expires = CTL_TESTING_NOW + 10;
	assert_int_equal(lease_store_apply(f->s, &e, CTL_TESTING_NOW), 0);
	assert_int_equal(lease_store_commit(f->s, CTL_TESTING_NOW), 1);
	lease_store_close(f->s);
	char err[256];
	f->s = lease_store_open(f->dir, &f->cfg, CTL_TESTING_NOW + 20, err, sizeof(err));
	assert_non_null(f->s);
	assert_false(bound(f, 50, CTL_TESTING_IP(198, 18, 0, 60)));
}

static void test_duplicates_refused(void **state)
{
	struct fx *f = *state;
	struct chan_lease a = ev(CHAN_LEASE_BOUND, 1, CTL_TESTING_IP(198, 18, 0, 20));
	struct chan_lease b = ev(CHAN_LEASE_BOUND, 2, CTL_TESTING_IP(198, 18, 0, 20));
	struct chan_lease out = ev(CHAN_LEASE_BOUND, 3, CTL_TESTING_IP(10, 0, 0, 1));
	struct chan_lease bad = ev(7, 4, CTL_TESTING_IP(198, 18, 0, 30));

	reopen(f);
	assert_int_equal(lease_store_apply(f->s, &a, CTL_TESTING_NOW), 0);
	/* Same address, other MAC: refused even before the first is committed. */
	assert_int_equal(lease_store_apply(f->s, &b, CTL_TESTING_NOW), -EADDRINUSE);
	assert_int_equal(lease_store_apply(f->s, &out, CTL_TESTING_NOW), -ENOENT);
	assert_int_equal(lease_store_apply(f->s, &bad, CTL_TESTING_NOW), -EINVAL);
	assert_int_equal(lease_store_pending(f->s), 1);
	assert_int_equal(lease_store_commit(f->s, CTL_TESTING_NOW), 1);
	assert_int_equal(lease_store_apply(f->s, &b, CTL_TESTING_NOW), -EADDRINUSE);
	/* Renewal by the holder is fine. */
	a.expires += 100;
	assert_int_equal(lease_store_apply(f->s, &a, CTL_TESTING_NOW), 0);
	assert_int_equal(lease_store_commit(f->s, CTL_TESTING_NOW), 1);
	reopen(f);
	assert_true(bound(f, 1, CTL_TESTING_IP(198, 18, 0, 20)));
	assert_false(bound(f, 2, CTL_TESTING_IP(198, 18, 0, 20)));
	/* After the holder releases it, another MAC may have it. */
	a.event = CHAN_LEASE_RELEASED;
	assert_int_equal(lease_store_apply(f->s, &a, CTL_TESTING_NOW), 0);
	assert_int_equal(lease_store_apply(f->s, &b, CTL_TESTING_NOW), 0);
	assert_int_equal(lease_store_commit(f->s, CTL_TESTING_NOW), 2);
	reopen(f);
	assert_true(bound(f, 2, CTL_TESTING_IP(198, 18, 0, 20)));
	assert_int_equal(n_bound(f), 1);
}

static void test_group_commit(void **state)
{
	struct fx *f = *state;
	struct lease_store_stats st;

	reopen(f);
	bind_n(f, 200);
	lease_store_get_stats(f->s, &st);
	assert_int_equal(st.commits, 1);
	assert_int_equal(st.committed, 200);
	assert_int_equal(file_size(f->log), 16 + 200 * LEASE_STORE_REC_SZ);
}

static void append_bytes(const char *path, const void *b, size_t n)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, n), (ssize_t)n);
	close(fd);
}

static void flip_byte(const char *path, off_t off)
{
	int fd = open(path, O_RDWR);
	uint8_t c;

	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

static void test_torn_tail(void **state)
{
	struct fx *f = *state;
	struct lease_store_stats st;

	reopen(f);
	bind_n(f, 5);
	lease_store_close(f->s);
	f->s = NULL;
	append_bytes(f->log, "\x53\x42\x4c\x52\x01\x00\x00", 7); /* a record cut short */
	reopen(f);
	lease_store_get_stats(f->s, &st);
	assert_int_equal(st.replay_torn, 1);
	assert_int_equal(n_bound(f), 5);
	assert_int_equal(file_size(f->log), 16 + 5 * LEASE_STORE_REC_SZ); /* cut back */
	/* Appends line up again after the cut. */
	struct chan_lease e = ev(CHAN_LEASE_BOUND, 77, CTL_TESTING_IP(198, 18, 0, 77));
	assert_int_equal(lease_store_apply(f->s, &e, CTL_TESTING_NOW), 0);
	assert_int_equal(lease_store_commit(f->s, CTL_TESTING_NOW), 1);
	reopen(f);
	assert_int_equal(n_bound(f), 6);
	assert_true(bound(f, 77, CTL_TESTING_IP(198, 18, 0, 77)));
	/* A whole last record with a bad CRC is a torn write too: only it is lost. */
	flip_byte(f->log, file_size(f->log) - 3);
	reopen(f);
	lease_store_get_stats(f->s, &st);
	assert_int_equal(st.replay_torn, 1);
	assert_int_equal(n_bound(f), 5);
	assert_false(bound(f, 77, CTL_TESTING_IP(198, 18, 0, 77)));
}

static void test_corrupt_middle(void **state)
{
	struct fx *f = *state;
	struct lease_store_stats st;

	reopen(f);
	bind_n(f, 8);
	lease_store_close(f->s);
	f->s = NULL;
	flip_byte(f->log, 16 + 2 * LEASE_STORE_REC_SZ + 10); /* record of MAC 2 */
	reopen(f);
	lease_store_get_stats(f->s, &st);
	assert_int_equal(st.replay_corrupt, 1);
	assert_int_equal(st.compactions, 1); /* the log was rewritten without it */
	assert_int_equal(n_bound(f), 7);
	assert_false(bound(f, 2, CTL_TESTING_IP(198, 18, 0, 12)));
	assert_true(bound(f, 7, CTL_TESTING_IP(198, 18, 0, 17)));
	reopen(f);
	lease_store_get_stats(f->s, &st);
	assert_int_equal(st.replay_corrupt, 0);
	assert_int_equal(n_bound(f), 7);
}

static void test_bad_header_and_lock(void **state)
{
	struct fx *f = *state;
	char err[512] = "";

	reopen(f);
	/* A second daemon on the same state directory is refused. */
	assert_null(lease_store_open(f->dir, &f->cfg, CTL_TESTING_NOW, err, sizeof(err)));
	assert_non_null(strstr(err, "another stormboot-control"));
	lease_store_close(f->s);
	f->s = NULL;
	flip_byte(f->log, 0);
	err[0] = '\0';
	assert_null(lease_store_open(f->dir, &f->cfg, CTL_TESTING_NOW, err, sizeof(err)));
	assert_non_null(strstr(err, "not a stormboot lease log"));
	flip_byte(f->log, 0);
	reopen(f);
}

/* Every prefix of a real log opens, and holds the leases of the whole records in it. */
static void test_every_prefix(void **state)
{
	struct fx *f = *state;
	uint8_t *buf;
	off_t len;
	int fd;

	reopen(f);
	bind_n(f, 6);
	lease_store_close(f->s);
	f->s = NULL;
	len = file_size(f->log);
	buf = malloc((size_t)len);
	fd = open(f->log, O_RDONLY);
	assert_int_equal(read(fd, buf, (size_t)len), len);
	close(fd);
	for (off_t k = 0; k <= len; k++) {
		size_t want = k < 16 ? 0 : (size_t)(k - 16) / LEASE_STORE_REC_SZ;

		fd = open(f->log, O_WRONLY | O_TRUNC);
		assert_int_equal(write(fd, buf, (size_t)k), k);
		close(fd);
		reopen(f);
		assert_int_equal(n_bound(f), want);
		lease_store_close(f->s);
		f->s = NULL;
	}
	free(buf);
}

static void test_compaction(void **state)
{
	struct fx *f = *state;
	struct lease_store_stats st;
	char err[512];

	reopen(f);
	bind_n(f, 100);
	for (unsigned int round = 0; round < 5; round++) { /* renewals grow the log */
		for (unsigned int k = 0; k < 100; k++) {
			struct chan_lease e =
				ev(CHAN_LEASE_BOUND, k, CTL_TESTING_IP(198, 18, 0, 10 + k));
			e.expires += round + 1;
			assert_int_equal(lease_store_apply(f->s, &e, CTL_TESTING_NOW), 0);
		}
		assert_int_equal(lease_store_commit(f->s, CTL_TESTING_NOW), 100);
	}
	for (unsigned int k = 0; k < 90; k++) {
		struct chan_lease e =
			ev(CHAN_LEASE_RELEASED, k, CTL_TESTING_IP(198, 18, 0, 10 + k));
		assert_int_equal(lease_store_apply(f->s, &e, CTL_TESTING_NOW), 0);
	}
	/* A quarantined address survives compaction as a quarantine. */
	struct chan_lease dcl = ev(CHAN_LEASE_DECLINED, 95, CTL_TESTING_IP(198, 18, 0, 105));
	assert_int_equal(lease_store_apply(f->s, &dcl, CTL_TESTING_NOW), 0);
	assert_int_equal(lease_store_compact(f->s, CTL_TESTING_NOW, err, sizeof(err)),
			 0); /* commits first */
	lease_store_get_stats(f->s, &st);
	assert_int_equal(st.compactions, 1);
	assert_int_equal(st.log_records, 9 + 2);
	assert_int_equal(file_size(f->log), 16 + 11 * LEASE_STORE_REC_SZ);
	reopen(f);
	assert_int_equal(n_bound(f), 9);
	for (unsigned int k = 90; k < 100; k++)
		assert_int_equal(bound(f, k, CTL_TESTING_IP(198, 18, 0, 10 + k)), k != 95);
	struct lease_info li;
	assert_int_equal(lease_find_ip(lease_store_pool(f->s), CTL_TESTING_IP(198, 18, 0, 105),
				       CTL_TESTING_NOW, &li),
			 0);
	assert_int_equal(li.state, LEASE_DECLINED);
	/* Appending after a compaction goes to the new file. */
	struct chan_lease e = ev(CHAN_LEASE_BOUND, 1, CTL_TESTING_IP(198, 18, 0, 11));
	assert_int_equal(lease_store_apply(f->s, &e, CTL_TESTING_NOW), 0);
	assert_int_equal(lease_store_commit(f->s, CTL_TESTING_NOW), 1);
	reopen(f);
	assert_int_equal(n_bound(f), 10);
}

static void test_set_config(void **state)
{
	struct fx *f = *state;
	struct sbcfg small;
	char err[SBCFG_ERR_MAX];

	reopen(f);
	bind_n(f, 20); /* .10 .. .29 */
	assert_int_equal(sbcfg_load_string(small_json, &small, err, sizeof(err)), 0);
	/* Leases outside the smaller pool are dropped, the rest carried over and durable. */
	assert_int_equal(lease_store_set_config(f->s, &small, CTL_TESTING_NOW, err, sizeof(err)),
			 10);
	assert_int_equal(n_bound(f), 10);
	lease_store_close(f->s);
	f->s = lease_store_open(f->dir, &small, CTL_TESTING_NOW, err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(n_bound(f), 10);
	assert_true(bound(f, 9, CTL_TESTING_IP(198, 18, 0, 19)));
	lease_store_close(f->s);
	f->s = NULL;
	sbcfg_free(&small);
}

static void test_crc32c(void **state)
{
	/* RFC 3720 B.4 test vector: 32 bytes of zeros. */
	uint8_t z[32] = {0};

	assert_int_equal(lease_store_crc32c(z, sizeof(z)), 0x8a9136aau);
	assert_int_equal(lease_store_crc32c("123456789", 9), 0xe3069283u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commit_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_middle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_header_and_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_config, setup, teardown),
		cmocka_unit_test(test_crc32c),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
