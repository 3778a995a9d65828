/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sb_drop.h - every reason stormboot can drop or refuse a packet, one list.
 *
 * Each module keeps its part of the list in <module>_drops.h as an X-macro
 * X(ENUM_SUFFIX, "counter_name", "one-line description"). This header joins
 * them into enum sb_drop; the engine counts them per lcore and telemetry / the
 * control API show them by counter_name. Packet functions return -SB_DROP_x.
 * This is the protocol core's list, shared by both processes; the engine appends
 * its own reasons after SB_DROP__COUNT (dataplane/engine/engine_drops.h).
 */
#ifndef SB_DROP_H
#define SB_DROP_H

#include "pkt_drops.h"
#include "dhcp_drops.h"
#include "tftp_drops.h"
#include "ndp_drops.h"
#include "mtftp_drops.h"

#define SB_DROP_LIST(X) PKT_DROPS(X) DHCP_DROPS(X) TFTP_DROPS(X) NDP_DROPS(X) MTFTP_DROPS(X)

enum sb_drop {
	SB_DROP_NONE = 0,
#define SB_DROP_ENUM(e, name, desc) SB_DROP_##e,
	SB_DROP_LIST(SB_DROP_ENUM)
#undef SB_DROP_ENUM
	SB_DROP__COUNT,
};

/* Counter name of a drop reason ("unknown" when out of range). */
const char *sb_drop_name(int reason);
/* One-line description of a drop reason. */
const char *sb_drop_desc(int reason);

#endif
