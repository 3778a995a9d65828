/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storm_files.h"
#include "storm_opts.h"

void storm_usage(FILE *out)
{
	fprintf(out,
		"usage: stormboot-storm EAL-ARGS -- [options]\n"
		"  e.g. stormboot-storm -l 0 --in-memory --no-pci --vdev net_af_xdp0,iface=IF -- "
		"\\\n"
		"         --vms 1000 --file loader.efi=PATH --file image.bin=PATH --image "
		"image.bin\n"
		"\n"
		"VMs:\n"
		"  --vms N               VMs to boot, 1..%d (default 100); VM i has MAC "
		"02:57:<i+1>\n"
		"  --ovmf-ratio R        share of OVMF-like VMs, the rest iPXE-like (default 0.5)\n"
		"  --ramp-ms MS          power-on times spread over MS (default 0: all at once)\n"
		"  --seed N              random numbers (xids, ports, jitter; default 1)\n"
		"  --random-macs         MACs 02:57:xx:xx:xx:xx spread by a bijection of i + 1, not\n"
		"                        in sequence (servers that hash the MAC, e.g. dnsmasq)\n"
		"DHCP:\n"
		"  --backoff-scale F     RFC 2131 back-off 4 s, 8 s, ... +-1 s times F (default "
		"1;\n"
		"                        0.01 for lab runs: 40 ms, 80 ms, ...)\n"
		"  --dhcp-tries N        DISCOVERs / REQUESTs before a VM gives up (default 4)\n"
		"  --server IP           take offers from this server only (default: the first)\n"
		"  --dhcp-only           a VM is done at its ACK (no TFTP): DORA storms\n"
		"  --arp                 after its ACK a VM sends an ARP request for the TFTP\n"
		"                        server (as PXE firmware does) and counts the replies\n"
		"  --loop                saturation: a VM done starts again at once (a new DORA\n"
		"                        with --dhcp-only, else its last transfer) until --timeout\n"
		"  --loop-gap-ms MS      with --loop: a VM done waits MS first (a paced load:\n"
		"                        VMs x work / (MS + its time) per second; default 0)\n"
		"TFTP:\n"
		"  --file [NAME=]PATH    a file the VMs fetch, checked byte for byte and by "
		"SHA-256\n"
		"  --file NAME=sha256:HEX:SIZE   the same by digest only (repeat --file, up to "
		"%d)\n"
		"  --loader NAME         fetch this instead of the boot file the ACK names\n"
		"  --image NAME          the second file each VM fetches after the loader\n"
		"  --verify auto|sha|cmp|none   what is checked (auto: SHA-256 + compare if PATH)\n"
		"  --tftp-timeout-ms MS  RFC 1350 retransmission timeout, both kinds (default 0:\n"
		"                        as the firmware: OVMF 4 s; iPXE 250 ms doubled on each\n"
		"                        retransmission, given up once past 10 s, i.e. at 15.75 s)\n"
		"  --tftp-retries N      retransmissions without progress (default 6; iPXE's\n"
		"                        limit is its 10 s timeout unless --tftp-timeout-ms)\n"
		"  --ovmf-blksize B      (default 1468)   --ovmf-window W  (default 4)\n"
		"  --ipxe-blksize B      (default 1432)   --no-probe       no OVMF tsize probe\n"
		"  --multicast R         share of VMs (0..1) that ask for --image with the RFC 2090\n"
		"                        multicast option (iPXE tftm://): group DATA, ACKs only as\n"
		"                        master, a bitmap of blocks; on a timeout or ERROR the image\n"
		"                        is fetched again unicast (default 0; needs NAME=PATH)\n"
		"Run:\n"
		"  --timeout S           end the run after S seconds (default 60)\n"
		"  --linger S            once every VM is done, keep answering for S seconds\n"
		"                        (last ACKs, RFC 2090 promotions; the figures stop at the\n"
		"                        last VM; frames in that time are counted; default 0)\n"
		"  --hold FILE           after the report, keep the port open without polling it while\n"
		"                        FILE exists (at most 120 s): the peer (a dataplane on memif)\n"
		"                        is stopped first, so no port is torn down under a poller\n"
		"  --timer-budget N      VM timers fired per loop iteration, each iteration's frames\n"
		"                        sent before the next (default 32; 1: a paced load leaves as\n"
		"                        frames one by one, not as a burst per millisecond)\n"
		"  --progress S          a progress line on stderr every S seconds (default 1, 0 "
		"off)\n"
		"  --json                the report as one JSON object on stdout\n"
		"  --vm-csv FILE         one line per VM (state, reason, address, times)\n"
		"  --port N              DPDK port id (default: the first)\n"
		"  --link-wait S         wait up to S s for the port's link (memif: the peer) before\n"
		"                        the VMs power on (default 10)\n"
		"  --rxd N / --txd N     descriptors (default 4096 / 1024: a deep rx ring rides "
		"out\n"
		"                        the lcore being preempted)\n"
		"Ceiling:\n"
		"  --reflect             no DHCP/TFTP: each VM keeps --reflect-window frames of\n"
		"                        --reflect-size bytes in flight to a reflector "
		"(dpdk-testpmd\n"
		"                        --forward-mode=macswap on the peer) for --timeout "
		"seconds\n"
		"  --reflect-size B      frame size, 64..1514 (default 1514)\n"
		"  --reflect-window W    frames in flight per VM (default 1)\n",
		STORM_VMS_MAX, STORM_FILES_MAX);
}

