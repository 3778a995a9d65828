/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dhcp_test.c - DHCP wire parsing and reply building: real-client captures
 * (tests/fixtures/dhcp, every truncated prefix refused), a table of
 * malformed messages each refused with its own drop reason, option overload,
 * and replies parsed back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dhcp.h"
#include "fixtures.h"
#include "pxe.h"
#include "sb_drop.h"

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((c) << 8) | (d))

static const uint8_t mac1[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* A BOOTREQUEST with the given options area (bytes after the cookie). */
static size_t mk_msg(uint8_t *buf, size_t cap, const uint8_t *opts, size_t optlen)
{
	assert_true(DHCP_OPT_OFF + optlen <= cap);
	memset(buf, 0, DHCP_OPT_OFF);
	buf[0] = DHCP_BOOTREQUEST;
	buf[1] = 1;
	buf[2] = 6;
	buf[4] = 0xde, buf[5] = 0xad, buf[6] = 0xbe, buf[7] = 0xef;
	buf[10] = 0x80; /* broadcast flag */
	memcpy(buf + 28, mac1, 6);
	buf[236] = 99, buf[237] = 130, buf[238] = 83, buf[239] = 99;
	memcpy(buf + DHCP_OPT_OFF, opts, optlen);
	return DHCP_OPT_OFF + optlen;
}

#define O(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

/* ---- malformed and edge-case messages, one row each ---- */

struct parse_case {
	const char *name;
	const uint8_t *opts;
	size_t optlen;
	int rc; /* expected: 0 or -SB_DROP_x */
	uint8_t type;
	uint32_t anom; /* expected DHCP_ANOM_* when rc == 0 */
};

#define IGN   DHCP_ANOM_OPT_IGNORED
#define SPLIT DHCP_ANOM_OPT_SPLIT

static const struct parse_case parse_cases[] = {
	{"minimal discover", O(53, 1, 1, 255), 0, DHCP_DISCOVER, 0},
	{"pad before and after", O(0, 0, 53, 1, 3, 0, 255, 0, 0), 0, DHCP_REQUEST, 0},
	{"no END", O(53, 1, 1), -SB_DROP_DHCP_OPT_NO_END, 0, 0},
	{"empty options", O(0), -SB_DROP_DHCP_OPT_NO_END, 0, 0},
	{"END only: no 53 (BOOTP)", O(255), -SB_DROP_DHCP_NO_MSG_TYPE, 0, 0},
	{"length byte missing", O(53, 1, 1, 12), -SB_DROP_DHCP_OPT_OVERRUN, 0, 0},
	{"value overruns", O(53, 1, 1, 12, 10, 'a', 'b', 'c'), -SB_DROP_DHCP_OPT_OVERRUN, 0, 0},
	{"53 len 2", O(53, 2, 1, 0, 255), -SB_DROP_DHCP_OPT_BAD_LEN, 0, 0},
	{"53 len 0", O(53, 0, 255), -SB_DROP_DHCP_OPT_BAD_LEN, 0, 0},
	{"53 value 0", O(53, 1, 0, 255), -SB_DROP_DHCP_BAD_MSG_TYPE, 0, 0},
	{"53 value 9 (FORCERENEW)", O(53, 1, 9, 255), -SB_DROP_DHCP_BAD_MSG_TYPE, 0, 0},
	/* Options the protocol needs (50, 53, 54; 52 and 82 shape the message): strict. */
	{"53 twice", O(53, 1, 1, 53, 1, 3, 255), -SB_DROP_DHCP_OPT_DUPLICATE, 0, 0},
	{"50 len 3", O(53, 1, 3, 50, 3, 1, 2, 3, 255), -SB_DROP_DHCP_OPT_BAD_LEN, 0, 0},
	{"50 twice", O(53, 1, 3, 50, 4, 1, 2, 3, 4, 50, 4, 1, 2, 3, 4, 255),
	 -SB_DROP_DHCP_OPT_DUPLICATE, 0, 0},
	{"54 len 5", O(53, 1, 3, 54, 5, 1, 2, 3, 4, 5, 255), -SB_DROP_DHCP_OPT_BAD_LEN, 0, 0},
	{"54 twice", O(53, 1, 3, 54, 4, 1, 2, 3, 4, 54, 4, 1, 2, 3, 4, 255),
	 -SB_DROP_DHCP_OPT_DUPLICATE, 0, 0},
	{"52 len 2", O(53, 1, 1, 52, 2, 1, 1, 255), -SB_DROP_DHCP_OPT_BAD_LEN, 0, 0},
	{"82 one byte", O(53, 1, 1, 82, 1, 1, 255), -SB_DROP_DHCP_OPT_BAD_LEN, 0, 0},
	{"82 twice", O(53, 1, 1, 82, 3, 1, 1, 'a', 82, 3, 2, 1, 'b', 255),
	 -SB_DROP_DHCP_OPT_DUPLICATE, 0, 0},
	/* Optional options: a bad one is ignored and counted, the message is served. */
	{"51 len 2", O(53, 1, 3, 51, 2, 1, 2, 255), 0, DHCP_REQUEST, IGN},
	{"57 len 1", O(53, 1, 1, 57, 1, 5, 255), 0, DHCP_DISCOVER, IGN},
	{"61 len 1", O(53, 1, 1, 61, 1, 1, 255), 0, DHCP_DISCOVER, IGN},
	{"55 len 0", O(53, 1, 1, 55, 0, 255), 0, DHCP_DISCOVER, IGN},
	{"55 twice", O(53, 1, 1, 55, 1, 1, 55, 1, 3, 255), 0, DHCP_DISCOVER, SPLIT},
	{"55 three times", O(55, 1, 1, 53, 1, 1, 55, 1, 3, 55, 1, 6, 255), 0, DHCP_DISCOVER, SPLIT},
	{"12 len 0", O(53, 1, 1, 12, 0, 255), 0, DHCP_DISCOVER, IGN},
	{"60 len 0", O(53, 1, 1, 60, 0, 255), 0, DHCP_DISCOVER, IGN},
	{"77 len 0", O(53, 1, 1, 77, 0, 255), 0, DHCP_DISCOVER, IGN},
	{"93 odd length", O(53, 1, 1, 93, 3, 0, 7, 0, 255), 0, DHCP_DISCOVER, IGN},
	{"93 len 0", O(53, 1, 1, 93, 0, 255), 0, DHCP_DISCOVER, IGN},
	{"93 two types", O(53, 1, 1, 93, 4, 0, 7, 0, 0, 255), 0, DHCP_DISCOVER, 0},
	{"94 len 2", O(53, 1, 1, 94, 2, 1, 2, 255), 0, DHCP_DISCOVER, IGN},
	{"94 type 2", O(53, 1, 1, 94, 3, 2, 2, 1, 255), 0, DHCP_DISCOVER, IGN},
	{"97 len 16",
	 O(53, 1, 1, 97, 16, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 255), 0,
	 DHCP_DISCOVER, IGN},
	{"97 type 1",
	 O(53, 1, 1, 97, 17, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 255), 0,
	 DHCP_DISCOVER, IGN},
	{"60 split in two (RFC 3396)",
	 O(53, 1, 1, 60, 4, 'P', 'X', 'E', 'C', 60, 5, 'l', 'i', 'e', 'n', 't', 255), 0,
	 DHCP_DISCOVER, SPLIT},
	{"bad 12 and split 77", O(12, 0, 53, 1, 1, 77, 1, 'a', 77, 1, 'b', 255), 0, DHCP_DISCOVER,
	 IGN | SPLIT},
	{"82 sub-option overruns", O(53, 1, 1, 82, 4, 1, 5, 'a', 'b', 255),
	 -SB_DROP_DHCP_BAD_RELAY_AGENT, 0, 0},
	{"82 sub-option len 0", O(53, 1, 1, 82, 2, 1, 0, 255), -SB_DROP_DHCP_BAD_RELAY_AGENT, 0, 0},
	{"82 trailing byte", O(53, 1, 1, 82, 4, 1, 1, 'a', 9, 255), -SB_DROP_DHCP_BAD_RELAY_AGENT,
	 0, 0},
	{"52 value 4", O(53, 1, 1, 52, 1, 4, 255), -SB_DROP_DHCP_BAD_OVERLOAD, 0, 0},
	{"unknown option twice is fine", O(53, 1, 1, 250, 1, 1, 250, 0, 255), 0, DHCP_DISCOVER, 0},
	{"unknown option len 0 is fine", O(80, 0, 53, 1, 8, 255), 0, DHCP_INFORM, 0},
	{"data after END ignored", O(53, 1, 7, 255, 12, 200), 0, DHCP_RELEASE, 0},
};

static void test_parse_table(void **state)
{
	uint8_t buf[1024];
	struct dhcp_msg m;

	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		size_t len = mk_msg(buf, sizeof(buf), c->opts, c->optlen);
		/* Exact-size heap copy so ASan sees any over-read. */
		uint8_t *copy = malloc(len);
		memcpy(copy, buf, len);
		int rc = dhcp_parse(copy, len, &m);
		if (rc != c->rc)
			fail_msg("%s: rc %d (%s), expected %d (%s)", c->name, rc, sb_drop_name(rc),
				 c->rc, sb_drop_name(c->rc));
		if (rc == 0 && m.type != c->type)
			fail_msg("%s: type %u, expected %u", c->name, m.type, c->type);
		if (rc == 0 && m.anomalies != c->anom)
			fail_msg("%s: anomalies %#x, expected %#x", c->name, m.anomalies, c->anom);
		free(copy);
	}
}

