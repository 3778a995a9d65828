/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * eal_args.h - the command line: `stormboot-dataplane [EAL args] -- -c CONFIG
 * [-i IFACE] [-x XDP_OBJ] [-l CPUS]`, and the EAL arguments stormboot builds
 * itself when none are given (net_af_xdp on the configured interface).
 */
#ifndef SB_ENG_EAL_ARGS_H
#define SB_ENG_EAL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sbcfg.h"

#define ENG_EAL_ARGS_MAX 32

struct eng_opts {
	const char *config_path; /* -c */
	const char *iface;	 /* -i: overrides cfg.interface */
	const char *xdp_prog;	 /* -x: overrides cfg.xdp_prog and the default object */
	const char *cpus;	 /* -l: CPU list for the built EAL args (default: from affinity) */
	int busy_budget;	 /* -b: net_af_xdp busy_budget, -1 = driver default */
	const char *ctl_path;	 /* -C: control channel socket, NULL = standalone */
	bool capture;		 /* -P: packet capture (dpdk-dumpcap/dpdk-pdump can attach) */
	unsigned idle_us;	 /* -I: sleep this long when idle (0 = busy poll, ENG_IDLE_AUTO) */
	bool verbose;		 /* -v: the stormboot log type at debug */
	unsigned tx_hold_ns;	 /* -H: ENG_TX_HOLD_NS unless tx_hold_set (0: off) */
	bool tx_hold_set;
	/* EAL arguments: the user's (before "--"), or built by eng_eal_args_build(). */
	int eal_argc;
	char *eal_argv[ENG_EAL_ARGS_MAX + 1];
	bool eal_given;
	char buf[8192]; /* storage for built arguments */
};

/*
 * -I auto (the default): an lcore on an isolated CPU (isolcpus, listed in
 * /sys/devices/system/cpu/isolated) busy-polls; one on a CPU it shares with other tasks
 * sleeps ENG_IDLE_AUTO_US after ENG_IDLE_POLLS empty polls. A busy-polling thread on a shared
 * CPU waits for the other tasks' time slices between two frames (measured with 4 TCG VMs and
 * a build beside it: 8.9 ms per lock-step TFTP block, against 0.6 ms with the sleep); one that
 * sleeps is woken ahead of them by the scheduler.
 */
#define ENG_IDLE_AUTO	 UINT32_MAX
#define ENG_IDLE_AUTO_US 20u

/*
 * Whether `cpu` is in a kernel CPU list such as "2-3,5" (the format of
 * /sys/devices/system/cpu/isolated; an empty list has no CPU). A malformed list has none.
 */
bool eng_cpulist_has(const char *list, unsigned cpu);

/* The idle sleep for an lcore on `cpu` from -I (ENG_IDLE_AUTO: from the isolated list). */
unsigned eng_idle_us_for(unsigned opt_idle_us, const char *isolated_list, unsigned cpu);

/*
 * Split argv at "--" and parse stormboot's own options. Returns 0, 1 for
 * --help (usage printed), or -EINVAL (message printed to stderr).
 */
int eng_opts_parse(struct eng_opts *o, int argc, char **argv);

/*
 * If no EAL arguments were given, build them from cfg: cores from the process's
 * CPU affinity (cfg->queues of them), --in-memory (not for net_memif, not with -P: a capture
 * tool is a DPDK secondary process, which needs the primary's shared files), --file-prefix
 * sb-<iface>,
 * and the port: cfg->dpdk_port if set (net_* as --vdev, else -a), else
 * net_af_xdp0 on cfg->interface with cfg->queues queues and the XDP object.
 * Returns 0 or -EINVAL with a message in err.
 */
int eng_eal_args_build(struct eng_opts *o, const struct sbcfg *cfg, const char *argv0, char *err,
		       size_t errlen);

/*
 * "--file-prefix=sb-NAME" into out: NAME is the interface, or the DPDK device
 * name of dpdk_port (e.g. net_pcap0). The telemetry socket is then
 * /var/run/dpdk/sb-NAME/dpdk_telemetry.v2 (dpdk-telemetry.py -f sb-NAME).
 */
const char *eng_file_prefix(const struct sbcfg *cfg, char *out, size_t cap);

/*
 * The XDP object to load: -x, else cfg->xdp_prog, else the object built beside
 * this binary when it runs from the build tree, else the installed one.
 */
const char *eng_xdp_prog_path(const struct eng_opts *o, const struct sbcfg *cfg);

/*
 * True when dpdk_port names a net_memif device (the engine alone, no kernel behind the
 * port: docs/DATAPLANE.md "On a memif port"); the built EAL arguments then leave out
 * --in-memory, which net_memif's probe refuses.
 */
bool eng_port_is_memif(const char *dpdk_port);

/* Print usage to stderr. */
void eng_usage(const char *prog);

#endif
