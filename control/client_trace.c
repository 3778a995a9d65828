/* SPDX-License-Identifier: BSD-3-Clause */
/* client_trace.c - timelines of client boots in stormboot-control (see client_trace.h). */
#define _GNU_SOURCE /* strcasestr */
#include "client_trace.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "boot_token.h"
#include "ctl_log.h"
#include "dhcp.h"
#include "lease.h"
#include "tftp_session.h"

static uint64_t now_ms(const struct client_trace *t)
{
	struct timespec ts;

	if (t->deps.now_ms)
		return t->deps.now_ms(t->deps.arg);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static long log_timer(struct ev_loop *l, long long id, void *arg);

int client_trace_open(struct client_trace *t, const struct client_trace_deps *deps)
{
	uint32_t nb = tl_store_buckets(CLIENT_TRACE_CAP);

	memset(t, 0, sizeof(*t));
	t->deps = *deps;
	t->syslog_fd = -1;
	t->clients = calloc(CLIENT_TRACE_CAP, sizeof(*t->clients));
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (!t->clients || !t->buckets)
		return -ENOMEM;
	tl_store_init(&t->st, t->clients, CLIENT_TRACE_CAP, t->buckets, nb);
	tl_params_default(&t->params);
	tl_bucket_init(&t->log, CLIENT_TRACE_LOG_RATE, CLIENT_TRACE_LOG_BURST, ev_now_ms());
	if (t->deps.loop)
		t->log_timer = ev_timer_add(t->deps.loop, CLIENT_TRACE_LOG_REPORT_MS, log_timer, t);
	return 0;
}

static void syslog_close(struct client_trace *t)
{
	if (t->syslog_fd >= 0) {
		ev_file_del(t->deps.loop, t->syslog_fd);
		close(t->syslog_fd);
	}
	t->syslog_fd = -1;
	t->syslog_port = 0;
}

void client_trace_close(struct client_trace *t)
{
	if (t->deps.loop)
		syslog_close(t);
	if (t->deps.loop && t->log_timer > 0)
		ev_timer_del(t->deps.loop, t->log_timer);
	t->log_timer = 0;
	free(t->clients);
	free(t->buckets);
	t->clients = NULL;
	t->buckets = NULL;
}

/* ---- the log: one line per step that matters, through the token bucket ---- */

static int step_level(const struct sb_tl_event *e)
{
	switch (e->kind) {
	case SB_TL_DHCP:
		if (e->a == DHCP_NAK)
			return LOG_WARNING;
		return e->a == DHCP_ACK ? LOG_INFO : LOG_DEBUG;
	case SB_TL_TFTP_REFUSED:
		return tl_event_outcome(e) == TL_ERROR ? LOG_WARNING : LOG_DEBUG;
	case SB_TL_TFTP_END:
		switch (tl_event_outcome(e)) {
		case TL_SUCCESS:
			return LOG_INFO;
		case TL_PROGRESS:
			return LOG_DEBUG;
		default:
			return LOG_WARNING;
		}
	case SB_TL_HTTP:
		return tl_event_outcome(e) == TL_ERROR ? LOG_WARNING : LOG_INFO;
	case SB_TL_FIRMWARE_LOG:
		return tl_event_outcome(e) == TL_ERROR ? LOG_WARNING : LOG_INFO;
	default:
		return LOG_DEBUG;
	}
}

/* What the line says the step was, for the steps that matter. */
static const char *step_meaning(const struct sb_tl_event *e)
{
	switch (e->kind) {
	case SB_TL_DHCP:
		return e->a == DHCP_ACK ? "lease given" : e->a == DHCP_NAK ? "lease refused" : "";
	case SB_TL_TFTP_REFUSED:
		return "TFTP request refused";
	case SB_TL_TFTP_END:
		return e->status == TFTP_END_DONE ? "boot file served" : "transfer failed";
	case SB_TL_HTTP:
		return tl_event_outcome(e) == TL_ERROR ? "HTTP request failed" : "HTTP file served";
	case SB_TL_FIRMWARE_LOG:
		return "firmware says";
	default:
		return "";
	}
}

static void log_suppressed(struct client_trace *t)
{
	ctl_log(LOG_NOTICE,
		"client steps: %llu line(s) left out by the rate limit (%u/s, burst %u; every "
		"step is in `stormbootctl trace`)",
		(unsigned long long)t->log.suppressed, CLIENT_TRACE_LOG_RATE,
		CLIENT_TRACE_LOG_BURST);
	t->log.suppressed = 0;
}

/* After a storm: say how many lines were left out even if no step comes any more. */
static long log_timer(struct ev_loop *l, long long id, void *arg)
{
	struct client_trace *t = arg;

	(void)l;
	(void)id;
	if (t->log.suppressed)
		log_suppressed(t);
	return CLIENT_TRACE_LOG_REPORT_MS;
}

static void log_step(struct client_trace *t, const struct sb_tl_event *e)
{
	int level = step_level(e);
	char mac[18], step[64], detail[160];
	const char *meaning;

	if (level == LOG_DEBUG) {
		/* written only with -d (ctl_log filters it); never costs a token */
		tl_event_step(e, step, sizeof(step));
		tl_event_detail(e, detail, sizeof(detail));
		ctl_log(LOG_DEBUG, "client %s: %s: %s", running_config_fmt_mac(e->mac, mac), step,
			detail);
		return;
	}
	if (!tl_bucket_take(&t->log, ev_now_ms())) {
		t->log_suppressed++;
		return;
	}
	if (t->log.suppressed)
		log_suppressed(t);
	t->log_lines++;
	tl_event_step(e, step, sizeof(step));
	tl_event_detail(e, detail, sizeof(detail));
	meaning = step_meaning(e);
	ctl_log(level, "client %s: %s%s%s: %s", running_config_fmt_mac(e->mac, mac), meaning,
		meaning[0] ? ", " : "", step, detail);
}

void client_trace_add(struct client_trace *t, const struct sb_tl_event *ev, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (tl_store_add(&t->st, &ev[i]) == NULL)
			continue;
		log_step(t, &ev[i]);
	}
}

