/* SPDX-License-Identifier: BSD-3-Clause */
/* etcd_client.c - etcd v3 over its JSON gateway with libcurl, on worker threads (see .h). */
#include "etcd_client.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ctl_log.h"

#define RESP_MAX       (64u << 20) /* a reply larger than this is refused */
#define WATCH_RETRY_MS 200
#define PASSWORD_MAX   256

struct req {
	struct req *next;
	char path[64];
	char *body;
	etcd_reply_fn *fn;
	void *arg;
	/* filled by the worker */
	int rc;
	json_t *resp;
	char err[256];
	/* a watch event instead (fn NULL) */
	etcd_watch_fn *wfn;
};

struct lane {
	struct etcd_client *cl;
	pthread_t th;
	bool started;
	struct req *head, *tail;
	size_t n;
	pthread_cond_t cond;
};

struct watch {
	struct watch *next;
	struct etcd_client *cl;
	pthread_t th;
	bool started;
	char *key_b64, *end_b64;
	int64_t rev; /* the next revision wanted */
	etcd_watch_fn *fn;
	void *arg;
	/* the stream being read */
	char *buf;
	size_t len, cap;
};

struct etcd_client {
	struct ev_loop *loop;
	struct sbcfg_cluster cfg;
	char password[PASSWORD_MAX];
	pthread_mutex_t mu; /* everything below, and the lanes' queues */
	bool stop;
	size_t cur_ep; /* the endpoint that answered last */
	char token[512];
	struct lane lanes[ETCD_LANE__COUNT];
	struct watch *watches;
	struct req *done_head, *done_tail; /* for the loop thread */
	int efd;
	struct etcd_client_stats st;
};

/* ---- pure helpers ---- */

static const char b64c[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *etcd_b64(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	char *o = malloc((len + 2) / 3 * 4 + 1), *q = o;

	if (!o)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*q++ = b64c[v >> 18 & 63];
		*q++ = b64c[v >> 12 & 63];
		*q++ = i + 1 < len ? b64c[v >> 6 & 63] : '=';
		*q++ = i + 2 < len ? b64c[v & 63] : '=';
	}
	*q = '\0';
	return o;
}

static int b64v(char c)
{
	const char *p = c ? strchr(b64c, c) : NULL;
	return p ? (int)(p - b64c) : -1;
}

long etcd_unb64(const char *s, void *out, size_t cap)
{
	size_t n = strlen(s), o = 0;
	uint8_t *d = out;

	if (n % 4)
		return -EINVAL;
	for (size_t i = 0; i < n; i += 4) {
		int a = b64v(s[i]), b = b64v(s[i + 1]), c = s[i + 2] == '=' ? 0 : b64v(s[i + 2]),
		    e = s[i + 3] == '=' ? 0 : b64v(s[i + 3]);
		int k = s[i + 2] == '=' ? 1 : s[i + 3] == '=' ? 2 : 3;

		if (a < 0 || b < 0 || c < 0 || e < 0 || (k < 3 && i + 4 != n) ||
		    (s[i + 2] == '=' && s[i + 3] != '='))
			return -EINVAL;
		uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)e;
		if (o + (size_t)k > cap)
			return -EINVAL;
		d[o++] = (uint8_t)(v >> 16);
		if (k > 1)
			d[o++] = (uint8_t)(v >> 8);
		if (k > 2)
			d[o++] = (uint8_t)v;
	}
	return (long)o;
}

char *etcd_prefix_end_b64(const char *p)
{
	size_t n = strlen(p);
	char buf[512];

	if (n == 0 || n > sizeof(buf))
		return NULL;
	memcpy(buf, p, n);
	buf[n - 1]++; /* our prefixes end with '/', never 0xff */
	return etcd_b64(buf, n);
}

int64_t etcd_json_int(const json_t *v)
{
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_string(v))
		return strtoll(json_string_value(v), NULL, 10);
	return 0;
}

/* ---- the loop side ---- */

static void post_done(struct etcd_client *cl, struct req *r)
{
	uint64_t one = 1;

	pthread_mutex_lock(&cl->mu);
	r->next = NULL;
	if (cl->done_tail)
		cl->done_tail->next = r;
	else
		cl->done_head = r;
	cl->done_tail = r;
	pthread_mutex_unlock(&cl->mu);
	if (write(cl->efd, &one, sizeof(one)) < 0) {
		/* the counter is full of wake-ups already: the loop will look */
	}
}

