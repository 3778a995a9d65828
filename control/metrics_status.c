/* SPDX-License-Identifier: BSD-3-Clause */
/* The status page (metrics_render.h): server-side HTML, inline CSS and SVG, no script. */
#define _GNU_SOURCE /* open_memstream */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_render.h"
#include "stormbootctl_trace.h"

static void esc(struct metrics_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			metrics_buf_printf(b, "&lt;");
			break;
		case '>':
			metrics_buf_printf(b, "&gt;");
			break;
		case '&':
			metrics_buf_printf(b, "&amp;");
			break;
		case '"':
			metrics_buf_printf(b, "&quot;");
			break;
		case '\'':
			metrics_buf_printf(b, "&#39;");
			break;
		default:
			metrics_buf_printf(b, "%c", *s);
			break;
		}
	}
}

/* 1234567 -> "1.2 MB" */
static const char *human_bytes(uint64_t v, char *out, size_t cap)
{
	static const char *const unit[] = {"B", "kB", "MB", "GB", "TB"};
	double d = (double)v;
	unsigned int u = 0;

	while (d >= 1000 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		d /= 1000;
		u++;
	}
	snprintf(out, cap, u ? "%.1f %s" : "%.0f %s", d, unit[u]);
	return out;
}

static void row(struct metrics_buf *b, const char *name, uint64_t v)
{
	metrics_buf_printf(b, "<tr><th>%s</th><td class=n>%" PRIu64 "</td></tr>\n", name, v);
}

static void head(struct metrics_buf *b, const struct metrics_view *v, unsigned int refresh_s)
{
	metrics_buf_printf(
		b,
		"<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>\n"
		"<meta http-equiv=refresh content=\"%u\">\n"
		"<title>stormboot status</title>\n<style>\n"
		"body{font:14px/1.4 sans-serif;margin:1em 2em;color:#222;background:#fafafa}\n"
		"h1{font-size:20px}h2{font-size:16px;border-bottom:1px solid "
		"#ccc;margin-top:1.5em}\n"
		"table{border-collapse:collapse;margin:.5em 0}th,td{padding:2px 10px;"
		"text-align:left;border-bottom:1px solid #eee}td.n{text-align:right;"
		"font-family:monospace}.bad{color:#b00}.ok{color:#070}.bar{background:#ddd;"
		"width:160px;height:10px;display:inline-block}.bar i{display:block;height:10px;"
		"background:#4a7}.grid{display:flex;flex-wrap:wrap;gap:2em}\n"
		"</style></head><body>\n",
		refresh_s);
	metrics_buf_printf(b, "<h1>stormboot</h1>\n<p id=summary>version ");
	esc(b, v->version ? v->version : "?");
	metrics_buf_printf(b,
			   ", control up %" PRIu64 " s, configuration generation %" PRIu64
			   ", dataplane <b id=dataplane class=%s>%s</b>; this page refreshes "
			   "every %u s (<a href=\"/metrics\">Prometheus metrics</a>)</p>\n",
			   v->uptime_s, v->config_generation, v->dp_connected ? "ok" : "bad",
			   v->dp_connected ? "connected" : "not connected", refresh_s);
}

static void pools(struct metrics_buf *b, const struct metrics_view *v)
{
	metrics_buf_printf(b, "<h2>Pools</h2>\n<table id=pools><tr><th>subnet</th><th>pool"
			      "</th><th>bound</th><th>offered</th><th>declined</th><th>in use"
			      "</th></tr>\n");
	for (size_t i = 0; i < v->n_pools; i++) {
		const struct metrics_pool *p = &v->pools[i];
		unsigned int pct = p->size ? (unsigned int)(100ull * p->bound / p->size) : 0;

		metrics_buf_printf(b, "<tr><td>");
		esc(b, p->subnet);
		metrics_buf_printf(b,
				   "</td><td class=n>%u</td><td class=n>%u</td><td class=n>%u</td>"
				   "<td class=n>%u</td><td><span class=bar><i style=\"width:%u%%\">"
				   "</i></span> %u %%</td></tr>\n",
				   p->size, p->bound, p->offered, p->declined,
				   pct > 100 ? 100 : pct, pct);
	}
	metrics_buf_printf(b, "</table>\n");
}

