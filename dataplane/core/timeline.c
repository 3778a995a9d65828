/* SPDX-License-Identifier: BSD-3-Clause */
/* timeline.c - per-client boot timelines (see timeline.h). */
#include "timeline.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dhcp.h"
#include "tftp.h"
#include "tftp_session.h"

#define NIL UINT32_MAX

void tl_params_default(struct tl_params *p)
{
	p->done_quiet_ms = 15000;
	p->stuck_ms = 60000;
	p->stuck_timeouts = 3;
}

uint32_t tl_store_buckets(uint32_t cap)
{
	uint32_t n = 1;

	while (n < cap * 2u && n < (1u << 30))
		n <<= 1;
	return n;
}

int tl_store_init(struct tl_store *s, struct tl_client *clients, uint32_t cap, uint32_t *buckets,
		  uint32_t n_buckets)
{
	if (cap == 0 || cap == NIL || n_buckets != tl_store_buckets(cap))
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->c = clients;
	s->cap = cap;
	s->buckets = buckets;
	s->n_buckets = n_buckets;
	for (uint32_t i = 0; i < n_buckets; i++)
		buckets[i] = NIL;
	for (uint32_t i = 0; i < cap; i++) {
		clients[i].used = false;
		clients[i].hnext = i + 1 < cap ? i + 1 : NIL;
	}
	s->free_head = 0;
	s->lru_head = s->lru_tail = NIL;
	return 0;
}

static uint32_t mac_hash(const uint8_t mac[6], uint32_t n_buckets)
{
	uint64_t k = 0;

	memcpy(&k, mac, 6);
	k *= 0x9e3779b97f4a7c15ull;
	return (uint32_t)(k >> 32) & (n_buckets - 1);
}

static void lru_unlink(struct tl_store *s, uint32_t i)
{
	struct tl_client *c = &s->c[i];

	if (c->lru_prev != NIL)
		s->c[c->lru_prev].lru_next = c->lru_next;
	else
		s->lru_head = c->lru_next;
	if (c->lru_next != NIL)
		s->c[c->lru_next].lru_prev = c->lru_prev;
	else
		s->lru_tail = c->lru_prev;
}

static void lru_push_tail(struct tl_store *s, uint32_t i)
{
	struct tl_client *c = &s->c[i];

	c->lru_next = NIL;
	c->lru_prev = s->lru_tail;
	if (s->lru_tail != NIL)
		s->c[s->lru_tail].lru_next = i;
	else
		s->lru_head = i;
	s->lru_tail = i;
}

static void hash_unlink(struct tl_store *s, uint32_t i)
{
	uint32_t *p = &s->buckets[mac_hash(s->c[i].mac, s->n_buckets)];

	while (*p != NIL && *p != i)
		p = &s->c[*p].hnext;
	if (*p == i)
		*p = s->c[i].hnext;
}

struct tl_client *tl_store_find(const struct tl_store *s, const uint8_t mac[6])
{
	for (uint32_t i = s->buckets[mac_hash(mac, s->n_buckets)]; i != NIL; i = s->c[i].hnext)
		if (memcmp(s->c[i].mac, mac, 6) == 0)
			return &s->c[i];
	return NULL;
}

/* A slot for a new client: a free one, else the least recently active client's. */
static uint32_t slot_take(struct tl_store *s)
{
	uint32_t i = s->free_head;

	if (i != NIL) {
		s->free_head = s->c[i].hnext;
		s->n++;
		return i;
	}
	i = s->lru_head;
	lru_unlink(s, i);
	hash_unlink(s, i);
	s->evicted++;
	return i;
}

static bool mac_zero(const uint8_t mac[6])
{
	static const uint8_t z[6];

	return memcmp(mac, z, 6) == 0;
}

struct tl_client *tl_store_add(struct tl_store *s, const struct sb_tl_event *ev)
{
	struct tl_client *c;
	uint32_t i, b;
	enum tl_outcome o;

