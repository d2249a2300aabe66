/* Prometheus text exposition. Label values come from the kernel and from
 * process names, which anyone can choose: quotes, backslashes and newlines
 * are escaped as the format says, and any byte that is not printable ASCII
 * becomes '?', so the page stays valid UTF-8 whatever a process calls
 * itself.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include "fmt.h"
#include "metrics_text.h"
#include "tcp_names.h"
#include "version.h"

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void label_value(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else
			fputc(c >= 0x20 && c < 0x7f ? c : '?', f);
	}
	fputc('"', f);
}

/* netns="…",laddr="…",lport="…",container="…" */
static void listener_label_list(FILE *f, const void *arg)
{
	const struct metrics_listener *l = arg;
	char addr[64];
	char *end = fmt_addr(addr, l->family, l->addr);

	*end = '\0';
	fprintf(f, "netns=\"%u\",laddr=\"%s\",lport=\"%u\",container=\"%s\"", l->netns, addr,
		l->port, l->container);
}

/* {labels : the caller closes the brace. */
static void listener_labels(FILE *f, const struct metrics_listener *l)
{
	fputc('{', f);
	listener_label_list(f, l);
}

/* Does a role get a histogram in slot k: the two real roles always for
 * sockets in no container, anything once observed.
 */
static bool histogram_shown(const struct metrics_conns *k, bool first, int r)
{
	for (int b = 0; b <= METRICS_BUCKETS; b++)
		if (k->duration_bucket[r][b])
			return true;
	return first && r != ROLE_UNKNOWN;
}

static void histogram(const struct metrics_conns *k, int r, FILE *f)
{
	const char *role = conn_role_name(r);
	uint64_t sum = 0;

	for (int b = 0; b <= METRICS_BUCKETS; b++) {
		sum += k->duration_bucket[r][b];
		fprintf(f, "tcptrail_connection_duration_seconds_bucket{role=\"%s\",container=\"%s\",",
			role, k->container);
		if (b < METRICS_BUCKETS)
			fprintf(f, "le=\"%g\"} %llu\n", metrics_duration_bounds[b],
				(unsigned long long)sum);
		else
			fprintf(f, "le=\"+Inf\"} %llu\n", (unsigned long long)sum);
	}
	fprintf(f, "tcptrail_connection_duration_seconds_sum{role=\"%s\",container=\"%s\"} %.9g\n",
		role, k->container, k->duration_sum_s[r]);
	fprintf(f, "tcptrail_connection_duration_seconds_count{role=\"%s\",container=\"%s\"} %llu\n",
		role, k->container, (unsigned long long)sum);
}

/* One histogram of a latency series: name{labels,le="…"}; labels is
 * written by the callback (without braces), so listener labels escape as
 * everywhere else.
 */
static void latency_histogram(FILE *f, const char *name, const struct latency_series *s,
			      void (*labels)(FILE *f, const void *arg), const void *arg)
{
	uint64_t sum = 0;

	for (int b = 0; b <= LATENCY_BOUNDS; b++) {
		sum += s->bucket[b];
		fprintf(f, "%s_bucket{", name);
		labels(f, arg);
		if (b < LATENCY_BOUNDS)
			fprintf(f, ",le=\"%g\"} %llu\n", latency_bounds_s[b], (unsigned long long)sum);
		else
			fprintf(f, ",le=\"+Inf\"} %llu\n", (unsigned long long)sum);
	}
	fprintf(f, "%s_sum{", name);
	labels(f, arg);
	fprintf(f, "} %.9g\n%s_count{", s->sum_s, name);
	labels(f, arg);
	fprintf(f, "} %llu\n", (unsigned long long)sum);
}

static void role_label(FILE *f, const void *arg)
{
	fprintf(f, "role=\"%s\"", conn_role_name(*(const int *)arg));
}

