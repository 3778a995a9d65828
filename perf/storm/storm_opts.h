/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * storm_opts.h - stormboot-storm's own command line (what follows the EAL's "--").
 */
#ifndef SB_STORM_OPTS_H
#define SB_STORM_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storm.h"

struct storm_opts {
	struct storm_cfg cfg;
	struct storm_files files;
	uint32_t timeout_s;  /* the run ends after this, whatever the VMs do */
	uint32_t progress_s; /* a progress line every this many seconds (0: none) */
	bool json;
	const char *vm_csv; /* one line per VM at the end */
	uint16_t rxd, txd;  /* port descriptors */
	uint32_t link_wait_s; /* wait this long for the link (memif: the peer) before starting */
	uint16_t port;	    /* DPDK port id; UINT16_MAX = the first */
	int busy_budget;    /* -1: leave net_af_xdp's default */
	uint32_t linger_s;  /* after the last VM: keep answering this long (figures stop) */
	uint32_t timer_budget; /* --timer-budget: VM timers fired per loop iteration */
	const char *hold;   /* after the report: keep the port open, idle, while this file exists */
};

/* The usage text. */
void storm_usage(FILE *out);

/*
 * Parse argv (argv[0] is the program name). Returns 0, 1 for --help, or -EINVAL with a
 * message in err. Files named by --file are loaded here.
 */
int storm_opts_parse(struct storm_opts *o, int argc, char **argv, char *err, size_t errlen);

#endif
