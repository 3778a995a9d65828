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
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "rx_dhcp_discover", 3,
			 "tx_dhcp_offer", 2, "tx_dhcp_ack", 1, "tftp_sessions_completed", 5,
			 "drop_dhcp_bad_op", 7, "drop_tftp_not_found", 0, "rx_pkts", 99,
			 "timeline_events_lost", 8);
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
	json_t *cps = json_pack("{s:I, s:I, s:I, s:I}", "booting", 3, "done", 40, "stuck", 2,
				"failed", 1);
	json_t *ts = json_pack("{s:I, s:I, s:I, s:I}", "steps", 321, "clients_evicted", 4,
			       "log_lines", 55, "log_suppressed", 66);
	json_t *himg = json_pack("{s:{s:I, s:I}}", "vmlinuz", "bytes", 7340032, "responses", 2);
	json_t *hfw = json_pack("{s:I, s:I, s:I, s:I, s:I}", "accepted", 1, "bad_request", 2,
				"forbidden", 3, "unknown_client", 4, "rate_limited", 5);
	struct metrics_view v = {.version = "0.1.0",
				 .http_images = himg,
				 .http_fwlog = hfw,
				 .clients_per_state = cps,
				 .trace_status = ts,
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
	/* boot timelines: clients per state, the store's and the log's counters */
	assert_non_null(strstr(b.s, "# HELP stormboot_clients "));
	assert_non_null(strstr(b.s, "# TYPE stormboot_clients gauge\n"));
	assert_non_null(strstr(b.s, "\nstormboot_clients{state=\"booting\"} 3\n"));
	assert_non_null(strstr(b.s, "\nstormboot_clients{state=\"done\"} 40\n"));
	assert_non_null(strstr(b.s, "\nstormboot_clients{state=\"stuck\"} 2\n"));
	assert_non_null(strstr(b.s, "\nstormboot_clients{state=\"failed\"} 1\n"));
	assert_non_null(strstr(b.s, "# TYPE stormboot_client_steps_total counter\n"));
	assert_non_null(strstr(b.s, "\nstormboot_client_steps_total 321\n"));
	assert_non_null(strstr(b.s, "\nstormboot_clients_evicted_total 4\n"));
	assert_non_null(strstr(b.s, "\nstormboot_client_log_lines_total 55\n"));
	assert_non_null(
		strstr(b.s, "# TYPE stormboot_client_log_lines_suppressed_total counter\n"));
	assert_non_null(strstr(b.s, "\nstormboot_client_log_lines_suppressed_total 66\n"));
	assert_non_null(strstr(b.s, "# TYPE stormboot_timeline_steps_lost_total counter\n"));
	assert_non_null(strstr(b.s, "\nstormboot_timeline_steps_lost_total 8\n"));
	/* HTTP boot: bytes and responses per image, firmware reports by result */
	assert_non_null(strstr(b.s, "# TYPE stormboot_http_image_served_bytes_total counter\n"));
	assert_non_null(
		strstr(b.s, "\nstormboot_http_image_served_bytes_total{image=\"vmlinuz\"} 7340032\n"));
	assert_non_null(strstr(b.s, "\nstormboot_http_image_responses_total{image=\"vmlinuz\"} 2\n"));
	assert_non_null(strstr(b.s, "# TYPE stormboot_http_firmware_reports_total counter\n"));
	assert_non_null(
		strstr(b.s, "\nstormboot_http_firmware_reports_total{result=\"accepted\"} 1\n"));
	assert_non_null(strstr(
		b.s, "\nstormboot_http_firmware_reports_total{result=\"rate_limited\"} 5\n"));
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
	assert_null(strstr(b.s, "stormboot_clients")); /* no timelines kept: no series */
	assert_null(strstr(b.s, "stormboot_http_")); /* no HTTP boot: no series */
	metrics_buf_free(&b);
	json_decref(v.stats);
	json_decref(cps);
	json_decref(himg);
	json_decref(hfw);
	json_decref(ts);
	json_decref(lat);
	json_decref(img);
	json_decref(xdp);
	json_decref(se);
}