enum {
	O_VMS = 256,
	O_RATIO,
	O_RAMP,
	O_SEED,
	O_SCALE,
	O_DTRIES,
	O_SERVER,
	O_DHCPONLY,
	O_LOOP,
	O_ARP,
	O_LOOPGAP,
	O_FILE,
	O_LOADER,
	O_IMAGE,
	O_VERIFY,
	O_TTIMEOUT,
	O_TRETRIES,
	O_OBLK,
	O_OWIN,
	O_IBLK,
	O_NOPROBE,
	O_TIMEOUT,
	O_PROGRESS,
	O_JSON,
	O_CSV,
	O_PORT,
	O_RXD,
	O_LINKWAIT,
	O_TXD,
	O_REFLECT,
	O_RSIZE,
	O_RWIN,
	O_RMACS,
	O_MCAST,
	O_LINGER,
	O_HOLD,
	O_TBUDGET,
	O_HELP,
};

static const struct option longopts[] = {
	{"vms", required_argument, NULL, O_VMS},
	{"ovmf-ratio", required_argument, NULL, O_RATIO},
	{"ramp-ms", required_argument, NULL, O_RAMP},
	{"seed", required_argument, NULL, O_SEED},
	{"backoff-scale", required_argument, NULL, O_SCALE},
	{"dhcp-tries", required_argument, NULL, O_DTRIES},
	{"server", required_argument, NULL, O_SERVER},
	{"dhcp-only", no_argument, NULL, O_DHCPONLY},
	{"loop", no_argument, NULL, O_LOOP},
	{"arp", no_argument, NULL, O_ARP},
	{"loop-gap-ms", required_argument, NULL, O_LOOPGAP},
	{"file", required_argument, NULL, O_FILE},
	{"loader", required_argument, NULL, O_LOADER},
	{"image", required_argument, NULL, O_IMAGE},
	{"verify", required_argument, NULL, O_VERIFY},
	{"tftp-timeout-ms", required_argument, NULL, O_TTIMEOUT},
	{"tftp-retries", required_argument, NULL, O_TRETRIES},
	{"ovmf-blksize", required_argument, NULL, O_OBLK},
	{"ovmf-window", required_argument, NULL, O_OWIN},
	{"ipxe-blksize", required_argument, NULL, O_IBLK},
	{"no-probe", no_argument, NULL, O_NOPROBE},
	{"timeout", required_argument, NULL, O_TIMEOUT},
	{"progress", required_argument, NULL, O_PROGRESS},
	{"json", no_argument, NULL, O_JSON},
	{"vm-csv", required_argument, NULL, O_CSV},
	{"port", required_argument, NULL, O_PORT},
	{"rxd", required_argument, NULL, O_RXD},
	{"link-wait", required_argument, NULL, O_LINKWAIT},
	{"txd", required_argument, NULL, O_TXD},
	{"reflect", no_argument, NULL, O_REFLECT},
	{"reflect-size", required_argument, NULL, O_RSIZE},
	{"reflect-window", required_argument, NULL, O_RWIN},
	{"random-macs", no_argument, NULL, O_RMACS},
	{"multicast", required_argument, NULL, O_MCAST},
	{"linger", required_argument, NULL, O_LINGER},
	{"hold", required_argument, NULL, O_HOLD},
	{"timer-budget", required_argument, NULL, O_TBUDGET},
	{"help", no_argument, NULL, O_HELP},
	{NULL, 0, NULL, 0},
};