static void test_parse_header_errors(void **state)
{
	uint8_t buf[400];
	struct dhcp_msg m;
	size_t len = mk_msg(buf, sizeof(buf), O(53, 1, 1, 255));

	assert_int_equal(dhcp_parse(buf, len, &m), 0);
	assert_int_equal(dhcp_parse(buf, DHCP_OPT_OFF - 1, &m), -SB_DROP_DHCP_SHORT);
	assert_int_equal(dhcp_parse(buf, 0, &m), -SB_DROP_DHCP_SHORT);
	buf[0] = 3;
	assert_int_equal(dhcp_parse(buf, len, &m), -SB_DROP_DHCP_BAD_OP);
	buf[0] = 1, buf[1] = 6; /* IEEE 802 */
	assert_int_equal(dhcp_parse(buf, len, &m), -SB_DROP_DHCP_BAD_HTYPE);
	buf[1] = 1, buf[2] = 16;
	assert_int_equal(dhcp_parse(buf, len, &m), -SB_DROP_DHCP_BAD_HTYPE);
	buf[2] = 6, buf[239] = 98;
	assert_int_equal(dhcp_parse(buf, len, &m), -SB_DROP_DHCP_BAD_COOKIE);
	buf[239] = 99;
	assert_int_equal(dhcp_parse(buf, len, &m), 0);
}