	if (mac_zero(ev->mac) || ev->kind == SB_TL_NONE || ev->kind >= SB_TL__COUNT)
		return NULL;
	c = tl_store_find(s, ev->mac);
	if (c == NULL) {
		i = slot_take(s);
		c = &s->c[i];
		memset(c, 0, offsetof(struct tl_client, seq));
		memcpy(c->mac, ev->mac, 6);
		c->used = true;
		c->first_ms = ev->ts_ms;
		b = mac_hash(ev->mac, s->n_buckets);
		c->hnext = s->buckets[b];
		s->buckets[b] = i;
	} else {
		i = (uint32_t)(c - s->c);
		lru_unlink(s, i);
	}
	lru_push_tail(s, i);
	c->ev[c->total % TL_CLIENT_EVENTS] = *ev;
	c->ev[c->total % TL_CLIENT_EVENTS].text[SB_TL_TEXT - 1] = '\0';
	c->seq[c->total % TL_CLIENT_EVENTS] = ++s->seq;
	c->total++;
	c->last_seq = s->seq;
	/* Steps from two processes may arrive a little out of order: keep the newest time. */
	if (ev->ts_ms > c->last_ms)
		c->last_ms = ev->ts_ms;
	if (ev->ts_ms < c->first_ms)
		c->first_ms = ev->ts_ms;
	if (ev->ip)
		c->ip = ev->ip;
	o = tl_event_outcome(ev);
	if (o == TL_TIMEOUT)
		c->timeouts++;
	else if (o == TL_SUCCESS)
		c->timeouts = 0;
	/* A retransmission or a firmware line that is no error says nothing new about the
	 * outcome of the step before it. */
	if (!(o == TL_PROGRESS &&
	      (ev->kind == SB_TL_TFTP_RETRANSMIT || ev->kind == SB_TL_FIRMWARE_LOG)))
		c->last_outcome = (uint8_t)o;
	s->events++;
	return c;
}

uint32_t tl_client_count(const struct tl_client *c)
{
	return c->total < TL_CLIENT_EVENTS ? c->total : TL_CLIENT_EVENTS;
}

const struct sb_tl_event *tl_client_event(const struct tl_client *c, uint32_t k, uint64_t *seq)
{
	uint32_t n = tl_client_count(c), pos;

	if (k >= n)
		return NULL;
	pos = (c->total - n + k) % TL_CLIENT_EVENTS;
	if (seq)
		*seq = c->seq[pos];
	return &c->ev[pos];
}

enum tl_outcome tl_event_outcome(const struct sb_tl_event *e)
{
	switch (e->kind) {
	case SB_TL_DHCP:
		return e->a == DHCP_NAK ? TL_ERROR : TL_PROGRESS;
	case SB_TL_TFTP_REFUSED:
		return e->status == SB_TL_REFUSE_PACED || e->status == SB_TL_REFUSE_DUPLICATE
			       ? TL_PROGRESS
			       : TL_ERROR;
	case SB_TL_TFTP_END:
		switch (e->status) {
		case TFTP_END_DONE:
			return TL_SUCCESS;
		case TFTP_END_OPTION_REFUSED: /* the tsize probe of PXE firmware */
			return TL_PROGRESS;
		case TFTP_END_TIMEOUT:
			return TL_TIMEOUT;
		default:
			return TL_ERROR;
		}
	case SB_TL_HTTP:
		if (e->a >= 200 && e->a < 300)
			return TL_SUCCESS;
		return e->a >= 400 ? TL_ERROR : TL_PROGRESS;
	case SB_TL_FIRMWARE_LOG:
		return e->status <= 3 ? TL_ERROR : TL_PROGRESS; /* LOG_ERR or worse */
	default:
		return TL_PROGRESS;
	}
}

enum tl_state tl_client_state(const struct tl_client *c, uint64_t now_ms, const struct tl_params *p)
{
	uint64_t quiet = now_ms > c->last_ms ? now_ms - c->last_ms : 0;

	if (p->stuck_timeouts && c->timeouts >= p->stuck_timeouts)
		return TL_STUCK;
	switch (c->last_outcome) {
	case TL_ERROR:
		return TL_FAILED;
	case TL_SUCCESS:
		return quiet >= p->done_quiet_ms ? TL_DONE : TL_BOOTING;
	default:
		return quiet >= p->stuck_ms ? TL_STUCK : TL_BOOTING;
	}
}