/* Completions per interval of the history, as an SVG bar chart. */
static void chart(struct metrics_buf *b, const struct metrics_point *h, size_t n)
{
	const unsigned int w = 600, hgt = 120;
	uint64_t max = 1, total = 0;

	metrics_buf_printf(b, "<h3>Completions over time</h3>\n");
	if (n < 2) {
		metrics_buf_printf(b, "<p id=history>not enough history yet</p>\n");
		return;
	}
	for (size_t i = 1; i < n; i++) {
		uint64_t d = h[i].tftp_completed - h[i - 1].tftp_completed;
		uint64_t a = h[i].dhcp_acks - h[i - 1].dhcp_acks;

		if (d > max)
			max = d;
		if (a > max)
			max = a;
		total += d;
	}
	metrics_buf_printf(b,
			   "<p id=history>last %" PRIu64 " s: %" PRIu64
			   " TFTP transfers completed, %" PRIu64 " DHCPACKs "
			   "(green: transfers, blue: ACKs, per interval; peak %" PRIu64 ")</p>\n",
			   h[n - 1].unix_s - h[0].unix_s, total,
			   h[n - 1].dhcp_acks - h[0].dhcp_acks, max);
	metrics_buf_printf(b,
			   "<svg width=%u height=%u viewBox=\"0 0 %u %u\" role=img "
			   "aria-label=\"completions over time\"><rect width=%u height=%u "
			   "fill=\"#fff\" stroke=\"#ccc\"/>\n",
			   w, hgt, w, hgt, w, hgt);
	double bw = (double)w / (double)(n - 1);
	for (size_t i = 1; i < n; i++) {
		uint64_t d = h[i].tftp_completed - h[i - 1].tftp_completed;
		uint64_t a = h[i].dhcp_acks - h[i - 1].dhcp_acks;
		double x = bw * (double)(i - 1), hd = (double)hgt * (double)d / (double)max,
		       ha = (double)hgt * (double)a / (double)max;

		if (d)
			metrics_buf_printf(b,
					   "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
					   "height=\"%.1f\" fill=\"#4a7\"/>\n",
					   x, (double)hgt - hd, bw / 2, hd);
		if (a)
			metrics_buf_printf(b,
					   "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
					   "height=\"%.1f\" fill=\"#47a\"/>\n",
					   x + bw / 2, (double)hgt - ha, bw / 2, ha);
	}
	metrics_buf_printf(b, "</svg>\n");
}

/* The most recent stuck or failed clients, each a link to its section (?mac=). */
static void trouble(struct metrics_buf *b, const struct metrics_view *v)
{
	json_t *c;
	size_t i;

	if (!v->clients_trouble)
		return;
	metrics_buf_printf(b, "<h3>Recently stuck or failed</h3>\n");
	if (!json_array_size(v->clients_trouble)) {
		metrics_buf_printf(b, "<p id=trouble>none</p>\n");
		return;
	}
	metrics_buf_printf(b, "<table id=trouble><tr><th>MAC</th><th>state</th><th>address</th>"
			      "<th>last step</th><th>detail</th><th>ago</th></tr>\n");
	json_array_foreach(v->clients_trouble, i, c)
	{
		const char *mac = json_string_value(json_object_get(c, "mac")),
			   *st = json_string_value(json_object_get(c, "state")),
			   *ip = json_string_value(json_object_get(c, "ip")),
			   *step = json_string_value(json_object_get(c, "last_step")),
			   *det = json_string_value(json_object_get(c, "last_detail"));
		uint64_t last = metrics_u64(c, "last");

		if (!mac)
			continue;
		metrics_buf_printf(b, "<tr><td><a href=\"/?mac=");
		esc(b, mac);
		metrics_buf_printf(b, "\">");
		esc(b, mac);
		metrics_buf_printf(b, "</a></td><td class=bad>");
		esc(b, st ? st : "?");
		metrics_buf_printf(b, "</td><td>");
		esc(b, ip ? ip : "-");
		metrics_buf_printf(b, "</td><td>");
		esc(b, step ? step : "");
		metrics_buf_printf(b, "</td><td>");
		esc(b, det ? det : "");
		metrics_buf_printf(b, "</td><td class=n>%" PRIu64 " s</td></tr>\n",
				   v->now_ms > last ? (v->now_ms - last) / 1000 : 0);
	}
	metrics_buf_printf(b, "</table>\n");
}