/* Every field of a full request lands where it should, zero-copy. */
static void test_parse_fields(void **state)
{
	uint8_t buf[600];
	struct dhcp_msg m;
	size_t len =
		mk_msg(buf, sizeof(buf),
		       O(53, 1, 3, 50, 4, 198, 18, 0, 77, 54, 4, 198, 18, 0, 1, 51, 4, 0, 0, 0x0e,
			 0x10, 57, 2, 0x05, 0xc0, 55, 4, 1, 3, 67, 66, 61, 7, 1, 0x52, 0x54, 0,
			 0x12, 0x34, 0x56, 12, 3, 'v', 'm', '1', 60, 9, 'P', 'X', 'E', 'C', 'l',
			 'i', 'e', 'n', 't', 77, 4, 'i', 'P', 'X', 'E', 93, 2, 0, 7, 94, 3, 1, 3,
			 16, 97, 17, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 175,
			 3, 0xb1, 1, 1, 82, 9, 1, 3, 'e', 't', 'h', 2, 2, 0xab, 0xcd, 255));
	buf[12] = 198, buf[13] = 18, buf[14] = 0, buf[15] = 9; /* ciaddr */
	buf[24] = 198, buf[25] = 18, buf[26] = 5, buf[27] = 1; /* giaddr */
	buf[3] = 1;					       /* hops */
	memcpy(buf + 108, "pxelinux.0", 10);		       /* file */

	assert_int_equal(dhcp_parse(buf, len, &m), 0);
	assert_int_equal(m.op, DHCP_BOOTREQUEST);
	assert_int_equal(m.hops, 1);
	assert_int_equal(m.xid, 0xdeadbeef);
	assert_int_equal(m.flags, DHCP_FLAG_BROADCAST);
	assert_int_equal(m.ciaddr, IP4(198, 18, 0, 9));
	assert_int_equal(m.giaddr, IP4(198, 18, 5, 1));
	assert_memory_equal(m.chaddr, mac1, 6);
	assert_string_equal(m.file, "pxelinux.0");
	assert_non_null(m.sname);
	assert_int_equal(m.type, DHCP_REQUEST);
	assert_int_equal(m.requested_ip, IP4(198, 18, 0, 77));
	assert_int_equal(m.server_id, IP4(198, 18, 0, 1));
	assert_true(m.has_lease_time);
	assert_int_equal(m.lease_time, 3600);
	assert_int_equal(m.max_msg_size, 1472);
	assert_int_equal(m.prl.len, 4);
	assert_int_equal(m.prl.data[3], 66);
	assert_ptr_equal(m.prl.data, buf + DHCP_OPT_OFF + 3 + 6 + 6 + 6 + 4 + 2);
	assert_int_equal(m.client_id.len, 7);
	assert_memory_equal(m.hostname.data, "vm1", 3);
	assert_int_equal(m.vendor_class.len, 9);
	assert_int_equal(m.user_class.len, 4);
	assert_int_equal(m.client_arch.len, 2);
	assert_int_equal(m.client_ndi.len, 3);
	assert_int_equal(m.client_uuid.len, 17);
	assert_int_equal(m.client_uuid.data[16], 16);
	assert_int_equal(m.ipxe_encap.len, 3);
	assert_int_equal(m.relay_agent.len, 9);
	assert_int_equal(m.circuit_id.len, 3);
	assert_memory_equal(m.circuit_id.data, "eth", 3);
	assert_int_equal(m.remote_id.len, 2);
	assert_true(dhcp_has_opt(&m, 175));
	assert_true(dhcp_has_opt(&m, 82));
	assert_false(dhcp_has_opt(&m, 43));
	assert_string_equal(dhcp_msg_type_name(m.type), "DHCPREQUEST");
	assert_string_equal(dhcp_msg_type_name(0), "unknown");
}

