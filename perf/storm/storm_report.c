/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "storm_report.h"

#define BUSY_LIMIT_PCT	  90.0
#define CPU_SHARE_MIN_PCT 80.0 /* a busy poller below this shared its CPU with other work */

uint64_t storm_percentile(const uint64_t *sorted, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	rank = (size_t)ceil(p / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void pcts(uint64_t *v, size_t n, double out[4])
{
	static const double p[4] = {50, 90, 99, 100};

	qsort(v, n, sizeof(*v), cmp_u64);
	for (int i = 0; i < 4; i++)
		out[i] = (double)storm_percentile(v, n, p[i]) / 1e6;
}

static void add_limit(struct storm_summary *s, const char *what)
{
	size_t l = strlen(s->limit);

	snprintf(s->limit + l, sizeof(s->limit) - l, "%s%s", l ? "; " : "", what);
}

void storm_summarize(const struct storm_fleet *f, const struct storm_run *r,
		     struct storm_summary *s)
{
	const struct storm_counters *c = &f->c;
	uint64_t *compl = calloc(f->cfg.n_vms + 1, sizeof(*compl ));
	uint64_t *dora = calloc(f->cfg.n_vms + 1, sizeof(*dora));
	size_t nc = 0, nd = 0;
	uint64_t pkts = r->rx_frames + r->tx_frames;
	char buf[160];

	memset(s, 0, sizeof(*s));
	s->vms = f->cfg.n_vms;
	s->ovmf = f->n_ovmf;
	s->ipxe = f->cfg.n_vms - f->n_ovmf;
	s->done = f->n_state[STORM_ST_DONE];
	s->failed = f->n_state[STORM_ST_FAILED];
	for (uint32_t i = 0; i < f->cfg.n_vms; i++) {
		const struct storm_vm *vm = &f->vm[i];

		if (f->cfg.reflect)
			break;
		if (vm->ip)
			s->leases++;
		if (vm->t_bound && dora)
			dora[nd++] = vm->t_bound - vm->t_on;
		if (vm->state == STORM_ST_DONE && compl )
			compl [nc++] = vm->t_done - vm->t_on;
	}
	pcts(compl, nc, s->compl_s);
	pcts(dora, nd, s->dora_s);
	free(compl );
	free(dora);
	s->last_vm_s = (double)f->t_last_done / 1e6;
	s->retrans_ours = c->dhcp_retrans_tx + c->tftp_rrq_retrans + c->tftp_ack_retrans;
	s->retrans_theirs = c->tftp_dup_data_rx + c->tftp_dup_oack_rx + c->dhcp_dup_rx;
	s->run_s = (double)r->run_us / 1e6;
	if (s->run_s > 0) {
		s->rx_pps = (double)r->rx_frames / s->run_s;
		s->tx_pps = (double)r->tx_frames / s->run_s;
		s->goodput_mbs = (double)c->tftp_data_bytes / s->run_s / 1e6;
		s->dora_per_s = (double)c->dhcp_ack_rx / s->run_s;
	}
	if (r->total_cycles)
		s->busy_pct = 100.0 * (double)r->busy_cycles / (double)r->total_cycles;
	if (pkts) {
		s->cycles_per_pkt = (double)r->busy_cycles / (double)pkts;
		s->ns_per_pkt = s->cycles_per_pkt * 1e9 / (double)(r->tsc_hz ? r->tsc_hz : 1);
		s->cpu_ns_per_pkt = (double)(r->cpu_user_us + r->cpu_sys_us) * 1e3 / (double)pkts;
	}
	if (r->run_us)
		s->cpu_share_pct =
			100.0 * (double)(r->cpu_user_us + r->cpu_sys_us) /
			((double)r->total_cycles / (double)(r->tsc_hz ? r->tsc_hz : 1) * 1e6);
	if (r->cpu_user_us + r->cpu_sys_us && s->cpu_share_pct < CPU_SHARE_MIN_PCT) {
		snprintf(buf, sizeof(buf),
			 "the lcore ran %.0f %% of the time (preempted %llu times: a CPU shared "
			 "with other work; busy time includes the waits)",
			 s->cpu_share_pct, (unsigned long long)r->preempted);
		add_limit(s, buf);
	}
	if (s->busy_pct > BUSY_LIMIT_PCT) {
		snprintf(buf, sizeof(buf), "lcore busy %.0f %% (> %.0f %%)", s->busy_pct,
			 BUSY_LIMIT_PCT);
		add_limit(s, buf);
	}
	if (r->tx_dropped) {
		snprintf(buf, sizeof(buf), "%llu frames dropped on a full transmit ring",
			 (unsigned long long)r->tx_dropped);
		add_limit(s, buf);
	}
	if (r->imissed || r->rx_nombuf) {
		snprintf(buf, sizeof(buf),
			 "%llu frames lost at our receive ring (imissed %llu, "
			 "rx_nombuf %llu)",
			 (unsigned long long)(r->imissed + r->rx_nombuf),
			 (unsigned long long)r->imissed, (unsigned long long)r->rx_nombuf);
		add_limit(s, buf);
	}
	if (r->kernel_rx_dropped > 0) {
		snprintf(
			buf, sizeof(buf),
			"%lld frames dropped by the kernel at our interface (our AF_XDP rings were "
			"full)",
			(long long)r->kernel_rx_dropped);
		add_limit(s, buf);
	}
	if (c->tx_nobuf) {
		snprintf(buf, sizeof(buf), "%llu frames not sent for want of a buffer",
			 (unsigned long long)c->tx_nobuf);
		add_limit(s, buf);
	}
	s->gen_limited = s->limit[0] != 0;
	if (!s->gen_limited) {
		snprintf(s->limit, sizeof(s->limit),
			 "not the generator: lcore busy %.0f %%, no frame lost or refused on our "
			 "side%s",
			 s->busy_pct,
			 r->tx_full ? " (the transmit ring was full at times, "
				      "retried)"
				    : "");
	}
}

static void pct_line(FILE *out, const char *what, const double v[4])
{
	fprintf(out, "  %-28s p50 %.3f  p90 %.3f  p99 %.3f  max %.3f s\n", what, v[0], v[1], v[2],
		v[3]);
}

void storm_report_text(FILE *out, const struct storm_fleet *f, const struct storm_run *r,
		       const struct storm_summary *s)
{
	const struct storm_counters *c = &f->c;

	if (f->cfg.reflect)
		fprintf(out,
			"stormboot-storm report (%s, --reflect: %u VMs x %u frames of %u bytes in "
			"flight)\n",
			r->driver, s->vms, f->cfg.reflect_window, f->cfg.reflect_size);
	else
		fprintf(out, "stormboot-storm report (%s, %u VMs: %u OVMF-like, %u iPXE-like)\n",
			r->driver, s->vms, s->ovmf, s->ipxe);
	fprintf(out, "  run                          %.3f s%s\n", s->run_s,
		r->interrupted ? " (interrupted)"
		: r->timed_out ? " (ended by --timeout)"
			       : "");
	if (!f->cfg.reflect) {
		fprintf(out, "  VMs done / failed            %u / %u (leases %u)\n", s->done,
			s->failed, s->leases);
		fprintf(out, "  time to the last VM          %.3f s\n", s->last_vm_s);
		pct_line(out, "per-VM completion", s->compl_s);
		pct_line(out, "per-VM DORA", s->dora_s);
		for (unsigned i = 1; i < STORM_FAIL__COUNT; i++)
			if (f->n_fail[i])
				fprintf(out, "  failed %-21s %u (%s)\n", storm_fail_name(i),
					f->n_fail[i], storm_fail_desc(i));
		for (unsigned st = 0; st < STORM_ST__COUNT; st++)
			if (f->n_fail_state[st])
				fprintf(out, "    run_timeout in %-12s %u\n", storm_state_name(st),
					f->n_fail_state[st]);
		for (unsigned st = 0; st < STORM_ST__COUNT; st++)
			if (f->n_unanswered_state[st])
				fprintf(out, "    rrq_unanswered in %-9s %u\n",
					storm_state_name(st), f->n_unanswered_state[st]);
		fprintf(out,
			"  DHCP                         DISCOVER %llu, OFFER %llu, REQUEST %llu, "
			"ACK "
			"%llu (DORAs, %.0f/s over the run), NAK %llu\n",
			(unsigned long long)c->dhcp_discover_tx,
			(unsigned long long)c->dhcp_offer_rx,
			(unsigned long long)c->dhcp_request_tx, (unsigned long long)c->dhcp_ack_rx,
			s->dora_per_s, (unsigned long long)c->dhcp_nak_rx);
		fprintf(out,
			"  TFTP                         transfers %llu, RRQ %llu, OACK %llu, DATA "
			"%llu (%.1f MB), ACK %llu, ERROR sent %llu / received %llu\n",
			(unsigned long long)c->tftp_transfers, (unsigned long long)c->tftp_rrq_tx,
			(unsigned long long)c->tftp_oack_rx, (unsigned long long)c->tftp_data_rx,
			(double)c->tftp_data_bytes / 1e6, (unsigned long long)c->tftp_ack_tx,
			(unsigned long long)c->tftp_err_tx, (unsigned long long)c->tftp_err_rx);
		fprintf(out,
			"  retransmissions ours         %llu (DHCP %llu, RRQ %llu, ACK on timeout "
			"%llu; re-ACKs on duplicate/gap %llu, dally %llu)\n",
			(unsigned long long)s->retrans_ours, (unsigned long long)c->dhcp_retrans_tx,
			(unsigned long long)c->tftp_rrq_retrans,
			(unsigned long long)c->tftp_ack_retrans,
			(unsigned long long)c->tftp_reack_tx,
			(unsigned long long)c->tftp_dally_ack_tx);
		fprintf(out,
			"  retransmissions theirs       %llu (duplicate DATA %llu, OACK %llu, "
			"OFFER/ACK %llu); DATA after a gap %llu\n",
			(unsigned long long)s->retrans_theirs,
			(unsigned long long)c->tftp_dup_data_rx,
			(unsigned long long)c->tftp_dup_oack_rx, (unsigned long long)c->dhcp_dup_rx,
			(unsigned long long)c->tftp_gap_rx);
		if (c->mc_rrq_tx)
			fprintf(out,
				"  multicast (RFC 2090)         RRQ %llu, joined %llu (master OACK "
				"%llu, "
				"listener %llu), image from the group %.1f MB / unicast %.1f MB, "
				"group frames %.1f MB on the wire, done as master %llu / listener "
				"%llu, "
				"retried unicast %llu\n",
				(unsigned long long)c->mc_rrq_tx, (unsigned long long)c->mc_oack_rx,
				(unsigned long long)c->mc_master_oack_rx,
				(unsigned long long)c->mc_listen_oack_rx,
				(double)c->mc_group_bytes / 1e6, (double)c->mc_unicast_bytes / 1e6,
				(double)c->mc_group_wire_bytes / 1e6,
				(unsigned long long)c->mc_done_master,
				(unsigned long long)c->mc_done_listener,
				(unsigned long long)c->mc_unicast_retry);
		fprintf(out, "  goodput                      %.1f MB/s\n", s->goodput_mbs);
	} else {
		fprintf(out, "  reflected                    sent %llu, back %llu, lost %llu\n",
			(unsigned long long)c->reflect_tx, (unsigned long long)c->reflect_rx,
			(unsigned long long)c->reflect_lost);
	}
	fprintf(out, "  packets/s                    rx %.0f, tx %.0f (frames %llu / %llu)\n",
		s->rx_pps, s->tx_pps, (unsigned long long)r->rx_frames,
		(unsigned long long)r->tx_frames);
	fprintf(out,
		"  generator CPU                busy %.1f %% of its lcore, %.0f cycles = %.0f ns "
		"per "
		"packet (rx + tx)\n",
		s->busy_pct, s->cycles_per_pkt, s->ns_per_pkt);
	fprintf(out,
		"  lcore thread CPU             user %.3f s + system %.3f s = %.0f ns per packet; "
		"ran %.0f %% of the time (idle polling included), preempted %llu times\n",
		(double)r->cpu_user_us / 1e6, (double)r->cpu_sys_us / 1e6, s->cpu_ns_per_pkt,
		s->cpu_share_pct, (unsigned long long)r->preempted);
	fprintf(out,
		"  port                         imissed %llu, ierrors %llu, oerrors %llu, tx ring "
		"full %llu times, dropped %llu; kernel rx_dropped %lld\n",
		(unsigned long long)r->imissed, (unsigned long long)r->ierrors,
		(unsigned long long)r->oerrors, (unsigned long long)r->tx_full,
		(unsigned long long)r->tx_dropped, (long long)r->kernel_rx_dropped);
	fprintf(out,
		"  other                        ARP answered %llu, partial UDP checksums %llu, "
		"malformed %llu, not ours %llu, stale TFTP %llu, foreign TID %llu\n",
		(unsigned long long)c->arp_reply_tx, (unsigned long long)c->rx_csum_partial,
		(unsigned long long)c->rx_malformed, (unsigned long long)c->rx_not_ours,
		(unsigned long long)c->tftp_stale_rx, (unsigned long long)c->tftp_foreign_tid);
	fprintf(out, "  limit                        %s%s\n",
		s->gen_limited ? "THE GENERATOR: " : "", s->limit);
}

static void json_pcts(FILE *out, const char *name, const double v[4])
{
	fprintf(out, "\"%s\": {\"p50\": %.6f, \"p90\": %.6f, \"p99\": %.6f, \"max\": %.6f}, ", name,
		v[0], v[1], v[2], v[3]);
}

/* Strings we print come from us (no quotes or controls), except the driver name. */
static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++)
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s >= 0x20)
			fputc(*s, out);
	fputc('"', out);
}