static void storm(struct metrics_buf *b, const struct metrics_view *v,
		  const struct metrics_point *h, size_t n)
{
	const json_t *st = v->stats, *se = v->sessions;

	metrics_buf_printf(b, "<h2>Storm</h2>\n<div class=grid>\n");
	metrics_buf_printf(b, "<div><h3>Clients per state</h3>\n");
	if (v->clients_per_state) {
		const char *k;
		json_t *x;

		metrics_buf_printf(b, "<table id=clients>\n");
		json_object_foreach(v->clients_per_state, k, x)
		{
			metrics_buf_printf(b, "<tr><th>");
			esc(b, k);
			metrics_buf_printf(b, "</th><td class=n>%" PRIu64 "</td></tr>\n",
					   metrics_u64(v->clients_per_state, k));
		}
		metrics_buf_printf(b, "</table>\n");
	} else {
		metrics_buf_printf(b, "<p id=clients>control keeps no boot timelines "
				      "(stormbootctl clients)</p>\n");
	}
	metrics_buf_printf(b, "</div>\n<div><h3>DHCP</h3><table id=dhcp>\n");
	row(b, "DISCOVER received", metrics_u64(st, "rx_dhcp_discover"));
	row(b, "OFFER sent", metrics_u64(st, "tx_dhcp_offer"));
	row(b, "REQUEST received", metrics_u64(st, "rx_dhcp_request"));
	row(b, "ACK sent", metrics_u64(st, "tx_dhcp_ack"));
	row(b, "NAK sent", metrics_u64(st, "tx_dhcp_nak"));
	metrics_buf_printf(b, "</table></div>\n<div><h3>TFTP</h3><table id=tftp>\n");
	row(b, "transfers active", metrics_u64(se, "tftp_sessions_active"));
	row(b, "started", metrics_u64(st, "tftp_sessions_started"));
	row(b, "completed", metrics_u64(st, "tftp_sessions_completed"));
	row(b, "given up (client vanished)", metrics_u64(st, "tftp_sessions_given_up"));
	row(b, "aborted", metrics_u64(st, "tftp_sessions_aborted"));
	row(b, "file not found", metrics_u64(st, "tftp_not_found"));
	row(b, "retransmitted frames", metrics_u64(st, "tx_tftp_retransmit"));
	metrics_buf_printf(b, "</table></div>\n</div>\n");
	trouble(b, v);
	chart(b, h, n);
}

static void latency(struct metrics_buf *b, const struct metrics_view *v)
{
	static const struct {
		const char *label, *name;
	} p[] = {{"p50", "latency_p50_ns"}, {"p90", "latency_p90_ns"},
		 {"p99", "latency_p99_ns"}, {"p99.9", "latency_p99_9_ns"},
		 {"max", "latency_max_ns"}, {"mean", "latency_mean_ns"}};

	metrics_buf_printf(b,
			   "<h2>Latency</h2>\n<p>per packet answered, rx burst to tx burst "
			   "of the reply, over %" PRIu64 " packets</p>\n<table id=latency><tr>",
			   metrics_u64(v->latency, "latency_count"));
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		metrics_buf_printf(b, "<th>%s</th>", p[i].label);
	metrics_buf_printf(b, "</tr><tr>");
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		metrics_buf_printf(b, "<td class=n>%.1f &micro;s</td>",
				   (double)metrics_u64(v->latency, p[i].name) / 1000.0);
	metrics_buf_printf(b, "</tr></table>\n");
}

static void images(struct metrics_buf *b, const struct metrics_view *v)
{
	const char *k;
	json_t *x;
	char h[32];

	metrics_buf_printf(b, "<h2>Images served (TFTP, transfers ended)</h2>\n<table id=images>"
			      "<tr><th>image</th><th>bytes</th></tr>\n");
	json_object_foreach(v->images, k, x)
	{
		metrics_buf_printf(b, "<tr><td>");
		esc(b, k);
		metrics_buf_printf(b, "</td><td class=n>%s</td></tr>\n",
				   human_bytes(metrics_u64(v->images, k), h, sizeof(h)));
	}
	metrics_buf_printf(b, "</table>\n");
}