/*
 * An ignored optional option leaves no value behind: neither a bad one nor any instance of
 * a duplicated / split one (RFC 3396: the instances are one value, we do not join them).
 */
static void test_optional_ignored(void **state)
{
	uint8_t buf[600];
	struct dhcp_msg m;
	size_t len;

	len = mk_msg(buf, sizeof(buf),
		     O(53, 1, 3, 50, 4, 198, 18, 0, 100, 12, 0, 51, 2, 0, 1, 57, 1, 2, 61, 1, 1, 94,
		       2, 1, 2, 55, 2, 1, 3, 60, 3, 'P', 'X', 'E', 55, 1, 6, 60, 3, 'C', 'l', 'i',
		       255));
	assert_int_equal(dhcp_parse(buf, len, &m), 0);
	assert_int_equal(m.type, DHCP_REQUEST);
	assert_int_equal(m.requested_ip, IP4(198, 18, 0, 100));
	assert_int_equal(m.anomalies, DHCP_ANOM_OPT_IGNORED | DHCP_ANOM_OPT_SPLIT);
	assert_null(m.hostname.data);
	assert_false(m.has_lease_time);
	assert_int_equal(m.lease_time, 0);
	assert_int_equal(m.max_msg_size, 0);
	assert_null(m.client_id.data);
	assert_null(m.client_ndi.data);
	assert_null(m.prl.data);
	assert_int_equal(m.prl.len, 0);
	assert_null(m.vendor_class.data);
	/* Seen all the same. */
	assert_true(dhcp_has_opt(&m, DHCP_OPT_HOSTNAME));
	assert_true(dhcp_has_opt(&m, DHCP_OPT_PARAM_REQ));

	/* Split across the options field and the overloaded file field (RFC 3396 4). */
	len = mk_msg(buf, sizeof(buf), O(52, 1, 1, 53, 1, 1, 60, 3, 'P', 'X', 'E', 255));
	memset(buf + 108, 0, 128);
	const uint8_t file_opts[] = {60, 6, 'C', 'l', 'i', 'e', 'n', 't', 255};
	memcpy(buf + 108, file_opts, sizeof(file_opts));
	assert_int_equal(dhcp_parse(buf, len, &m), 0);
	assert_int_equal(m.anomalies, DHCP_ANOM_OPT_SPLIT);
	assert_null(m.vendor_class.data);

	/* A clean message has none. */
	len = mk_msg(buf, sizeof(buf), O(53, 1, 1, 12, 2, 'h', 'i', 255));
	assert_int_equal(dhcp_parse(buf, len, &m), 0);
	assert_int_equal(m.anomalies, 0);
	assert_int_equal(m.hostname.len, 2);
}

