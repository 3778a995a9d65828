/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pxe.h - what kind of network-boot client sent a DHCP message, and what it
 * must be told: client architecture (option 93, RFC 4578), PXE / UEFI HTTP
 * boot (vendor class 60, PXE 2.1 spec), iPXE (user class 77, RFC 3004, and
 * option 175), PXE vendor options (43) and the boot file choice.
 *
 * Decisions:
 *  - No option 93: the "PXEClient:Arch:NNNNN" field of option 60 is used if
 *    present, else the client is treated as x86 BIOS (RFC 4578 2.1: legacy).
 *  - An architecture stormboot has no class for (e.g. 10 ARM32 UEFI) is not
 *    refused: the client gets its lease but no boot file (arch = -ENOENT).
 *  - An iPXE client is never handed an iPXE binary (no chainload loop): boot
 *    files whose name looks like iPXE (pxe_is_ipxe_binary()) are skipped for it.
 */
#ifndef SB_PXE_H
#define SB_PXE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp.h"
#include "sbcfg.h"

/* PXE 2.1 option 43 sub-options used here. */
#define PXE_DISCOVERY_CONTROL 6
#define PXE_BOOT_ITEM	      71
#define PXE_END		      255
/* Discovery control bit 3: boot the file named in this offer, no discovery/menu. */
#define PXE_DISCOVERY_USE_BOOTFILE 0x08

struct pxe_client {
	int arch;	    /* enum sbcfg_arch, or -ENOENT for an architecture we do not serve */
	uint16_t arch_type; /* raw RFC 4578 value (first of option 93), 0xffff if absent */
	bool pxe;	    /* option 60 starts with "PXEClient" */
	bool http;	    /* option 60 starts with "HTTPClient" (UEFI HTTP boot) */
	bool ipxe;	    /* running iPXE: user class "iPXE" or option 175 */
};

/* Map an RFC 4578 / IANA processor architecture type to a boot-file class. */
int pxe_arch_from_type(uint16_t type);

/* Classify the client that sent m. */
void pxe_classify(const struct dhcp_msg *m, struct pxe_client *out);

/* True if user class 77 carries "iPXE": RFC 3004 instances, or iPXE's raw string. */
bool pxe_user_class_is_ipxe(const struct dhcp_optv *uc);

/*
 * True if a boot file is an iPXE binary, by its base name (a URL's query/fragment ignored):
 * *.kpxe / *.kkpxe / *.kkkpxe, or *.pxe / *.efi / *.lkrn whose stem contains ipxe, undionly or
 * snponly, or is snp. Scripts (*.ipxe, no extension, CGI URLs) and other loaders are not.
 */
bool pxe_is_ipxe_binary(const char *name);

/*
 * Choose the boot file: reservation bootfile > (iPXE client: reservation
 * ipxe_script > boot.ipxe_script) > boot.by_arch[arch]; for an iPXE client
 * any candidate that is an iPXE binary is skipped. res may be NULL. Returns
 * the name, or NULL when there is nothing to give.
 */
const char *pxe_choose_bootfile(const struct sbcfg_dhcp *cfg, const struct sbcfg_reservation *res,
				const struct pxe_client *c);

/*
 * Write the option 43 value for a PXE client into out: discovery control 8
 * (boot the offered file, no boot server discovery, no menu - a menu would
 * also make iPXE prompt), the boot item (71) echoed if req carried one
 * (PXE 2.1 boot server reply), END. Returns the length or -ENOSPC.
 */
int pxe_build_vendor_opts(const struct dhcp_msg *req, uint8_t *out, size_t cap);

#endif
