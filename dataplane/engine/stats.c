/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_telemetry.h>

#include "stats.h"

struct eng_stats eng_stats[RTE_MAX_LCORE];

static const char *const eng_drop_names[] = {
#define ENG_DROP_NAME(e, name, desc) name,
	ENGINE_DROPS(ENG_DROP_NAME)
#undef ENG_DROP_NAME
};
static const char *const eng_drop_descs[] = {
#define ENG_DROP_DESC(e, name, desc) desc,
	ENGINE_DROPS(ENG_DROP_DESC)
#undef ENG_DROP_DESC
};

const char *eng_drop_name(unsigned int reason)
{
	if (reason < SB_DROP__COUNT)
		return sb_drop_name((int)reason);
	return reason < ENG_DROP__COUNT ? eng_drop_names[reason - SB_DROP__COUNT] : "unknown";
}

const char *eng_drop_desc(unsigned int reason)
{
	if (reason < SB_DROP__COUNT)
		return sb_drop_desc((int)reason);
	return reason < ENG_DROP__COUNT ? eng_drop_descs[reason - SB_DROP__COUNT]
					: "unknown drop reason";
}

static int (*sessions_info)(unsigned int idx, struct tftp_table_info *out);

static void stats_add(struct eng_stats *to, const struct eng_stats *from)
{
#define ENG_STATS_ADD(f, d) to->f += from->f;
	ENG_STATS_COUNTERS(ENG_STATS_ADD)
#undef ENG_STATS_ADD
	for (unsigned int i = 0; i < ENG_DROP__COUNT; i++)
		to->drops[i] += from->drops[i];
	eng_lat_merge(&to->lat, &from->lat);
}

void eng_stats_total(struct eng_stats *out)
{
	unsigned int lc;

	memset(out, 0, sizeof(*out));
	for (lc = 0; lc < RTE_MAX_LCORE; lc++)
		stats_add(out, &eng_stats[lc]);
}

/* Totals, or one lcore's counters when params names an lcore id. */
static int stats_select(const char *params, struct eng_stats *st)
{
	char *end;
	unsigned long lc;

	if (params == NULL || *params == '\0') {
		eng_stats_total(st);
		return 0;
	}
	lc = strtoul(params, &end, 10);
	if (*end != '\0' || lc >= RTE_MAX_LCORE)
		return -EINVAL;
	*st = eng_stats[lc];
	return 0;
}

static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static struct eng_stats st; /* telemetry runs its commands on one thread */
	char name[RTE_TEL_MAX_STRING_LEN];

	if (stats_select(params, &st) < 0)
		return -EINVAL;
	rte_tel_data_start_dict(d);
#define ENG_STATS_TEL(f, desc) rte_tel_data_add_dict_u64(d, #f, st.f);
	ENG_STATS_COUNTERS(ENG_STATS_TEL)
#undef ENG_STATS_TEL
	for (unsigned int i = 1; i < ENG_DROP__COUNT; i++) {
		snprintf(name, sizeof(name), "drop_%s", eng_drop_name(i));
		rte_tel_data_add_dict_u64(d, name, st.drops[i]);
	}
	return 0;
}

static int tel_latency(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static struct eng_stats st;
	struct eng_lat_summary s;

	if (stats_select(params, &st) < 0)
		return -EINVAL;
	eng_lat_summarize(&st.lat, &s);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "what", "rx burst -> tx burst of the reply, ns");
	rte_tel_data_add_dict_u64(d, "count", s.count);
	rte_tel_data_add_dict_u64(d, "mean_ns", s.mean_ns);
	rte_tel_data_add_dict_u64(d, "p50_ns", s.p50_ns);
	rte_tel_data_add_dict_u64(d, "p90_ns", s.p90_ns);
	rte_tel_data_add_dict_u64(d, "p99_ns", s.p99_ns);
	rte_tel_data_add_dict_u64(d, "p99_9_ns", s.p999_ns);
	rte_tel_data_add_dict_u64(d, "max_ns", s.max_ns);
	return 0;
}

