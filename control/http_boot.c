/* SPDX-License-Identifier: BSD-3-Clause */
/* http_boot.c - the HTTP boot server's routes and the iPXE template store (see http_boot.h). */
#include "http_boot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "catalog.h"
#include "ctl_array.h"
#include "ctl_log.h"
#include "sb_drop.h"
#include "sbcfg_access.h"

#define TEMPLATES_MAX 4096
#define IPXE_PREFIX   "/ipxe/"
#define TEXT_TYPE     "text/plain; charset=utf-8"

static bool tmp_name(const char *name)
{
	size_t n = strlen(name);
	return n >= 4 &&
	       strcmp(name + n - 4, ".tmp") == 0; /* running_config_write_atomic's leftovers */
}

static long template_index(const struct http_boot *h, const char *name)
{
	for (size_t i = 0; i < h->n_templates; i++)
		if (strcmp(h->templates[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* Put (name, text) in memory, taking text. */
static int template_store(struct http_boot *h, const char *name, char *text, size_t len)
{
	long i = template_index(h, name);

	if (i >= 0) {
		free(h->templates[i].text);
		h->templates[i].text = text;
		h->templates[i].len = len;
		return 0;
	}
	if (h->n_templates >= TEMPLATES_MAX)
		return -ENOSPC;
	struct http_boot_template *t =
		ctl_array_grow(h->templates, &h->cap_templates, h->n_templates, sizeof(*t), 16);
	if (!t)
		return -ENOMEM;
	h->templates = t;
	snprintf(h->templates[h->n_templates].name, sizeof(h->templates[h->n_templates].name), "%s",
		 name);
	h->templates[h->n_templates].text = text;
	h->templates[h->n_templates].len = len;
	h->n_templates++;
	return 0;
}

static char *read_small_file(int dfd, const char *name, size_t *len, int *err)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	char *buf = NULL;

	*err = 0;
	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*err = -EINVAL;
	} else if ((uint64_t)st.st_size > IPXE_TEMPLATE_TEXT_MAX) {
		*err = -EFBIG;
	} else if (!(buf = malloc((size_t)st.st_size + 1))) {
		*err = -ENOMEM;
	} else {
		ssize_t n = read(fd, buf, (size_t)st.st_size);
		if (n != st.st_size) {
			*err = n < 0 ? -errno : -EIO;
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	close(fd);
	return buf;
}

static int load_templates(struct http_boot *h, char *err, size_t errlen)
{
	DIR *dir;
	struct dirent *e;

	if (mkdir(h->dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir(%s): %s", h->dir, strerror(errno));
		return -errno;
	}
	if (!(dir = opendir(h->dir))) {
		snprintf(err, errlen, "opendir(%s): %s", h->dir, strerror(errno));
		return -errno;
	}
	while ((e = readdir(dir))) {
		size_t len;
		int rc;
		if (e->d_name[0] == '.')
			continue;
		if (ipxe_template_name_check(e->d_name) < 0 || tmp_name(e->d_name)) {
			ctl_log(LOG_WARNING, "http: %s/%s: not a template name, ignored", h->dir,
				e->d_name);
			continue;
		}
		char *text = read_small_file(dirfd(dir), e->d_name, &len, &rc);
		if (text && (rc = ipxe_template_text_check(text, len)) < 0) {
			free(text);
			text = NULL;
		}
		if (!text || (rc = template_store(h, e->d_name, text, len)) < 0) {
			free(text);
			ctl_log(LOG_WARNING, "http: template %s/%s ignored: %s", h->dir, e->d_name,
				strerror(-rc));
		}
	}
	closedir(dir);
	return 0;
}

static const struct sbcfg *running_cfg(const struct http_boot *h)
{
	return &h->deps.running(h->deps.arg)->cfg;
}

char *http_boot_render(const struct http_boot *h, const struct http_boot_template *t,
		       const struct http_client *c, size_t *len)
{
	const struct sbcfg *cfg = running_cfg(h);
	char mac[18] = "", ip[16] = "", server[16] = "", base[48] = "";
	const char *hostname = "";

	if (c->have_mac) {
		long r = running_config_reservation_find(cfg, c->mac);
		running_config_fmt_mac(c->mac, mac);
		if (r >= 0)
			hostname = cfg->dhcp.reservations[r].hostname;
	}
	if (c->ip)
		running_config_fmt_ip(c->ip, ip);
	if (c->server_ip) {
		running_config_fmt_ip(c->server_ip, server);
		snprintf(base, sizeof(base), "%s://%s:%u", c->tls ? "https" : "http", server,
			 c->server_port);
	}
	const struct running_config *rc = h->deps.running(h->deps.arg);
	size_t nv = 6 + 2 * cfg->n_images, k = 6;
	struct ipxe_template_var *vars = calloc(nv, sizeof(*vars));
	char *strs = calloc(cfg->n_images ? cfg->n_images : 1,
			    2 * (SBCFG_NAME_MAX + 8) + sizeof(base) + SBCFG_NAME_MAX + 4 +
				    BOOT_TOKEN_MAX + 4);
	char *out = NULL;
	uint64_t expiry = ctl_clock_now(&h->deps.clock) + cfg->http.token_ttl_s;

	if (!vars || !strs)
		goto done;
	vars[0] = (struct ipxe_template_var){"mac", mac};
	vars[1] = (struct ipxe_template_var){"ip", ip};
	vars[2] = (struct ipxe_template_var){"hostname", hostname};
	vars[3] = (struct ipxe_template_var){"arch", c->arch};
	vars[4] = (struct ipxe_template_var){"server", server};
	vars[5] = (struct ipxe_template_var){"base_url", base};
	const size_t per = 2 * (SBCFG_NAME_MAX + 8) + sizeof(base) + SBCFG_NAME_MAX + 4 +
			   BOOT_TOKEN_MAX + 4;
	for (size_t i = 0; i < cfg->n_images; i++) {
		const struct sbcfg_image *im = &cfg->images[i];
		char *urlname = strs + i * per, *shaname = urlname + SBCFG_NAME_MAX + 8,
		     *url = shaname + SBCFG_NAME_MAX + 8, tok[BOOT_TOKEN_MAX] = "";
		const char *sha = im->sha256[0]		       ? im->sha256
				  : rc && rc->img && !rc->img[i].err ? rc->img[i].sha256
									   : "";
		if (im->protected_ && c->have_mac && c->ip) {
			boot_token_make(&h->keys, c->mac, c->ip, im->name, expiry, tok);
			((struct http_boot *)h)->tokens_issued++;
		}
		snprintf(urlname, SBCFG_NAME_MAX + 8, "url:%s", im->name);
		snprintf(shaname, SBCFG_NAME_MAX + 8, "sha256:%s", im->name);
		snprintf(url, sizeof(base) + SBCFG_NAME_MAX + 4 + BOOT_TOKEN_MAX + 4, "%s/%s%s%s",
			 base, im->name, tok[0] ? "?t=" : "", tok);
		vars[k++] = (struct ipxe_template_var){urlname, url};
		vars[k++] = (struct ipxe_template_var){shaname, sha};
	}
	size_t n = ipxe_template_render(t->text, t->len, vars, k, NULL, 0);
	if ((out = malloc(n + 1))) {
		ipxe_template_render(t->text, t->len, vars, k, out, n + 1);
		*len = n;
	}
done:
	free(vars);
	free(strs);
	return out;
}

/* arch from the query: iPXE's ${buildarch} ("x86_64", "i386", "arm64") or the like. */
static void query_arch(const char *query, char *out, size_t cap)
{
	if (http_query_get(query, "arch", out, cap) < 0) {
		out[0] = '\0';
		return;
	}
	for (char *p = out; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			*p = '_';
}

static void route_template(struct http_boot *h, const struct http_boot_template *t,
			   const struct http_req *req, const struct http_peer *peer,
			   struct http_body *out)
{
	struct http_client c = {.ip = peer->ip,
				.server_ip = peer->local_ip,
				.server_port = peer->local_port,
				.tls = peer->tls};
	char macs[40], m[18];
	int rc = http_query_get(req->query, "mac", macs, sizeof(macs));

	if (rc == 0) {
		if (running_config_parse_mac(macs, c.mac) < 0) {
			out->status = 400;
			snprintf(out->note, sizeof(out->note), "template %s: bad mac", t->name);
			return;
		}
		c.have_mac = true;
	} else if (rc != -ENOENT) {
		out->status = 400;
		snprintf(out->note, sizeof(out->note), "template %s: bad mac", t->name);
		return;
	} else {
		/* no ?mac=: the client is whoever holds the lease of its source address */
		const struct lease_pool *p = lease_store_pool(h->deps.store);
		struct lease_info l;
		if (p && lease_find_ip(p, peer->ip, ctl_clock_now(&h->deps.clock), &l) == 0 &&
		    (l.state == LEASE_BOUND || l.state == LEASE_OFFERED)) {
			memcpy(c.mac, l.mac, 6);
			c.have_mac = true;
		}
	}
	query_arch(req->query, c.arch, sizeof(c.arch));
	out->buf = http_boot_render(h, t, &c, &out->len);
	if (!out->buf) {
		out->status = 500;
		return;
	}
	out->status = 200;
	out->type = TEXT_TYPE;
	h->rendered++;
	if (!c.have_mac)
		h->anonymous++;
	snprintf(out->note, sizeof(out->note), "template %s for %s", t->name,
		 c.have_mac ? running_config_fmt_mac(c.mac, m) : "unknown client");
}

/*
 * May the client at peer fetch image key (config images_allowed)? Its MAC is the holder of the
 * lease of its address (a ?mac= of the request is the client's word and is not used here).
 */
static bool image_allowed(struct http_boot *h, const struct sbcfg *cfg, const char *key,
			  const struct http_peer *peer, struct http_body *out)
{
	const struct lease_pool *p = lease_store_pool(h->deps.store);
	struct sbcfg_image_rule rule;
	struct lease_info l;
	bool have_mac = false;
	char rs[64], ip[16];

	if (!cfg->images_restricted)
		return true;
	if (p && lease_find_ip(p, peer->ip, ctl_clock_now(&h->deps.clock), &l) == 0 &&
	    (l.state == LEASE_BOUND || l.state == LEASE_OFFERED))
		have_mac = true;
	if (sbcfg_image_allowed(cfg, have_mac ? l.mac : NULL, peer->ip, key, &rule))
		return true;
	h->forbidden++;
	ctl_log_limited(&h->forbidden_log, LOG_WARNING,
			"http: %s may not fetch image %s (images_allowed of %s): 403 (%llu so far)",
			running_config_fmt_ip(peer->ip, ip), key, sbcfg_image_rule_fmt(&rule, rs),
			(unsigned long long)h->forbidden);
	out->status = 403;
	snprintf(out->note, sizeof(out->note), "image %.64s: not allowed (%s)", key, rs);
	return false;
}

/*
 * A protected image (images[].protected) is sent only with a boot token (?t=) for the
 * requester: signed with a key we accept, not expired, for this image and the requester's
 * address, and that address is leased to the token's MAC now. A token valid for the MAC's
 * own address used from another one is "foreign" (a copied URL).
 */
static bool token_ok(struct http_boot *h, const char *key, const struct http_req *req,
		     const struct http_peer *peer, struct http_body *out)
{
	const struct lease_pool *p = lease_store_pool(h->deps.store);
	uint64_t now = ctl_clock_now(&h->deps.clock);
	char tok[BOOT_TOKEN_MAX + 8], ip[16], m[18];
	enum boot_token_verdict v;
	struct lease_info l;
	uint8_t mac[6] = {0};
	uint32_t kid;
	uint64_t exp;
	int rc = http_query_get(req->query, "t", tok, sizeof(tok));

	if (rc == -ENOENT) {
		v = BOOT_TOKEN_MISSING;
	} else if (rc < 0) {
		v = BOOT_TOKEN_MALFORMED;
	} else {
		v = boot_token_check(&h->keys, tok, peer->ip, key, now);
		boot_token_parse(tok, mac, &kid, &exp);
		if (v == BOOT_TOKEN_BAD && p && lease_find_mac(p, mac, now, &l) == 0 &&
		    l.ip != peer->ip) {
			enum boot_token_verdict w = boot_token_check(&h->keys, tok, l.ip, key, now);
			if (w == BOOT_TOKEN_OK || w == BOOT_TOKEN_EXPIRED)
				v = BOOT_TOKEN_FOREIGN;
		}
		if (v == BOOT_TOKEN_OK &&
		    !(p && lease_find_ip(p, peer->ip, now, &l) == 0 &&
		      (l.state == LEASE_BOUND || l.state == LEASE_OFFERED) &&
		      memcmp(l.mac, mac, 6) == 0))
			v = BOOT_TOKEN_NO_LEASE;
	}
	if (v == BOOT_TOKEN_OK) {
		h->tokens_accepted++;
		return true;
	}
	h->tokens_refused[v]++;
	ctl_log_limited(&h->token_log, LOG_WARNING,
			"http: %s: protected image %s refused (403): boot token %s%s%s (%llu so far)",
			running_config_fmt_ip(peer->ip, ip), key, boot_token_verdict_name(v),
			v == BOOT_TOKEN_FOREIGN ? ", issued for " : "",
			v == BOOT_TOKEN_FOREIGN ? running_config_fmt_mac(mac, m) : "",
			(unsigned long long)h->tokens_refused[v]);
	out->status = 403;
	snprintf(out->note, sizeof(out->note), "image %.64s: boot token %s", key,
		 boot_token_verdict_name(v));
	return false;
}

/*
 * Verified bytes: an image is sent only while the open file is the one whose SHA-256 the
 * registry holds (same device, inode, size, mtime and ctime as when it was hashed; a pinned
 * digest must also be the registry's). NULL when it is, else why not (for the log and note).
 */
static const char *bytes_unverified(const struct running_config *rc, size_t i,
				    const struct stat *st)
{
	const struct running_config_image *m = rc->img ? &rc->img[i] : NULL;
	int64_t mtime = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	int64_t ctime = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;

	if (!m || !m->sha256[0])
		return m && m->err ? "unreadable when registered" : "not hashed yet";
	if (rc->cfg.images[i].sha256[0] && strcmp(m->sha256, rc->cfg.images[i].sha256) != 0)
		return "SHA-256 is not the pinned one";
	if (m->size != (uint64_t)st->st_size || m->mtime_ns != mtime || m->ctime_ns != ctime ||
	    m->dev != (uint64_t)st->st_dev || m->ino != (uint64_t)st->st_ino)
		return "changed since it was hashed (re-register: config-reload or image-add)";
	return NULL;
}

/* The slot counting the bytes of image key (added on first use), -1 when the table is full. */
static int served_slot(struct http_boot *h, const char *key)
{
	for (size_t i = 0; i < h->n_served; i++)
		if (strcmp(h->served[i].name, key) == 0)
			return (int)i;
	if (h->n_served >= HTTP_BOOT_SERVED_MAX)
		return -1;
	struct http_boot_served *t =
		ctl_array_grow(h->served, &h->cap_served, h->n_served, sizeof(*t), 16);
	if (!t)
		return -1;
	h->served = t;
	memset(&t[h->n_served], 0, sizeof(t[0]));
	snprintf(t[h->n_served].name, sizeof(t[0].name), "%s", key);
	return (int)h->n_served++;
}

/* A tagged response sent whole (http_done_fn, under the loop's lock). */
static void served_done(void *arg, int tag, uint64_t bytes)
{
	struct http_boot *h = arg;

	if (tag < 0 || (size_t)tag >= h->n_served) {
		h->served_untracked++;
		return;
	}
	h->served[tag].bytes += bytes;
	h->served[tag].responses++;
}

json_t *http_boot_served_json(const struct http_boot *h)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < h->n_served; i++)
		json_object_set_new(o, h->served[i].name,
				    json_pack("{s:I, s:I}", "bytes", (json_int_t)h->served[i].bytes,
					      "responses", (json_int_t)h->served[i].responses));
	return o;
}

json_t *http_boot_fwlog_json(const struct http_boot *h)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I}", "accepted", (json_int_t)h->fwlog_accepted,
			 "bad_request", (json_int_t)h->fwlog_bad, "forbidden",
			 (json_int_t)h->fwlog_forbidden, "unknown_client",
			 (json_int_t)h->fwlog_unknown_client, "rate_limited",
			 (json_int_t)h->fwlog_rate_limited);
}

/*
 * GET /fwlog?mac=&step=&err=: a firmware failure report (fwlog.h). The client is checked like
 * the image rules check it: the address must be leased to that MAC; an address nobody holds
 * (proxyDHCP, a lease that ran out) is accepted only for a MAC the timelines know already.
 */
static void route_fwlog(struct http_boot *h, const struct http_req *req,
			const struct http_peer *peer, struct http_body *out)
{
	const struct lease_pool *p = lease_store_pool(h->deps.store);
	struct fwlog_report r;
	struct lease_info l;
	char text[160], ip[16], m1[18], m2[18];
	const char *why;
	bool leased = false;

	if (!tl_bucket_take(&h->fwlog_bucket, ev_now_ms())) {
		h->fwlog_rate_limited++;
		out->status = 429;
		snprintf(out->note, sizeof(out->note), "firmware report: over %u/s", FWLOG_RATE);
		return;
	}
	if (fwlog_parse(req->query, &r, &why) < 0) {
		h->fwlog_bad++;
		ctl_log_limited(&h->fwlog_log, LOG_WARNING,
				"http: %s: firmware report refused (400): %s (%llu so far)",
				running_config_fmt_ip(peer->ip, ip), why,
				(unsigned long long)h->fwlog_bad);
		out->status = 400;
		snprintf(out->note, sizeof(out->note), "firmware report: %s", why);
		return;
	}
	if (p && lease_find_ip(p, peer->ip, ctl_clock_now(&h->deps.clock), &l) == 0 &&
	    (l.state == LEASE_BOUND || l.state == LEASE_OFFERED)) {
		if (memcmp(l.mac, r.mac, 6) != 0) {
			h->fwlog_forbidden++;
			ctl_log_limited(&h->fwlog_log, LOG_WARNING,
					"http: %s: firmware report for %s refused (403): the "
					"address is leased to %s (%llu so far)",
					running_config_fmt_ip(peer->ip, ip),
					running_config_fmt_mac(r.mac, m1),
					running_config_fmt_mac(l.mac, m2),
					(unsigned long long)h->fwlog_forbidden);
			out->status = 403;
			snprintf(out->note, sizeof(out->note),
				 "firmware report: %s is leased to another MAC", ip);
			return;
		}
		leased = true;
	}
	fwlog_describe(&r, text, sizeof(text));
	if (!h->deps.firmware || h->deps.firmware(h->deps.arg, r.mac, peer->ip, leased, text) < 0) {
		h->fwlog_unknown_client++;
		out->status = 403;
		snprintf(out->note, sizeof(out->note),
			 "firmware report: %s holds no lease and was never seen",
			 running_config_fmt_mac(r.mac, m1));
		return;
	}
	h->fwlog_accepted++;
	out->status = 200;
	out->type = TEXT_TYPE;
	out->buf = strdup("ok\n");
	out->len = out->buf ? 3 : 0;
	snprintf(out->note, sizeof(out->note), "firmware report of %s: %.100s",
		 running_config_fmt_mac(r.mac, m1), text);
}

void http_boot_route(void *arg, const struct http_req *req, const struct http_peer *peer,
		     struct http_body *out)
{
	struct http_boot *h = arg;
	const struct sbcfg *cfg = running_cfg(h);
	char key[SBCFG_NAME_MAX];
	size_t plen = strlen(req->path);
	struct stat st;

	if (strcmp(req->path, FWLOG_PATH) == 0) {
		route_fwlog(h, req, peer, out);
		return;
	}
	/* /ipxe/NAME: a template if there is one, else an image like any other path */
	if (plen > strlen(IPXE_PREFIX) &&
	    strncmp(req->path, IPXE_PREFIX, strlen(IPXE_PREFIX)) == 0) {
		const struct http_boot_template *t =
			http_boot_template_find(h, req->path + strlen(IPXE_PREFIX));
		if (t) {
			route_template(h, t, req, peer, out);
			return;
		}
	}
	/* Only names of the registry, normalised as TFTP does; ".." never reaches the disk. */
	int rc = catalog_normalize(req->path, plen, key, sizeof(key));
	if (rc < 0) {
		snprintf(out->note, sizeof(out->note), "%s",
			 rc == -SB_DROP_TFTP_BAD_PATH ? "refused: '..' in path" : "not in catalog");
		return;
	}
	for (size_t i = 0; i < cfg->n_images; i++) {
		if (strcmp(cfg->images[i].name, key) != 0)
			continue;
		if (!image_allowed(h, cfg, key, peer, out))
			return;
		if (cfg->images[i].protected_ && !token_ok(h, key, req, peer, out))
			return;
		int fd = open(cfg->images[i].path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT) {
			/* registered, gone from disk: the client is told "not found" (iPXE:
			 * "No such file or directory"), the operator the path (doctor: images) */
			ctl_log(LOG_WARNING, "http: image %s: %s: file missing on disk: 404", key,
				cfg->images[i].path);
			snprintf(out->note, sizeof(out->note), "image %.64s: file missing on disk",
				 key);
			out->status = 404;
			return;
		}
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			ctl_log(LOG_WARNING, "http: image %s: %s: %s", key, cfg->images[i].path,
				fd < 0 ? strerror(errno) : "not a regular file");
			snprintf(out->note, sizeof(out->note), "image %.64s: unreadable", key);
			if (fd >= 0)
				close(fd);
			out->status = 500;
			return;
		}
		const char *why = bytes_unverified(h->deps.running(h->deps.arg), i, &st);
		if (why) {
			h->unverified++;
			ctl_log_limited(&h->unverified_log, LOG_ERR,
					"http: image %s: %s: %s: not sent (503)", key,
					cfg->images[i].path, why);
			snprintf(out->note, sizeof(out->note), "image %.40s: bytes not verified: %.90s",
				 key, why);
			close(fd);
			out->status = 503;
			return;
		}
		out->status = 200;
		out->fd = fd;
		out->size = (uint64_t)st.st_size;
		out->tag = served_slot(h, key);
		snprintf(out->note, sizeof(out->note), "image %s", key);
		return;
	}
	snprintf(out->note, sizeof(out->note), "not in catalog");
}

