/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sbcfg_cluster.c - the "cluster" section of the config (docs/SCALE-OUT.md, docs/CONFIG.md):
 *
 *   "cluster": {
 *     "server_id": "boot-a",
 *     "etcd": {"endpoints": ["http://198.18.7.1:2379"], "prefix": "/stormboot/",
 *              "ca_file": "", "cert_file": "", "key_file": "", "user": "",
 *              "password_file": "", "timeout_ms": 1000},
 *     "lease_ttl_s": 3, "commit_batch_max": 128, "apply_wait_ms": 1000
 *   }
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "sbcfg_json.h"
#include "sbcfg_names.h"

#define TIMEOUT_MS_MIN 50
#define TIMEOUT_MS_MAX 60000
#define TTL_MIN	       2 /* etcd's minimum lease TTL is about its election timeout */
#define TTL_MAX	       60
#define BATCH_MAX      10000
#define APPLY_WAIT_MAX 60000

static const char *const cluster_keys[] = {"server_id",	"etcd",		 "lease_ttl_s",
					   "commit_batch_max", "apply_wait_ms", NULL};
static const char *const etcd_keys[] = {"endpoints",	 "prefix",     "ca_file",
					"cert_file",	 "key_file",   "user",
					"password_file", "timeout_ms", NULL};

static int cfail(char *msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cfail(char *msg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, SBCFG_ERR_MAX, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int unknown_keys(json_t *o, const char *path, const char *const *known, char *msg)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v)
	{
		size_t i = 0;
		char list[256] = "";

		while (known[i] && strcmp(known[i], key) != 0)
			i++;
		if (known[i])
			continue;
		for (i = 0; known[i]; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 i ? ", " : "", known[i]);
		return cfail(msg, "%s.%.64s: unknown field (known fields here: %s)", path, key,
			     list);
	}
	return 0;
}

/* A string field (optional) of at most cap - 1 printable bytes. */
static int str_field(json_t *o, const char *path, const char *key, char *dst, size_t cap, char *msg)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	if (!v)
		return 0;
	if (!json_is_string(v))
		return cfail(msg, "%s.%s: must be a string, not %s", path, key,
			     sbcfg_json_type_name(v));
	s = json_string_value(v);
	if (strlen(s) >= cap)
		return cfail(msg, "%s.%s: longer than %zu bytes", path, key, cap - 1);
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return cfail(msg, "%s.%s: holds a control character", path, key);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int uint_field(json_t *o, const char *path, const char *key, long long lo, long long hi,
		      uint32_t *dst, char *msg)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return cfail(msg, "%s.%s: must be an integer in %lld..%lld", path, key, lo, hi);
	*dst = (uint32_t)json_integer_value(v);
	return 0;
}

static const char *id_problem(const char *s)
{
	if (!s[0])
		return "must not be empty";
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return "may hold only letters, digits, '.', '_' and '-'";
	return NULL;
}