static int num(const char *name, const char *arg, uint64_t min, uint64_t max, uint64_t *out,
	       char *err, size_t errlen)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < min || v > max) {
		snprintf(err, errlen, "--%s %s: expected a number from %llu to %llu", name, arg,
			 (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int real(const char *name, const char *arg, double min, double max, double *out, char *err,
		size_t errlen)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < min || v > max) {
		snprintf(err, errlen, "--%s %s: expected a number from %g to %g", name, arg, min,
			 max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int name_arg(const char *opt, const char *arg, char *dst, size_t cap, char *err,
		    size_t errlen)
{
	while (*arg == '/')
		arg++;
	if (strlen(arg) >= cap) {
		snprintf(err, errlen, "--%s: at most %zu bytes", opt, cap - 1);
		return -EINVAL;
	}
	strcpy(dst, arg);
	return 0;
}

int storm_opts_parse(struct storm_opts *o, int argc, char **argv, char *err, size_t errlen)
{
	struct storm_cfg *c = &o->cfg;
	uint64_t v;
	int opt, rc = 0;

	memset(o, 0, sizeof(*o));
	storm_cfg_defaults(c);
	o->timeout_s = 60;
	o->progress_s = 1;
	o->rxd = 4096;
	o->timer_budget = 32;
	o->link_wait_s = 10;
	o->txd = 1024;
	o->port = UINT16_MAX;
	o->busy_budget = -1;
	optind = 0; /* glibc: start over (the EAL's getopt ran before) */
	opterr = 0;
	while (rc == 0 && (opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case O_VMS:
			if (!(rc = num("vms", optarg, 1, STORM_VMS_MAX, &v, err, errlen)))
				c->n_vms = (uint32_t)v;
			break;
		case O_RATIO:
			rc = real("ovmf-ratio", optarg, 0, 1, &c->ovmf_ratio, err, errlen);
			break;
		case O_RAMP:
			if (!(rc = num("ramp-ms", optarg, 0, 3600000, &v, err, errlen)))
				c->ramp_ms = (uint32_t)v;
			break;
		case O_SEED:
			if (!(rc = num("seed", optarg, 0, UINT64_MAX, &v, err, errlen)))
				c->seed = v;
			break;
		case O_SCALE:
			rc = real("backoff-scale", optarg, 0.0001, 100, &c->backoff_scale, err,
				  errlen);
			break;
		case O_DTRIES:
			if (!(rc = num("dhcp-tries", optarg, 1, 100, &v, err, errlen)))
				c->dhcp_tries = (uint32_t)v;
			break;
		case O_SERVER: {
			struct in_addr a;
			if (inet_pton(AF_INET, optarg, &a) != 1) {
				snprintf(err, errlen, "--server %s: not an IPv4 address", optarg);
				rc = -EINVAL;
			}
			c->server_ip = ntohl(a.s_addr);
			break;
		}
		case O_DHCPONLY:
			c->dhcp_only = true;
			break;
		case O_LOOP:
			c->loop = true;
			break;
		case O_ARP:
			c->arp = true;
			break;
		case O_LOOPGAP:
			if (!(rc = num("loop-gap-ms", optarg, 0, 60000, &v, err, errlen)))
				c->loop_gap_us = (uint32_t)v * 1000u;
			break;
		case O_FILE:
			rc = storm_files_add(&o->files, optarg, err, errlen);
			if (rc < 0)
				rc = -EINVAL;
			break;
		case O_LOADER:
			rc = name_arg("loader", optarg, c->loader, sizeof(c->loader), err, errlen);
			break;
		case O_IMAGE:
			rc = name_arg("image", optarg, c->image, sizeof(c->image), err, errlen);
			break;
		case O_VERIFY:
			if (!strcmp(optarg, "auto"))
				c->verify = STORM_VERIFY_AUTO;
			else if (!strcmp(optarg, "sha"))
				c->verify = STORM_VERIFY_SHA;
			else if (!strcmp(optarg, "cmp"))
				c->verify = STORM_VERIFY_CMP;
			else if (!strcmp(optarg, "none"))
				c->verify = STORM_VERIFY_NONE;
			else {
				snprintf(err, errlen, "--verify %s: auto, sha, cmp or none",
					 optarg);
				rc = -EINVAL;
			}
			break;
		case O_TTIMEOUT:
			if (!(rc = num("tftp-timeout-ms", optarg, 0, 600000, &v, err, errlen)))
				c->tftp_timeout_ms = (uint32_t)v;
			break;
		case O_TRETRIES:
			if (!(rc = num("tftp-retries", optarg, 0, 250, &v, err, errlen)))
				c->tftp_retries = (uint32_t)v;
			break;
		case O_OBLK:
			if (!(rc = num("ovmf-blksize", optarg, 8, 65464, &v, err, errlen)))
				c->ovmf_blksize = (uint16_t)v;
			break;
		case O_OWIN:
			if (!(rc = num("ovmf-window", optarg, 1, 64, &v, err, errlen)))
				c->ovmf_window = (uint16_t)v;
			break;
		case O_IBLK:
			if (!(rc = num("ipxe-blksize", optarg, 8, 65464, &v, err, errlen)))
				c->ipxe_blksize = (uint16_t)v;
			break;
		case O_NOPROBE:
			c->ovmf_probe = false;
			break;
		case O_TIMEOUT:
			if (!(rc = num("timeout", optarg, 1, 86400, &v, err, errlen)))
				o->timeout_s = (uint32_t)v;
			break;
		case O_PROGRESS:
			if (!(rc = num("progress", optarg, 0, 3600, &v, err, errlen)))
				o->progress_s = (uint32_t)v;
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_CSV:
			o->vm_csv = optarg;
			break;
		case O_PORT:
			if (!(rc = num("port", optarg, 0, UINT16_MAX - 1, &v, err, errlen)))
				o->port = (uint16_t)v;
			break;
		case O_RXD:
			if (!(rc = num("rxd", optarg, 64, 16384, &v, err, errlen)))
				o->rxd = (uint16_t)v;
			break;
		case O_LINKWAIT:
			if (!(rc = num("link-wait", optarg, 0, 600, &v, err, errlen)))
				o->link_wait_s = (uint32_t)v;
			break;
		case O_TXD:
			if (!(rc = num("txd", optarg, 64, 16384, &v, err, errlen)))
				o->txd = (uint16_t)v;
			break;
		case O_REFLECT:
			c->reflect = true;
			break;
		case O_RSIZE:
			if (!(rc = num("reflect-size", optarg, 64, 1514, &v, err, errlen)))
				c->reflect_size = (uint16_t)v;
			break;
		case O_RWIN:
			if (!(rc = num("reflect-window", optarg, 1, 64, &v, err, errlen)))
				c->reflect_window = (uint16_t)v;
			break;
		case O_RMACS:
			c->random_macs = true;
			break;
		case O_HOLD:
			o->hold = optarg;
			break;
		case O_TBUDGET:
			if (!(rc = num("timer-budget", optarg, 1, 4096, &v, err, errlen)))
				o->timer_budget = (uint32_t)v;
			break;
		case O_LINGER:
			if (!(rc = num("linger", optarg, 0, 600, &v, err, errlen)))
				o->linger_s = (uint32_t)v;
			break;
		case O_MCAST:
			rc = real("multicast", optarg, 0, 1, &c->mcast_ratio, err, errlen);
			break;
		case 'h':
		case O_HELP:
			return 1;
		default:
			snprintf(err, errlen, "unknown option or missing value: %s",
				 optind > 0 && optind <= argc ? argv[optind - 1] : "?");
			rc = -EINVAL;
		}
	}
	if (rc == 0 && optind < argc) {
		snprintf(err, errlen, "unexpected argument %s", argv[optind]);
		rc = -EINVAL;
	}
	if (rc < 0) {
		storm_files_free(&o->files);
		return -EINVAL;
	}
	return 0;
}
