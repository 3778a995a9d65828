/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eal_args.h"
#include "engine.h"

#ifndef SB_XDP_OBJ_INSTALLED
#define SB_XDP_OBJ_INSTALLED "/usr/local/share/stormboot/stormboot_xdp.o"
#endif
#ifndef SB_XDP_OBJ_BUILD
#define SB_XDP_OBJ_BUILD ""
#endif
#ifndef SB_BUILD_ROOT
#define SB_BUILD_ROOT ""
#endif

void eng_usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL args] -- -c CONFIG [-i IFACE] [-x XDP_OBJ] [-l CPUS] [-b BUDGET]\n"
		"  -c CONFIG  JSON config file (docs/CONFIG.md)\n"
		"  -i IFACE   boot interface, overrides \"interface\" in the config\n"
		"  -x XDP_OBJ XDP object for net_af_xdp (default: %s, else the build tree's)\n"
		"  -l CPUS    CPU list for the lcores when stormboot builds the EAL args\n"
		"  -b BUDGET  net_af_xdp busy_budget (0 disables preferred busy polling)\n"
		"  -C SOCKET  stormboot-control's channel (e.g. /run/stormboot/dataplane.sock);\n"
		"             without it the dataplane runs standalone\n"
		"  -P         packet capture: dpdk-dumpcap --file-prefix=sb-IFACE -i 0 can attach\n"
		"             (multi-process EAL: hugepage files instead of --in-memory)\n"
		"  -I US|auto idle sleep: after %d empty polls in a row, sleep US microseconds\n"
		"             between polls until a frame comes (0: always busy poll; adds up to\n"
		"             US to a reply). auto, the default: busy poll on an isolated CPU\n"
		"             (isolcpus), sleep %u us on a CPU shared with other tasks\n"
		"  -H NS      replies staged for NS nanoseconds go out inside an rx burst\n"
		"             (default %d; 0: one tx burst per rx burst, after its last frame)\n"
		"  -v         debug log of the 'stormboot' type: every DHCP exchange and TFTP\n"
		"             session start and end (what --log-level=stormboot:debug does when\n"
		"             the EAL args are given)\n"
		"Without EAL args stormboot builds them: net_af_xdp on IFACE, --in-memory,\n"
		"--file-prefix sb-IFACE (telemetry: dpdk-telemetry.py -f sb-IFACE).\n"
		"A config with \"dpdk_port\" serves that device instead: e.g.\n"
		"\"net_memif0,role=server,socket=/run/stormboot/memif.sock\" (the engine alone,\n"
		"no kernel, no XDP program: it answers ARP itself; docs/DATAPLANE.md).\n",
		prog, SB_XDP_OBJ_INSTALLED, ENG_IDLE_POLLS, ENG_IDLE_AUTO_US, ENG_TX_HOLD_NS);
}

bool eng_cpulist_has(const char *list, unsigned cpu)
{
	const char *p = list;

	while (*p != '\0' && *p != '\n') {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi = lo;

		if (end == p || !isdigit((unsigned char)*p))
			return false;
		p = end;
		if (*p == '-') {
			if (!isdigit((unsigned char)p[1]))
				return false;
			hi = strtoul(p + 1, &end, 10);
			p = end;
		}
		if (hi < lo || (*p != ',' && *p != '\0' && *p != '\n'))
			return false;
		if (cpu >= lo && cpu <= hi)
			return true;
		if (*p == ',')
			p++;
	}
	return false;
}

unsigned eng_idle_us_for(unsigned opt_idle_us, const char *isolated_list, unsigned cpu)
{
	if (opt_idle_us != ENG_IDLE_AUTO)
		return opt_idle_us;
	return isolated_list != NULL && eng_cpulist_has(isolated_list, cpu) ? 0 : ENG_IDLE_AUTO_US;
}