static int parse_etcd(json_t *e, struct sbcfg_cluster *c, char *msg)
{
	json_t *a, *v;
	size_t i;
	int rc;

	if (!json_is_object(e))
		return cfail(msg, "cluster.etcd: must be an object, not %s",
			     sbcfg_json_type_name(e));
	if ((rc = unknown_keys(e, "cluster.etcd", etcd_keys, msg)) < 0)
		return rc;
	a = json_object_get(e, "endpoints");
	if (!a)
		return cfail(msg, "cluster.etcd.endpoints: required (etcd's client URLs, such as "
				  "[\"http://198.18.7.1:2379\"])");
	if (!json_is_array(a) || json_array_size(a) == 0 ||
	    json_array_size(a) > SBCFG_CLUSTER_ENDPOINTS_MAX)
		return cfail(msg, "cluster.etcd.endpoints: must be an array of 1..%d URLs",
			     SBCFG_CLUSTER_ENDPOINTS_MAX);
	json_array_foreach(a, i, v)
	{
		const char *s = json_is_string(v) ? json_string_value(v) : NULL;

		if (!s)
			return cfail(msg, "cluster.etcd.endpoints[%zu]: must be a string, not %s",
				     i, sbcfg_json_type_name(v));
		if ((strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) ||
		    strlen(s) >= SBCFG_CLUSTER_URL_MAX || strchr(s, ' ') || strlen(s) < 9)
			return cfail(msg,
				     "cluster.etcd.endpoints[%zu]: \"%.64s\" is not an http:// or "
				     "https:// URL of etcd's client port (at most %d bytes)",
				     i, s, SBCFG_CLUSTER_URL_MAX - 1);
		snprintf(c->endpoints[i], sizeof(c->endpoints[i]), "%s", s);
		/* no trailing '/': paths are appended */
		size_t n = strlen(c->endpoints[i]);
		while (n && c->endpoints[i][n - 1] == '/')
			c->endpoints[i][--n] = '\0';
	}
	c->n_endpoints = json_array_size(a);
	if ((rc = str_field(e, "cluster.etcd", "prefix", c->prefix, sizeof(c->prefix), msg)) < 0 ||
	    (rc = str_field(e, "cluster.etcd", "ca_file", c->ca_file, sizeof(c->ca_file), msg)) <
		    0 ||
	    (rc = str_field(e, "cluster.etcd", "cert_file", c->cert_file, sizeof(c->cert_file),
			    msg)) < 0 ||
	    (rc = str_field(e, "cluster.etcd", "key_file", c->key_file, sizeof(c->key_file), msg)) <
		    0 ||
	    (rc = str_field(e, "cluster.etcd", "user", c->user, sizeof(c->user), msg)) < 0 ||
	    (rc = str_field(e, "cluster.etcd", "password_file", c->password_file,
			    sizeof(c->password_file), msg)) < 0)
		return rc;
	return uint_field(e, "cluster.etcd", "timeout_ms", TIMEOUT_MS_MIN, TIMEOUT_MS_MAX,
			  &c->timeout_ms, msg);
}

int sbcfg_cluster_parse(json_t *root, struct sbcfg_cluster *c, char *msg)
{
	json_t *o = json_object_get(root, "cluster"), *e;
	const char *why;
	int rc;

	memset(c, 0, sizeof(*c));
	snprintf(c->prefix, sizeof(c->prefix), "/stormboot/");
	c->timeout_ms = 1000;
	c->lease_ttl_s = 3;
	c->batch_max = 128; /* etcd's default --max-txn-ops */
	c->apply_wait_ms = 1000;
	if (!o)
		return 0;
	if (!json_is_object(o))
		return cfail(msg, "cluster: must be an object, not %s", sbcfg_json_type_name(o));
	if ((rc = unknown_keys(o, "cluster", cluster_keys, msg)) < 0)
		return rc;
	c->enabled = true;
	if (!json_object_get(o, "server_id"))
		return cfail(msg, "cluster.server_id: required (this server's name, unique in the "
				  "cluster)");
	if ((rc = str_field(o, "cluster", "server_id", c->server_id, sizeof(c->server_id), msg)) <
	    0)
		return rc;
	if ((why = id_problem(c->server_id)))
		return cfail(msg, "cluster.server_id: \"%s\" %s", c->server_id, why);
	if (!(e = json_object_get(o, "etcd")))
		return cfail(msg, "cluster.etcd: required (where etcd is: {\"endpoints\": [...]})");
	if ((rc = parse_etcd(e, c, msg)) < 0)
		return rc;
	if ((rc = uint_field(o, "cluster", "lease_ttl_s", TTL_MIN, TTL_MAX, &c->lease_ttl_s, msg)) <
		    0 ||
	    (rc = uint_field(o, "cluster", "commit_batch_max", 1, BATCH_MAX, &c->batch_max, msg)) <
		    0 ||
	    (rc = uint_field(o, "cluster", "apply_wait_ms", 0, APPLY_WAIT_MAX, &c->apply_wait_ms,
			     msg)) < 0)
		return rc;
	return 0;
}