static void on_done(struct ev_loop *l, int fd, void *arg, unsigned int ready)
{
	struct etcd_client *cl = arg;
	uint64_t n;
	struct req *r;

	if (read(fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: another wake-up took it */
	}
	pthread_mutex_lock(&cl->mu);
	r = cl->done_head;
	cl->done_head = cl->done_tail = NULL;
	pthread_mutex_unlock(&cl->mu);
	while (r) {
		struct req *next = r->next;

		if (r->wfn)
			r->wfn(r->arg, r->rc, r->resp, r->err);
		else if (r->fn)
			r->fn(r->arg, r->rc, r->resp, r->err);
		json_decref(r->resp);
		free(r->body);
		free(r);
		r = next;
	}
}

/* ---- HTTP ---- */

struct sink {
	char *buf;
	size_t len, cap;
	bool too_big;
};

/* p[0..add) appended to a growing NUL-terminated reply of at most RESP_MAX bytes. 0,
 * -EMSGSIZE past the limit, -ENOMEM. */
static int reply_append(char **buf, size_t *len, size_t *cap, const char *p, size_t add)
{
	if (*len + add + 1 > RESP_MAX)
		return -EMSGSIZE;
	if (*len + add + 1 > *cap) {
		size_t c = *cap ? *cap : 4096;
		while (c < *len + add + 1)
			c *= 2;
		char *b = realloc(*buf, c);
		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = c;
	}
	memcpy(*buf + *len, p, add);
	*len += add;
	(*buf)[*len] = '\0';
	return 0;
}

static size_t sink_write(char *p, size_t sz, size_t n, void *arg)
{
	struct sink *s = arg;
	int rc = reply_append(&s->buf, &s->len, &s->cap, p, sz * n);

	if (rc == -EMSGSIZE)
		s->too_big = true;
	return rc < 0 ? 0 : sz * n;
}

static int curl_errno(CURLcode c)
{
	switch (c) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	default:
		return -EHOSTUNREACH;
	}
}

/*
 * A POST of body (kept by the caller until the transfer ends) to endpoint ep + path on h:
 * TLS and the options every request shares, the reply to write(data).
 */
static void setup_post(struct etcd_client *cl, CURL *h, size_t ep, const char *path,
		       struct curl_slist *hdr, const char *body, curl_write_callback write,
		       void *data)
{
	const struct sbcfg_cluster *c = &cl->cfg;
	char url[SBCFG_CLUSTER_URL_MAX + 64];

	snprintf(url, sizeof(url), "%s%s", c->endpoints[ep], path);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url); /* libcurl keeps its own copy */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 2L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->ca_file[0])
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (c->cert_file[0]) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file);
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file);
	}
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, data);
}

static struct curl_slist *headers(struct etcd_client *cl)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	char auth[600];

	pthread_mutex_lock(&cl->mu);
	if (cl->token[0]) {
		snprintf(auth, sizeof(auth), "Authorization: %s", cl->token);
		h = curl_slist_append(h, auth);
	}
	pthread_mutex_unlock(&cl->mu);
	return h;
}

/*
 * POST body to path on one endpoint after another until one answers. 0 with the reply
 * parsed into *resp, or -errno with err.
 */
static int post(struct etcd_client *cl, CURL *h, const char *path, const char *body, json_t **resp,
		char *err, size_t errlen, bool is_auth)
{
	size_t n = cl->cfg.n_endpoints, first;
	int rc = -EHOSTUNREACH;

	pthread_mutex_lock(&cl->mu);
	first = cl->cur_ep;
	pthread_mutex_unlock(&cl->mu);
	for (size_t k = 0; k < n; k++) {
		size_t ep = (first + k) % n;
		struct sink s = {0};
		struct curl_slist *hdr = is_auth ? curl_slist_append(NULL, "Content-Type: "
									   "application/json")
						 : headers(cl);
		long code = 0;
		CURLcode cc;

		setup_post(cl, h, ep, path, hdr, body, sink_write, &s);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)cl->cfg.timeout_ms);
		cc = curl_easy_perform(h);
		curl_slist_free_all(hdr);
		if (cc != CURLE_OK) {
			rc = s.too_big ? -EMSGSIZE : curl_errno(cc);
			snprintf(err, errlen, "etcd %s: %s", cl->cfg.endpoints[ep],
				 s.too_big ? "reply too large" : curl_easy_strerror(cc));
			free(s.buf);
			if (s.too_big)
				return rc;
			continue; /* the next endpoint */
		}
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		json_error_t je;
		json_t *j = s.buf ? json_loads(s.buf, 0, &je) : NULL;
		free(s.buf);
		pthread_mutex_lock(&cl->mu);
		cl->cur_ep = ep;
		snprintf(cl->st.endpoint, sizeof(cl->st.endpoint), "%s", cl->cfg.endpoints[ep]);
		pthread_mutex_unlock(&cl->mu);
		if (code == 200 && j) {
			*resp = j;
			return 0;
		}
		const char *m = j ? json_string_value(json_object_get(j, "message")) : NULL;
		if (!m && j)
			m = json_string_value(json_object_get(j, "error"));
		int64_t gcode = j ? etcd_json_int(json_object_get(j, "code")) : 0;
		snprintf(err, errlen, "etcd %s%s: HTTP %ld: %s", cl->cfg.endpoints[ep], path, code,
			 m ? m : "no JSON reply");
		json_decref(j);
		/* 16 UNAUTHENTICATED, 7 PERMISSION_DENIED; 14 UNAVAILABLE (no leader): next */
		if (gcode == 14) {
			rc = -EAGAIN;
			continue;
		}
		return gcode == 16 || gcode == 7 || code == 401 ? -EACCES : -EPROTO;
	}
	return rc;
}

