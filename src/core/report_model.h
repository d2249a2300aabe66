/* The report's model: what `tcptrail report` draws, gathered from the JSON
 * records tcptrail writes (read from NDJSON files, or made by replaying a
 * recording through the JSON emitter). Any record type reaches it the same
 * way, so a new kind of kernel record only has to reach a JSON record.
 *
 * Bounded whatever the input: time series in TL_BINS shared bins, fixed
 * tables of listeners, destinations and processes (past them: counted, not
 * charted), top-N lists, and a capped list of leak and alert events.
 * Pure logic: no I/O.
 */
#ifndef TT_REPORT_MODEL_H
#define TT_REPORT_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include "jsonl.h"
#include "sink.h"
#include "timeline.h"

#define RM_MAX_LISTENERS 256
#define RM_MAX_DESTS 256
#define RM_MAX_PROCS 256
#define RM_MAX_INPUTS 256
#define RM_MAX_SPANS 4096	/* alert start and clear records kept */
#define RM_MAX_LEAK_EVENTS 200000
#define RM_WATERFALL 20		/* slowest and failed connections drawn */
#define RM_MAX_BAD 12		/* bad lines quoted */
#define RM_MAX_OTHER_TYPES 8	/* unknown record types named */
#define RM_OLDEST 20		/* oldest leaks listed */
#define RM_OWNERS 4		/* owners kept per leak */
#define RM_NAME 72		/* an endpoint, as text */
#define RM_TEXT 160		/* a comm, cgroup or quoted line, as kept */
#define RM_STATE 16
#define RM_STATES 10

/* Record types tcptrail writes, in the order the overview lists them. */
enum rm_type {
	RT_STATE, RT_HISTORY, RT_RESET, RT_SYNACK, RT_OVERFLOW, RT_LOST, RT_LEAK,
	RT_RESOLVED, RT_LISTENER, RT_NETNS, RT_ALERT, RT_PORTS, RT_LEAK_PROCESS, RT_N
};
extern const char *const rm_type_names[RT_N];

/* How a connection ended (the history's "end"); RM_END_OTHER for a name
 * this version does not know.
 */
#define RM_N_ENDS 15
#define RM_END_OTHER (RM_N_ENDS - 1)
extern const char *const rm_end_names[RM_N_ENDS];

enum rm_role { RM_ACTIVE, RM_PASSIVE, RM_UNKNOWN_ROLE, RM_N_ROLES };
extern const char *const rm_role_names[RM_N_ROLES];

/* Distributions: 1-2-5 buckets from 1 us to 1000 s, one below, one above. */
enum rm_dist_kind { RM_HANDSHAKE, RM_ACCEPT_WAIT, RM_DURATION, RM_N_DISTS };
#define RM_DIST_BUCKETS 29
struct rm_dist {
	uint64_t n, min, max;
	uint64_t bucket[RM_DIST_BUCKETS];
};
/* Bucket b holds values below rm_dist_edge(b) (and at least edge(b - 1)). */
uint64_t rm_dist_edge(int b);
int rm_dist_bucket(uint64_t ns);
/* The value below which a fraction q of the samples lie, as the upper edge
 * of its bucket (the exact maximum for the last).
 */
uint64_t rm_dist_quantile(const struct rm_dist *d, double q);

/* A connection in a waterfall. */
struct rm_conn {
	int64_t end_ns;			/* wall clock, ns since 1970 */
	uint64_t id, duration_ns;
	uint64_t handshake_ns, accept_wait_ns, half_close_ns; /* TL_NONE: null */
	uint32_t pid;			/* 0: no owner in the record */
	uint8_t nstates;
	uint8_t role;			/* enum rm_role */
	char end[24];
	char local[RM_NAME], remote[RM_NAME];
	char comm[RM_TEXT];
	char states[RM_STATES][RM_STATE];
	uint64_t durations_ns[RM_STATES]; /* TL_NONE: null (the last) */
};

/* Listener series fields. */
enum { LF_ACCEPTQ, LF_ACCEPTQ_MAX, LF_SYNQ, LF_SYNQ_MAX, LF_DROPS, LF_SYNACK,
       LF_SYNACK_EV, LF_OVERFLOW_EV, LF_N };
struct rm_listener {
	uint64_t id;		/* listener_id */
	uint64_t netns;
	char addr[RM_NAME];	/* laddr:lport */
	char comm[RM_TEXT];
	uint32_t pid;
	uint64_t samples;	/* listener records */
	uint64_t peak_acceptq, peak_synq, acceptq_max, synq_max;
	uint64_t drops, synack, synack_ev, overflow_ev;
	uint32_t alerts;
	struct tl_series *s;
};

/* Port series fields. */
enum { PF_USED, PF_RANGE, PF_FAILS, PF_N };
struct rm_dest {
	char label[2 * RM_NAME + 8];	/* laddr -> raddr:rport */
	uint64_t netns;
	uint64_t peak_used, range, failures, samples;
	uint32_t peak_permille;		/* used over range */
	uint32_t alerts;
	struct tl_series *s;
};

/* An alert start or clear; paired into spans by rm_finish(). */
enum rm_alert_kind { AK_SYN_FLOOD, AK_SYN_BACKLOG, AK_ACCEPTQ_FULL, AK_PORTS, AK_N };
extern const char *const rm_alert_names[AK_N];
struct rm_span {
	int64_t start, end;	/* end: INT64_MAX still active when the input ends */
	int64_t sort_ts;	/* the record's own time (before pairing) */
	uint16_t owner;		/* listener or destination index */
	uint8_t kind;		/* enum rm_alert_kind */
	bool is_clear;		/* before pairing: a clear record */
	bool start_seen;	/* the start record was in the input */
};