int sbcfg_cluster_validate(const struct sbcfg *cfg, char *msg)
{
	const struct sbcfg_cluster *c = &cfg->cluster;
	size_t n = strlen(c->prefix);

	if (!c->enabled)
		return 0;
	if (n < 2 || c->prefix[0] != '/' || c->prefix[n - 1] != '/')
		return cfail(msg,
			     "cluster.etcd.prefix: \"%s\" must start and end with '/' (such "
			     "as \"/stormboot/\")",
			     c->prefix);
	if ((c->cert_file[0] != 0) != (c->key_file[0] != 0))
		return cfail(msg, "cluster.etcd.cert_file and key_file: give both or neither");
	if (c->password_file[0] && !c->user[0])
		return cfail(msg, "cluster.etcd.password_file: needs cluster.etcd.user");
	if (cfg->dhcp.durability != SBCFG_DURABLE_STRICT)
		return cfail(msg, "cluster: needs dhcp.durability \"strict\" (an ACK leaves only "
				  "once its lease is in etcd)");
	return 0;
}

json_t *sbcfg_cluster_json(const struct sbcfg_cluster *c, bool *failed)
{
	json_t *o, *e, *a;

	if (!c->enabled)
		return NULL;
	o = json_object();
	e = json_object();
	a = json_array();
	if (!o || !e || !a)
		goto oom;
	for (size_t i = 0; i < c->n_endpoints; i++)
		if (json_array_append_new(a, json_string(c->endpoints[i])) < 0)
			goto oom;
	if (json_object_set_new(o, "server_id", json_string(c->server_id)) < 0 ||
	    json_object_set_new(e, "endpoints", a) < 0)
		goto oom;
	a = NULL;
	json_object_set_new(e, "prefix", json_string(c->prefix));
	if (c->ca_file[0])
		json_object_set_new(e, "ca_file", json_string(c->ca_file));
	if (c->cert_file[0])
		json_object_set_new(e, "cert_file", json_string(c->cert_file));
	if (c->key_file[0])
		json_object_set_new(e, "key_file", json_string(c->key_file));
	if (c->user[0])
		json_object_set_new(e, "user", json_string(c->user));
	if (c->password_file[0])
		json_object_set_new(e, "password_file", json_string(c->password_file));
	json_object_set_new(e, "timeout_ms", json_integer(c->timeout_ms));
	if (json_object_set_new(o, "etcd", e) < 0) {
		e = NULL;
		goto oom;
	}
	e = NULL;
	json_object_set_new(o, "lease_ttl_s", json_integer(c->lease_ttl_s));
	json_object_set_new(o, "commit_batch_max", json_integer(c->batch_max));
	json_object_set_new(o, "apply_wait_ms", json_integer(c->apply_wait_ms));
	if (json_object_size(o) != 5)
		goto oom;
	return o;
oom:
	json_decref(a);
	json_decref(e);
	json_decref(o);
	*failed = true;
	return NULL;
}

bool sbcfg_cluster_equal(const struct sbcfg_cluster *a, const struct sbcfg_cluster *b)
{
	if (a->enabled != b->enabled)
		return false;
	if (!a->enabled)
		return true;
	if (a->n_endpoints != b->n_endpoints)
		return false;
	for (size_t i = 0; i < a->n_endpoints; i++)
		if (strcmp(a->endpoints[i], b->endpoints[i]) != 0)
			return false;
	return strcmp(a->server_id, b->server_id) == 0 && strcmp(a->prefix, b->prefix) == 0 &&
	       strcmp(a->ca_file, b->ca_file) == 0 && strcmp(a->cert_file, b->cert_file) == 0 &&
	       strcmp(a->key_file, b->key_file) == 0 && strcmp(a->user, b->user) == 0 &&
	       strcmp(a->password_file, b->password_file) == 0 && a->timeout_ms == b->timeout_ms &&
	       a->lease_ttl_s == b->lease_ttl_s && a->batch_max == b->batch_max &&
	       a->apply_wait_ms == b->apply_wait_ms;
}
