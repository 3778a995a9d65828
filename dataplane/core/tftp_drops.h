/* SPDX-License-Identifier: BSD-3-Clause */
/* tftp_drops.h - drop reasons of the tftp module (see sb_drop.h). Owned by that module. */
#ifndef SB_TFTP_DROPS_H
#define SB_TFTP_DROPS_H

#define TFTP_DROPS(X) X(TFTP_PLACEHOLDER, "tftp_placeholder", "replace with the module's reasons")

#endif