/* status's "cluster" object as daemon_cluster_status builds it (docs/SCALE-OUT.md) */
static json_t *cluster_status(void)
{
	return json_pack(
		"{s:s, s:b, s:b, s:{s:b, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}, s:[s, s], s:i, "
		"s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:s, "
		"s:I, s:I, s:{s:I, s:I, s:{s:I, s:I}, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
		"s:I, s:I, s:I, s:I}}",
		"server_id", "a", "ready", 1, "registered", 1, "etcd", "reachable", 1, "endpoint",
		"http://127.0.0.1:2379", "last_error", "", "requests", 120, "failures", 3,
		"timeouts", 1, "watch_events", 40, "watch_reconnects", 2, "ms_since_reply", 250,
		"servers", "a", "b", "buckets_owned", 131, "leases", "submitted", 60, "committed",
		55, "queued", 1, "txns", 20, "txn_conflicts", 2, "refused_in_use", 1,
		"refused_etcd", 3, "refused_timeout", 1, "batch_max", 9, "commit_us_avg", 1500,
		"commit_us_sum", 30000, "commit_us_max", 4200, "foreign_pushed", 7, "address_keys",
		70, "bucket_map", "ff", "bucket_changes", 4, "registration_lapses", 1, "shared",
		"images_applied", 5, "images_refused", 1, "applied", "reservations", 31, "images",
		29, "apply_waits", 6, "apply_timeouts", 1, "apply_wait_us_avg", 2500,
		"apply_wait_us_sum", 15000, "apply_wait_us_max", 7000, "apply_holds", 0,
		"reservations_pushed", 3, "push_skipped_deleted", 2, "config_revision", 29,
		"config_applied", 2, "config_refused", 0, "config_pushed", 1);
}