/* A fresh token for the user (or none needed). */
static int authenticate(struct etcd_client *cl, CURL *h, char *err, size_t errlen)
{
	json_t *body = json_pack("{s:s, s:s}", "name", cl->cfg.user, "password", cl->password);
	json_t *resp = NULL;
	char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
	int rc;

	json_decref(body);
	if (!s)
		return -ENOMEM;
	rc = post(cl, h, "/v3/auth/authenticate", s, &resp, err, errlen, true);
	free(s);
	if (rc < 0)
		return rc;
	const char *tok = json_string_value(json_object_get(resp, "token"));
	pthread_mutex_lock(&cl->mu);
	snprintf(cl->token, sizeof(cl->token), "%s", tok ? tok : "");
	pthread_mutex_unlock(&cl->mu);
	json_decref(resp);
	return tok ? 0 : -EACCES;
}

static bool need_token(struct etcd_client *cl)
{
	bool need;

	pthread_mutex_lock(&cl->mu);
	need = cl->cfg.user[0] && !cl->token[0];
	pthread_mutex_unlock(&cl->mu);
	return need;
}

static void run_req(struct etcd_client *cl, CURL *h, struct req *r)
{
	int rc = 0;

	if (need_token(cl))
		rc = authenticate(cl, h, r->err, sizeof(r->err));
	if (rc == 0) {
		rc = post(cl, h, r->path, r->body, &r->resp, r->err, sizeof(r->err), false);
		if (rc == -EACCES && cl->cfg.user[0]) { /* an expired token: once more */
			pthread_mutex_lock(&cl->mu);
			cl->token[0] = '\0';
			pthread_mutex_unlock(&cl->mu);
			if ((rc = authenticate(cl, h, r->err, sizeof(r->err))) == 0)
				rc = post(cl, h, r->path, r->body, &r->resp, r->err, sizeof(r->err),
					  false);
		}
	}
	r->rc = rc;
	pthread_mutex_lock(&cl->mu);
	cl->st.requests++;
	if (rc < 0) {
		cl->st.failures++;
		cl->st.timeouts += rc == -ETIMEDOUT;
		snprintf(cl->st.last_error, sizeof(cl->st.last_error), "%s", r->err);
	}
	pthread_mutex_unlock(&cl->mu);
}

static void *lane_main(void *arg)
{
	struct lane *ln = arg;
	struct etcd_client *cl = ln->cl;
	CURL *h = curl_easy_init();

	for (;;) {
		struct req *r;

		pthread_mutex_lock(&cl->mu);
		while (!ln->head && !cl->stop)
			pthread_cond_wait(&ln->cond, &cl->mu);
		if (cl->stop) {
			pthread_mutex_unlock(&cl->mu);
			break;
		}
		r = ln->head;
		ln->head = r->next;
		if (!ln->head)
			ln->tail = NULL;
		ln->n--;
		pthread_mutex_unlock(&cl->mu);
		if (h)
			run_req(cl, h, r);
		else {
			r->rc = -ENOMEM;
			snprintf(r->err, sizeof(r->err), "libcurl: out of memory");
		}
		post_done(cl, r);
	}
	if (h)
		curl_easy_cleanup(h);
	return NULL;
}