/* http_boot_route, then the step for the client's timeline. */
static void route_step(void *arg, const struct http_req *req, const struct http_peer *peer,
		       struct http_body *out)
{
	struct http_boot *h = arg;

	http_boot_route(arg, req, peer, out);
	/* a firmware report is a step of its own (route_fwlog), not a fetch */
	if (h->deps.step && strcmp(req->path, FWLOG_PATH) != 0)
		h->deps.step(h->deps.arg, peer->ip, req->path, out->status,
			     out->fd >= 0 ? out->size : out->len);
}

const struct http_boot_template *http_boot_template_find(const struct http_boot *h,
							 const char *name)
{
	long i = template_index(h, name);
	return i >= 0 ? &h->templates[i] : NULL;
}

static void listen_cfg(struct http_boot *h, bool startup, char *err, size_t errlen, int *rc)
{
	const struct running_config *cur = h->deps.running(h->deps.arg);
	const struct sbcfg_http *c = &cur->cfg.http;
	char ip[16];

	struct http_srv_conf sc = {
		.ip = c->listen_ip,
		.port = c->port,
		.https_port = c->https_port,
		.max_conns = c->max_conns,
		.max_per_ip = c->max_per_ip,
		.idle_ms = c->idle_timeout_ms,
		.header_ms = c->header_timeout_ms,
	};
	char *cert = NULL, *key = NULL;
	size_t len;
	int e = 0;

	/* small files, read in the loop: a config change (and start) reads them again */
	if (c->https_port) {
		if (!(cert = read_small_file(AT_FDCWD, c->tls_cert, &len, &e)))
			snprintf(err, errlen, "http: tls_cert %s: %s", c->tls_cert, strerror(-e));
		else if (!(key = read_small_file(AT_FDCWD, c->tls_key, &len, &e)))
			snprintf(err, errlen, "http: tls_key %s: %s", c->tls_key, strerror(-e));
	}
	sc.tls_cert_pem = cert;
	sc.tls_key_pem = key;
	*rc = e < 0 ? e : http_srv_configure(h->srv, &sc, err, errlen);
	if (key)
		explicit_bzero(key, strlen(key));
	free(cert);
	free(key);
	if (*rc < 0) {
		snprintf(h->listen_err, sizeof(h->listen_err), "%s", err);
		if (!startup)
			ctl_log(LOG_ERR, "%s (config generation %llu); HTTP %s", err,
				(unsigned long long)cur->generation,
				http_srv_port(h->srv) ? "still on the previous address" : "off");
		return;
	}
	h->listen_err[0] = '\0';
	if (c->https_port)
		ctl_log(startup ? LOG_INFO : LOG_DEBUG, "http: HTTPS on %s:%u (certificate %s)",
			running_config_fmt_ip(c->listen_ip, ip), c->https_port, c->tls_cert);
	if (c->port)
		ctl_log(startup ? LOG_INFO : LOG_DEBUG,
			"http: listening on %s:%u (%u connections max, %u per address, "
			"request head within %u ms)",
			running_config_fmt_ip(c->listen_ip, ip), c->port, c->max_conns,
			c->max_per_ip, c->header_timeout_ms);
}

