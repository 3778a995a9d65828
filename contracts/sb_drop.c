/* SPDX-License-Identifier: BSD-3-Clause */
#include "sb_drop.h"

static const char *const drop_names[SB_DROP__COUNT] = {
	[SB_DROP_NONE] = "none",
#define SB_DROP_NAME(e, name, desc) [SB_DROP_##e] = name,
	SB_DROP_LIST(SB_DROP_NAME)
#undef SB_DROP_NAME
};

static const char *const drop_descs[SB_DROP__COUNT] = {
	[SB_DROP_NONE] = "not dropped",
#define SB_DROP_DESC(e, name, desc) [SB_DROP_##e] = desc,
	SB_DROP_LIST(SB_DROP_DESC)
#undef SB_DROP_DESC
};

const char *sb_drop_name(int reason)
{
	if (reason < 0)
		reason = -reason;
	if (reason >= SB_DROP__COUNT)
		return "unknown";
	return drop_names[reason];
}

const char *sb_drop_desc(int reason)
{
	if (reason < 0)
		reason = -reason;
	if (reason >= SB_DROP__COUNT)
		return "unknown drop reason";
	return drop_descs[reason];
}
