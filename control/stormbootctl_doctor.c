/* SPDX-License-Identifier: BSD-3-Clause */
/* stormbootctl_doctor.c - `stormbootctl doctor` (see stormbootctl_doctor.h). */
#include "stormbootctl_doctor.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

enum verdict { V_OK, V_WARN, V_FAIL };

struct doctor {
	FILE *f;
	doctor_ask_fn *ask;
	void *ctx;
	const char *proc, *sys;
	int fails, warns;
	json_t *cfg;		  /* config-get */
	json_t *status;		  /* status */
	json_t *stats;		  /* stats (the second sample) */
	long long foreign_before; /* pass_dhcp_server_reply in the first sample */
};

static void say(struct doctor *d, enum verdict v, const char *check, const char *hint,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void say(struct doctor *d, enum verdict v, const char *check, const char *hint,
		const char *fmt, ...)
{
	static const char *const tag[] = {"ok", "warn", "FAIL"};
	va_list ap;

	fprintf(d->f, "%-5s %-14s ", tag[v], check);
	va_start(ap, fmt);
	vfprintf(d->f, fmt, ap);
	va_end(ap);
	fprintf(d->f, "\n");
	if (v != V_OK && hint)
		fprintf(d->f, "      %-14s hint: %s\n", "", hint);
	d->fails += v == V_FAIL;
	d->warns += v == V_WARN;
}

static json_t *args_of(json_t *reply)
{
	return json_object_get(reply, "arguments");
}

static long long jint_at(json_t *o, const char *path)
{
	char buf[256], *save = NULL, *k;

	snprintf(buf, sizeof(buf), "%s", path);
	for (k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		o = json_object_get(o, k);
	return json_integer_value(o);
}

static const char *jstr_at(json_t *o, const char *path)
{
	char buf[256], *save = NULL, *k;

	snprintf(buf, sizeof(buf), "%s", path);
	for (k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		o = json_object_get(o, k);
	return json_string_value(o);
}

/* ---- config ---- */

static void check_config(struct doctor *d)
{
	const char *path = jstr_at(d->status, "arguments.config.path");
	json_t *r;

	if (!path) {
		say(d, V_FAIL, "config", NULL, "status names no config file");
		return;
	}
	r = d->ask(d->ctx, "config-test", json_pack("{s:s}", "path", path));
	if (r && json_integer_value(json_object_get(r, "result")) == 0)
		say(d, V_OK, "config", NULL, "%s is valid (running generation %lld)", path,
		    jint_at(d->status, "arguments.config.generation"));
	else
		say(d, V_FAIL, "config",
		    "fix the field the message names, then: stormbootctl config-reload", "%s: %s",
		    path, r ? json_string_value(json_object_get(r, "text")) : "no answer");
	json_decref(r);
}

/* ---- images and boot files ---- */

static int sha256_file(const char *path, char hex[65])
{
	unsigned char md[32], buf[1 << 16];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int mdlen = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0 || !c) {
		err = fd < 0 ? -errno : -ENOMEM;
		goto out;
	}
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(c, buf, (size_t)n);
	if (n < 0)
		err = -errno;
	EVP_DigestFinal_ex(c, md, &mdlen);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(c);
	return err;
}

static uint64_t check_images(struct doctor *d, json_t *images)
{
	json_t *r = d->ask(d->ctx, "image-list", NULL), *im;
	size_t i, bad = 0;
	uint64_t bytes = 0;
	char hex[65], hint[400];

	if (!r) {
		say(d, V_FAIL, "images", NULL, "image-list did not answer");
		return 0;
	}
	json_array_foreach(json_object_get(args_of(r), "images"), i, im)
	{
		const char *name = jstr_at(im, "name"), *path = jstr_at(im, "path"),
			   *sha = jstr_at(im, "sha256"), *err = jstr_at(im, "error");
		struct stat st;
		int rc;

		json_array_append(images, im);
		snprintf(hint, sizeof(hint),
			 "put the file back at %s, or remove the image: stormbootctl image-del %s",
			 path ? path : "?", name ? name : "?");
		if (err) {
			say(d, V_FAIL, "images", hint, "%s: %s: %s", name, path, err);
			bad++;
			continue;
		}
		if (stat(path, &st) < 0) {
			say(d, V_FAIL, "images", hint, "%s: %s: %s", name, path, strerror(errno));
			bad++;
			continue;
		}
		bytes += (uint64_t)st.st_size;
		rc = sha256_file(path, hex);
		if (rc < 0) {
			say(d, V_FAIL, "images", hint, "%s: %s: %s", name, path, strerror(-rc));
			bad++;
		} else if (sha && strcmp(sha, hex) != 0) {
			snprintf(hint, sizeof(hint),
				 "the file changed after it was read: stormbootctl config-reload "
				 "(the dataplane still serves the bytes it read)");
			say(d, V_FAIL, "images", hint, "%s: %s has SHA-256 %s, registered %s", name,
			    path, hex, sha);
			bad++;
		}
	}
	if (!bad)
		say(d, V_OK, "images", NULL, "%zu image(s) present and matching their SHA-256",
		    json_array_size(json_object_get(args_of(r), "images")));
	json_decref(r);
	return bytes;
}

static bool image_known(json_t *images, const char *name)
{
	json_t *im;
	size_t i;

	while (*name == '/')
		name++;
	json_array_foreach(images, i, im)
	{
		const char *n = jstr_at(im, "name");
		if (n && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

static void check_boot_files(struct doctor *d, json_t *images)
{
	json_t *boot = json_object_get(json_object_get(d->cfg, "dhcp"), "boot"), *v, *r;
	const char *k;
	size_t i, n = 0, bad = 0;
	char what[160];

	json_object_foreach(boot, k, v)
	{
		const char *file = json_string_value(v);

		if (!file || !file[0] || strstr(file, "://"))
			continue;
		n++;
		if (!image_known(images, file)) {
			snprintf(what, sizeof(what),
				 "add it: stormbootctl image-add %s /PATH, or change dhcp.boot.%s",
				 file, k);
			say(d, V_FAIL, "boot files", what,
			    "dhcp.boot.%s \"%s\" is not an image: clients get TFTP ERROR 1", k,
			    file);
			bad++;
		}
	}
	json_array_foreach(json_object_get(json_object_get(d->cfg, "dhcp"), "reservations"), i, r)
	{
		const char *file = jstr_at(r, "bootfile");

		if (!file || !file[0] || strstr(file, "://"))
			continue;
		n++;
		if (!image_known(images, file)) {
			say(d, V_FAIL, "boot files", "add the image or fix the reservation",
			    "reservation %s: bootfile \"%s\" is not an image", jstr_at(r, "mac"),
			    file);
			bad++;
		}
	}
	if (!bad)
		say(d, V_OK, "boot files", NULL, "%zu boot file(s) named in the config, all images",
		    n);
}

/* ---- pools ---- */

static void check_pools(struct doctor *d)
{
	long long total = jint_at(d->status, "arguments.leases.total"),
		  free_ = jint_at(d->status, "arguments.leases.free");
	long long used = total - free_;
	int pct = total ? (int)(used * 100 / total) : 0;
	const char *hint = "widen dhcp.subnets[].pool, shorten lease_time, or release leases "
			   "(stormbootctl lease-release)";

	if (total == 0)
		say(d, V_OK, "pools", NULL, "no pool (proxy mode or no subnet)");
	else if (free_ <= 0)
		say(d, V_FAIL, "pools", hint,
		    "every address taken (%lld of %lld): new clients get no offer", used, total);
	else if (pct >= 90)
		say(d, V_WARN, "pools", hint,
		    "%d %% of the addresses taken (%lld of %lld, %lld free)", pct, used, total,
		    free_);
	else
		say(d, V_OK, "pools", NULL, "%lld of %lld addresses free (%d %% taken)", free_,
		    total, pct);
}

/* ---- dataplane, XDP, traffic ---- */

static json_t *stats_of(json_t *r)
{
	return json_object_get(args_of(r), "dataplane");
}

static long long xdp_sum(json_t *r)
{
	json_t *x = json_object_get(args_of(r), "xdp"), *v;
	const char *k;
	long long s = 0;

	json_object_foreach(x, k, v) s += json_integer_value(v);
	return s;
}

static void check_dataplane(struct doctor *d)
{
	const char *iface = json_string_value(json_object_get(d->cfg, "interface"));
	const char *dpdk_port = json_string_value(json_object_get(d->cfg, "dpdk_port"));
	json_t *a, *b;
	char cmd[160], line[8192];
	FILE *p;
	size_t n;

	if (!json_is_true(
		    json_object_get(json_object_get(args_of(d->status), "dataplane"), "connected")))
		say(d, V_FAIL, "dataplane",
		    "start stormboot-dataplane with -C pointing at control's dataplane socket",
		    "not connected to control: nobody answers DHCP or TFTP");
	else
		say(d, V_OK, "dataplane", NULL, "connected (pid %lld)",
		    jint_at(d->status, "arguments.dataplane.pid"));
	if (dpdk_port && dpdk_port[0]) {
		say(d, V_OK, "xdp", NULL, "dpdk_port \"%s\": no XDP program (not net_af_xdp)",
		    dpdk_port);
	} else if (iface) {
		json_t *all, *l, *prog;
		const char *name = NULL;

		snprintf(cmd, sizeof(cmd), "ip -j -d link show dev '%s' 2>/dev/null", iface);
		p = popen(cmd, "r");
		n = p ? fread(line, 1, sizeof(line) - 1, p) : 0;
		if (p)
			pclose(p);
		line[n] = '\0';
		all = json_loads(line, 0, NULL);
		l = json_array_get(all, 0);
		prog = json_object_get(json_object_get(l, "xdp"), "prog");
		name = json_string_value(json_object_get(prog, "name"));
		if (!l)
			say(d, V_FAIL, "xdp", "run doctor in the namespace of the boot interface",
			    "interface %s not found here", iface);
		else if (!prog)
			say(d, V_FAIL, "xdp",
			    "the dataplane attaches it at start (net_af_xdp, xdp_prog=): restart "
			    "it",
			    "no XDP program attached to %s: DHCP and TFTP go to the kernel", iface);
		else if (name && strcmp(name, "sb_xdp_steer") != 0)
			say(d, V_FAIL, "xdp",
			    "detach it (ip link set dev IFACE xdp off) and restart "
			    "the dataplane",
			    "%s runs XDP program \"%s\" (id %lld), not stormboot's sb_xdp_steer",
			    iface, name,
			    (long long)json_integer_value(json_object_get(prog, "id")));
		else
			say(d, V_OK, "xdp", NULL, "sb_xdp_steer (id %lld) attached to %s",
			    (long long)json_integer_value(json_object_get(prog, "id")), iface);
		json_decref(all);
	}
	a = d->ask(d->ctx, "stats", NULL);
	sleep(1);
	b = d->ask(d->ctx, "stats", NULL);
	if (!a || !b || !stats_of(b)) {
		say(d, V_WARN, "traffic", "is the dataplane connected?", "no dataplane counters");
	} else {
		long long rx = jint_at(stats_of(b), "rx_pkts") - jint_at(stats_of(a), "rx_pkts");
		long long xv = xdp_sum(b) - xdp_sum(a);
		long long lost = jint_at(stats_of(b), "timeline_events_lost");

		if (rx > 0 || xv > 0)
			say(d, V_OK, "traffic", NULL,
			    "counters moving: %lld frame(s) to the dataplane, %lld XDP verdict(s) "
			    "in "
			    "1 s",
			    rx, xv);
		else
			say(d, V_WARN, "traffic",
			    "an idle segment is fine; if clients are booting, check the cabling, "
			    "VLANs and the guard (stormbootctl guard-show)",
			    "no frame in 1 s (dataplane rx and XDP verdicts unchanged)");
		if (lost > 0)
			say(d, V_WARN, "timeline",
			    "steps were dropped at a full ring: control "
			    "too slow or away",
			    "%lld boot step(s) lost", lost);
	}
	d->foreign_before = jint_at(args_of(a), "xdp.pass_dhcp_server_reply");
	json_decref(a);
	d->stats = b;
}

/* ---- another server on this host: UDP 67/69/4011 sockets in /proc/net/udp ---- */

static void owner_of(const struct doctor *d, unsigned long inode, char *out, size_t cap)
{
	char path[PATH_MAX], link[64], want[64], comm[64] = "?";
	DIR *pd = opendir(d->proc), *fd;
	struct dirent *e, *g;

	snprintf(out, cap, "inode %lu", inode);
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	while (pd && (e = readdir(pd))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/%s/fd", d->proc, e->d_name);
		if (!(fd = opendir(path)))
			continue;
		while ((g = readdir(fd))) {
			ssize_t n;

			snprintf(path, sizeof(path), "%s/%s/fd/%s", d->proc, e->d_name, g->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, want) != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s/comm", d->proc, e->d_name);
			FILE *c = fopen(path, "r");
			if (c && fgets(comm, sizeof(comm), c))
				comm[strcspn(comm, "\n")] = '\0';
			if (c)
				fclose(c);
			snprintf(out, cap, "%s (pid %s)", comm, e->d_name);
			closedir(fd);
			closedir(pd);
			return;
		}
		closedir(fd);
	}
	if (pd)
		closedir(pd);
}

static void check_other_servers(struct doctor *d)
{
	static const char *const files[] = {"net/udp", "net/udp6"};
	char path[PATH_MAX], line[512], who[400];
	int found = 0;

	for (size_t k = 0; k < 2; k++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", d->proc, files[k]);
		if (!(f = fopen(path, "r")))
			continue;
		while (fgets(line, sizeof(line), f)) {
			char local[64];
			unsigned port;
			unsigned long inode;
			char *colon;

			/* sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode */
			if (sscanf(line, " %*u: %63s %*s %*x %*s %*s %*s %*u %*u %lu", local,
				   &inode) != 2)
				continue;
			colon = strrchr(local, ':');
			if (!colon || sscanf(colon + 1, "%x", &port) != 1)
				continue;
			if (port != 67 && port != 69 && port != 4011)
				continue;
			owner_of(d, inode, who, sizeof(who));
			say(d, V_FAIL, "other servers",
			    "stop it, or keep it off the boot interface: it answers whatever "
			    "reaches the kernel (and everything if the dataplane stops)",
			    "%s holds UDP %u (%s) on this host", who, port,
			    port == 67	 ? "DHCP"
			    : port == 69 ? "TFTP"
					 : "PXE");
			found++;
		}
		fclose(f);
	}
	/* replies of DHCP servers elsewhere on the segment, counted by the XDP program */
	json_t *xdp = json_object_get(args_of(d->stats), "xdp");
	json_t *seen = json_object_get(xdp, "pass_dhcp_server_reply");
	if (seen && json_integer_value(seen) > 0) {
		long long now = json_integer_value(seen), recent = now - d->foreign_before;

		say(d, recent > 0 ? V_FAIL : V_WARN, "other servers",
		    "find it: tcpdump -eni IFACE udp src port 67 and udp dst port 68 (its MAC and "
		    "address); a relay's replies count too",
		    "%lld DHCP reply(ies) of another server (or relay) received on the boot "
		    "interface, %lld in the last second (XDP pass_dhcp_server_reply, since the "
		    "program was loaded)",
		    now, recent);
		found++;
	}
	if (!found)
		say(d, V_OK, "other servers", NULL,
		    "no DHCP/TFTP socket (UDP 67, 69, 4011) on this host, no DHCP reply from "
		    "another server seen%s",
		    xdp && json_is_object(xdp) ? "" : " (XDP counters unavailable)");
}

/* ---- MTU, hugepages ---- */

static void check_mtu(struct doctor *d)
{
	const char *iface = json_string_value(json_object_get(d->cfg, "interface"));
	json_t *t = json_object_get(d->cfg, "tftp");
	long long blk = json_integer_value(json_object_get(t, "blksize_max")),
		  cmtu = json_integer_value(json_object_get(t, "mtu")), imtu = 0;
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/class/net/%s/mtu", d->sys, iface ? iface : "-");
	f = fopen(path, "r");
	if (!f || fscanf(f, "%lld", &imtu) != 1) {
		say(d, V_WARN, "mtu", "run doctor in the namespace of the boot interface",
		    "MTU of %s unknown (%s)", iface ? iface : "-", path);
	} else if (cmtu > imtu) {
		char hint[160];
		snprintf(hint, sizeof(hint),
			 "set tftp.mtu to %lld (blocks are clamped to mtu - 32)", imtu);
		say(d, V_FAIL, "mtu", hint,
		    "tftp.mtu %lld is above %s's MTU %lld: blocks of up to %lld bytes do not fit "
		    "a frame (the transfer stalls at the first DATA)",
		    cmtu, iface, imtu, blk < cmtu - 32 ? blk : cmtu - 32);
	} else {
		say(d, V_OK, "mtu", NULL, "%s MTU %lld, largest block %lld + 32 bytes of headers",
		    iface, imtu, blk < cmtu - 32 ? blk : cmtu - 32);
	}
	if (f)
		fclose(f);
}

static void check_hugepages(struct doctor *d, uint64_t image_bytes)
{
	char path[PATH_MAX], line[256];
	long long total = 0, freep = 0, size_kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/meminfo", d->proc);
	if (!(f = fopen(path, "r"))) {
		say(d, V_WARN, "hugepages", NULL, "%s unreadable", path);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "HugePages_Total: %lld", &total);
		sscanf(line, "HugePages_Free: %lld", &freep);
		sscanf(line, "Hugepagesize: %lld kB", &size_kb);
	}
	fclose(f);
	uint64_t bytes = (uint64_t)total * (uint64_t)size_kb * 1024;
	/* images, plus the mempool and rings (about 64 MiB with one queue) */
	uint64_t need = image_bytes + (64ull << 20);

	if (total == 0)
		say(d, V_FAIL, "hugepages", "reserve them: echo N > /proc/sys/vm/nr_hugepages",
		    "no hugepages reserved: the dataplane cannot start");
	else if (bytes < need)
		say(d, V_FAIL, "hugepages", "reserve more: /proc/sys/vm/nr_hugepages",
		    "%llu MiB of hugepages for %llu MiB of images (+64 MiB of buffers)",
		    (unsigned long long)(bytes >> 20), (unsigned long long)(image_bytes >> 20));
	else
		say(d, V_OK, "hugepages", NULL,
		    "%lld x %lld KiB reserved (%lld free), images %llu MiB", total, size_kb, freep,
		    (unsigned long long)(image_bytes >> 20));
}

/* ---- clients ---- */

static void list_clients(struct doctor *d, const char *state, enum verdict v, const char *hint)
{
	json_t *r = d->ask(
		       d->ctx, "clients",
		       json_pack("{s:s, s:s, s:i}", "state", state, "sort", "last", "limit", 5)),
	       *c;
	size_t i;

	if (!r)
		return;
	long long n = jint_at(r, "arguments.matching");
	if (n > 0) {
		say(d, v, "clients", hint, "%lld client(s) %s; latest:", n, state);
		json_array_foreach(json_object_get(args_of(r), "clients"), i, c)
			fprintf(d->f, "      %-14s %s %s: %s %s\n", "", jstr_at(c, "mac"),
				jstr_at(c, "ip") ? jstr_at(c, "ip") : "-", jstr_at(c, "last_step"),
				jstr_at(c, "last_detail"));
	}
	json_decref(r);
}

static void check_clients(struct doctor *d)
{
	json_t *r = d->ask(d->ctx, "clients", json_pack("{s:i}", "limit", 0));
	json_t *c = json_object_get(args_of(r), "counts");

	if (!r || !c) {
		say(d, V_WARN, "clients", NULL, "no client view");
		json_decref(r);
		return;
	}
	long long failed = jint_at(c, "failed"), stuck = jint_at(c, "stuck");
	if (!failed && !stuck)
		say(d, V_OK, "clients", NULL,
		    "%lld seen: booting %lld, done %lld, none stuck or failed",
		    jint_at(args_of(r), "total"), jint_at(c, "booting"), jint_at(c, "done"));
	list_clients(d, "failed", V_FAIL, "stormbootctl trace MAC shows each step and the error");
	list_clients(d, "stuck", V_WARN,
		     "stormbootctl trace MAC: many RRQs ending in timeouts point at blksize/MTU or "
		     "loss on the path");
	json_decref(r);
}

int stormbootctl_doctor(FILE *f, doctor_ask_fn *ask, void *ctx, const char *proc_root,
			const char *sys_root)
{
	struct doctor d = {.f = f, .ask = ask, .ctx = ctx, .proc = proc_root, .sys = sys_root};
	json_t *cfg = ask(ctx, "config-get", NULL), *images = json_array();
	uint64_t bytes;

	d.status = ask(ctx, "status", NULL);
	d.cfg = args_of(cfg);
	if (!d.status || !d.cfg) {
		fprintf(f, "FAIL  control        no answer to status/config-get\n");
		json_decref(cfg);
		json_decref(d.status);
		json_decref(images);
		return 1;
	}
	check_config(&d);
	bytes = check_images(&d, images);
	check_boot_files(&d, images);
	check_pools(&d);
	check_dataplane(&d);
	check_other_servers(&d);
	check_mtu(&d);
	check_hugepages(&d, bytes);
	check_clients(&d);
	fprintf(f, "%d check(s) failed, %d warning(s)\n", d.fails, d.warns);
	json_decref(cfg);
	json_decref(d.status);
	json_decref(d.stats);
	json_decref(images);
	return d.fails ? 1 : 0;
}