int eng_opts_parse(struct eng_opts *o, int argc, char **argv)
{
	int sep = -1, app_argc, c;
	char **app_argv;

	memset(o, 0, sizeof(*o));
	o->busy_budget = -1;
	o->idle_us = ENG_IDLE_AUTO;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			sep = i;
			break;
		}
	}
	if (sep > 1) {
		if (sep > ENG_EAL_ARGS_MAX) {
			fprintf(stderr, "too many EAL arguments (max %d)\n", ENG_EAL_ARGS_MAX);
			return -EINVAL;
		}
		for (int i = 0; i < sep; i++)
			o->eal_argv[i] = argv[i];
		o->eal_argc = sep;
		o->eal_given = true;
	}
	/* getopt wants argv[0] in front of the options it parses. */
	app_argv = sep >= 0 ? argv + sep : argv;
	app_argc = sep >= 0 ? argc - sep : argc;
	optind = 1;
	while ((c = getopt(app_argc, app_argv, "c:i:x:l:b:C:PI:H:vh")) != -1) {
		switch (c) {
		case 'c':
			o->config_path = optarg;
			break;
		case 'i':
			o->iface = optarg;
			break;
		case 'x':
			o->xdp_prog = optarg;
			break;
		case 'l':
			o->cpus = optarg;
			break;
		case 'b':
			o->busy_budget = atoi(optarg);
			break;
		case 'C':
			o->ctl_path = optarg;
			break;
		case 'P':
			o->capture = true;
			break;
		case 'I': {
			char *end;
			unsigned long v;
			if (strcmp(optarg, "auto") == 0) {
				o->idle_us = ENG_IDLE_AUTO;
				break;
			}
			v = strtoul(optarg, &end, 10);
			if (*end || end == optarg || v > 100000) {
				fprintf(stderr, "-I: \"%s\" is not \"auto\" or 0..100000 microseconds\n",
					optarg);
				return -EINVAL;
			}
			o->idle_us = (unsigned)v;
			break;
		}
		case 'v':
			o->verbose = true;
			break;
		case 'H': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || end == optarg || v > 1000000) {
				fprintf(stderr, "-H: \"%s\" is not 0..1000000 nanoseconds\n",
					optarg);
				return -EINVAL;
			}
			o->tx_hold_ns = (unsigned)v;
			o->tx_hold_set = true;
			break;
		}
		case 'h':
			eng_usage(argv[0]);
			return 1;
		default:
			eng_usage(argv[0]);
			return -EINVAL;
		}
	}
	if (optind < app_argc) {
		fprintf(stderr, "unexpected argument \"%s\" (EAL args go before \"--\")\n",
			app_argv[optind]);
		eng_usage(argv[0]);
		return -EINVAL;
	}
	if (o->config_path == NULL) {
		fprintf(stderr, "missing -c CONFIG\n");
		eng_usage(argv[0]);
		return -EINVAL;
	}
	return 0;
}

static bool running_from_build_tree(void)
{
	char exe[SBCFG_PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0 || SB_BUILD_ROOT[0] == '\0')
		return false;
	exe[n] = '\0';
	return strncmp(exe, SB_BUILD_ROOT "/", strlen(SB_BUILD_ROOT) + 1) == 0;
}

const char *eng_xdp_prog_path(const struct eng_opts *o, const struct sbcfg *cfg)
{
	if (o->xdp_prog)
		return o->xdp_prog;
	if (cfg->xdp_prog[0])
		return cfg->xdp_prog;
	/* Run from the build tree: the object built beside us, else the installed one. */
	if (SB_XDP_OBJ_BUILD[0] != '\0' && running_from_build_tree() &&
	    access(SB_XDP_OBJ_BUILD, R_OK) == 0)
		return SB_XDP_OBJ_BUILD;
	return SB_XDP_OBJ_INSTALLED;
}

/* Append an argument to o's storage. */
static int add_arg(struct eng_opts *o, size_t *used, const char *arg)
{
	int n;

	if (o->eal_argc >= ENG_EAL_ARGS_MAX)
		return -E2BIG;
	n = snprintf(o->buf + *used, sizeof(o->buf) - *used, "%s", arg);
	if (n < 0 || (size_t)n >= sizeof(o->buf) - *used)
		return -E2BIG;
	o->eal_argv[o->eal_argc++] = o->buf + *used;
	*used += (size_t)n + 1;
	return 0;
}

