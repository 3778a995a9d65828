/* SPDX-License-Identifier: BSD-3-Clause */
/* dhcp_drops.h - drop reasons of the dhcp module (see sb_drop.h). Owned by that module. */
#ifndef SB_DHCP_DROPS_H
#define SB_DHCP_DROPS_H

#define DHCP_DROPS(X) X(DHCP_PLACEHOLDER, "dhcp_placeholder", "replace with the module's reasons")

#endif
