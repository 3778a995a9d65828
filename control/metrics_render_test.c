/* SPDX-License-Identifier: BSD-3-Clause */
/* metrics_render: the Prometheus text and the status page from a view (no network). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "metrics_render.h"

static json_t *stats(void)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "rx_dhcp_discover", 3,
			 "tx_dhcp_offer", 2, "tx_dhcp_ack", 1, "tftp_sessions_completed", 5,
			 "drop_dhcp_bad_op", 7, "drop_tftp_not_found", 0, "rx_pkts", 99);
}

static void test_prom(void **state)
{
	struct metrics_pool pools[] = {{"198.18.0.0/24", 100, 4, 1, 0}};
	json_t *lat = json_pack("{s:I, s:I, s:I, s:I}", "latency_count", 10, "latency_sum_ns",
				50000, "latency_le_1000_ns", 2, "latency_le_5000_ns", 9);
	json_t *img = json_pack("{s:I, s:I}", "undionly.kpxe", 65536, "a\"b\\c", 1);
	json_t *xdp = json_pack("{s:I, s:I, s:I}", "redirected_dhcp", 11, "pass_not_ipv4", 12,
				"drop_mac_deny", 13);
	json_t *se = json_pack("{s:I}", "tftp_sessions_active", 2);
	struct metrics_view v = {.version = "0.1.0",
				 .dp_connected = true,
				 .stats = stats(),
				 .latency = lat,
				 .sessions = se,
				 .images = img,
				 .xdp = xdp,
				 .pools = pools,
				 .n_pools = 1};
	struct metrics_buf b = {0};

	metrics_prom_render(&v, &b);
	assert_false(b.failed);
	assert_non_null(b.s);
	assert_non_null(strstr(b.s, "\nstormboot_dataplane_up 1\n"));
	assert_non_null(strstr(b.s, "# TYPE stormboot_dhcp_messages_received_total counter\n"));
	assert_non_null(
		strstr(b.s, "stormboot_dhcp_messages_received_total{type=\"discover\"} 3\n"));
	assert_non_null(strstr(b.s, "stormboot_dhcp_messages_sent_total{type=\"ack\"} 1\n"));
	assert_non_null(strstr(b.s, "stormboot_drops_total{reason=\"dhcp_bad_op\"} 7\n"));
	assert_non_null(strstr(b.s, "stormboot_drops_total{reason=\"tftp_not_found\"} 0\n"));
	assert_non_null(strstr(b.s, "stormboot_tftp_sessions_active 2\n"));
	assert_non_null(
		strstr(b.s, "stormboot_tftp_sessions_ended_total{outcome=\"completed\"} 5\n"));
	assert_non_null(strstr(
		b.s, "stormboot_tftp_image_served_bytes_total{image=\"undionly.kpxe\"} 65536\n"));
	/* label values escaped (text format 0.0.4) */
	assert_non_null(
		strstr(b.s, "stormboot_tftp_image_served_bytes_total{image=\"a\\\"b\\\\c\"} 1\n"));
	assert_non_null(strstr(
		b.s, "stormboot_xdp_packets_total{verdict=\"redirected\",reason=\"dhcp\"} 11\n"));
	assert_non_null(strstr(
		b.s, "stormboot_xdp_packets_total{verdict=\"pass\",reason=\"not_ipv4\"} 12\n"));
	assert_non_null(strstr(
		b.s, "stormboot_xdp_packets_total{verdict=\"drop\",reason=\"mac_deny\"} 13\n"));
	assert_non_null(
		strstr(b.s, "stormboot_leases{subnet=\"198.18.0.0/24\",state=\"bound\"} 4\n"));
	assert_non_null(strstr(b.s, "stormboot_pool_addresses{subnet=\"198.18.0.0/24\"} 100\n"));
	assert_non_null(strstr(b.s, "# TYPE stormboot_packet_latency_seconds histogram\n"));
	assert_non_null(strstr(b.s, "stormboot_packet_latency_seconds_bucket{le=\"1e-06\"} 2\n"));
	assert_non_null(strstr(b.s, "stormboot_packet_latency_seconds_bucket{le=\"5e-06\"} 9\n"));
	assert_non_null(strstr(b.s, "stormboot_packet_latency_seconds_bucket{le=\"+Inf\"} 10\n"));
	assert_non_null(strstr(b.s, "stormboot_packet_latency_seconds_sum 0.000050000\n"));
	assert_non_null(strstr(b.s, "stormboot_packet_latency_seconds_count 10\n"));
	/* every line is a comment or "name[{labels}] value" */
	for (char *l = b.s; *l; l = strchr(l, '\n') + 1) {
		assert_true(l[0] == '#' || (l[0] >= 'a' && l[0] <= 'z'));
		assert_non_null(strchr(l, '\n'));
	}
	metrics_buf_free(&b);

	/* the dataplane away: up 0, no dataplane series */
	struct metrics_view away = {.version = "0.1.0", .pools = pools, .n_pools = 1};
	metrics_prom_render(&away, &b);
	assert_non_null(strstr(b.s, "\nstormboot_dataplane_up 0\n"));
	assert_null(strstr(b.s, "stormboot_dhcp_messages_received_total"));
	assert_non_null(strstr(b.s, "stormboot_leases{"));
	metrics_buf_free(&b);
	json_decref(v.stats);
	json_decref(lat);
	json_decref(img);
	json_decref(xdp);
	json_decref(se);
}

static void test_status(void **state)
{
	struct metrics_pool pools[] = {{"198.18.0.0/24", 100, 50, 0, 0}};
	struct metrics_point h[] = {{1000, 0, 0, 0}, {1005, 3, 4, 4}, {1010, 7, 9, 9}};
	json_t *img = json_pack("{s:I}", "<script>", 10);
	struct metrics_view v = {.version = "0.1.0",
				 .dp_connected = true,
				 .stats = stats(),
				 .images = img,
				 .pools = pools,
				 .n_pools = 1};
	struct metrics_client c = {.mac = "52:54:00:00:00:01",
				   .valid = true,
				   .has_lease = true,
				   .ip = "198.18.0.100",
				   .state = "bound",
				   .expires_in_s = 300,
				   .subnet = "198.18.0.0/24"};
	struct metrics_buf b = {0};

	metrics_status_render(&v, h, 3, &c, 5, &b);
	assert_false(b.failed);
	assert_non_null(strstr(b.s, "<!DOCTYPE html>"));
	assert_non_null(strstr(b.s, "<td>198.18.0.0/24</td>"));
	assert_non_null(strstr(b.s, "50 %"));
	assert_non_null(strstr(b.s, "7 TFTP transfers completed"));
	assert_non_null(strstr(b.s, "<svg"));
	assert_non_null(strstr(b.s, "&lt;script&gt;"));
	assert_null(strstr(b.s, "<script>"));
	assert_non_null(strstr(b.s, "198.18.0.100"));
	assert_non_null(strstr(b.s, "dhcp_bad_op"));
	metrics_buf_free(&b);
	json_decref(v.stats);
	json_decref(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prom),
		cmocka_unit_test(test_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