/* The MAC holding the lease of ip now; false when none. */
static bool mac_of_ip(const struct client_trace *t, uint32_t ip, uint8_t mac[6])
{
	struct lease_info li;

	if (!ip || !t->deps.store)
		return false;
	if (lease_find_ip(lease_store_pool(t->deps.store), ip, ctl_clock_now(&t->deps.clock), &li) <
		    0 ||
	    (li.state != LEASE_BOUND && li.state != LEASE_OFFERED))
		return false;
	memcpy(mac, li.mac, 6);
	return true;
}

void client_trace_http(struct client_trace *t, const uint8_t *mac, uint32_t ip, const char *path,
		       int status, uint64_t bytes)
{
	struct sb_tl_event e;

	memset(&e, 0, sizeof(e));
	if (mac)
		memcpy(e.mac, mac, 6);
	else if (!mac_of_ip(t, ip, e.mac))
		return; /* no client known for the address: nothing to attach it to */
	e.kind = SB_TL_HTTP;
	e.ts_ms = now_ms(t);
	e.ip = ip;
	e.a = status > 0 ? (uint32_t)status : 0;
	e.b = bytes / 1024 > UINT32_MAX ? UINT32_MAX : (uint32_t)(bytes / 1024);
	tl_event_set_text(&e, path, strlen(path));
	client_trace_add(t, &e, 1);
}

/* ---- firmware syslog ---- */

/* Words of a firmware message that say it failed, whatever severity it was sent at (iPXE
 * sends most of its console at "info"). */
static bool says_error(const char *s)
{
	static const char *const words[] = {"error",   "timed out", "not found", "no such",
					    "failed",  "denied",    "refused",	 "unreachable",
					    "invalid", "could not", "cannot"};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasestr(s, words[i]))
			return true;
	return false;
}