int http_boot_start(struct http_boot **out, const struct http_boot_deps *deps, char *err,
		    size_t errlen)
{
	struct http_boot *h = calloc(1, sizeof(*h));
	int rc;

	*out = NULL;
	if (!h || !(h->srv = http_srv_new(deps->loop, route_step, h))) {
		free(h);
		snprintf(err, errlen, "http: out of memory");
		return -ENOMEM;
	}
	h->deps = *deps;
	http_srv_set_done(h->srv, served_done);
	tl_bucket_init(&h->fwlog_bucket, FWLOG_RATE, FWLOG_BURST, ev_now_ms());
	snprintf(h->dir, sizeof(h->dir), "%s/templates", deps->state_dir);
	snprintf(h->keys_path, sizeof(h->keys_path), "%s/token.keys", deps->state_dir);
	if ((rc = boot_token_keys_load(&h->keys, h->keys_path, err, errlen)) == 0 &&
	    (rc = load_templates(h, err, errlen)) == 0)
		listen_cfg(h, true, err, errlen, &rc);
	if (rc < 0) {
		http_boot_stop(h);
		return rc;
	}
	if (h->n_templates)
		ctl_log(LOG_INFO, "http: %zu iPXE template%s from %s", h->n_templates,
			h->n_templates == 1 ? "" : "s", h->dir);
	*out = h;
	return 0;
}