/* Option overload (52): file and sname carry options (RFC 2132 9.3, RFC 2131 4.1). */
static void test_overload(void **state)
{
	uint8_t buf[600];
	struct dhcp_msg m;
	size_t len;

	/* 53 in the file field, 55 in sname. */
	len = mk_msg(buf, sizeof(buf), O(52, 1, 3, 255));
	const uint8_t file_opts[] = {53, 1, 1, 255};
	const uint8_t sname_opts[] = {55, 2, 1, 3, 0, 0}; /* no END: field just runs out */
	memcpy(buf + 108, file_opts, sizeof(file_opts));
	memcpy(buf + 44, sname_opts, sizeof(sname_opts));
	assert_int_equal(dhcp_parse(buf, len, &m), 0);
	assert_int_equal(m.type, DHCP_DISCOVER);
	assert_int_equal(m.overload, 3);
	assert_null(m.file);
	assert_null(m.sname);
	assert_int_equal(m.prl.len, 2);
	assert_ptr_equal(m.prl.data, buf + 44 + 2);

	/* Overload 1 only: sname stays a name. */
	len = mk_msg(buf, sizeof(buf), O(52, 1, 1, 255));
	memcpy(buf + 108, file_opts, sizeof(file_opts));
	memcpy(buf + 44, "srv", 4);
	assert_int_equal(dhcp_parse(buf, len, &m), 0);
	assert_null(m.file);
	assert_string_equal(m.sname, "srv");

	/* An option overrunning the file field. */
	len = mk_msg(buf, sizeof(buf), O(52, 1, 1, 53, 1, 1, 255));
	memset(buf + 108, 0, 128);
	buf[108 + 125] = 12, buf[108 + 126] = 5, buf[108 + 127] = 'x';
	assert_int_equal(dhcp_parse(buf, len, &m), -SB_DROP_DHCP_OPT_OVERRUN);

	/* 52 inside an overloaded field. */
	len = mk_msg(buf, sizeof(buf), O(52, 1, 1, 53, 1, 1, 255));
	memset(buf + 108, 0, 128);
	buf[108] = 52, buf[109] = 1, buf[110] = 2;
	assert_int_equal(dhcp_parse(buf, len, &m), -SB_DROP_DHCP_BAD_OVERLOAD);

	/* Duplicate across areas is a duplicate. */
	len = mk_msg(buf, sizeof(buf), O(52, 1, 1, 53, 1, 1, 255));
	memcpy(buf + 108, file_opts, sizeof(file_opts));
	assert_int_equal(dhcp_parse(buf, len, &m), -SB_DROP_DHCP_OPT_DUPLICATE);

	/* Without 52 a file field full of option-like bytes is just a name. */
	len = mk_msg(buf, sizeof(buf), O(53, 1, 1, 255));
	memcpy(buf + 108, file_opts, sizeof(file_opts));
	assert_int_equal(dhcp_parse(buf, len, &m), 0);
	assert_non_null(m.file);
}