static const char *const state_names[TL_STATE__COUNT] = {
#define TL_STATE_NAME(id, name) [TL_##id] = name,
	TL_STATES(TL_STATE_NAME)
#undef TL_STATE_NAME
};

const char *tl_state_name(enum tl_state st)
{
	return (unsigned)st < TL_STATE__COUNT ? state_names[st] : "unknown";
}

int tl_state_find(const char *name)
{
	for (int i = 0; i < TL_STATE__COUNT; i++)
		if (strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

const char *tl_kind_name(unsigned kind)
{
	static const char *const names[SB_TL__COUNT] = {
#define SB_TL_KIND_NAME(id, name, doc) [SB_TL_##id] = name,
		SB_TL_KINDS(SB_TL_KIND_NAME)
#undef SB_TL_KIND_NAME
	};
	return kind > SB_TL_NONE && kind < SB_TL__COUNT ? names[kind] : "unknown";
}

const char *tl_refusal_name(unsigned r)
{
	static const char *const names[SB_TL_REFUSE__COUNT] = {
		[SB_TL_REFUSE_OTHER] = "bad-request",	[SB_TL_REFUSE_NOT_FOUND] = "not-found",
		[SB_TL_REFUSE_FORBIDDEN] = "forbidden", [SB_TL_REFUSE_PACED] = "paced",
		[SB_TL_REFUSE_DUPLICATE] = "duplicate", [SB_TL_REFUSE_TFTP_OFF] = "tftp-off",
	};
	return r < SB_TL_REFUSE__COUNT ? names[r] : "unknown";
}

/* "DHCPDISCOVER" -> "DISCOVER" */
static const char *dhcp_short(uint8_t type)
{
	const char *n = dhcp_msg_type_name(type);

	return strncmp(n, "DHCP", 4) == 0 ? n + 4 : n;
}

static const char *end_short(unsigned end)
{
	switch (end) {
	case TFTP_END_DONE:
		return "done";
	case TFTP_END_TIMEOUT:
		return "timeout";
	case TFTP_END_CLIENT_ERROR:
		return "client-error";
	case TFTP_END_OPTION_REFUSED:
		return "size-probe";
	case TFTP_END_ILLEGAL_OP:
		return "illegal-op";
	default:
		return "unknown";
	}
}

static const char *const severity_names[8] = {"emerg",	 "alert",  "crit", "err",
					      "warning", "notice", "info", "debug"};

int tl_event_step(const struct sb_tl_event *e, char *buf, size_t cap)
{
	switch (e->kind) {
	case SB_TL_DHCP:
		if (e->a)
			return snprintf(buf, cap, "%s>%s", dhcp_short((uint8_t)e->status),
					dhcp_short((uint8_t)e->a));
		return snprintf(buf, cap, "%s", dhcp_short((uint8_t)e->status));
	case SB_TL_TFTP_RRQ:
		return snprintf(buf, cap, "TFTP RRQ");
	case SB_TL_TFTP_REFUSED:
		return snprintf(buf, cap, "TFTP %s", tl_refusal_name(e->status));
	case SB_TL_TFTP_END:
		return snprintf(buf, cap, "TFTP %s", end_short(e->status));
	case SB_TL_TFTP_RETRANSMIT:
		return snprintf(buf, cap, "TFTP resend");
	case SB_TL_RA:
		return snprintf(buf, cap, "IPv6 RS>RA");
	case SB_TL_HTTP:
		return snprintf(buf, cap, "HTTP %u", e->a);
	case SB_TL_FIRMWARE_LOG:
		return snprintf(buf, cap, "firmware %s", severity_names[e->status & 7]);
	default:
		return snprintf(buf, cap, "unknown");
	}
}

static void ip_str(uint32_t ip, char *out, size_t cap)
{
	snprintf(out, cap, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

/* snprintf at *n, *n grows by what would have been written (as snprintf's result). */
static void append(char *buf, size_t cap, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t cap, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(*n < cap ? buf + *n : NULL, *n < cap ? cap - *n : 0, fmt, ap);
	va_end(ap);
	if (k > 0)
		*n += (size_t)k;
}

int tl_event_detail(const struct sb_tl_event *e, char *buf, size_t cap)
{
	char ip[16];

	ip_str(e->ip, ip, sizeof(ip));
	switch (e->kind) {
	case SB_TL_DHCP:
		return snprintf(buf, cap, "%s%s%s%s%s%s%s", e->ip ? ip : "-",
				e->b & SB_TL_DHCP_IPXE	 ? " ipxe"
				: e->b & SB_TL_DHCP_PXE	 ? " pxe"
				: e->b & SB_TL_DHCP_HTTP ? " http"
							 : "",
				e->b & SB_TL_DHCP_RELAYED ? " relayed" : "",
				e->b & SB_TL_DHCP_BOOT_ONLY ? " proxy" : "",
				e->text[0] ? " file " : "", e->text,
				e->a == 0 && e->status != DHCP_RELEASE && e->status != DHCP_DECLINE
					? " (no reply)"
					: "");
	case SB_TL_TFTP_RRQ: {
		size_t n = 0;

		append(buf, cap, &n, "%s", e->text);
		if (e->status & TFTP_OPT_BLKSIZE)
			append(buf, cap, &n, " blksize %u", e->a);
		if (e->status & TFTP_OPT_WINDOWSIZE)
			append(buf, cap, &n, " windowsize %u", e->b);
		if (e->status & TFTP_OPT_TSIZE)
			append(buf, cap, &n, " tsize %u", e->c);
		if (!(e->status & (TFTP_OPT_BLKSIZE | TFTP_OPT_WINDOWSIZE | TFTP_OPT_TSIZE)))
			append(buf, cap, &n, " (no options)");
		if (e->d)
			append(buf, cap, &n, " port %u", e->d);
		return (int)n;
	}
	case SB_TL_TFTP_REFUSED:
		return snprintf(buf, cap, "%s", e->text);
	case SB_TL_TFTP_END:
		if (e->status == TFTP_END_CLIENT_ERROR)
			return snprintf(buf, cap, "%s after %u blocks: client ERROR %u, %u ms",
					e->text, e->a, e->d, e->c);
		return snprintf(buf, cap, "%s %u blocks (%u resent) in %u ms", e->text, e->a, e->b,
				e->c);
	case SB_TL_TFTP_RETRANSMIT:
		return snprintf(buf, cap, "%s %u frame(s) from block %u", e->text, e->a, e->b);
	case SB_TL_RA:
		return snprintf(buf, cap, "router lifetime 0");
	case SB_TL_HTTP:
		return snprintf(buf, cap, "%s %u KiB", e->text, e->b);
	case SB_TL_FIRMWARE_LOG:
		return snprintf(buf, cap, "%s", e->text);
	default:
		return snprintf(buf, cap, "-");
	}
}

void tl_event_set_text(struct sb_tl_event *e, const char *s, size_t n)
{
	if (n > SB_TL_TEXT - 1)
		n = SB_TL_TEXT - 1;
	memcpy(e->text, s, n);
	memset(e->text + n, 0, SB_TL_TEXT - n);
}

bool tl_gap_notable(uint64_t gap_ms, uint64_t total_ms, uint32_t gaps)
{
	if (gap_ms < 1000)
		return false;
	if (gaps <= 1 || total_ms <= gap_ms)
		return true;
	/* against the mean of the other gaps, so that one long wait does not hide itself */
	return gap_ms * (gaps - 1) >= 4 * (total_ms - gap_ms);
}

void tl_bucket_init(struct tl_bucket *b, uint32_t rate, uint32_t burst, uint64_t now_ms)
{
	b->rate = rate;
	b->burst = burst;
	b->tokens_milli = (uint64_t)burst * 1000;
	b->last_ms = now_ms;
	b->suppressed = 0;
}

bool tl_bucket_take(struct tl_bucket *b, uint64_t now_ms)
{
	uint64_t max = (uint64_t)b->burst * 1000;

	if (now_ms > b->last_ms) {
		uint64_t add = (now_ms - b->last_ms) * b->rate; /* ms * per-second = milli-tokens */

		b->tokens_milli = b->tokens_milli + add > max ? max : b->tokens_milli + add;
		b->last_ms = now_ms;
	}
	if (b->tokens_milli >= 1000) {
		b->tokens_milli -= 1000;
		return true;
	}
	b->suppressed++;
	return false;
}