/* How finished connections delivered: RTT, retransmits, limited time. */
static void delivery(const struct metrics *m, FILE *f)
{
	header(f, "tcptrail_rtt_seconds", "histogram",
	       "Smoothed round-trip time of finished connections over their data, read "
	       "when they closed.");
	for (int r = ROLE_ACTIVE; r <= ROLE_PASSIVE; r++)
		latency_histogram(f, "tcptrail_rtt_seconds", &m->rtt[r], role_label, &r);

	header(f, "tcptrail_retransmitted_segments_total", "counter",
	       "Segments finished connections retransmitted, counted when they closed.");
	for (int r = ROLE_ACTIVE; r <= ROLE_PASSIVE; r++)
		fprintf(f, "tcptrail_retransmitted_segments_total{role=\"%s\"} %llu\n",
			conn_role_name(r), (unsigned long long)m->retrans_segs[r]);

	header(f, "tcptrail_limited_seconds_total", "counter",
	       "Time finished connections spent sending (busy), and the parts of it limited "
	       "by the peer's receive window (receiver) or their own send buffer "
	       "(sender_buffer).");
	for (int l = 0; l < METRICS_LIMS; l++)
		fprintf(f, "tcptrail_limited_seconds_total{by=\"%s\"} %.9g\n",
			l == METRICS_LIM_BUSY ? "busy"
			: l == METRICS_LIM_RECEIVER ? "receiver" : "sender_buffer",
			m->limited_s[l]);
}

/* The CLOSE_WAIT leaks still open, by process. */
static void leaked(const struct metrics *m, FILE *f)
{
	header(f, "tcptrail_close_wait_leaked_sockets", "gauge",
	       "Sockets reported as CLOSE_WAIT leaks and not resolved, by the process "
	       "holding them (the names with most leaks, the rest as other).");
	for (uint32_t i = 0; i < m->ncomms; i++) {
		const struct metrics_comm *c = &m->comms[i];
		bool other = i == METRICS_COMMS;

		fputs("tcptrail_close_wait_leaked_sockets{comm=", f);
		if (other)
			fputs("\"other\"", f);
		else if (!c->comm[0])
			fputs("\"unowned\"", f);
		else
			label_value(f, c->comm, TT_COMM_LEN);
		fprintf(f, "} %u\n", c->leaked);
	}
}

static void connections(const struct metrics *m, FILE *f)
{
	header(f, "tcptrail_connections_closed_total", "counter",
	       "Connection histories finished, by role, how they ended and container.");
	for (uint32_t i = 0; i < m->nconns; i++)
		for (int r = 0; r < METRICS_ROLES; r++)
			for (int e = 0; e < METRICS_ENDS; e++)
				if (m->conns[i].closed[r][e])
					fprintf(f, "tcptrail_connections_closed_total{role=\"%s\","
						"end=\"%s\",container=\"%s\"} %llu\n",
						conn_role_name(r), conn_end_name(e),
						m->conns[i].container,
						(unsigned long long)m->conns[i].closed[r][e]);

	header(f, "tcptrail_connection_duration_seconds", "histogram",
	       "Length of finished connections from their first state to their last "
	       "(those begun before tracing are not counted).");
	for (uint32_t i = 0; i < m->nconns; i++)
		for (int r = 0; r < METRICS_ROLES; r++)
			if (histogram_shown(&m->conns[i], i == 0, r))
				histogram(&m->conns[i], r, f);

	header(f, "tcptrail_handshake_seconds", "histogram",
	       "Handshakes completed: active, connect() to the SYN-ACK; passive, the first "
	       "SYN-ACK sent to the completing ACK.");
	for (int r = ROLE_ACTIVE; r <= ROLE_PASSIVE; r++)
		latency_histogram(f, "tcptrail_handshake_seconds", &m->handshake[r], role_label, &r);

	delivery(m, f);

	header(f, "tcptrail_connections_tracked", "gauge",
	       "Sockets tracked now, by current state.");
	for (int s = TT_TCP_ESTABLISHED; s < TT_TCP_NEW_SYN_RECV; s++)
		fprintf(f, "tcptrail_connections_tracked{state=\"%s\"} %u\n", tcp_state_name(s),
			m->tracked[s]);

	header(f, "tcptrail_resets_total", "counter", "TCP resets sent and received.");
	for (uint32_t i = 0; i < m->nconns; i++) {
		const struct metrics_conns *k = &m->conns[i];

		fprintf(f, "tcptrail_resets_total{direction=\"sent\",container=\"%s\"} %llu\n",
			k->container, (unsigned long long)k->resets[METRICS_RST_SENT]);
		fprintf(f, "tcptrail_resets_total{direction=\"received\",container=\"%s\"} %llu\n",
			k->container, (unsigned long long)k->resets[METRICS_RST_RECEIVED]);
	}

	leaked(m, f);

	header(f, "tcptrail_records_lost_total", "counter",
	       "Kernel records lost, by cause; the histories they touched are marked incomplete.");
	for (int c = 0; c < LOST_N_CAUSES; c++)
		fprintf(f, "tcptrail_records_lost_total{cause=\"%s\"} %llu\n", lost_cause_name(c),
			(unsigned long long)m->lost[c]);
}