static const char cluster_text[] =
	"# HELP stormboot_cluster_ready 1 when this server can commit leases (etcd answers, "
	"registered) and answers its buckets, else 0.\n"
	"# TYPE stormboot_cluster_ready gauge\n"
	"stormboot_cluster_ready 1\n"
	"# HELP stormboot_cluster_registered 1 when this server is registered in etcd's live set, "
	"else 0.\n"
	"# TYPE stormboot_cluster_registered gauge\n"
	"stormboot_cluster_registered 1\n"
	"# HELP stormboot_cluster_registration_lapses_total Times this server's registration "
	"lapsed "
	"(etcd not reached for lease_ttl_s, its etcd lease expired): the others took its buckets.\n"
	"# TYPE stormboot_cluster_registration_lapses_total counter\n"
	"stormboot_cluster_registration_lapses_total 1\n"
	"# HELP stormboot_cluster_servers_live Servers in the live set (registered in etcd), this "
	"one included.\n"
	"# TYPE stormboot_cluster_servers_live gauge\n"
	"stormboot_cluster_servers_live 2\n"
	"# HELP stormboot_cluster_buckets_owned RFC 3074 buckets (of 256) this server answers.\n"
	"# TYPE stormboot_cluster_buckets_owned gauge\n"
	"stormboot_cluster_buckets_owned 131\n"
	"# HELP stormboot_cluster_bucket_map_changes_total Times this server's bucket map changed "
	"(servers joined or left).\n"
	"# TYPE stormboot_cluster_bucket_map_changes_total counter\n"
	"stormboot_cluster_bucket_map_changes_total 4\n"
	"# HELP stormboot_cluster_etcd_up 1 when the last request to etcd succeeded, else 0.\n"
	"# TYPE stormboot_cluster_etcd_up gauge\n"
	"stormboot_cluster_etcd_up 1\n"
	"# HELP stormboot_cluster_etcd_last_reply_age_seconds Seconds since etcd last answered "
	"(+Inf: never).\n"
	"# TYPE stormboot_cluster_etcd_last_reply_age_seconds gauge\n"
	"stormboot_cluster_etcd_last_reply_age_seconds 0.250\n"
	"# HELP stormboot_cluster_etcd_requests_total Requests to etcd (leases, registration, live "
	"set, shared sets).\n"
	"# TYPE stormboot_cluster_etcd_requests_total counter\n"
	"stormboot_cluster_etcd_requests_total 120\n"
	"# HELP stormboot_cluster_etcd_failures_total Requests to etcd that failed (timeouts "
	"included).\n"
	"# TYPE stormboot_cluster_etcd_failures_total counter\n"
	"stormboot_cluster_etcd_failures_total 3\n"
	"# HELP stormboot_cluster_etcd_timeouts_total Requests to etcd that timed out.\n"
	"# TYPE stormboot_cluster_etcd_timeouts_total counter\n"
	"stormboot_cluster_etcd_timeouts_total 1\n"
	"# HELP stormboot_cluster_etcd_watch_events_total Events received on etcd watches.\n"
	"# TYPE stormboot_cluster_etcd_watch_events_total counter\n"
	"stormboot_cluster_etcd_watch_events_total 40\n"
	"# HELP stormboot_cluster_etcd_watch_reconnects_total Times an etcd watch was opened "
	"again.\n"
	"# TYPE stormboot_cluster_etcd_watch_reconnects_total counter\n"
	"stormboot_cluster_etcd_watch_reconnects_total 2\n"
	"# HELP stormboot_cluster_lease_records_submitted_total Lease records given to the cluster "
	"to commit to etcd.\n"
	"# TYPE stormboot_cluster_lease_records_submitted_total counter\n"
	"stormboot_cluster_lease_records_submitted_total 60\n"
	"# HELP stormboot_cluster_lease_records_committed_total Lease records committed to etcd "
	"(their ACK may leave).\n"
	"# TYPE stormboot_cluster_lease_records_committed_total counter\n"
	"stormboot_cluster_lease_records_committed_total 55\n"
	"# HELP stormboot_cluster_lease_records_refused_total Lease records refused (no ACK): "
	"in_use the address is another MAC's in etcd, etcd not reached or failed, timeout waited "
	"too long.\n"
	"# TYPE stormboot_cluster_lease_records_refused_total counter\n"
	"stormboot_cluster_lease_records_refused_total{reason=\"in_use\"} 1\n"
	"stormboot_cluster_lease_records_refused_total{reason=\"etcd\"} 3\n"
	"stormboot_cluster_lease_records_refused_total{reason=\"timeout\"} 1\n"
	"# HELP stormboot_cluster_lease_records_queued Lease records waiting for a transaction.\n"
	"# TYPE stormboot_cluster_lease_records_queued gauge\n"
	"stormboot_cluster_lease_records_queued 1\n"
	"# HELP stormboot_cluster_lease_commit_txns_total Lease transactions committed to etcd "
	"(group commit).\n"
	"# TYPE stormboot_cluster_lease_commit_txns_total counter\n"
	"stormboot_cluster_lease_commit_txns_total 20\n"
	"# HELP stormboot_cluster_lease_commit_conflicts_total Lease transactions whose compare "
	"failed (an address changed in etcd): read back and tried again.\n"
	"# TYPE stormboot_cluster_lease_commit_conflicts_total counter\n"
	"stormboot_cluster_lease_commit_conflicts_total 2\n"
	"# HELP stormboot_cluster_lease_commit_batch_max_records The largest lease transaction "
	"since start (records).\n"
	"# TYPE stormboot_cluster_lease_commit_batch_max_records gauge\n"
	"stormboot_cluster_lease_commit_batch_max_records 9\n"
	"# HELP stormboot_cluster_lease_commit_seconds Time of the lease transactions that "
	"succeeded.\n"
	"# TYPE stormboot_cluster_lease_commit_seconds summary\n"
	"stormboot_cluster_lease_commit_seconds_sum 0.030000\n"
	"stormboot_cluster_lease_commit_seconds_count 20\n"
	"# HELP stormboot_cluster_lease_commit_max_seconds The longest lease transaction since "
	"start.\n"
	"# TYPE stormboot_cluster_lease_commit_max_seconds gauge\n"
	"stormboot_cluster_lease_commit_max_seconds 0.004200\n"
	"# HELP stormboot_cluster_foreign_leases_pushed_total Other servers' leases given to the "
	"dataplane's pool.\n"
	"# TYPE stormboot_cluster_foreign_leases_pushed_total counter\n"
	"stormboot_cluster_foreign_leases_pushed_total 7\n"
	"# HELP stormboot_cluster_address_keys Address keys of etcd this server knows.\n"
	"# TYPE stormboot_cluster_address_keys gauge\n"
	"stormboot_cluster_address_keys 70\n"
	"# HELP stormboot_cluster_shared_applied_total Changes of a shared set (etcd) applied on "
	"this server.\n"
	"# TYPE stormboot_cluster_shared_applied_total counter\n"
	"stormboot_cluster_shared_applied_total{set=\"images\"} 5\n"
	"stormboot_cluster_shared_applied_total{set=\"config\"} 2\n"
	"# HELP stormboot_cluster_shared_refused_total Changes of a shared set (etcd) this server "
	"refused (logged): not valid here.\n"
	"# TYPE stormboot_cluster_shared_refused_total counter\n"
	"stormboot_cluster_shared_refused_total{set=\"images\"} 1\n"
	"stormboot_cluster_shared_refused_total{set=\"config\"} 0\n"
	"# HELP stormboot_cluster_shared_pushed_total Entries of this server's config file pushed "
	"to a shared set at start.\n"
	"# TYPE stormboot_cluster_shared_pushed_total counter\n"
	"stormboot_cluster_shared_pushed_total{set=\"reservations\"} 3\n"
	"stormboot_cluster_shared_pushed_total{set=\"config\"} 1\n"
	"# HELP stormboot_cluster_shared_push_skipped_deleted_total Config-file entries not "
	"pushed: deleted through an API (a tombstone in etcd).\n"
	"# TYPE stormboot_cluster_shared_push_skipped_deleted_total counter\n"
	"stormboot_cluster_shared_push_skipped_deleted_total 2\n"
	"# HELP stormboot_cluster_shared_applied_revision The etcd revision up to which every "
	"change of a shared set is in effect here.\n"
	"# TYPE stormboot_cluster_shared_applied_revision gauge\n"
	"stormboot_cluster_shared_applied_revision{set=\"reservations\"} 31\n"
	"stormboot_cluster_shared_applied_revision{set=\"images\"} 29\n"
	"# HELP stormboot_cluster_apply_waits_total Shared changes made through this server's API "
	"confirmed applied by every live server before the answer.\n"
	"# TYPE stormboot_cluster_apply_waits_total counter\n"
	"stormboot_cluster_apply_waits_total 6\n"
	"# HELP stormboot_cluster_apply_timeouts_total Shared changes answered at "
	"cluster.apply_wait_ms with some live server not confirming.\n"
	"# TYPE stormboot_cluster_apply_timeouts_total counter\n"
	"stormboot_cluster_apply_timeouts_total 1\n"
	"# HELP stormboot_cluster_apply_wait_seconds Time until every live server applied a shared "
	"change (confirmed waits).\n"
	"# TYPE stormboot_cluster_apply_wait_seconds summary\n"
	"stormboot_cluster_apply_wait_seconds_sum 0.015000\n"
	"stormboot_cluster_apply_wait_seconds_count 6\n"
	"# HELP stormboot_cluster_apply_wait_max_seconds The longest confirmed wait for the other "
	"servers since start.\n"
	"# TYPE stormboot_cluster_apply_wait_max_seconds gauge\n"
	"stormboot_cluster_apply_wait_max_seconds 0.007000\n"
	"# HELP stormboot_cluster_apply_holds Shared changes received and not yet in effect here.\n"
	"# TYPE stormboot_cluster_apply_holds gauge\n"
	"stormboot_cluster_apply_holds 0\n";

