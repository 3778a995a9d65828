/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cluster_test.c - the pure parts of cluster mode: bucket ownership by rendezvous hashing
 * (every bucket exactly one owner, shares near even, a lost server moves only its own
 * buckets) and a lease's value in etcd (round trip, bad values refused); the etcd client's
 * wire helpers (base64, prefix range end, gateway integers); the refusals a server publishes
 * in applied/ID (bounded, old values tolerated) and the API's answer from them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"
#include "cluster_refusal.h"
#include "etcd_client.h"

static bool owns(const uint8_t map[32], unsigned b)
{
	return map[b / 8] >> (b % 8) & 1;
}

static void test_buckets(void **state)
{
	char names[10][8];
	const char *ids[10];
	uint8_t maps[10][32], after[10][32];

	for (int i = 0; i < 10; i++) {
		snprintf(names[i], sizeof(names[i]), "s%d", i + 1);
		ids[i] = names[i];
	}
	for (size_t n = 1; n <= 10; n++) {
		unsigned total = 0;

		for (size_t i = 0; i < n; i++) {
			unsigned o = cluster_buckets(ids, n, ids[i], maps[i]);
			total += o;
			/* near an even share: within a factor of 2 (n <= 10, 256 buckets) */
			assert_true(o * n >= 128 && o * n <= 512);
		}
		assert_int_equal(total, 256);
		for (unsigned b = 0; b < 256; b++) {
			int owners = 0;
			for (size_t i = 0; i < n; i++)
				owners += owns(maps[i], b);
			assert_int_equal(owners, 1);
		}
		/* the order of the live set does not matter */
		const char *rev[10];
		uint8_t m2[32];
		for (size_t i = 0; i < n; i++)
			rev[i] = ids[n - 1 - i];
		cluster_buckets(rev, n, ids[0], m2);
		assert_memory_equal(m2, maps[0], 32);
		if (n < 2)
			continue;
		/* the last server is lost: only its buckets move */
		for (size_t i = 0; i + 1 < n; i++) {
			cluster_buckets(ids, n - 1, ids[i], after[i]);
			for (unsigned b = 0; b < 256; b++)
				if (owns(maps[i], b))
					assert_true(owns(after[i], b));
		}
	}
	/* a server that is not in the live set owns nothing */
	uint8_t m[32];
	assert_int_equal(cluster_buckets(ids, 3, "s9", m), 0);
	assert_int_equal(cluster_buckets(ids, 0, "s1", m), 0);
}

static void test_lease_value(void **state)
{
	struct chan_lease l = {.expires = 1796305038,
			       .ip = 0xc6120064,
			       .subnet = 3,
			       .mac = {0x02, 0xab, 0, 0, 0x10, 0xff}};
	char *v = cluster_lease_value(&l, "boot-a"), server[SBCFG_CLUSTER_ID_MAX];
	uint8_t mac[6];
	uint64_t exp;
	uint16_t sub;

	assert_non_null(v);
	assert_string_equal(v, "{\"mac\":\"02:ab:00:00:10:ff\",\"expires\":1796305038,"
			       "\"server\":\"boot-a\",\"subnet\":3}");
	assert_int_equal(cluster_lease_parse(v, strlen(v), mac, &exp, &sub, server), 0);
	assert_memory_equal(mac, l.mac, 6);
	assert_int_equal(exp, l.expires);
	assert_int_equal(sub, 3);
	assert_string_equal(server, "boot-a");
	for (size_t k = 0; k < strlen(v); k++) /* every truncation refused */
		assert_int_equal(cluster_lease_parse(v, k, mac, &exp, &sub, server), -EINVAL);
	free(v);
	static const char *const bad[] = {
		"{\"mac\":\"02:ab:00:00:10\",\"expires\":1,\"server\":\"a\"}",
		"{\"mac\":\"02:ab:00:00:10:ff\",\"expires\":\"1\",\"server\":\"a\"}",
		"{\"mac\":\"02:ab:00:00:10:ff\",\"expires\":1}",
		"[]",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
			cluster_lease_parse(bad[i], strlen(bad[i]), mac, &exp, &sub, server),
			-EINVAL);
}

