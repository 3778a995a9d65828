/* SPDX-License-Identifier: BSD-3-Clause */
/* lossy_link.h - shared by the lab's loss program (lossy_link.bpf.c) and its loader. */
#ifndef SB_LOSSY_LINK_H
#define SB_LOSSY_LINK_H

#include <linux/types.h>

#define LOSSY_EGRESS  0 /* frames the interface sends */
#define LOSSY_INGRESS 1 /* frames it receives */
#define LOSSY_DIRS    2
#define LOSSY_MARK    0x5b1055u /* skb mark of our duplicates */

struct lossy_cfg {
	__u32 drop; /* probability x 2^32 */
	__u32 dup;  /* probability x 2^32, of the frames not dropped */
};

struct lossy_cnt {
	__u64 seen, dropped, duplicated;
};

#endif