/* ---- builder ---- */

static void test_build_parse_back(void **state)
{
	uint8_t req[600], out[1500];
	struct dhcp_msg m, r;
	struct dhcp_builder b;
	size_t len =
		mk_msg(req, sizeof(req), O(53, 1, 1, 82, 8, 1, 2, 'p', '1', 2, 2, 0x11, 0x22, 255));
	req[24] = 198, req[25] = 18, req[26] = 5, req[27] = 1; /* giaddr */
	assert_int_equal(dhcp_parse(req, len, &m), 0);

	struct dhcp_reply rep = {
		.type = DHCP_OFFER,
		.yiaddr = IP4(198, 18, 5, 100),
		.siaddr = IP4(198, 18, 0, 1),
		.server_id = IP4(198, 18, 0, 1),
		.file = "bios/pxelinux.0",
	};
	assert_int_equal(dhcp_build_reply(&b, out, sizeof(out), &m, &rep), 0);
	assert_int_equal(dhcp_opt_put_u32(&b, DHCP_OPT_LEASE_TIME, 3600), 0);
	assert_int_equal(dhcp_opt_put_str(&b, DHCP_OPT_BOOTFILE, "bios/pxelinux.0"), 0);
	int n = dhcp_build_finish(&b, &m);
	assert_true(n >= DHCP_MIN_LEN);
	assert_int_equal(n, DHCP_MIN_LEN); /* small reply padded to 300 */

	assert_int_equal(dhcp_parse(out, (size_t)n, &r), 0);
	assert_int_equal(r.op, DHCP_BOOTREPLY);
	assert_int_equal(r.type, DHCP_OFFER);
	assert_int_equal(r.xid, 0xdeadbeef);
	assert_int_equal(r.flags, DHCP_FLAG_BROADCAST);
	assert_int_equal(r.hops, 0);
	assert_int_equal(r.yiaddr, IP4(198, 18, 5, 100));
	assert_int_equal(r.siaddr, IP4(198, 18, 0, 1));
	assert_int_equal(r.giaddr, IP4(198, 18, 5, 1));
	assert_int_equal(r.server_id, IP4(198, 18, 0, 1));
	assert_memory_equal(r.chaddr, mac1, 6);
	assert_string_equal(r.file, "bios/pxelinux.0");
	assert_true(r.has_lease_time);
	assert_int_equal(r.lease_time, 3600);
	/* RFC 3046 2.2: option 82 echoed unchanged. */
	assert_int_equal(r.relay_agent.len, 8);
	assert_memory_equal(r.relay_agent.data, m.relay_agent.data, 8);
	/* First option is 53 (many clients expect it there). */
	assert_int_equal(out[DHCP_OPT_OFF], DHCP_OPT_MSG_TYPE);
}