void http_boot_run(struct http_boot *h)
{
	char err[300];

	if (h && http_srv_start(h->srv, err, sizeof(err)) < 0)
		ctl_log(LOG_ERR, "%s: HTTP off", err);
}

void http_boot_apply(struct http_boot *h)
{
	char err[300];
	int rc;

	if (h)
		listen_cfg(h, false, err, sizeof(err), &rc);
}

int http_boot_token_rotate(struct http_boot *h, char *err, size_t errlen)
{
	int rc = boot_token_keys_rotate(&h->keys, h->keys_path, err, errlen);

	if (rc == 0)
		ctl_log(LOG_NOTICE,
			"http: boot token key %u in force; tokens of key %u still accepted, "
			"older ones refused",
			h->keys.cur_id, h->keys.prev_id);
	return rc;
}

void http_boot_stop(struct http_boot *h)
{
	if (!h)
		return;
	http_srv_free(h->srv);
	OPENSSL_cleanse(&h->keys, sizeof(h->keys));
	for (size_t i = 0; i < h->n_templates; i++)
		free(h->templates[i].text);
	free(h->templates);
	free(h->served);
	free(h);
}

int http_boot_template_set(struct http_boot *h, const char *name, const char *text, size_t len,
			   char *err, size_t errlen)
{
	char path[sizeof(h->dir) + IPXE_TEMPLATE_NAME_MAX + 2];
	int rc;

	if (ipxe_template_name_check(name) < 0 || tmp_name(name)) {
		snprintf(err, errlen,
			 "name \"%.*s\": 1..%d characters of A-Z a-z 0-9 . _ -, not "
			 "starting with '.', not ending in .tmp",
			 IPXE_TEMPLATE_NAME_MAX, name, IPXE_TEMPLATE_NAME_MAX);
		return -EINVAL;
	}
	if ((rc = ipxe_template_text_check(text, len)) < 0) {
		snprintf(err, errlen, "%s",
			 rc == -EFBIG ? "text: larger than 64 KiB"
				      : "text: empty, or a control character other "
					"than tab, CR, LF");
		return rc;
	}
	if (template_index(h, name) < 0 && h->n_templates >= TEMPLATES_MAX) {
		snprintf(err, errlen, "already %d templates", TEMPLATES_MAX);
		return -ENOSPC;
	}
	char *copy = malloc(len + 1);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	snprintf(path, sizeof(path), "%s/%s", h->dir, name);
	if ((rc = running_config_write_atomic(path, copy, len, err, errlen)) < 0) {
		free(copy);
		return rc;
	}
	if ((rc = template_store(h, name, copy, len)) < 0) {
		free(copy);
		snprintf(err, errlen, "%s", strerror(-rc));
	}
	return rc;
}

int http_boot_template_del(struct http_boot *h, const char *name, char *err, size_t errlen)
{
	char path[sizeof(h->dir) + IPXE_TEMPLATE_NAME_MAX + 2];
	long i = template_index(h, name);

	if (i < 0) {
		snprintf(err, errlen, "no template \"%.*s\"", IPXE_TEMPLATE_NAME_MAX, name);
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "%s/%s", h->dir, name);
	if (unlink(path) < 0 && errno != ENOENT) {
		int rc = -errno;
		snprintf(err, errlen, "unlink(%s): %s", path, strerror(errno));
		return rc;
	}
	int dfd = open(h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd); /* the removal survives a crash */
		close(dfd);
	}
	free(h->templates[i].text);
	h->templates[i] = h->templates[h->n_templates - 1];
	h->n_templates--;
	return 0;
}