int etcd_client_call(struct etcd_client *cl, enum etcd_lane lane, const char *path, json_t *body,
		     etcd_reply_fn *fn, void *arg)
{
	struct req *r = calloc(1, sizeof(*r));
	struct lane *ln = &cl->lanes[lane];

	if (r)
		r->body = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (!r || !r->body) {
		if (r)
			free(r);
		return -ENOMEM;
	}
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->fn = fn;
	r->arg = arg;
	pthread_mutex_lock(&cl->mu);
	if (ln->tail)
		ln->tail->next = r;
	else
		ln->head = r;
	ln->tail = r;
	ln->n++;
	pthread_cond_signal(&ln->cond);
	pthread_mutex_unlock(&cl->mu);
	return 0;
}

/* ---- watch ---- */

static bool stopping(struct etcd_client *cl)
{
	bool s;

	pthread_mutex_lock(&cl->mu);
	s = cl->stop;
	pthread_mutex_unlock(&cl->mu);
	return s;
}

static int watch_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct watch *w = arg;
	return stopping(w->cl) ? 1 : 0;
}

static void watch_emit(struct watch *w, int rc, json_t *result, const char *err)
{
	struct req *r = calloc(1, sizeof(*r));

	if (!r) {
		json_decref(result);
		return;
	}
	r->wfn = w->fn;
	r->arg = w->arg;
	r->rc = rc;
	r->resp = result;
	snprintf(r->err, sizeof(r->err), "%s", err ? err : "");
	post_done(w->cl, r);
}

/* One line of the stream: {"result": {...}} or {"error": {...}}. */
static void watch_line(struct watch *w, const char *line)
{
	json_t *j = json_loads(line, 0, NULL), *res;

	if (!j)
		return;
	res = json_object_get(j, "result");
	if (res) {
		int64_t rev =
			etcd_json_int(json_object_get(json_object_get(res, "header"), "revision"));
		json_t *ev = json_object_get(res, "events");
		if (rev >= w->rev)
			w->rev = rev + 1;
		if (json_array_size(ev)) {
			pthread_mutex_lock(&w->cl->mu);
			w->cl->st.watch_events += json_array_size(ev);
			pthread_mutex_unlock(&w->cl->mu);
			watch_emit(w, 0, json_incref(res), NULL);
		}
	}
	json_decref(j);
}

static size_t watch_write(char *p, size_t sz, size_t n, void *arg)
{
	struct watch *w = arg;
	size_t add = sz * n;
	char *nl;

	if (reply_append(&w->buf, &w->len, &w->cap, p, add) < 0)
		return 0;
	while ((nl = strchr(w->buf, '\n'))) {
		*nl = '\0';
		watch_line(w, w->buf);
		w->len -= (size_t)(nl + 1 - w->buf);
		memmove(w->buf, nl + 1, w->len + 1);
	}
	return add;
}

static void *watch_main(void *arg)
{
	struct watch *w = arg;
	struct etcd_client *cl = w->cl;
	CURL *h = curl_easy_init();
	size_t ep;
	char err[256];

	pthread_mutex_lock(&cl->mu);
	ep = cl->cur_ep;
	pthread_mutex_unlock(&cl->mu);
	while (h && !stopping(cl)) {
		char *body;
		json_t *b =
			json_pack("{s:{s:s, s:s, s:I}}", "create_request", "key", w->key_b64,
				  "range_end", w->end_b64, "start_revision", (json_int_t)w->rev);
		struct curl_slist *hdr;
		CURLcode cc;

		if (need_token(cl) && authenticate(cl, h, err, sizeof(err)) < 0) {
			watch_emit(w, -EACCES, NULL, err);
			usleep(WATCH_RETRY_MS * 1000 * 5);
			continue;
		}
		body = b ? json_dumps(b, JSON_COMPACT) : NULL;
		json_decref(b);
		if (!body)
			break;
		hdr = headers(cl);
		setup_post(cl, h, ep, "/v3/watch", hdr, body, watch_write, w);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, watch_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, w);
		w->len = 0;
		cc = curl_easy_perform(h);
		curl_slist_free_all(hdr);
		free(body);
		if (stopping(cl))
			break;
		snprintf(err, sizeof(err), "etcd watch on %s ended: %s", cl->cfg.endpoints[ep],
			 cc == CURLE_OK ? "the server closed it" : curl_easy_strerror(cc));
		watch_emit(w, cc == CURLE_OK ? -ECONNRESET : curl_errno(cc), NULL, err);
		pthread_mutex_lock(&cl->mu);
		cl->st.watch_reconnects++;
		pthread_mutex_unlock(&cl->mu);
		ep = (ep + 1) % cl->cfg.n_endpoints;
		usleep(WATCH_RETRY_MS * 1000);
	}
	if (h)
		curl_easy_cleanup(h);
	return NULL;
}