static void test_prom_cluster(void **state)
{
	struct metrics_view v = {.version = "0.1.0", .cluster = cluster_status()};
	struct metrics_buf b = {0};
	char *at;

	(void)state;
	assert_non_null(v.cluster);
	metrics_prom_render(&v, &b);
	assert_false(b.failed);
	/* the cluster's families come last, exactly these */
	at = strstr(b.s, "# HELP stormboot_cluster_ready ");
	assert_non_null(at);
	assert_string_equal(at, cluster_text);
	metrics_buf_free(&b);

	/* another server refused a shared change (apply_refused): its counter shows */
	json_object_set_new(json_object_get(v.cluster, "shared"), "apply_refused", json_integer(4));
	json_object_set_new(json_object_get(v.cluster, "shared"), "refused_here", json_integer(3));
	metrics_prom_render(&v, &b);
	assert_non_null(strstr(b.s, "# TYPE stormboot_cluster_apply_refused_total counter\n"
				    "stormboot_cluster_apply_refused_total 4\n"));
	assert_non_null(strstr(b.s, "# TYPE stormboot_cluster_apply_refused_here_total counter\n"
				    "stormboot_cluster_apply_refused_here_total 3\n"));
	metrics_buf_free(&b);

	/* etcd never answered: age +Inf, not ready */
	json_object_set_new(v.cluster, "ready", json_false());
	json_object_set_new(json_object_get(v.cluster, "etcd"), "ms_since_reply",
			    json_integer(INT64_MAX));
	metrics_prom_render(&v, &b);
	assert_non_null(strstr(b.s, "\nstormboot_cluster_ready 0\n"));
	assert_non_null(strstr(b.s, "\nstormboot_cluster_etcd_last_reply_age_seconds +Inf\n"));
	metrics_buf_free(&b);
	json_decref(v.cluster);

	/* the cluster client did not start: ready 0, nothing else of the cluster */
	v.cluster = json_pack("{s:b, s:s}", "ready", 0, "error", "did not start");
	metrics_prom_render(&v, &b);
	assert_non_null(strstr(b.s, "\nstormboot_cluster_ready 0\n"));
	assert_null(strstr(b.s, "stormboot_cluster_etcd_"));
	assert_null(strstr(b.s, "stormboot_cluster_lease_"));
	metrics_buf_free(&b);
	json_decref(v.cluster);

	/* single server: no cluster series at all */
	v.cluster = NULL;
	metrics_prom_render(&v, &b);
	assert_null(strstr(b.s, "stormboot_cluster_"));
	metrics_buf_free(&b);
}