/* The listener gauges and counters, in the order they are served. */
enum listener_figure {
	LM_ACCEPTQ, LM_ACCEPTQ_LIMIT, LM_SYNQ, LM_SYNQ_LIMIT,
	LM_DROPS, LM_SYNACK_RETRANS, LM_RETRANS_SEGS, LM_OVERFLOWS,
	LM_N,
};

static const struct listener_metric {
	const char *name, *type, *help;
} listener_metrics[LM_N] = {
	[LM_ACCEPTQ] = { "tcptrail_listener_accept_queue", "gauge",
		"Connections in the accept queue: handshake done, not yet accepted." },
	[LM_ACCEPTQ_LIMIT] = { "tcptrail_listener_accept_queue_limit", "gauge",
		"The accept queue's limit: min(backlog, net.core.somaxconn)." },
	[LM_SYNQ] = { "tcptrail_listener_syn_queue", "gauge",
		"Half-open connections in the SYN queue." },
	[LM_SYNQ_LIMIT] = { "tcptrail_listener_syn_queue_limit", "gauge",
		"The SYN queue's limit as the kernel applies it." },
	[LM_DROPS] = { "tcptrail_listener_drops_total", "counter",
		"Segments the listener dropped: its sk_drops, as ss -ltnm shows it (SYNs and ACKs turned away, and the resets that ended half-open requests)." },
	[LM_SYNACK_RETRANS] = { "tcptrail_listener_synack_retransmits_total", "counter",
		"SYN-ACKs retransmitted." },
	[LM_RETRANS_SEGS] = { "tcptrail_listener_retransmitted_segments_total", "counter",
		"Segments retransmitted by the connections it accepted, counted when they closed." },
	[LM_OVERFLOWS] = { "tcptrail_listener_overflows_total", "counter",
		"Handshake-completing ACKs dropped because the accept queue was full (drop reason TCP_LISTEN_OVERFLOW, on kernels that have it)." },
};

static unsigned long long listener_value(const struct metrics_listener *s, enum listener_figure k)
{
	switch (k) {
	case LM_ACCEPTQ: return s->acceptq;
	case LM_ACCEPTQ_LIMIT: return s->acceptq_limit;
	case LM_SYNQ: return s->synq;
	case LM_SYNQ_LIMIT: return s->synq_limit;
	case LM_DROPS: return s->drops;
	case LM_SYNACK_RETRANS: return s->synack_retrans;
	case LM_RETRANS_SEGS: return s->retrans_segs;
	case LM_OVERFLOWS: return s->overflows;
	case LM_N: break;
	}
	return 0;
}

static void listeners(const struct metrics *m, FILE *f)
{
	for (int k = 0; k < LM_N; k++) {
		const struct listener_metric *lm = &listener_metrics[k];

		header(f, lm->name, lm->type, lm->help);
		for (uint32_t i = 0; i < m->nlisteners; i++) {
			const struct metrics_listener *s = &m->listeners[i];

			fputs(lm->name, f);
			listener_labels(f, s);
			fprintf(f, "} %llu\n", listener_value(s, (enum listener_figure)k));
		}
	}
	header(f, "tcptrail_accept_wait_seconds", "histogram",
	       "Time connections waited in the listener's accept queue, from the handshake's "
	       "completion to the accept() that returned them.");
	for (uint32_t i = 0; i < m->nlisteners; i++)
		latency_histogram(f, "tcptrail_accept_wait_seconds", &m->listeners[i].accept_wait,
				  listener_label_list, &m->listeners[i]);
	header(f, "tcptrail_listener_alert", "gauge",
	       "1 while the alert is active on the listener, else 0.");
	for (uint32_t i = 0; i < m->nlisteners; i++)
		for (int a = 0; a < LW_N_ALERTS; a++) {
			fputs("tcptrail_listener_alert", f);
			listener_labels(f, &m->listeners[i]);
			fprintf(f, ",alert=\"%s\"} %d\n", lw_alert_names[a],
				(m->listeners[i].alerts >> a) & 1);
		}
	header(f, "tcptrail_listener_series_dropped_total", "counter",
	       "Listener samples not exported because the series table was full.");
	fprintf(f, "tcptrail_listener_series_dropped_total %llu\n",
		(unsigned long long)m->listeners_dropped);
}

