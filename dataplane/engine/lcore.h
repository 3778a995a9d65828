/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lcore.h - the poll loop, as straight as DPDK's l3fwd: adopt the published config
 * snapshot, run the TFTP session timers when due, rx burst (and the frames other lcores
 * handed over), classify (ARP, IPv6 RS, DHCP 67/4011, TFTP 69, transfer ports), build
 * replies into mbufs from the pool, one tx burst. Never blocks, never mallocs, shares no
 * lock.
 */
#ifndef SB_ENG_LCORE_H
#define SB_ENG_LCORE_H

#include "engine.h"

/* rte_eal_remote_launch() entry; arg is the struct eng_runtime. Returns 0. */
int eng_lcore_main(void *arg);

#endif