int etcd_client_watch(struct etcd_client *cl, const char *prefix, int64_t start_rev,
		      etcd_watch_fn *fn, void *arg)
{
	struct watch *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->cl = cl;
	w->key_b64 = etcd_b64(prefix, strlen(prefix));
	w->end_b64 = etcd_prefix_end_b64(prefix);
	w->rev = start_rev;
	w->fn = fn;
	w->arg = arg;
	if (!w->key_b64 || !w->end_b64) {
		free(w->key_b64);
		free(w->end_b64);
		free(w);
		return -ENOMEM;
	}
	pthread_mutex_lock(&cl->mu);
	w->next = cl->watches;
	cl->watches = w;
	pthread_mutex_unlock(&cl->mu);
	if (pthread_create(&w->th, NULL, watch_main, w) != 0)
		return -EAGAIN;
	w->started = true;
	return 0;
}

/* ---- life ---- */

static int read_password(struct etcd_client *cl, char *err, size_t errlen)
{
	FILE *f;

	if (!cl->cfg.password_file[0])
		return 0;
	if (!(f = fopen(cl->cfg.password_file, "re"))) {
		snprintf(err, errlen, "cluster.etcd.password_file %s: %s", cl->cfg.password_file,
			 strerror(errno));
		return -errno;
	}
	if (!fgets(cl->password, sizeof(cl->password), f))
		cl->password[0] = '\0';
	fclose(f);
	cl->password[strcspn(cl->password, "\r\n")] = '\0';
	return 0;
}

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct etcd_client *etcd_client_new(struct ev_loop *loop, const struct sbcfg_cluster *c, char *err,
				    size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct etcd_client *cl = calloc(1, sizeof(*cl));

	pthread_once(&once, curl_init_once);
	if (!cl) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cl->loop = loop;
	cl->cfg = *c;
	cl->efd = -1;
	pthread_mutex_init(&cl->mu, NULL);
	if (read_password(cl, err, errlen) < 0) {
		etcd_client_free(cl);
		return NULL;
	}
	cl->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (cl->efd < 0 || ev_file_add(loop, cl->efd, EV_READ, on_done, cl, err, errlen) < 0) {
		if (cl->efd < 0)
			snprintf(err, errlen, "etcd client: eventfd: %s", strerror(errno));
		etcd_client_free(cl);
		return NULL;
	}
	for (int i = 0; i < ETCD_LANE__COUNT; i++) {
		struct lane *ln = &cl->lanes[i];

		ln->cl = cl;
		pthread_cond_init(&ln->cond, NULL);
		if (pthread_create(&ln->th, NULL, lane_main, ln) != 0) {
			snprintf(err, errlen, "etcd client: cannot start a thread");
			etcd_client_free(cl);
			return NULL;
		}
		ln->started = true;
	}
	return cl;
}

void etcd_client_free(struct etcd_client *cl)
{
	if (!cl)
		return;
	pthread_mutex_lock(&cl->mu);
	cl->stop = true;
	for (int i = 0; i < ETCD_LANE__COUNT; i++)
		if (cl->lanes[i].started)
			pthread_cond_signal(&cl->lanes[i].cond);
	pthread_mutex_unlock(&cl->mu);
	for (int i = 0; i < ETCD_LANE__COUNT; i++) {
		struct lane *ln = &cl->lanes[i];

		if (!ln->started)
			continue;
		pthread_join(ln->th, NULL);
		pthread_cond_destroy(&ln->cond);
		while (ln->head) {
			struct req *r = ln->head;
			ln->head = r->next;
			free(r->body);
			free(r);
		}
	}
	while (cl->watches) {
		struct watch *w = cl->watches;

		cl->watches = w->next;
		if (w->started)
			pthread_join(w->th, NULL);
		free(w->key_b64);
		free(w->end_b64);
		free(w->buf);
		free(w);
	}
	while (cl->done_head) {
		struct req *r = cl->done_head;
		cl->done_head = r->next;
		json_decref(r->resp);
		free(r->body);
		free(r);
	}
	if (cl->efd >= 0) {
		ev_file_del(cl->loop, cl->efd);
		close(cl->efd);
	}
	pthread_mutex_destroy(&cl->mu);
	explicit_bzero(cl->password, sizeof(cl->password));
	free(cl);
}

void etcd_client_get_stats(struct etcd_client *cl, struct etcd_client_stats *out)
{
	pthread_mutex_lock(&cl->mu);
	*out = cl->st;
	for (int i = 0; i < ETCD_LANE__COUNT; i++)
		out->queued[i] = cl->lanes[i].n;
	pthread_mutex_unlock(&cl->mu);
}