/* The builder knows its room: max 576 without 57, more with it; END always fits. */
static void test_build_room(void **state)
{
	uint8_t req[600], out[2000], blob[255];
	struct dhcp_msg m;
	struct dhcp_builder b;
	struct dhcp_reply rep = {.type = DHCP_ACK, .server_id = IP4(198, 18, 0, 1)};
	size_t len = mk_msg(req, sizeof(req), O(53, 1, 3, 255));

	memset(blob, 'x', sizeof(blob));
	assert_int_equal(dhcp_parse(req, len, &m), 0);
	assert_int_equal(dhcp_build_reply(&b, out, sizeof(out), &m, &rep), 0);
	/* 548 - 240 - 3 (53) - 6 (54) - 1 (END) = 298 bytes for more options. */
	assert_int_equal(dhcp_opt_room(&b), 298);
	assert_int_equal(dhcp_opt_put(&b, 224, 255, blob), 0);
	assert_int_equal(dhcp_opt_room(&b), 41);
	assert_int_equal(dhcp_opt_put(&b, 225, 40, blob), -SB_DROP_REPLY_TOO_BIG);
	assert_int_equal(dhcp_opt_room(&b), 41); /* nothing written */
	assert_int_equal(dhcp_opt_put(&b, 225, 39, blob), 0);
	assert_int_equal(dhcp_opt_room(&b), 0);
	assert_int_equal(dhcp_build_finish(&b, &m), 548);
	assert_int_equal(out[547], DHCP_OPT_END);
	struct dhcp_msg r;
	assert_int_equal(dhcp_parse(out, 548, &r), 0);

	/* A failed mandatory option fails the reply. */
	assert_int_equal(dhcp_build_reply(&b, out, sizeof(out), &m, &rep), 0);
	assert_int_equal(dhcp_opt_put(&b, 224, 255, blob), 0);
	assert_int_equal(dhcp_opt_put_req(&b, 225, 255, blob), -SB_DROP_REPLY_TOO_BIG);
	assert_int_equal(dhcp_build_finish(&b, &m), -SB_DROP_REPLY_TOO_BIG);

	/* Option 57 = 1500 raises the limit; the caller's buffer still caps it. */
	len = mk_msg(req, sizeof(req), O(53, 1, 3, 57, 2, 0x05, 0xdc, 255));
	assert_int_equal(dhcp_parse(req, len, &m), 0);
	assert_int_equal(dhcp_build_reply(&b, out, sizeof(out), &m, &rep), 0);
	assert_int_equal(dhcp_opt_room(&b), 1500 - 28 - 240 - 9 - 1);
	assert_int_equal(dhcp_build_reply(&b, out, 400, &m, &rep), 0);
	assert_int_equal(dhcp_opt_room(&b), 400 - 240 - 9 - 1);
	/* 57 below 576 is ignored (RFC 2132 9.10: minimum 576). */
	len = mk_msg(req, sizeof(req), O(53, 1, 3, 57, 2, 0x01, 0x00, 255));
	assert_int_equal(dhcp_parse(req, len, &m), 0);
	assert_int_equal(dhcp_build_reply(&b, out, sizeof(out), &m, &rep), 0);
	assert_int_equal(dhcp_opt_room(&b), 298);
	/* A buffer too small for even the header. */
	assert_int_equal(dhcp_build_reply(&b, out, 200, &m, &rep), -SB_DROP_REPLY_TOO_BIG);
	assert_int_equal(dhcp_opt_put(&b, 1, 4, blob), -SB_DROP_REPLY_TOO_BIG);
	assert_int_equal(dhcp_build_finish(&b, &m), -SB_DROP_REPLY_TOO_BIG);

	/* Option 82's room is reserved: filling up cannot crowd out its echo. */
	len = mk_msg(req, sizeof(req),
		     O(53, 1, 3, 82, 20, 1, 18, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j',
		       'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 255));
	assert_int_equal(dhcp_parse(req, len, &m), 0);
	assert_int_equal(dhcp_build_reply(&b, out, sizeof(out), &m, &rep), 0);
	assert_int_equal(dhcp_opt_room(&b), 298 - 22);
	while (dhcp_opt_put(&b, 224, dhcp_opt_room(&b) > 257 ? 255 : dhcp_opt_room(&b) - 2, blob) ==
		       0 &&
	       dhcp_opt_room(&b) >= 2)
		;
	int n = dhcp_build_finish(&b, &m);
	assert_true(n > 0 && n <= 548);
	assert_int_equal(dhcp_parse(out, (size_t)n, &r), 0);
	assert_int_equal(r.relay_agent.len, 20);
}

/* ---- real-client captures ---- */

/*
 * Expected content of the lab captures, keyed by file name prefix: what the
 * client packets (op BOOTREQUEST) of that capture must classify as.
 * arch -1: no expectation.
 */
struct fixture_expect {
	const char *prefix;
	int arch;
	int pxe;  /* -1: no expectation */
	int ipxe; /* -1: no expectation */
};

static const struct fixture_expect fixture_expects[] = {
	/* clang-format off */
	{"udhcpc", SBCFG_ARCH_BIOS, 0, 0},
	{"dhclient", SBCFG_ARCH_BIOS, 0, 0},
	{"perfdhcp", SBCFG_ARCH_BIOS, 0, 0},
	{"ipxe-bios", SBCFG_ARCH_BIOS, 1, 1},
	{"ipxe-efi", SBCFG_ARCH_UEFI_X64, 1, 1},
	{"ovmf", SBCFG_ARCH_UEFI_X64, 1, 0},
	{"pxelinux", SBCFG_ARCH_BIOS, -1, 0},
	/* clang-format on */
};

/* Offset just past the END of the main option area of a valid message. */
static size_t opt_end(const uint8_t *buf, size_t len)
{
	size_t p = DHCP_OPT_OFF;

	while (p < len && buf[p] != DHCP_OPT_END)
		p += buf[p] == DHCP_OPT_PAD ? 1 : 2u + buf[p + 1];
	return p + 1;
}

static int parse_prefix(const uint8_t *buf, size_t len, void *arg)
{
	struct dhcp_msg m;

	return dhcp_parse(buf, len, &m);
}

static void test_fixtures(void **state)
{
	struct fixture_set set;
	size_t n_dhcp = 0, n_prefixes = 0;

	fixture_load("dhcp", &set);
	for (size_t i = 0; i < set.n; i++) {
		const struct fixture_pkt *p = &set.pkts[i];
		struct dhcp_msg m;
		if (!p->udp_payload)
			continue;
		bool dhcp_port = p->dst_port == 67 || p->dst_port == 68 || p->dst_port == 4011;
		if (!dhcp_port)
			continue;
		n_dhcp++;
		int rc = dhcp_parse(p->udp_payload, p->udp_len, &m);
		if (rc != 0)
			fail_msg("%s #%u: %s", p->file, p->index, sb_drop_name(rc));
		/* The header's op and the message type must agree. */
		bool client_type = m.type == DHCP_DISCOVER || m.type == DHCP_REQUEST ||
				   m.type == DHCP_DECLINE || m.type == DHCP_RELEASE ||
				   m.type == DHCP_INFORM;
		if (client_type != (m.op == DHCP_BOOTREQUEST))
			fail_msg("%s #%u: op %u with %s", p->file, p->index, m.op,
				 dhcp_msg_type_name(m.type));
		if (m.op == DHCP_BOOTREQUEST) {
			struct pxe_client c;
			pxe_classify(&m, &c);
			for (size_t k = 0; k < sizeof(fixture_expects) / sizeof(fixture_expects[0]);
			     k++) {
				const struct fixture_expect *e = &fixture_expects[k];
				if (strncmp(p->file, e->prefix, strlen(e->prefix)) != 0)
					continue;
				if (e->arch >= 0 && c.arch != e->arch)
					fail_msg("%s #%u: arch %d, expected %d", p->file, p->index,
						 c.arch, e->arch);
				if (e->pxe >= 0 && c.pxe != (e->pxe != 0))
					fail_msg("%s #%u: pxe %d", p->file, p->index, c.pxe);
				if (e->ipxe >= 0 && c.ipxe != (e->ipxe != 0))
					fail_msg("%s #%u: ipxe %d", p->file, p->index, c.ipxe);
			}
		}
		/* Every cut before END must be refused cleanly. */
		n_prefixes += fixture_for_each_prefix(p->udp_payload, p->udp_len,
						      opt_end(p->udp_payload, p->udp_len),
						      parse_prefix, NULL);
	}
	assert_true(n_dhcp > 0);
	print_message("%zu DHCP packets from captures, %zu prefixes\n", n_dhcp, n_prefixes);
	fixture_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),	 cmocka_unit_test(test_parse_header_errors),
		cmocka_unit_test(test_parse_fields),	 cmocka_unit_test(test_overload),
		cmocka_unit_test(test_optional_ignored), cmocka_unit_test(test_build_parse_back),
		cmocka_unit_test(test_build_room),	 cmocka_unit_test(test_fixtures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
