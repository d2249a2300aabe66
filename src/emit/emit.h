/* The two output formats: newline-delimited JSON and an aligned text view. */
#ifndef TT_EMIT_H
#define TT_EMIT_H

#include <stdbool.h>
#include <stdint.h>
#include "cgroup_path.h"
#include "fmt.h"
#include "listen_watch.h"
#include "outbuf.h"
#include "sink.h"
#include "state_age.h"
#include "text_order.h"

/* Owners listed in one leak record ("owners_truncated" counts the rest);
 * rec.h makes the record's byte budget hold them all.
 */
#define EMIT_MAX_OWNERS 64
/* Processes the text view aggregates per batch before saying "and N more". */
#define EMIT_AGG_MAX 32
/* Bytes of a cgroup path a record shows at most. */
#define EMIT_MAX_CGROUP_PATH 512
/* Bytes of a reset reason's name (from the kernel's BTF) shown at most. */
#define EMIT_MAX_REASON 64
#define EMIT_AGG_FDS 8

/* The text view holds its lines back a history's grace period and this
 * much more (the tracing loop's poll period and the ring buffer's wakeup
 * delay, with room), so that histories print in time order.
 */
#define EMIT_TEXT_HOLD_SLACK_NS 250000000ull
/* At most this much is held; past it the oldest lines go early. */
#define EMIT_TEXT_HOLD_BYTES (8u << 20)
#define EMIT_TEXT_HOLD_LINES 65536u

/* Text view: leaks (or resolutions) of one process within one batch. */
struct leak_agg {
	uint32_t pid;
	uint32_t netns;
	uint64_t cgroup;
	uint16_t family, lport, rport;
	uint8_t laddr[TT_ADDR_LEN];
	uint8_t raddr[TT_ADDR_LEN];	/* the first peer's */
	uint32_t count;
	uint32_t held;		/* the process's open leaks after this batch */
	uint64_t max_age_ns;
	bool lower_bound;
	bool resolved;		/* aggregates resolutions, not new leaks */
	uint8_t nfds;
	uint32_t fds[EMIT_AGG_FDS];
	char comm[TT_COMM_LEN];
};

struct emitter {
	struct outbuf *out;
	struct fmt_clock clock;
	uint32_t own_netns;	/* text view names other namespaces only */
	bool header_done;
	uint64_t shown;		/* records written (filters left them in) */
	/* Names of enum sk_rst_reason values, from the running kernel's BTF;
	 * NULL entries (or none at all) print as numbers.
	 */
	const char *const *rst_reasons;
	uint32_t n_rst_reasons;
	/* cgroup ids to paths and containers; NULL: ids only */
	cgroup_lookup_fn cgroup_lookup;
	void *cgroup_ctx;
	/* The text view's lines: held back and printed in time order when
	 * order is set (else written as they come), against now() (NULL: the
	 * newest line's time, as in replay); wrapped past TEXT_WIDTH unless
	 * wide.
	 */
	struct text_order *order;
	uint64_t (*now)(void);
	/* each socket's last transition, for the time in the old state on
	 * state lines; NULL: not shown
	 */
	struct state_age *ages;
	uint64_t age_cookie, age_ns;	/* the last transition's socket, its age */
	bool wide;
	char *line_begin;	/* the line being written */
	size_t detail_off;	/* where its DETAIL column starts */
	uint64_t line_ts;
	char line[OUTBUF_MAX_RECORD];	/* a held line is written here */
	char wrapped[OUTBUF_MAX_RECORD];
	/* text view's per-batch leak aggregation */
	struct leak_agg agg[EMIT_AGG_MAX];
	uint32_t nagg;
	uint32_t agg_overflow;	/* records past EMIT_AGG_MAX processes */
	uint64_t agg_ts;
	/* the JSON record being written: bytes its lists may still use (rec.h) */
	size_t rec_lists_left;
};

void emitter_init(struct emitter *em, struct outbuf *out);

extern const struct sink_ops emit_json_ops;
extern const struct sink_ops emit_text_ops;
/* Listener output, with an emitter as ctx: JSON listener, netns and alert
 * records (the schema in docs/schema.md); the text view shows alerts only
 * (tcptrail top shows the rest).
 */
extern const struct listen_sink_ops emit_json_listen_ops;
extern const struct listen_sink_ops emit_text_listen_ops;

/* The records those write, one at a time: a listener's, a namespace's, a
 * destination's ports record.
 */
void emit_json_listen_listener(struct emitter *em, const struct lw_listener *l, uint64_t ts_ns);
void emit_json_listen_netns(struct emitter *em, const struct lw_netns *ns, uint64_t ts_ns);
struct ports;
struct ports_dest;
void emit_json_listen_ports(struct emitter *em, const struct ports *ports,
			    const struct ports_dest *d, uint64_t now_ns);

/* tcptrail leaks' summary of one process: pid (0: none), comm (NULL: not
 * known), container_id ("" for none), its sockets, and the oldest one's
 * age (DURATION_UNKNOWN: not known).
 */
void emit_json_leak_process(struct emitter *em, uint64_t ts_ns, uint32_t pid, const char *comm,
			    const char *container_id, uint64_t sockets, uint64_t oldest_ns);

/* Name of a reset reason, or NULL when the kernel's BTF did not say. */
const char *emit_rst_reason(const struct emitter *em, uint16_t reason);


/* Print the text view's column header now (the text sink also does this
 * before its first record).
 */
void emit_text_header(struct emitter *em);

/* Hold the text view's lines back for time order: a history's grace
 * period and some more, against now (NULL: the newest line's time, as in
 * replay). Returns the held lines (the caller's to free with
 * text_order_free), or NULL without memory.
 */
struct text_order *emit_text_hold(struct emitter *em, uint64_t grace_ns, uint64_t (*now)(void));

/* Show on state lines the time each socket spent in its old state,
 * remembering up to sockets of them in ages (the caller's to free).
 * Returns 0 or -1 (out of memory).
 */
int emit_text_ages(struct emitter *em, struct state_age *ages, uint32_t sockets);

/* Print every text line still held back (at the end of a run). */
void emit_text_flush(struct emitter *em);

#endif
