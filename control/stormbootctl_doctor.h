/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stormbootctl_doctor.h - `stormbootctl doctor`: the questions an operator asks when VMs do
 * not boot, each answered with a verdict (ok, warn, fail) and a hint (docs/TIMELINE.md):
 * config valid; boot files and images present and matching their SHA-256; pools with free
 * addresses; the dataplane connected, the XDP program attached to the interface and its
 * counters moving; another DHCP/TFTP server bound on this host (UDP 67/69 in /proc/net/udp);
 * MTU against the largest blksize; hugepages for the image cache; clients stuck or failed.
 * It runs where stormboot runs (the server's network namespace): it reads the API and the
 * local system.
 */
#ifndef SB_STORMBOOTCTL_DOCTOR_H
#define SB_STORMBOOTCTL_DOCTOR_H

#include <stdio.h>

#include <jansson.h>

/* Send command with args (stolen, may be NULL); the reply object, or NULL (said on stderr). */
typedef json_t *doctor_ask_fn(void *ctx, const char *command, json_t *args);

/* Run every check, print the verdicts to f; 0 if none failed, 1 otherwise. */
int stormbootctl_doctor(FILE *f, doctor_ask_fn *ask, void *ctx, const char *proc_root,
			const char *sys_root);

#endif