static void test_resv_value(void **state)
{
	struct sbcfg_reservation r = {.mac = {0x52, 0x54, 0, 0xaa, 0xbb, 1}, .ip = 0xc61201c8};
	static struct cluster_resv cback;
	struct sbcfg_reservation back;
	char *v;

	snprintf(r.hostname, sizeof(r.hostname), "vm1");
	snprintf(r.bootfile, sizeof(r.bootfile), "ipxe.efi");
	v = cluster_resv_value(&r, NULL);
	assert_non_null(v);
	assert_int_equal(cluster_resv_parse(v, strlen(v), &cback), 0);
	back = cback.r;
	assert_false(back.images_allowed.restricted);
	assert_memory_equal(back.mac, r.mac, 6);
	assert_int_equal(back.ip, r.ip);
	assert_string_equal(back.hostname, "vm1");
	assert_string_equal(back.bootfile, "ipxe.efi");
	assert_string_equal(back.ipxe_script, "");
	for (size_t k = 0; k < strlen(v); k++)
		assert_int_equal(cluster_resv_parse(v, k, &cback), -EINVAL);
	free(v);
	r.ip = 0; /* boot information only */
	v = cluster_resv_value(&r, NULL);
	assert_int_equal(cluster_resv_parse(v, strlen(v), &cback), 0);
	assert_int_equal(cback.r.ip, 0);
	free(v);
	const char *bad = "{\"mac\":\"52:54:00:aa:bb:01\",\"ip\":\"1.2.3\",\"hostname\":\"\","
			  "\"bootfile\":\"\",\"ipxe_script\":\"\"}";
	assert_int_equal(cluster_resv_parse(bad, strlen(bad), &cback), -EINVAL);

	/* images_allowed travels with it: the patterns, in order; an empty list stays a list */
	char pats[4][SBCFG_NAME_MAX] = {"other", "vmlinuz-*", "initrd.gz", "x"};
	r.images_allowed = (struct sbcfg_images_allowed){.first = 1, .n = 2, .restricted = true};
	v = cluster_resv_value(&r, (const char(*)[SBCFG_NAME_MAX])pats);
	assert_non_null(strstr(v, "\"images_allowed\":[\"vmlinuz-*\",\"initrd.gz\"]"));
	assert_int_equal(cluster_resv_parse(v, strlen(v), &cback), 0);
	assert_true(cback.r.images_allowed.restricted);
	assert_int_equal(cback.r.images_allowed.n, 2);
	assert_string_equal(cback.patterns[cback.r.images_allowed.first], "vmlinuz-*");
	assert_string_equal(cback.patterns[cback.r.images_allowed.first + 1], "initrd.gz");
	free(v);
	r.images_allowed.n = 0;
	v = cluster_resv_value(&r, NULL);
	assert_int_equal(cluster_resv_parse(v, strlen(v), &cback), 0);
	assert_true(cback.r.images_allowed.restricted);
	assert_int_equal(cback.r.images_allowed.n, 0);
	free(v);
	/* patterns the config file would refuse are refused from etcd too */
	const char *badp[] = {
		"{\"mac\":\"52:54:00:aa:bb:01\",\"ip\":\"\",\"hostname\":\"\",\"bootfile\":\"\","
		"\"ipxe_script\":\"\",\"images_allowed\":\"vmlinuz\"}",
		"{\"mac\":\"52:54:00:aa:bb:01\",\"ip\":\"\",\"hostname\":\"\",\"bootfile\":\"\","
		"\"ipxe_script\":\"\",\"images_allowed\":[1]}",
		"{\"mac\":\"52:54:00:aa:bb:01\",\"ip\":\"\",\"hostname\":\"\",\"bootfile\":\"\","
		"\"ipxe_script\":\"\",\"images_allowed\":[\"\"]}",
	};
	for (size_t i = 0; i < sizeof(badp) / sizeof(badp[0]); i++)
		assert_int_equal(cluster_resv_parse(badp[i], strlen(badp[i]), &cback), -EINVAL);
}