int client_trace_syslog(struct client_trace *t, uint32_t ip, const char *msg, size_t len)
{
	char buf[CLIENT_TRACE_SYSLOG_MAX + 1];
	struct sb_tl_event e;
	unsigned pri = 0;
	size_t i = 1, k;
	char *p, *colon;

	if (len > CLIENT_TRACE_SYSLOG_MAX)
		len = CLIENT_TRACE_SYSLOG_MAX;
	if (len < 3 || msg[0] != '<')
		return -EINVAL;
	/* RFC 3164 4.1.1 / RFC 5424 6.2.1: "<" 1..3 digits ">" */
	for (; i < len && i <= 4 && isdigit((unsigned char)msg[i]); i++)
		pri = pri * 10 + (unsigned)(msg[i] - '0');
	if (i == 1 || i >= len || msg[i] != '>' || pri > 191)
		return -EINVAL;
	memcpy(buf, msg + i + 1, len - i - 1);
	buf[len - i - 1] = '\0';
	/* printable only: a line in the log and the API */
	for (k = 0; buf[k]; k++)
		if ((unsigned char)buf[k] < 0x20 || buf[k] == 0x7f)
			buf[k] = ' ';
	while (k > 0 && buf[k - 1] == ' ')
		buf[--k] = '\0';
	p = buf;
	if (p[0] == '1' && p[1] == ' ') {
		/* RFC 5424 6: VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP
		 * STRUCTURED-DATA [SP MSG] */
		p += 2;
		for (int f = 0; f < 5 && *p; f++) {
			while (*p && *p != ' ')
				p++;
			while (*p == ' ')
				p++;
		}
		if (*p == '-') {
			p++;
		} else {
			while (*p == '[') { /* SD-ELEMENTs; "\]" inside a value is escaped */
				for (p++; *p && *p != ']'; p++)
					if (*p == '\\' && p[1])
						p++;
				if (*p == ']')
					p++;
			}
		}
		while (*p == ' ')
			p++;
		if (strncmp(p, "\xef\xbb\xbf", 3) == 0) /* the UTF-8 BOM of MSG */
			p += 3;
		colon = NULL;
	} else {
		/* RFC 3164 4.1.2: a timestamp "Mmm dd hh:mm:ss " */
		if (strlen(p) > 16 && isalpha((unsigned char)p[0]) && p[3] == ' ' && p[6] == ' ' &&
		    p[9] == ':' && p[12] == ':' && p[15] == ' ')
			p += 16;
		colon = strstr(p, ": ");
	}
	/* "[host ]tag: message" (iPXE: "ipxe: ..."): keep the message */
	if (colon && colon - p < 64) {
		int spaces = 0;
		for (char *q = p; q < colon; q++)
			spaces += *q == ' ';
		if (spaces <= 1)
			p = colon + 2;
	}
	t->syslog_received++;
	memset(&e, 0, sizeof(e));
	if (!mac_of_ip(t, ip, e.mac)) {
		t->syslog_unknown_client++;
		return -ENOENT;
	}
	e.kind = SB_TL_FIRMWARE_LOG;
	e.ts_ms = now_ms(t);
	e.ip = ip;
	e.status = (uint16_t)(pri & 7);
	if (e.status > 3 && says_error(p))
		e.status = 3; /* LOG_ERR */
	/* iPXE prints the URLs it fetches: no boot token in the timeline */
	char red[SB_TL_TEXT];
	boot_token_redact(p, red, sizeof(red));
	tl_event_set_text(&e, red, strlen(red));
	client_trace_add(t, &e, 1);
	return 0;
}

int client_trace_firmware(struct client_trace *t, const uint8_t mac[6], uint32_t ip, bool leased,
			  const char *text)
{
	struct sb_tl_event e;

	if (!leased && !tl_store_find(&t->st, mac))
		return -ENOENT;
	memset(&e, 0, sizeof(e));
	memcpy(e.mac, mac, 6);
	e.kind = SB_TL_FIRMWARE_LOG;
	e.ts_ms = now_ms(t);
	e.ip = ip;
	e.status = 3; /* LOG_ERR: the firmware reports a step that failed */
	char red[SB_TL_TEXT];
	boot_token_redact(text, red, sizeof(red));
	tl_event_set_text(&e, red, strlen(red));
	client_trace_add(t, &e, 1);
	return 0;
}

static void on_syslog(struct ev_loop *l, int fd, void *arg, unsigned int ready)
{
	struct client_trace *t = arg;
	char buf[CLIENT_TRACE_SYSLOG_MAX];

	(void)l;
	(void)ready;
	for (int i = 0; i < 64; i++) { /* bounded per turn: the loop serves others too */
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n =
			recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);

		if (n < 0)
			return;
		if (client_trace_syslog(t, ntohl(from.sin_addr.s_addr), buf, (size_t)n) == -EINVAL)
			t->syslog_bad++;
	}
}