static void destinations(const struct metrics *m, FILE *f)
{
	header(f, "tcptrail_ephemeral_ports_used_ratio", "gauge",
	       "Share of the namespace's usable ephemeral ports held for connects to this "
	       "destination (in use and TIME_WAIT; TIME_WAIT left out where tcp_tw_reuse "
	       "applies); destinations past half their range or alerted.");
	for (uint32_t i = 0; i < m->ndests; i++) {
		const struct metrics_dest *d = &m->dests[i];
		char addr[64];

		*fmt_addr(addr, d->family, d->raddr) = '\0';
		fprintf(f, "tcptrail_ephemeral_ports_used_ratio{netns=\"%u\",raddr=\"%s\","
			"rport=\"%u\"} %.3f\n", d->netns, addr, d->rport, d->permille / 1000.0);
	}
	header(f, "tcptrail_ephemeral_ports_series_dropped", "gauge",
	       "Destinations past half their range not given a series now (more than 64).");
	fprintf(f, "tcptrail_ephemeral_ports_series_dropped %u\n", m->dests_dropped);
}

static const char *const refusal_names[HTTP_REFUSALS] = {
	[HTTP_REFUSED_PER_ADDRESS] = "per_address",
	[HTTP_REFUSED_EVICTED] = "evicted",
	[HTTP_REFUSED_TIMEOUT] = "timeout",
	[HTTP_REFUSED_TOO_LARGE] = "too_large",
	[HTTP_REFUSED_BAD_REQUEST] = "bad_request",
	[HTTP_REFUSED_UNAUTHORIZED] = "unauthorized",
};

const double http_scrape_bounds[HTTP_SCRAPE_BUCKETS] = {
	0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5,
};

void http_stats_scrape(struct http_stats *s, double d)
{
	int b = 0;

	while (b < HTTP_SCRAPE_BUCKETS && d > http_scrape_bounds[b])
		b++;
	s->scrape_bucket[b]++;
	s->scrape_sum_s += d;
}

int metrics_text_endpoint(const struct http_stats *s, FILE *f)
{
	uint64_t sum = 0;

	header(f, "tcptrail_scrape_duration_seconds", "histogram",
	       "Scrapes of this endpoint answered, from the request line to the last byte of "
	       "the answer sent (the scrape being answered is not counted yet).");
	for (int b = 0; b <= HTTP_SCRAPE_BUCKETS; b++) {
		sum += s->scrape_bucket[b];
		if (b < HTTP_SCRAPE_BUCKETS)
			fprintf(f, "tcptrail_scrape_duration_seconds_bucket{le=\"%g\"} %llu\n",
				http_scrape_bounds[b], (unsigned long long)sum);
		else
			fprintf(f, "tcptrail_scrape_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
				(unsigned long long)sum);
	}
	fprintf(f, "tcptrail_scrape_duration_seconds_sum %.9g\n", s->scrape_sum_s);
	fprintf(f, "tcptrail_scrape_duration_seconds_count %llu\n", (unsigned long long)sum);
	header(f, "tcptrail_http_refused_total", "counter",
	       "Connections and requests this endpoint turned away, by reason.");
	for (int r = 0; r < HTTP_REFUSALS; r++)
		fprintf(f, "tcptrail_http_refused_total{reason=\"%s\"} %llu\n", refusal_names[r],
			(unsigned long long)s->refused[r]);
	if (s->tls) {
		header(f, "tcptrail_http_tls_handshake_failures_total", "counter",
		       "TLS connections that ended before their handshake completed, other than "
		       "those the endpoint closed itself, by reason.");
		fprintf(f, "tcptrail_http_tls_handshake_failures_total{reason=\"client_certificate\"}"
			" %llu\n", (unsigned long long)s->tls_failures[HTTP_TLS_CLIENT_CERT]);
		fprintf(f, "tcptrail_http_tls_handshake_failures_total{reason=\"other\"} %llu\n",
			(unsigned long long)s->tls_failures[HTTP_TLS_OTHER]);
	}
	header(f, "tcptrail_http_connections", "gauge", "Connections open to this endpoint now.");
	fprintf(f, "tcptrail_http_connections %u\n", s->open);
	return fflush(f) || ferror(f) ? -1 : 0;
}

int metrics_text(const struct metrics *m, FILE *f)
{
	header(f, "tcptrail_build_info", "gauge", "The running tcptrail's version; always 1.");
	fprintf(f, "tcptrail_build_info{version=\"%s\"} 1\n", TCPTRAIL_VERSION);
	connections(m, f);
	if (m->listeners_on)
		listeners(m, f);
	if (m->ports_on)
		destinations(m, f);
	return fflush(f) || ferror(f) ? -1 : 0;
}