static void test_image_value(void **state)
{
	const char *sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char name[SBCFG_NAME_MAX], back[SBCFG_SHA256_HEX], src[SBCFG_PATH_MAX];
	char *v = cluster_image_value("vmlinuz", sha, "/srv/img/vmlinuz");

	(void)state;
	assert_non_null(v);
	assert_int_equal(cluster_image_parse(v, strlen(v), name, back, src), 0);
	assert_string_equal(name, "vmlinuz");
	assert_string_equal(back, sha);
	assert_string_equal(src, "/srv/img/vmlinuz");
	for (size_t k = 0; k < strlen(v); k++)
		assert_int_equal(cluster_image_parse(v, k, name, back, src), -EINVAL);
	free(v);
	const char *bad[] = {
		"{\"name\":\"a\",\"sha256\":\"0123\",\"source\":\"/a\"}",
		"{\"name\":\"a\",\"sha256\":\"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789"
		"abcdef\",\"source\":\"/a\"}",
		"{\"name\":\"\",\"sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
		"abcdef\",\"source\":\"/a\"}",
		"{\"name\":\"a\",\"sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
		"abcdef\",\"source\":\"rel/a\"}",
		"[]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cluster_image_parse(bad[i], strlen(bad[i]), name, back, src), -EINVAL);
}

/* "In effect on every live server": which servers have not applied revision rev. */
static void test_apply_missing(void **state)
{
	const char *ids[] = {"a", "b", "c", "d"};
	int64_t applied[] = {-1, 41, 42, -1}; /* a: me, never published; d: none published */
	size_t miss[4];

	(void)state;
	/* me (a) is left out, whatever it published; b is behind; c has it; d never said */
	assert_int_equal(cluster_apply_missing(ids, applied, 4, "a", 42, miss), 2);
	assert_int_equal(miss[0], 1);
	assert_int_equal(miss[1], 3);
	/* a revision everyone who published reached: only d */
	assert_int_equal(cluster_apply_missing(ids, applied, 4, "a", 41, miss), 1);
	assert_int_equal(miss[0], 3);
	applied[3] = 100;
	assert_int_equal(cluster_apply_missing(ids, applied, 4, "a", 41, miss), 0);
	/* a later revision: the exact one counts (>=), one past it does not */
	assert_int_equal(cluster_apply_missing(ids, applied, 4, "a", 43, miss), 2);
	assert_int_equal(miss[0], 1);
	assert_int_equal(miss[1], 2);
	/* alone, or me not among the live servers (not registered): nobody else to wait for,
	 * or all of them */
	assert_int_equal(cluster_apply_missing(ids, applied, 1, "a", 1000, miss), 0);
	assert_int_equal(cluster_apply_missing(ids, applied, 0, "a", 1, miss), 0);
	assert_int_equal(cluster_apply_missing(ids + 1, applied + 1, 3, "a", 101, miss), 3);
}

static void test_wire(void **state)
{
	static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const enc[] = {"",	      "Zg==",	  "Zm8=",    "Zm9v",
					  "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	char buf[16];

	for (size_t i = 0; i < 7; i++) { /* RFC 4648 section 10 */
		char *e = etcd_b64(plain[i], strlen(plain[i]));
		assert_string_equal(e, enc[i]);
		free(e);
		assert_int_equal(etcd_unb64(enc[i], buf, sizeof(buf)), (long)strlen(plain[i]));
		assert_memory_equal(buf, plain[i], strlen(plain[i]));
	}
	assert_int_equal(etcd_unb64("Zm9", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(etcd_unb64("Zm=v", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(etcd_unb64("Zm9v!A==", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(etcd_unb64("Zm9vYmFy", buf, 5), -EINVAL); /* no room */
	char *end = etcd_prefix_end_b64("/sb/");
	assert_string_equal(end, "L3NiMA=="); /* "/sb0" */
	free(end);
	json_t *j = json_loads("{\"a\":\"12\",\"b\":7,\"c\":null}", 0, NULL);
	assert_int_equal(etcd_json_int(json_object_get(j, "a")), 12);
	assert_int_equal(etcd_json_int(json_object_get(j, "b")), 7);
	assert_int_equal(etcd_json_int(json_object_get(j, "c")), 0);
	assert_int_equal(etcd_json_int(json_object_get(j, "d")), 0);
	json_decref(j);
}

/* A server's refusals into its applied/ID value: bounded, the oldest dropped (and said so),
 * the reason made plain; the whole value under 1024 bytes (what an older server reads). */
static void test_refusals_encode(void **state)
{
	struct cluster_refusals l = {0};
	char big[600], why[CLUSTER_REFUSAL_WHY_MAX];
	json_t *v;
	char *s;

	(void)state;
	v = json_pack("{s:I, s:I}", "images", (json_int_t)120, "reservations", (json_int_t)90);
	assert_int_equal(cluster_refusals_put(&l, v), 0); /* none: the value of before */
	assert_null(json_object_get(v, "refused"));
	assert_int_equal(cluster_apply_state_of(v, "images", 118, why, sizeof(why)),
			 CLUSTER_APPLY_DONE);
	cluster_refusals_add(&l, "images", 118,
			     "image \"k3\": file differs\n\\ from the pinned SHA-256 \xc3\xa9");
	assert_string_equal(l.r[0].why, "image 'k3': file differs / from the pinned SHA-256   ");
	assert_int_equal(cluster_refusals_put(&l, v), 0);
	assert_int_equal(cluster_apply_state_of(v, "images", 118, why, sizeof(why)),
			 CLUSTER_APPLY_REFUSED);
	assert_string_equal(why, l.r[0].why);
	/* another set's revision, or another revision of the set: not refused */
	assert_int_equal(cluster_apply_state_of(v, "reservations", 118, why, sizeof(why)),
			 CLUSTER_APPLY_PENDING); /* 90 < 118 */
	assert_int_equal(cluster_apply_state_of(v, "images", 119, why, sizeof(why)),
			 CLUSTER_APPLY_DONE);
	assert_int_equal(cluster_apply_state_of(v, "images", 121, why, sizeof(why)),
			 CLUSTER_APPLY_PENDING);
	/* more than CLUSTER_REFUSALS_MAX, each with a long reason: the oldest go */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int i = 0; i < CLUSTER_REFUSALS_MAX + 2; i++)
		cluster_refusals_add(&l, "reservations", 1000 + i, big);
	assert_int_equal(l.n, CLUSTER_REFUSALS_MAX);
	assert_int_equal(l.lost, 1001);
	assert_int_equal(strlen(l.r[0].why), CLUSTER_REFUSAL_WHY_MAX - 1);
	json_object_set_new(v, "images", json_integer(2000));
	json_object_set_new(v, "reservations", json_integer(2000));
	json_object_set_new(v, "templates", json_integer(2000));
	json_object_set_new(v, "config", json_integer(2000));
	assert_int_equal(cluster_refusals_put(&l, v), 0);
	s = json_dumps(v, JSON_COMPACT);
	assert_non_null(s);
	assert_true(strlen(s) < 1024);
	/* round trip through the text, as another server reads it */
	json_t *back = json_loads(s, 0, NULL);
	free(s);
	assert_non_null(back);
	assert_int_equal(cluster_apply_state_of(back, "reservations", 1005, why, sizeof(why)),
			 CLUSTER_APPLY_REFUSED);
	assert_int_equal(cluster_apply_state_of(back, "reservations", 1002, why, sizeof(why)),
			 CLUSTER_APPLY_REFUSED);
	/* dropped: not known (it may have been refused); older than the drop: not known either;
	 * past it: applied */
	assert_int_equal(cluster_apply_state_of(back, "reservations", 1001, why, sizeof(why)),
			 CLUSTER_APPLY_UNKNOWN);
	assert_int_equal(cluster_apply_state_of(back, "images", 118, why, sizeof(why)),
			 CLUSTER_APPLY_UNKNOWN);
	assert_int_equal(cluster_apply_state_of(back, "images", 1500, why, sizeof(why)),
			 CLUSTER_APPLY_DONE);
	json_decref(back);
	json_decref(v);
}

/* Values of any shape: an older server's (no "refused"), none, malformed parts. */
static void test_refusals_tolerant(void **state)
{
	static const char *const vals[] = {
		"{\"images\": 50}",
		"{\"images\": 50, \"refused\": 7}",
		"{\"images\": 50, \"refused\": [1, {\"set\": 3}, {\"set\": \"images\"}, "
		"{\"set\": \"images\", \"rev\": \"40\"}], \"refused_lost\": \"x\"}",
		"{\"images\": 50, \"refused\": [{\"set\": \"images\", \"rev\": 40, \"why\": 9}]}",
	};
	static const enum cluster_apply_state want[] = {CLUSTER_APPLY_DONE, CLUSTER_APPLY_DONE,
							CLUSTER_APPLY_DONE, CLUSTER_APPLY_REFUSED};
	char why[64];

	(void)state;
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		json_t *v = json_loads(vals[i], 0, NULL);
		assert_non_null(v);
		assert_int_equal(cluster_apply_state_of(v, "images", 40, why, sizeof(why)),
				 want[i]);
		if (want[i] == CLUSTER_APPLY_REFUSED) /* its "why" not a string */
			assert_string_equal(why, "(no reason given)");
		assert_int_equal(cluster_apply_state_of(v, "images", 51, why, sizeof(why)),
				 CLUSTER_APPLY_PENDING);
		json_decref(v);
	}
	assert_int_equal(cluster_apply_state_of(NULL, "images", 1, why, sizeof(why)),
			 CLUSTER_APPLY_PENDING);
	json_t *a = json_loads("[1]", 0, NULL); /* not an object */
	assert_int_equal(cluster_apply_state_of(a, "images", 1, why, sizeof(why)),
			 CLUSTER_APPLY_PENDING);
	json_decref(a);
}

/* The API's answer: all, or K of N naming each refusal and each server not known. */
static void test_apply_answer(void **state)
{
	const char *ids[] = {"a", "b", "c", "d"};
	const char *whys[] = {NULL, "image k3: file differs from the pinned SHA-256", NULL,
			      "config: dhcp.pool out of subnet"};
	enum cluster_apply_state st[] = {CLUSTER_APPLY_DONE, CLUSTER_APPLY_DONE, CLUSTER_APPLY_DONE,
					 CLUSTER_APPLY_DONE};
	char out[512], tiny[20];

	(void)state;
	assert_int_equal(cluster_apply_answer(ids, st, whys, 4, 12, out, sizeof(out)), 0);
	assert_string_equal(out, "in effect on all 4 live servers (confirmed in 12 ms)");
	assert_int_equal(cluster_apply_answer(ids, st, whys, 1, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "in effect on the only live server (this one)");
	st[1] = CLUSTER_APPLY_REFUSED;
	assert_int_equal(cluster_apply_answer(ids, st, whys, 4, 7, out, sizeof(out)), 1);
	assert_string_equal(out, "in effect on 3 of 4 live servers (answered in 7 ms); refused "
				 "by b: image k3: file differs from the pinned SHA-256");
	st[3] = CLUSTER_APPLY_REFUSED;
	st[2] = CLUSTER_APPLY_UNKNOWN;
	assert_int_equal(cluster_apply_answer(ids, st, whys, 4, 7, out, sizeof(out)), 3);
	assert_string_equal(out, "in effect on 1 of 4 live servers (answered in 7 ms); refused "
				 "by b: image k3: file differs from the pinned SHA-256; d: "
				 "config: dhcp.pool out of subnet; not known whether applied or "
				 "refused by c (more than 4 refusals there since: see its log and "
				 "status)");
	/* cut, never past the buffer */
	assert_int_equal(cluster_apply_answer(ids, st, whys, 4, 7, tiny, sizeof(tiny)), 3);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	assert_int_equal(cluster_apply_answer(ids, st, whys, 4, 7, tiny, 0), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_lease_value),
		cmocka_unit_test(test_resv_value),
		cmocka_unit_test(test_wire),
		cmocka_unit_test(test_image_value),
		cmocka_unit_test(test_apply_missing),
		cmocka_unit_test(test_refusals_encode),
		cmocka_unit_test(test_refusals_tolerant),
		cmocka_unit_test(test_apply_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