static int tel_sessions(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static struct eng_stats st;
	struct tftp_table_info si;
	uint64_t active = 0, capacity = 0;
	char name[RTE_TEL_MAX_STRING_LEN];

	eng_stats_total(&st);
	rte_tel_data_start_dict(d);
	for (unsigned int i = 0; sessions_info && sessions_info(i, &si) == 0; i++) {
		active += si.active;
		capacity += si.capacity;
		snprintf(name, sizeof(name), "lcore%u_active", si.lcore);
		rte_tel_data_add_dict_u64(d, name, si.active);
		snprintf(name, sizeof(name), "lcore%u_capacity", si.lcore);
		rte_tel_data_add_dict_u64(d, name, si.capacity);
		snprintf(name, sizeof(name), "lcore%u_ports", si.lcore);
		snprintf(name + 64, sizeof(name) - 64, "%u-%u", si.port_lo, si.port_hi);
		rte_tel_data_add_dict_string(d, name, name + 64);
	}
	rte_tel_data_add_dict_u64(d, "active", active);
	rte_tel_data_add_dict_u64(d, "capacity", capacity);
	rte_tel_data_add_dict_u64(d, "started", st.tftp_sessions_started);
	rte_tel_data_add_dict_u64(d, "completed", st.tftp_sessions_completed);
	rte_tel_data_add_dict_u64(d, "given_up", st.tftp_sessions_given_up);
	rte_tel_data_add_dict_u64(d, "aborted", st.tftp_sessions_aborted);
	rte_tel_data_add_dict_u64(d, "size_probe", st.tftp_sessions_size_probe);
	rte_tel_data_add_dict_u64(d, "refused", st.tftp_sessions_refused);
	rte_tel_data_add_dict_u64(d, "bytes_served", st.tftp_bytes_served);
	return 0;
}

int eng_stats_telemetry_register(int (*sessions_fn)(unsigned int idx,
						    struct tftp_table_info *out))
{
	int rc = 0;

	sessions_info = sessions_fn;
	rc |= rte_telemetry_register_cmd(
		"/stormboot/stats", tel_stats,
		"stormboot counters and drops by reason. Parameters: int lcore_id (optional)");
	rc |= rte_telemetry_register_cmd(
		"/stormboot/latency", tel_latency,
		"rx->tx latency percentiles in ns. Parameters: int lcore_id (optional)");
	rc |= rte_telemetry_register_cmd("/stormboot/sessions", tel_sessions,
					 "TFTP session table. Takes no parameters");
	return rc ? -EINVAL : 0;
}

void eng_stats_print(FILE *f)
{
	static struct eng_stats st;
	struct eng_lat_summary s;

	eng_stats_total(&st);
	fprintf(f, "stormboot stats:\n");
#define ENG_STATS_PRINT(fl, desc) fprintf(f, "  %-32s %" PRIu64 "\n", #fl, st.fl);
	ENG_STATS_COUNTERS(ENG_STATS_PRINT)
#undef ENG_STATS_PRINT
	fprintf(f, "drops (non-zero):\n");
	for (unsigned int i = 1; i < ENG_DROP__COUNT; i++)
		if (st.drops[i])
			fprintf(f, "  %-32s %" PRIu64 "  (%s)\n", eng_drop_name(i), st.drops[i],
				eng_drop_desc(i));
	eng_lat_summarize(&st.lat, &s);
	fprintf(f,
		"latency rx->tx (ns): count %" PRIu64 " mean %" PRIu64 " p50 %" PRIu64
		" p90 %" PRIu64 " p99 %" PRIu64 " p99.9 %" PRIu64 " max %" PRIu64 "\n",
		s.count, s.mean_ns, s.p50_ns, s.p90_ns, s.p99_ns, s.p999_ns, s.max_ns);
}