/* The first n CPUs this process may run on, as an EAL -l list. */
static int cpus_from_affinity(unsigned int n, char *out, size_t cap)
{
	cpu_set_t set;
	size_t len = 0;
	unsigned int found = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return -errno;
	out[0] = '\0';
	for (int cpu = 0; cpu < CPU_SETSIZE && found < n; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		len += (size_t)snprintf(out + len, cap - len, "%s%d", found ? "," : "", cpu);
		if (len >= cap)
			return -E2BIG;
		found++;
	}
	return found == n ? 0 : -ERANGE;
}

bool eng_port_is_memif(const char *dpdk_port)
{
	return strncmp(dpdk_port, "net_memif", 9) == 0;
}

const char *eng_file_prefix(const struct sbcfg *cfg, char *out, size_t cap)
{
	const char *src = cfg->dpdk_port[0] ? cfg->dpdk_port : cfg->interface;
	size_t n = (size_t)snprintf(out, cap, "--file-prefix=sb-");

	/* The device name up to its first devargs comma; anything odd becomes '_'. */
	for (; *src && *src != ',' && n + 1 < cap && n < 64; src++)
		out[n++] =
			(isalnum((unsigned char)*src) || *src == '-' || *src == '.') ? *src : '_';
	out[n] = '\0';
	return out;
}

int eng_eal_args_build(struct eng_opts *o, const struct sbcfg *cfg, const char *argv0, char *err,
		       size_t errlen)
{
	char cpus[256], tmp[SBCFG_PATH_MAX + 256], budget[32] = "";
	size_t used = 0;
	int rc = 0;
	unsigned int queues = cfg->queues ? cfg->queues : 1;

	if (o->eal_given)
		return 0;
	if (o->cpus) {
		snprintf(cpus, sizeof(cpus), "%s", o->cpus);
	} else if (cpus_from_affinity(queues, cpus, sizeof(cpus)) < 0) {
		snprintf(err, errlen, "queues: %u lcores wanted, the process may run on fewer CPUs",
			 queues);
		return -EINVAL;
	}
	if (cfg->dpdk_port[0] == '\0' && cfg->interface[0] == '\0') {
		snprintf(err, errlen, "interface: no boot interface (set it in the config or -i)");
		return -EINVAL;
	}
	o->eal_argc = 0;
	rc |= add_arg(o, &used, argv0);
	rc |= add_arg(o, &used, "-l");
	rc |= add_arg(o, &used, cpus);
	/*
	 * net_memif registers a multi-process action at probe, which --in-memory refuses
	 * ("Failed to register mp action callback"): its runtime files go under the file
	 * prefix instead (/var/run/dpdk/sb-net_memif0/), and its hugepage files are unlinked
	 * once mapped (--huge-unlink), so a killed process leaves none behind. With -P
	 * (capture) a DPDK secondary process must map the primary's files: neither option.
	 */
	if (!o->capture)
		rc |= add_arg(o, &used,
			      eng_port_is_memif(cfg->dpdk_port) ? "--huge-unlink" : "--in-memory");
	rc |= add_arg(o, &used, eng_file_prefix(cfg, tmp, sizeof(tmp)));
	if (cfg->dpdk_port[0] == '\0') {
		if (o->busy_budget >= 0)
			snprintf(budget, sizeof(budget), ",busy_budget=%d", o->busy_budget);
		rc |= add_arg(o, &used, "--no-pci");
		rc |= add_arg(o, &used, "--vdev");
		if (snprintf(tmp, sizeof(tmp),
			     "net_af_xdp0,iface=%s,start_queue=0,queue_count=%u,xdp_prog=%s%s",
			     cfg->interface, queues, eng_xdp_prog_path(o, cfg),
			     budget) >= (int)sizeof(tmp))
			rc = -E2BIG;
		rc |= add_arg(o, &used, tmp);
	} else if (strncmp(cfg->dpdk_port, "net_", 4) == 0) {
		rc |= add_arg(o, &used, "--no-pci");
		rc |= add_arg(o, &used, "--vdev");
		rc |= add_arg(o, &used, cfg->dpdk_port);
	} else {
		rc |= add_arg(o, &used, "-a");
		rc |= add_arg(o, &used, cfg->dpdk_port);
	}
	if (rc) {
		snprintf(err, errlen, "EAL arguments too long");
		return -E2BIG;
	}
	o->eal_argv[o->eal_argc] = NULL;
	return 0;
}