static void test_status(void **state)
{
	struct metrics_pool pools[] = {{"198.18.0.0/24", 100, 50, 0, 0}};
	struct metrics_point h[] = {{1000, 0, 0, 0}, {1005, 3, 4, 4}, {1010, 7, 9, 9}};
	json_t *img = json_pack("{s:I}", "<script>", 10);
	json_t *cps = json_pack("{s:I, s:I, s:I, s:I}", "booting", 3, "done", 40, "stuck", 2,
				"failed", 1);
	json_t *trouble = json_pack(
		"[{s:s, s:s, s:s, s:s, s:s, s:I}]", "mac", "52:54:00:00:00:09", "ip",
		"198.18.0.109", "state", "failed", "last_step", "TFTP not-found", "last_detail",
		"file \"<x>\" not in the catalog", "last", (json_int_t)1700000000000);
	/* a trace reply's arguments (client_trace_json) */
	json_t *trace = json_pack(
		"{s:s, s:s, s:s, s:I, s:I, s:I, s:[{s:I, s:I, s:s, s:s, s:s, s:s},"
		" {s:I, s:I, s:s, s:s, s:s, s:s}, {s:I, s:I, s:s, s:s, s:s, s:s}]}",
		"mac", "52:54:00:00:00:01", "ip", "198.18.0.100", "state", "failed", "first",
		(json_int_t)1700000000000, "last", (json_int_t)1700000004250, "steps_total",
		(json_int_t)3, "steps",
		/* */ "seq", (json_int_t)1, "time", (json_int_t)1700000000000, "kind", "dhcp",
		"step", "DHCP ACK", "detail", "198.18.0.100", "outcome", "progress",
		/* */ "seq", (json_int_t)2, "time", (json_int_t)1700000000125, "kind", "tftp-rrq",
		"step", "TFTP RRQ", "detail", "a<b>&c", "outcome", "progress",
		/* */ "seq", (json_int_t)3, "time", (json_int_t)1700000004250, "kind", "tftp-end",
		"step", "TFTP end", "detail", "timeout", "outcome", "timeout");
	struct metrics_view v = {.version = "0.1.0",
				 .dp_connected = true,
				 .stats = stats(),
				 .images = img,
				 .clients_per_state = cps,
				 .clients_trouble = trouble,
				 .now_ms = 1700000065000,
				 .pools = pools,
				 .n_pools = 1};
	struct metrics_client c = {.mac = "52:54:00:00:00:01",
				   .valid = true,
				   .has_lease = true,
				   .ip = "198.18.0.100",
				   .state = "bound",
				   .expires_in_s = 300,
				   .subnet = "198.18.0.0/24",
				   .trace = trace};
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
	/* clients per state */
	assert_non_null(strstr(b.s, "<table id=clients>\n<tr><th>booting</th><td class=n>3</td>"));
	assert_non_null(strstr(b.s, "<tr><th>failed</th><td class=n>1</td></tr>"));
	/* the recent stuck/failed clients, linked to their section */
	assert_non_null(strstr(b.s, "<a href=\"/?mac=52:54:00:00:00:09\">52:54:00:00:00:09</a>"));
	assert_non_null(strstr(b.s, "file &quot;&lt;x&gt;&quot; not in the catalog"));
	assert_non_null(strstr(b.s, "<td class=n>65 s</td>"));
	/* the client's timeline as stormbootctl trace prints it: relative times, escaped */
	char *pre = strstr(b.s, "<pre id=trace>");
	assert_non_null(pre);
	assert_non_null(strstr(pre, "client 52:54:00:00:00:01  ip 198.18.0.100  state failed"));
	assert_non_null(strstr(pre, "0.000          -  DHCP ACK"));
	assert_non_null(strstr(pre, "0.125      0.125  TFTP RRQ"));
	assert_non_null(strstr(pre, "a&lt;b&gt;&amp;c"));
	assert_non_null(strstr(pre, "4.250      4.125  TFTP end"));
	assert_non_null(strstr(pre, "!!"));
	assert_null(strstr(b.s, "a<b>"));
	metrics_buf_free(&b);

	/* a MAC with no timeline, and control keeping none */
	struct metrics_client none = {.mac = "52:54:00:00:00:02", .valid = true};
	struct metrics_view bare = {.version = "0.1.0", .pools = pools, .n_pools = 1};
	metrics_status_render(&bare, h, 3, &none, 5, &b);
	assert_false(b.failed);
	assert_non_null(strstr(b.s, "<p id=trace>no step seen from 52:54:00:00:00:02"));
	assert_non_null(strstr(b.s, "<p id=clients>control keeps no boot timelines"));
	assert_null(strstr(b.s, "id=trouble"));
	metrics_buf_free(&b);
	json_decref(v.stats);
	json_decref(img);
	json_decref(cps);
	json_decref(trouble);
	json_decref(trace);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prom),
		cmocka_unit_test(test_prom_cluster),
		cmocka_unit_test(test_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
