/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lcore.h - the poll loop: rx burst, classify (ARP, DHCP 67/4011, TFTP 69,
 * transfer ports), build replies into mbufs from the pool, tx burst, run the
 * TFTP session timers. Never blocks, never mallocs, shares no lock.
 */
#ifndef SB_ENG_LCORE_H
#define SB_ENG_LCORE_H

#include "engine.h"

/* rte_eal_remote_launch() entry; arg is the struct engine. Returns 0. */
int eng_lcore_main(void *arg);

/* Describe worker idx's session table (for /stormboot/sessions); non-zero past the last. */
int eng_lcore_sessions_info(unsigned int idx, struct tftp_table_info *out);

/* Make eng_lcore_sessions_info() read from e. */
void eng_lcore_set_engine(struct engine *e);

#endif