static void drops(struct metrics_buf *b, const struct metrics_view *v)
{
	const char *k;
	json_t *x;
	int n = 0;

	metrics_buf_printf(b, "<h2>Drops and refusals</h2>\n<table id=drops>\n");
	json_object_foreach(v->stats, k, x)
	{
		uint64_t c = metrics_u64(v->stats, k);

		if (strncmp(k, "drop_", 5) != 0 || c == 0)
			continue;
		metrics_buf_printf(b, "<tr><th>");
		esc(b, k + 5);
		metrics_buf_printf(b, "</th><td class=\"n bad\">%" PRIu64 "</td></tr>\n", c);
		n++;
	}
	if (!n)
		metrics_buf_printf(b, "<tr><td>none</td></tr>\n");
	metrics_buf_printf(b, "</table>\n");
}

/* The client's boot timeline as `stormbootctl trace MAC` prints it, HTML-escaped. */
static void timeline(struct metrics_buf *b, const struct metrics_client *c)
{
	struct trace_view tv = {0};
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	metrics_buf_printf(b, "<h3>Boot timeline</h3>\n");
	if (!c->trace) {
		metrics_buf_printf(b, "<p id=trace>no step seen from %s (or it was evicted)</p>\n",
				   c->mac);
		return;
	}
	if (!(f = open_memstream(&text, &len))) {
		b->failed = true;
		return;
	}
	stormbootctl_trace_print(f, c->trace, &tv);
	if (fclose(f) != 0 || !text) {
		free(text);
		b->failed = true;
		return;
	}
	metrics_buf_printf(b, "<pre id=trace>");
	esc(b, text);
	metrics_buf_printf(b, "</pre>\n");
	free(text);
}

static void client(struct metrics_buf *b, const struct metrics_client *c)
{
	metrics_buf_printf(b, "<h2>Client</h2>\n<form method=get action=\"/\"><label>MAC "
			      "<input name=mac value=\"");
	esc(b, c ? c->mac : "");
	metrics_buf_printf(b, "\" placeholder=\"52:54:00:12:34:56\"></label> <button>show"
			      "</button></form>\n<div id=client>\n");
	if (!c || !c->mac[0]) {
		metrics_buf_printf(b, "</div>\n");
		return;
	}
	if (!c->valid) {
		metrics_buf_printf(b, "<p class=bad>not a MAC address (write it as "
				      "52:54:00:12:34:56)</p></div>\n");
		return;
	}
	if (c->has_lease)
		metrics_buf_printf(b,
				   "<table><tr><th>MAC</th><td>%s</td></tr><tr><th>address</th>"
				   "<td>%s</td></tr><tr><th>lease</th><td>%s, %s %" PRId64
				   " s</td></tr><tr><th>subnet</th><td>%s</td></tr></table>\n",
				   c->mac, c->ip, c->state,
				   c->expires_in_s >= 0 ? "expires in" : "expired", c->expires_in_s,
				   c->subnet);
	else
		metrics_buf_printf(b, "<p>%s: no lease in control's store</p>\n", c->mac);
	timeline(b, c);
	metrics_buf_printf(b, "</div>\n");
}

void metrics_status_render(const struct metrics_view *v, const struct metrics_point *hist,
			   size_t n_hist, const struct metrics_client *c, unsigned int refresh_s,
			   struct metrics_buf *b)
{
	head(b, v, refresh_s);
	pools(b, v);
	storm(b, v, hist, n_hist);
	latency(b, v);
	images(b, v);
	drops(b, v);
	client(b, c);
	if (v->xdp_error && !v->xdp) {
		metrics_buf_printf(b, "<p class=bad id=xdp>XDP counters: ");
		esc(b, v->xdp_error);
		metrics_buf_printf(b, "</p>\n");
	}
	metrics_buf_printf(b, "</body></html>\n");
}
