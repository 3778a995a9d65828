/* SPDX-License-Identifier: BSD-3-Clause */
/* lease_store.c - append-only lease log with group commit, replay and compaction. */
#include "lease_store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define HDR_SZ	    16
#define HDR_MAGIC   "SBLEASE1"
#define LOG_VERSION 1u
#define REC_MAGIC   0x524c4253u /* "SBLR" */
#define REC_SZ	    LEASE_STORE_REC_SZ

struct lease_store {
	char dir[PATH_MAX];
	int fd;	       /* leases.log */
	int lock_fd;   /* leases.lock, flock'ed */
	uint64_t size; /* committed bytes of leases.log */
	const struct sbcfg *cfg;
	struct lease_pool *pool;
	void *pool_mem;
	uint8_t *pending; /* queued records */
	size_t n_pending, cap_pending;
	uint64_t live_hint; /* bound leases after the last compaction/open */
	struct lease_store_stats st;
};

/* ---- encoding ---- */

uint32_t lease_store_crc32c(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t crc = 0xffffffffu;

	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void rec_encode(uint8_t r[REC_SZ], const struct chan_lease *ev)
{
	memset(r, 0, REC_SZ);
	put_le(r, REC_MAGIC, 4);
	r[4] = ev->event;
	put_le(r + 6, ev->subnet, 2);
	memcpy(r + 8, ev->mac, 6);
	put_le(r + 16, ev->ip, 4);
	put_le(r + 20, ev->expires, 8);
	put_le(r + 28, lease_store_crc32c(r, 28), 4);
}

/* 0, or -EBADMSG for a bad CRC/magic/event. */
static int rec_decode(const uint8_t r[REC_SZ], struct chan_lease *ev)
{
	if (get_le(r + 28, 4) != lease_store_crc32c(r, 28) || get_le(r, 4) != REC_MAGIC)
		return -EBADMSG;
	memset(ev, 0, sizeof(*ev));
	ev->event = r[4];
	ev->subnet = (uint16_t)get_le(r + 6, 2);
	memcpy(ev->mac, r + 8, 6);
	ev->ip = (uint32_t)get_le(r + 16, 4);
	ev->expires = get_le(r + 20, 8);
	if (ev->event < CHAN_LEASE_BOUND || ev->event > CHAN_LEASE_DECLINED)
		return -EBADMSG;
	return 0;
}

static void hdr_encode(uint8_t h[HDR_SZ])
{
	memcpy(h, HDR_MAGIC, 8);
	put_le(h + 8, LOG_VERSION, 4);
	put_le(h + 12, lease_store_crc32c(h, 12), 4);
}

/* ---- pool ---- */

static int pool_make(const struct sbcfg *cfg, struct lease_pool **pool, void **mem, char *err,
		     size_t errlen)
{
	size_t sz = lease_pool_memsize(&cfg->dhcp);
	int rc = -EINVAL;

	if (sz == 0) {
		snprintf(err, errlen, "lease pool: the config's pools cannot be laid out");
		return -EINVAL;
	}
	sz = (sz + 63) & ~(size_t)63;
	*mem = aligned_alloc(64, sz);
	if (!*mem) {
		snprintf(err, errlen, "lease pool: out of memory (%zu bytes)", sz);
		return -ENOMEM;
	}
	*pool = lease_pool_init(*mem, sz, &cfg->dhcp, &rc);
	if (!*pool) {
		snprintf(err, errlen, "lease pool: %s", strerror(-rc));
		free(*mem);
		*mem = NULL;
		return rc;
	}
	return 0;
}

/*
 * Apply ev to pool p. During replay a later bound record wins over an older holder of its
 * address (the dataplane only gave it away because the old lease had ended).
 */
static int pool_apply(struct lease_pool *p, const struct chan_lease *ev, uint64_t now,
		      struct lease_store_stats *replay)
{
	struct lease_info li = {.ip = ev->ip, .state = LEASE_BOUND, .expires = ev->expires};
	int rc;

	memcpy(li.mac, ev->mac, 6);
	switch (ev->event) {
	case CHAN_LEASE_BOUND:
		if (ev->expires <= now)
			return lease_restore(p, &li, now); /* only remembers the owner */
		if (ev->expires - now > UINT32_MAX)
			return -EINVAL;
		rc = lease_commit(p, ev->mac, ev->ip, (uint32_t)(ev->expires - now), now, NULL);
		if (rc == -EADDRINUSE && replay) {
			struct lease_info old;

			if (lease_find_ip(p, ev->ip, now, &old) == 0 && old.state != LEASE_FREE &&
			    memcmp(old.mac, ev->mac, 6) != 0 &&
			    lease_release(p, old.mac, ev->ip, now) == 0) {
				replay->replay_conflicts++;
				rc = lease_commit(p, ev->mac, ev->ip, (uint32_t)(ev->expires - now),
						  now, NULL);
			}
		}
		return rc;
	case CHAN_LEASE_RELEASED:
		rc = lease_release(p, ev->mac, ev->ip, now);
		return rc == -ENOENT ? 1 : rc; /* already gone: nothing to record */
	case CHAN_LEASE_DECLINED:
		rc = lease_decline(p, ev->mac, ev->ip, now);
		return rc == -ENOENT ? 1 : rc;
	default:
		return -EINVAL;
	}
}

/*
 * Replay len bytes of log (header included) into s->pool. Returns the number of bytes
 * that hold whole, valid-or-skipped records (where appending continues), or -errno.
 */
static long long replay(struct lease_store *s, const uint8_t *buf, size_t len, uint64_t now,
			char *err, size_t errlen)
{
	uint8_t h[HDR_SZ];
	size_t n, i;

	if (len < HDR_SZ)
		return 0; /* empty, or a crash while the header was written */
	hdr_encode(h);
	if (memcmp(buf, h, HDR_SZ) != 0) {
		snprintf(err, errlen,
			 "%.150s/" LEASE_STORE_LOG ": not a stormboot lease log (bad header); "
			 "move it away to start with no leases",
			 s->dir);
		return -EBADMSG;
	}
	n = (len - HDR_SZ) / REC_SZ;
	if ((len - HDR_SZ) % REC_SZ)
		s->st.replay_torn = 1;
	for (i = 0; i < n; i++) {
		struct chan_lease ev;

		if (rec_decode(buf + HDR_SZ + i * REC_SZ, &ev) < 0) {
			if (i == n - 1) { /* a torn last record: never committed */
				s->st.replay_torn = 1;
				return HDR_SZ + (long long)i * REC_SZ;
			}
			s->st.replay_corrupt++;
			continue;
		}
		s->st.replayed++;
		if (pool_apply(s->pool, &ev, now, &s->st) < 0)
			s->st.replay_rejected++;
	}
	return HDR_SZ + (long long)n * REC_SZ;
}

static int read_all(int fd, uint8_t **out, size_t *len)
{
	struct stat sb;
	size_t got = 0;

	if (fstat(fd, &sb) < 0)
		return -errno;
	*out = malloc((size_t)sb.st_size + 1);
	if (!*out)
		return -ENOMEM;
	while (got < (size_t)sb.st_size) {
		ssize_t n = pread(fd, *out + got, (size_t)sb.st_size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(*out);
			return -e;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*len = got;
	return 0;
}

static int write_all(int fd, const void *buf, size_t len, off_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int count_bound(const struct lease_info *l, void *arg)
{
	if (l->state == LEASE_BOUND)
		(*(uint64_t *)arg)++;
	return 0;
}

static uint64_t live_leases(const struct lease_store *s, uint64_t now)
{
	uint64_t n = 0;

	lease_foreach(s->pool, now, count_bound, &n);
	return n;
}

/* Read the committed log again into a fresh pool (after a failed commit). */
static int reload(struct lease_store *s, uint64_t now)
{
	struct lease_store_stats keep = s->st;
	char err[256];
	uint8_t *buf;
	size_t len;
	int rc;

	if ((rc = read_all(s->fd, &buf, &len)) < 0)
		return rc;
	if (len > s->size)
		len = (size_t)s->size;
	free(s->pool_mem);
	s->pool_mem = NULL;
	if ((rc = pool_make(s->cfg, &s->pool, &s->pool_mem, err, sizeof(err))) == 0) {
		long long r = replay(s, buf, len, now, err, sizeof(err));
		rc = r < 0 ? (int)r : 0;
	}
	free(buf);
	s->st = keep;
	return rc;
}

struct lease_store *lease_store_open(const char *dir, const struct sbcfg *cfg, uint64_t now,
				     char *err, size_t errlen)
{
	struct lease_store *s = calloc(1, sizeof(*s));
	char path[PATH_MAX + 32];
	uint8_t *buf = NULL;
	size_t len = 0;
	long long good;

	if (!s) {
		snprintf(err, errlen, "lease store: out of memory");
		return NULL;
	}
	s->fd = s->lock_fd = -1;
	s->cfg = cfg;
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir(%s): %s", dir, strerror(errno));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/leases.lock", dir);
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (s->lock_fd < 0) {
		snprintf(err, errlen, "open(%s): %s", path, strerror(errno));
		goto fail;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, errlen, "flock(%s): %s (another stormboot-control uses %s?)", path,
			 strerror(errno), dir);
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/" LEASE_STORE_LOG ".tmp", dir);
	unlink(path); /* a compaction that did not finish; leases.log is still whole */
	snprintf(path, sizeof(path), "%s/" LEASE_STORE_LOG, dir);
	s->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (s->fd < 0) {
		snprintf(err, errlen, "open(%s): %s", path, strerror(errno));
		goto fail;
	}
	if (pool_make(cfg, &s->pool, &s->pool_mem, err, errlen) < 0)
		goto fail;
	if (read_all(s->fd, &buf, &len) < 0) {
		snprintf(err, errlen, "read(%s): %s", path, strerror(errno));
		goto fail;
	}
	good = replay(s, buf, len, now, err, errlen);
	free(buf);
	if (good < 0)
		goto fail;
	if (good < HDR_SZ) { /* new (or torn-header) file */
		uint8_t h[HDR_SZ];

		hdr_encode(h);
		if (ftruncate(s->fd, 0) < 0 || write_all(s->fd, h, HDR_SZ, 0) < 0 ||
		    fsync(s->fd) < 0 || fsync_dir(dir) < 0) {
			snprintf(err, errlen, "write(%s): %s", path, strerror(errno));
			goto fail;
		}
		good = HDR_SZ;
	} else if ((size_t)good < len) { /* cut the torn tail so appends line up */
		if (ftruncate(s->fd, good) < 0 || fsync(s->fd) < 0) {
			snprintf(err, errlen, "ftruncate(%s): %s", path, strerror(errno));
			goto fail;
		}
	}
	s->size = (uint64_t)good;
	s->st.log_records = ((uint64_t)good - HDR_SZ) / REC_SZ;
	s->st.log_bytes = (uint64_t)good;
	s->live_hint = live_leases(s, now);
	if (s->st.replay_corrupt && lease_store_compact(s, now, err, errlen) < 0)
		goto fail;
	return s;
fail:
	lease_store_close(s);
	return NULL;
}

void lease_store_close(struct lease_store *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->pool_mem);
	free(s->pending);
	free(s);
}

int lease_store_apply(struct lease_store *s, const struct chan_lease *ev, uint64_t now)
{
	int rc;

	if (s->n_pending == s->cap_pending) {
		size_t ncap = s->cap_pending ? s->cap_pending * 2 : 256;
		uint8_t *n = realloc(s->pending, ncap * REC_SZ);
		if (!n)
			return -ENOMEM;
		s->pending = n;
		s->cap_pending = ncap;
	}
	rc = pool_apply(s->pool, ev, now, NULL);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return 0;
	rec_encode(s->pending + s->n_pending * REC_SZ, ev);
	s->n_pending++;
	s->st.appended++;
	return 0;
}

size_t lease_store_pending(const struct lease_store *s)
{
	return s->n_pending;
}

int lease_store_commit(struct lease_store *s, uint64_t now)
{
	size_t n = s->n_pending;
	int rc;

	if (n == 0)
		return 0;
	rc = write_all(s->fd, s->pending, n * REC_SZ, (off_t)s->size);
	if (rc == 0 && fdatasync(s->fd) < 0)
		rc = -errno;
	s->n_pending = 0;
	if (rc < 0) {
		s->st.commit_errors++;
		if (ftruncate(s->fd, (off_t)s->size) == 0)
			(void)fdatasync(s->fd);
		(void)reload(s, now);
		return rc;
	}
	s->size += n * REC_SZ;
	s->st.committed += n;
	s->st.commits++;
	s->st.log_records += n;
	s->st.log_bytes = s->size;
	return (int)n;
}

bool lease_store_should_compact(const struct lease_store *s, uint64_t now)
{
	return s->st.log_records > 4096 && s->st.log_records > 4 * s->live_hint + 1024;
}

struct snap {
	uint8_t *buf;
	size_t n, cap;
};

static int snap_add(struct snap *sn, const struct chan_lease *ev)
{
	if (sn->n == sn->cap) {
		size_t ncap = sn->cap ? sn->cap * 2 : 1024;
		uint8_t *b = realloc(sn->buf, HDR_SZ + ncap * REC_SZ);
		if (!b)
			return -ENOMEM;
		sn->buf = b;
		sn->cap = ncap;
	}
	rec_encode(sn->buf + HDR_SZ + sn->n * REC_SZ, ev);
	sn->n++;
	return 0;
}

static int snap_cb(const struct lease_info *l, void *arg)
{
	struct chan_lease ev = {.expires = l->expires, .ip = l->ip, .subnet = l->subnet};
	int rc;

	memcpy(ev.mac, l->mac, 6);
	if (l->state == LEASE_OFFERED || l->state == LEASE_FREE)
		return 0; /* offers are never durable */
	ev.event = CHAN_LEASE_BOUND;
	if ((rc = snap_add(arg, &ev)) < 0 || l->state != LEASE_DECLINED)
		return rc;
	ev.event = CHAN_LEASE_DECLINED; /* replays as a quarantine from the replay time */
	return snap_add(arg, &ev);
}

int lease_store_compact(struct lease_store *s, uint64_t now, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 32], path[PATH_MAX + 32];
	struct snap sn = {0};
	int fd = -1, rc;
	size_t len;

	if ((rc = lease_store_commit(s, now)) < 0) {
		snprintf(err, errlen, "commit before compaction: %s", strerror(-rc));
		return rc;
	}
	sn.cap = 1024;
	sn.buf = malloc(HDR_SZ + sn.cap * REC_SZ); /* records go after room for the header */
	if (!sn.buf || (rc = lease_foreach(s->pool, now, snap_cb, &sn)) < 0) {
		snprintf(err, errlen, "compaction: out of memory");
		free(sn.buf);
		return -ENOMEM;
	}
	hdr_encode(sn.buf);
	len = HDR_SZ + sn.n * REC_SZ;
	snprintf(tmp, sizeof(tmp), "%s/" LEASE_STORE_LOG ".tmp", s->dir);
	snprintf(path, sizeof(path), "%s/" LEASE_STORE_LOG, s->dir);
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "open(%s): %s", tmp, strerror(-rc));
		goto out;
	}
	if ((rc = write_all(fd, sn.buf, len, 0)) < 0 || (fsync(fd) < 0 && (rc = -errno))) {
		snprintf(err, errlen, "write(%s): %s", tmp, strerror(-rc));
		goto out;
	}
	if (rename(tmp, path) < 0) {
		rc = -errno;
		snprintf(err, errlen, "rename(%s, %s): %s", tmp, path, strerror(-rc));
		goto out;
	}
	/* From here leases.log is the snapshot; the directory entry must be durable too. */
	if ((rc = fsync_dir(s->dir)) < 0)
		snprintf(err, errlen, "fsync(%s): %s", s->dir, strerror(-rc));
	close(s->fd);
	s->fd = fd;
	fd = -1;
	s->size = len;
	s->st.log_records = sn.n;
	s->st.log_bytes = len;
	s->st.compactions++;
	s->live_hint = live_leases(s, now);
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(sn.buf);
	return rc;
}

