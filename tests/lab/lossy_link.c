/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lossy-link - make a lab link lossy for a while (tests only; this kernel has no netem).
 *
 *   lossy-link OBJ IFACE DROP_PCT DUP_PCT SECONDS [egress|ingress]
 *
 * Attaches lossy_link.bpf.o to IFACE's clsact egress and ingress hooks (tc direct-action):
 * IPv4/UDP frames both ways are dropped with DROP_PCT % probability and duplicated with
 * DUP_PCT %. Stays until SECONDS pass or SIGTERM/SIGINT, then detaches (the clsact qdisc is
 * removed) and prints "egress seen N dropped N duplicated N" and the same for ingress.
 * With egress (or ingress) only the frames IFACE sends (receives) are touched: a one-way fault.
 * Run it in the namespace of IFACE. Exit 0, or 1 with a message naming what failed.
 */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lossy_link.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static __u32 prob(const char *pct)
{
	double p = strtod(pct, NULL) / 100.0;

	if (p <= 0)
		return 0;
	if (p >= 1)
		return UINT32_MAX;
	return (__u32)(p * 4294967296.0);
}

static void print_counters(int fd, unsigned int ncpu)
{
	static const char *const dir[LOSSY_DIRS] = {"egress", "ingress"};

	struct lossy_cnt *v = calloc(ncpu, sizeof(*v));

	for (__u32 d = 0; v && d < LOSSY_DIRS; d++) {
		struct lossy_cnt t = {0};

		if (bpf_map_lookup_elem(fd, &d, v) < 0)
			continue;
		for (unsigned int c = 0; c < ncpu; c++) {
			t.seen += v[c].seen;
			t.dropped += v[c].dropped;
			t.duplicated += v[c].duplicated;
		}
		printf("%s seen %llu dropped %llu duplicated %llu\n", dir[d],
		       (unsigned long long)t.seen, (unsigned long long)t.dropped,
		       (unsigned long long)t.duplicated);
	}
	free(v);
}

int main(int argc, char **argv)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, eg);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, in);
	struct bpf_object *obj;
	struct lossy_cfg cfg;
	unsigned int ncpu;
	const struct lossy_cfg none = {0};
	const char *ways = argc == 7 ? argv[6] : "both";
	time_t end;
	int cfd, nfd, rc;

	if ((argc != 6 && argc != 7) ||
	    (argc == 7 && strcmp(ways, "egress") != 0 && strcmp(ways, "ingress") != 0)) {
		fprintf(stderr, "usage: lossy-link OBJ IFACE DROP_PCT DUP_PCT SECONDS [egress|ingress]\n");
		return 2;
	}
	hook.ifindex = (int)if_nametoindex(argv[2]);
	if (hook.ifindex == 0) {
		fprintf(stderr, "lossy-link: no interface %s here\n", argv[2]);
		return 1;
	}
	cfg.drop = prob(argv[3]);
	cfg.dup = prob(argv[4]);
	end = time(NULL) + atol(argv[5]);
	obj = bpf_object__open_file(argv[1], NULL);
	if (obj == NULL || bpf_object__load(obj) < 0) {
		fprintf(stderr, "lossy-link: loading %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	cfd = bpf_object__find_map_fd_by_name(obj, "lossy_cfg");
	nfd = bpf_object__find_map_fd_by_name(obj, "lossy_cnt");
	for (__u32 d = 0; d < LOSSY_DIRS; d++)
		if (bpf_map_update_elem(cfd, &d,
					strcmp(ways, "both") == 0 ||
						(d == LOSSY_EGRESS) == (strcmp(ways, "egress") == 0)
					    ? &cfg
					    : &none,
					BPF_ANY) < 0) {
			fprintf(stderr, "lossy-link: settings map: %s\n", strerror(errno));
			return 1;
		}
	eg.prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "lossy_egress"));
	in.prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "lossy_ingress"));
	rc = bpf_tc_hook_create(&hook);
	if (rc < 0 && rc != -EEXIST) {
		fprintf(stderr, "lossy-link: clsact on %s: %s\n", argv[2], strerror(-rc));
		return 1;
	}
	hook.attach_point = BPF_TC_EGRESS;
	rc = bpf_tc_attach(&hook, &eg);
	hook.attach_point = BPF_TC_INGRESS;
	if (rc == 0)
		rc = bpf_tc_attach(&hook, &in);
	if (rc < 0) {
		fprintf(stderr, "lossy-link: attach on %s: %s\n", argv[2], strerror(-rc));
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("lossy-link: %s drop %s%% dup %s%% %s for at most %s s\n", argv[2], argv[3],
	       argv[4], strcmp(ways, "both") == 0 ? "both ways" : ways, argv[5]);
	fflush(stdout);
	while (!stop && time(NULL) < end)
		usleep(100000);
	ncpu = (unsigned int)libbpf_num_possible_cpus();
	print_counters(nfd, ncpu);
	hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	bpf_tc_hook_destroy(&hook); /* removes clsact with both filters */
	bpf_object__close(obj);
	return 0;
}