void client_trace_apply(struct client_trace *t)
{
	const struct sbcfg_syslog *s = &t->deps.running(t->deps.arg)->cfg.syslog;
	struct sockaddr_in a = {.sin_family = AF_INET};
	int fd, one = 1;

	if (!s->enabled) {
		if (t->syslog_fd >= 0)
			ctl_log(LOG_INFO, "syslog: receiver on UDP %u closed", t->syslog_port);
		syslog_close(t);
		t->syslog_err[0] = '\0';
		return;
	}
	if (t->syslog_fd >= 0 && t->syslog_port == s->port)
		return;
	syslog_close(t);
	a.sin_port = htons(s->port);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    ev_file_add(t->deps.loop, fd, EV_READ, on_syslog, t, NULL, 0) < 0) {
		snprintf(t->syslog_err, sizeof(t->syslog_err), "bind(0.0.0.0:%u): %s", s->port,
			 strerror(errno));
		ctl_log(LOG_ERR, "syslog: receiver not opened: %s (firmware logs are lost)",
			t->syslog_err);
		if (fd >= 0)
			close(fd);
		return;
	}
	t->syslog_fd = fd;
	t->syslog_port = s->port;
	t->syslog_err[0] = '\0';
	ctl_log(LOG_INFO, "syslog: receiving firmware logs on UDP %u (option 7 offered)", s->port);
}

/* ---- API views ---- */

static json_t *jip(uint32_t ip)
{
	char s[16];

	if (!ip)
		return json_null();
	snprintf(s, sizeof(s), "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
		 ip & 255);
	return json_string(s);
}

static const char *const outcome_names[] = {"progress", "success", "error", "timeout"};

json_t *client_trace_json(const struct client_trace *t, const uint8_t mac[6], uint64_t after)
{
	const struct tl_client *c = tl_store_find(&t->st, mac);
	char m[18], step[64], detail[160];
	json_t *o, *steps;

	if (!c)
		return NULL;
	o = json_object();
	steps = json_array();
	json_object_set_new(o, "mac", json_string(running_config_fmt_mac(c->mac, m)));
	json_object_set_new(o, "ip", jip(c->ip));
	json_object_set_new(o, "state",
			    json_string(tl_state_name(tl_client_state(c, now_ms(t), &t->params))));
	json_object_set_new(o, "first", json_integer((json_int_t)c->first_ms));
	json_object_set_new(o, "last", json_integer((json_int_t)c->last_ms));
	json_object_set_new(o, "last_seq", json_integer((json_int_t)c->last_seq));
	json_object_set_new(o, "steps_total", json_integer(c->total));
	for (uint32_t k = 0; k < tl_client_count(c); k++) {
		uint64_t seq;
		const struct sb_tl_event *e = tl_client_event(c, k, &seq);
		json_t *s;

		if (seq <= after)
			continue;
		s = json_object();
		tl_event_step(e, step, sizeof(step));
		tl_event_detail(e, detail, sizeof(detail));
		json_object_set_new(s, "seq", json_integer((json_int_t)seq));
		json_object_set_new(s, "time", json_integer((json_int_t)e->ts_ms));
		json_object_set_new(s, "kind", json_string(tl_kind_name(e->kind)));
		json_object_set_new(s, "step", json_string(step));
		json_object_set_new(s, "detail", json_string(detail));
		json_object_set_new(s, "outcome",
				    json_string(outcome_names[tl_event_outcome(e) & 3]));
		json_array_append_new(steps, s);
	}
	json_object_set_new(o, "steps", steps);
	return o;
}

struct row {
	const struct tl_client *c;
	enum tl_state st;
};

static int by_last(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return x->c->last_ms < y->c->last_ms ? 1 : x->c->last_ms > y->c->last_ms ? -1 : 0;
}

static int by_first(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return x->c->first_ms < y->c->first_ms ? -1 : x->c->first_ms > y->c->first_ms ? 1 : 0;
}

static int by_mac(const void *a, const void *b)
{
	return memcmp(((const struct row *)a)->c->mac, ((const struct row *)b)->c->mac, 6);
}

static int by_state(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	/* the states that need a look first: failed, stuck, booting, done */
	static const int rank[TL_STATE__COUNT] = {
		[TL_FAILED] = 0, [TL_STUCK] = 1, [TL_BOOTING] = 2, [TL_DONE] = 3};
	if (rank[x->st] != rank[y->st])
		return rank[x->st] - rank[y->st];
	return by_last(a, b);
}

static int by_steps(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return x->c->total < y->c->total ? 1 : x->c->total > y->c->total ? -1 : by_mac(a, b);
}

void client_trace_counts(const struct client_trace *t, uint64_t counts[TL_STATE__COUNT])
{
	uint64_t now = now_ms(t);

	memset(counts, 0, sizeof(uint64_t) * TL_STATE__COUNT);
	for (uint32_t i = 0; i < t->st.cap; i++)
		if (t->st.c[i].used)
			counts[tl_client_state(&t->st.c[i], now, &t->params)]++;
}

