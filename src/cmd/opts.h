/* Command line: subcommand and options, parsed without side effects. */
#ifndef TT_OPTS_H
#define TT_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "filter.h"

enum tt_mode {
	MODE_TRACE = 0,	/* default: trace live */
	MODE_HELP,	/* --help printed: exit 0 */
	MODE_VERSION,
	MODE_LEAKS,	/* one-shot CLOSE_WAIT report */
	MODE_REPLAY,	/* reconstruct from a --record file */
	MODE_TOP,	/* live listener view */
	MODE_REPORT,	/* HTML page from recordings and JSON logs */
};

#define OPT_DEFAULT_MAX_CONNS 262144
#define OPT_DEFAULT_GRACE_MS 20
#define OPT_DEFAULT_LEAK_AFTER_S 30
#define OPT_DEFAULT_LEAK_LIMIT 10
#define OPT_DEFAULT_INTERVAL_S 1.0
#define OPT_MIN_INTERVAL_S 0.1
#define OPT_DEFAULT_MAX_LISTENERS 4096
#define OPT_DEFAULT_RETRANSMITS_PER_S 1000
#define OPT_DEFAULT_MAX_DESTINATIONS 4096
#define OPT_DEFAULT_METRICS_LINGER_S 300
/* Bounds that keep every setting meaningful: the largest table a machine
 * can reserve (16 Mi connections: 3.5 GiB), the longest duration, the
 * shortest CLOSE_WAIT worth calling a leak.
 */
#define OPT_MAX_MAX_CONNS (1u << 24)
#define OPT_MAX_SECONDS 1e9
#define OPT_MIN_LEAK_AFTER_S 0.001

struct options {
	enum tt_mode mode;
	bool json;
	const char *output;	/* NULL: stdout */
	const char *record;	/* --record FILE: journal of all inputs */
	const char *replay;	/* replay: the file to read */
	double duration_s;	/* 0: until SIGINT/SIGTERM */
	struct filter filter;
	bool states;		/* per-transition records */
	bool states_explicit;	/* --states or --no-states was given */
	bool histories;		/* per-connection records */
	bool snapshot;		/* seed from existing sockets at start */
	uint32_t max_conns;
	uint32_t ring_mb;
	uint32_t grace_ms;
	double leak_after_s;	/* 0: no leak detection */
	bool listeners;		/* sample listen queues; alerts */
	double interval_s;	/* listener sampling period */
	uint32_t max_listeners;
	uint32_t retransmits_per_s;	/* live retransmit records, all CPUs; 0: none */
	uint32_t max_destinations;
	const char *metrics;	/* --metrics [ADDR:]PORT; NULL: no endpoint */
	const char *web_config;	/* --web-config FILE: TLS, auth; NULL: plain HTTP */
	double metrics_linger_s;	/* a closed listener's series kept this long */
	bool all;		/* leaks: list every socket */
	uint32_t limit;		/* leaks: sockets listed per process */
	bool wide;		/* top: every column; text view: no wrapped lines */
	int verbosity;
	enum tt_mode help_for;	/* MODE_HELP: the command whose options to list */
	/* tcptrail report: its inputs (argv entries), time window (ns since
	 * 1970; INT64_MIN/INT64_MAX when not given) and --listener
	 */
	char **report_files;
	int n_report_files;
	int64_t since_ns, until_ns;
	const char *report_listener;
};

/* Fill o from argv. Returns 0 on success; -1 with a one-line reason in err. */
int opts_parse(struct options *o, int argc, char **argv, char *err, size_t errlen);

/* The --help text of one command (MODE_TRACE: tcptrail itself, which also
 * lists the commands) into buf, cut to len. Returns its length.
 */
size_t opts_usage(enum tt_mode mode, char *buf, size_t len);

#endif