struct rm_owner {
	uint32_t pid, fd;
};
struct rm_leak {
	int64_t ts;
	uint64_t id, close_wait_ns;
	uint16_t proc;		/* index into procs */
	bool resolved;		/* a close_wait_resolved record */
	bool lower_bound;
	bool dup;		/* the socket was open already: not counted again */
	uint8_t nowners;
	uint64_t resolved_ns;	/* rm_finish(): its age when resolved; TL_NONE open */
	uint32_t owners_total;
	struct rm_owner owners[RM_OWNERS];
	char to[RM_STATE];	/* resolved: where it went */
};
struct rm_proc {
	uint32_t pid;
	char comm[RM_TEXT];
	uint64_t leaks, resolved, peak_open;
	struct tl_series *s;	/* open leaks (max per bin), made by rm_finish() */
};
/* A leak still open when the input ends, or resolved, with its age. */
struct rm_oldest {
	uint32_t leak;		/* index into leaks */
	uint64_t age_ns;	/* at resolution, or at the end of the input */
	bool open;
};

struct rm_bad {
	char file[RM_TEXT];
	uint64_t line;
	char why[96];
	char text[RM_TEXT];
};

enum rm_input_kind { RI_JSON, RI_RECORDING };
struct rm_input {
	char name[RM_TEXT];
	uint8_t kind;
	bool compressed;
	uint64_t records, bad;
	char error[200];	/* the input ended early: why ("" if whole) */
	char note[200];		/* recordings: the format and settings */
};

struct rm_config {
	int64_t since, until;	/* INT64_MIN / INT64_MAX: no bound */
	/* --listener: port 0 for none; addr "" for any address */
	uint16_t lport;
	char laddr[48];
};

struct rm_index;

struct report_model {
	struct timeline tl;
	uint64_t records, outside, filtered, bad;
	uint64_t by_type[RT_N];
	uint64_t other_types;		/* records of types not known here */
	uint32_t n_other_names;
	char other_names[RM_MAX_OTHER_TYPES][32];
	uint64_t other_counts[RM_MAX_OTHER_TYPES];
	/* losses, by cause (sink.h's numbers); the last: a name this
	 * version does not know
	 */
	uint64_t lost[LOST_N_CAUSES + 1];
	/* connections */
	uint64_t ends[RM_N_ENDS], incomplete;
	struct tl_series *ended;	/* per interval, by end */
	struct rm_dist dist[RM_N_DISTS][RM_N_ROLES];
	struct rm_conn slowest[RM_WATERFALL], failed[RM_WATERFALL];
	uint32_t n_slowest, n_failed;
	/* listeners, alerts, ports */
	struct rm_listener listeners[RM_MAX_LISTENERS];
	uint32_t n_listeners;
	uint64_t listeners_dropped;	/* records of listeners past the table */
	struct rm_dest dests[RM_MAX_DESTS];
	uint32_t n_dests;
	uint64_t dests_dropped;
	struct rm_span *spans;
	uint32_t n_spans;
	uint64_t spans_dropped;
	uint64_t alerts_by_kind[AK_N];
	/* leaks */
	struct rm_leak *leaks;		/* grows by doubling up to the limit */
	uint32_t n_leaks, cap_leaks;
	uint64_t leaks_dropped;
	struct rm_proc procs[RM_MAX_PROCS];
	uint32_t n_procs;
	struct rm_oldest oldest[RM_OLDEST];
	uint32_t n_oldest;
	uint64_t open_at_end;
	/* the inputs and their damage */
	struct rm_input inputs[RM_MAX_INPUTS];
	uint32_t n_inputs;
	uint64_t inputs_not_listed;
	struct rm_bad bad_lines[RM_MAX_BAD];
	uint32_t n_bad_lines;
	bool finished;
	struct rm_index *index;		/* report_parts.c's lookups */
};

/* --listener ADDR:PORT into cfg's laddr and lport: ADDR an IPv4 address,
 * a bracketed IPv6 one, or * (or nothing: PORT alone) for any address.
 * Returns 0, or -1 with a reason in err.
 */
int rm_parse_listener(const char *spec, struct rm_config *cfg, char *err, size_t errlen);

/* NULL when out of memory. */
struct report_model *rm_new(const struct rm_config *cfg);
void rm_free(struct report_model *m);

/* A new input file; later records and bad lines are its own. */
void rm_input(struct report_model *m, const char *name, uint8_t kind, bool compressed);
/* The current input ended early (damaged, cut): why. */
void rm_input_error(struct report_model *m, const char *why);
void rm_input_note(struct report_model *m, const char *note);

/* One parsed record. Returns 0, or -1 when it is not a record (no type or
 * no valid ts): the caller counts it as a bad line.
 */
int rm_record(struct report_model *m, struct jsonl *j, char *why, size_t whylen);
/* A line that is not a record: counted, and the first few quoted. */
void rm_bad_line(struct report_model *m, uint64_t line, const char *why, const char *text,
		 size_t len);

/* After the last record: pair alerts into spans, count open leaks per
 * process over time, pick the oldest leaks.
 */
void rm_finish(struct report_model *m);

/* Helpers shared with the writer. */
const struct rm_input *rm_current_input(const struct report_model *m);

#endif