int client_trace_clients_json(const struct client_trace *t, int state, const char *sort,
			      size_t limit, json_t **out)
{
	int (*cmp)(const void *, const void *) = by_last;
	uint64_t counts[TL_STATE__COUNT] = {0}, now = now_ms(t);
	struct row *rows;
	size_t n = 0;
	json_t *o, *cl, *co;
	char m[18], step[64], detail[160];

	if (!sort || strcmp(sort, "last") == 0)
		cmp = by_last;
	else if (strcmp(sort, "first") == 0)
		cmp = by_first;
	else if (strcmp(sort, "mac") == 0)
		cmp = by_mac;
	else if (strcmp(sort, "state") == 0)
		cmp = by_state;
	else if (strcmp(sort, "steps") == 0)
		cmp = by_steps;
	else
		return -EINVAL;
	rows = malloc((t->st.n ? t->st.n : 1) * sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->st.cap; i++) {
		const struct tl_client *c = &t->st.c[i];
		enum tl_state st;

		if (!c->used)
			continue;
		st = tl_client_state(c, now, &t->params);
		counts[st]++;
		if (state >= 0 && (int)st != state)
			continue;
		rows[n++] = (struct row){c, st};
	}
	qsort(rows, n, sizeof(*rows), cmp);
	o = json_object();
	co = json_object();
	cl = json_array();
	for (int s = 0; s < TL_STATE__COUNT; s++)
		json_object_set_new(co, tl_state_name((enum tl_state)s),
				    json_integer((json_int_t)counts[s]));
	json_object_set_new(o, "counts", co);
	json_object_set_new(o, "total", json_integer(t->st.n));
	json_object_set_new(o, "matching", json_integer((json_int_t)n));
	for (size_t i = 0; i < n && i < limit; i++) {
		const struct tl_client *c = rows[i].c;
		const struct sb_tl_event *e = tl_client_event(c, tl_client_count(c) - 1, NULL);
		json_t *r = json_object();

		tl_event_step(e, step, sizeof(step));
		tl_event_detail(e, detail, sizeof(detail));
		json_object_set_new(r, "mac", json_string(running_config_fmt_mac(c->mac, m)));
		json_object_set_new(r, "ip", jip(c->ip));
		json_object_set_new(r, "state", json_string(tl_state_name(rows[i].st)));
		json_object_set_new(r, "last_step", json_string(step));
		json_object_set_new(r, "last_detail", json_string(detail));
		json_object_set_new(r, "first", json_integer((json_int_t)c->first_ms));
		json_object_set_new(r, "last", json_integer((json_int_t)c->last_ms));
		json_object_set_new(r, "steps", json_integer(c->total));
		json_array_append_new(cl, r);
	}
	json_object_set_new(o, "shown", json_integer((json_int_t)json_array_size(cl)));
	json_object_set_new(o, "clients", cl);
	json_object_set_new(o, "now", json_integer((json_int_t)now));
	free(rows);
	*out = o;
	return 0;
}

json_t *client_trace_status_json(const struct client_trace *t)
{
	json_t *o = json_object();

	json_object_set_new(o, "clients", json_integer(t->st.n));
	json_object_set_new(o, "clients_max", json_integer(t->st.cap));
	json_object_set_new(o, "steps", json_integer((json_int_t)t->st.events));
	json_object_set_new(o, "steps_from_dataplane", json_integer((json_int_t)t->from_dataplane));
	json_object_set_new(o, "clients_evicted", json_integer((json_int_t)t->st.evicted));
	json_object_set_new(o, "log_lines", json_integer((json_int_t)t->log_lines));
	json_object_set_new(o, "log_suppressed", json_integer((json_int_t)t->log_suppressed));
	json_object_set_new(o, "syslog_port", json_integer(t->syslog_port));
	json_object_set_new(o, "syslog_received", json_integer((json_int_t)t->syslog_received));
	json_object_set_new(o, "syslog_unknown_client",
			    json_integer((json_int_t)t->syslog_unknown_client));
	json_object_set_new(o, "syslog_bad", json_integer((json_int_t)t->syslog_bad));
	if (t->syslog_err[0])
		json_object_set_new(o, "syslog_error", json_string(t->syslog_err));
	return o;
}