void storm_report_json(FILE *out, const struct storm_fleet *f, const struct storm_run *r,
		       const struct storm_summary *s)
{
	const struct storm_counters *c = &f->c;
	bool first = true;

	fprintf(out, "{\"driver\": ");
	json_str(out, r->driver);
	fprintf(out,
		", \"reflect\": %s, \"vms\": %u, \"ovmf\": %u, \"ipxe\": %u, \"done\": %u, "
		"\"failed\": %u, \"leases\": %u, \"run_s\": %.6f, \"timed_out\": %s, "
		"\"interrupted\": %s, \"time_to_last_vm_s\": %.6f, ",
		f->cfg.reflect ? "true" : "false", s->vms, s->ovmf, s->ipxe, s->done, s->failed,
		s->leases, s->run_s, r->timed_out ? "true" : "false",
		r->interrupted ? "true" : "false", s->last_vm_s);
	json_pcts(out, "completion_s", s->compl_s);
	json_pcts(out, "dora_s", s->dora_s);
	fprintf(out, "\"fail_reasons\": {");
	for (unsigned i = 1; i < STORM_FAIL__COUNT; i++) {
		fprintf(out, "%s\"%s\": %u", first ? "" : ", ", storm_fail_name(i), f->n_fail[i]);
		first = false;
	}
	fprintf(out, "}, \"run_timeout_in\": {");
	first = true;
	for (unsigned st = 0; st < STORM_ST__COUNT; st++)
		if (f->n_fail_state[st]) {
			fprintf(out, "%s\"%s\": %u", first ? "" : ", ", storm_state_name(st),
				f->n_fail_state[st]);
			first = false;
		}
	fprintf(out, "}, \"rrq_unanswered_in\": {");
	first = true;
	for (unsigned st = 0; st < STORM_ST__COUNT; st++)
		if (f->n_unanswered_state[st]) {
			fprintf(out, "%s\"%s\": %u", first ? "" : ", ", storm_state_name(st),
				f->n_unanswered_state[st]);
			first = false;
		}
	fprintf(out, "}, \"states\": {");
	for (unsigned st = 0; st < STORM_ST__COUNT; st++)
		fprintf(out, "%s\"%s\": %u", st ? ", " : "", storm_state_name(st), f->n_state[st]);
	fprintf(out, "}, \"counters\": {");
	first = true;
#define X(n, d)                                                                                    \
	fprintf(out, "%s\"" #n "\": %llu", first ? "" : ", ", (unsigned long long)c->n);           \
	first = false;
	STORM_COUNTER_LIST(X)
#undef X
	fprintf(out,
		"}, \"retrans_ours\": %llu, \"retrans_theirs\": %llu, \"dup_data\": %llu, "
		"\"rx_frames\": %llu, \"tx_frames\": %llu, \"rx_bytes\": %llu, \"tx_bytes\": "
		"%llu, \"rx_pps\": %.1f, \"tx_pps\": %.1f, \"goodput_mbs\": %.3f, "
		"\"dora_per_s\": %.1f, ",
		(unsigned long long)s->retrans_ours, (unsigned long long)s->retrans_theirs,
		(unsigned long long)c->tftp_dup_data_rx, (unsigned long long)r->rx_frames,
		(unsigned long long)r->tx_frames, (unsigned long long)r->rx_bytes,
		(unsigned long long)r->tx_bytes, s->rx_pps, s->tx_pps, s->goodput_mbs,
		s->dora_per_s);
	fprintf(out,
		"\"busy_pct\": %.2f, \"cycles_per_pkt\": %.1f, \"ns_per_pkt\": %.1f, "
		"\"cpu_user_s\": %.6f, \"cpu_sys_s\": %.6f, \"cpu_ns_per_pkt\": %.1f, "
		"\"cpu_share_pct\": %.1f, \"preempted\": %llu, "
		"\"tsc_hz\": %llu, \"busy_cycles\": %llu, \"total_cycles\": %llu, \"loops\": %llu, "
		"\"imissed\": %llu, \"ierrors\": %llu, \"oerrors\": %llu, \"rx_nombuf\": %llu, "
		"\"tx_full\": %llu, \"tx_dropped\": %llu, \"kernel_rx_dropped\": %lld, "
		"\"generator_limited\": %s, \"limit\": ",
		s->busy_pct, s->cycles_per_pkt, s->ns_per_pkt, (double)r->cpu_user_us / 1e6,
		(double)r->cpu_sys_us / 1e6, s->cpu_ns_per_pkt, s->cpu_share_pct,
		(unsigned long long)r->preempted, (unsigned long long)r->tsc_hz,
		(unsigned long long)r->busy_cycles, (unsigned long long)r->total_cycles,
		(unsigned long long)r->loops, (unsigned long long)r->imissed,
		(unsigned long long)r->ierrors, (unsigned long long)r->oerrors,
		(unsigned long long)r->rx_nombuf, (unsigned long long)r->tx_full,
		(unsigned long long)r->tx_dropped, (long long)r->kernel_rx_dropped,
		s->gen_limited ? "true" : "false");
	json_str(out, s->limit);
	fprintf(out, "}\n");
}

static void hex32(FILE *out, const uint8_t *d)
{
	for (int i = 0; i < 32; i++)
		fprintf(out, "%02x", d[i]);
}

int storm_report_csv(const char *path, const struct storm_fleet *f)
{
	FILE *out = fopen(path, "w");

	if (!out)
		return -errno;
	fprintf(out, "vm,mac,kind,state,fail,fail_state,ip,bootfile,t_on_us,t_bound_us,"
		     "t_loader_us,t_done_us,loader_sha256\n");
	for (uint32_t i = 0; i < f->cfg.n_vms; i++) {
		const struct storm_vm *vm = &f->vm[i];
		const uint8_t *m = vm->mac;
		bool ok = vm->state == STORM_ST_DONE && vm->loader >= 0;

		fprintf(out,
			"%u,%02x:%02x:%02x:%02x:%02x:%02x,%s,%s,%s,%s,%u.%u.%u.%u,%s,%llu,%llu,%"
			"llu,"
			"%llu,",
			i, m[0], m[1], m[2], m[3], m[4], m[5],
			vm->kind == STORM_KIND_OVMF ? "ovmf" : "ipxe", storm_state_name(vm->state),
			storm_fail_name(vm->fail), vm->fail ? storm_state_name(vm->fail_state) : "",
			vm->ip >> 24, (vm->ip >> 16) & 255, (vm->ip >> 8) & 255, vm->ip & 255,
			vm->bootfile, (unsigned long long)vm->t_on, (unsigned long long)vm->t_bound,
			(unsigned long long)vm->t_loader, (unsigned long long)vm->t_done);
		/* The digest the VM's loader was checked against (it matched if state is done). */
		if (ok && f->files->f[vm->loader].has_sha)
			hex32(out, f->files->f[vm->loader].sha256);
		fputc('\n', out);
	}
	if (fclose(out) != 0)
		return -errno;
	return 0;
}
