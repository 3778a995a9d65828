/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sb_ports.h - the well-known UDP ports stormboot serves, defined once for the XDP program,
 * the protocol core and the engine. Only preprocessor constants: clang -target bpf includes it.
 */
#ifndef SB_PORTS_H
#define SB_PORTS_H

#define SB_PORT_DHCP_SERVER 67	 /* RFC 2131 4.1 */
#define SB_PORT_DHCP_CLIENT 68	 /* RFC 2131 4.1 */
#define SB_PORT_TFTP	    69	 /* RFC 1350 4 */
#define SB_PORT_PXE	    4011 /* PXE 2.1 boot server discovery / proxyDHCP */

#endif