struct move_ctx {
	struct lease_pool *to;
	uint64_t now;
	int dropped;
};

static int move_cb(const struct lease_info *l, void *arg)
{
	struct move_ctx *m = arg;

	if (l->state != LEASE_BOUND)
		return 0; /* offers and quarantines do not carry over */
	if (lease_restore(m->to, l, m->now) < 0)
		m->dropped++;
	return 0;
}

int lease_store_set_config(struct lease_store *s, const struct sbcfg *cfg, uint64_t now, char *err,
			   size_t errlen)
{
	struct move_ctx m = {.now = now};
	void *mem;
	int rc;

	if ((rc = lease_store_commit(s, now)) < 0) {
		snprintf(err, errlen, "lease store commit: %s", strerror(-rc));
		return rc;
	}
	if ((rc = pool_make(cfg, &m.to, &mem, err, errlen)) < 0)
		return rc;
	lease_foreach(s->pool, now, move_cb, &m);
	free(s->pool_mem);
	s->pool_mem = mem;
	s->pool = m.to;
	s->cfg = cfg;
	/* The log may hold leases the new config has no room for; a snapshot forgets them. */
	if ((rc = lease_store_compact(s, now, err, errlen)) < 0)
		return rc;
	return m.dropped;
}

const struct lease_pool *lease_store_pool(const struct lease_store *s)
{
	return s->pool;
}

void lease_store_get_stats(const struct lease_store *s, struct lease_store_stats *out)
{
	*out = s->st;
}
