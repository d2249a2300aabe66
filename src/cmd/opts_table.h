/* The options, one table: what each is called, takes, applies to and says
 * in --help. opts.c parses with it, opts_help.c prints it.
 */
#ifndef TT_OPTS_TABLE_H
#define TT_OPTS_TABLE_H

#include "opts.h"

/* Options without a short letter. */
enum opt_id {
	OPT_NO_STATES = 256,
	OPT_NO_HISTORIES,
	OPT_NO_SNAPSHOT,
	OPT_MAX_CONNS,
	OPT_RING_MB,
	OPT_GRACE_MS,
	OPT_LEAK_AFTER,
	OPT_ALL,
	OPT_RECORD,
	OPT_INTERVAL,
	OPT_NO_LISTENERS,
	OPT_MAX_LISTENERS,
	OPT_MAX_DESTINATIONS,
	OPT_METRICS,
	OPT_METRICS_LINGER,
	OPT_NETNS,
	OPT_CGROUP,
	OPT_CONTAINER,
	OPT_LADDR,
	OPT_RADDR,
	OPT_STATES,
	OPT_RETRANSMITS_PER_S,
	OPT_WEB_CONFIG,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_LISTENER,
};

/* The commands an option applies to (bits of 1 << enum tt_mode). */
#define M_TRACE (1u << MODE_TRACE)
#define M_TOP (1u << MODE_TOP)
#define M_LEAKS (1u << MODE_LEAKS)
#define M_REPLAY (1u << MODE_REPLAY)
#define M_REPORT (1u << MODE_REPORT)
/* the commands that read connections (report reads files, not sockets) */
#define M_ANY (M_TRACE | M_TOP | M_LEAKS | M_REPLAY)

/* --help's sections, in order. */
enum opt_group { G_OUTPUT, G_FILTERS, G_RUNNING, G_LISTENERS, G_METRICS, G_LIMITS, G_REPORT,
		 G_OTHER, G_N };

struct opt_def {
	const char *name;	/* the long name; NULL ends the table */
	int val;		/* its short letter, or an enum opt_id */
	char alias;		/* an older short letter for it, or 0 */
	const char *arg;	/* what its value is called; NULL: it takes none */
	unsigned modes;		/* M_ bits */
	unsigned char group;	/* enum opt_group */
	const char *help;	/* lines of at most 52 characters */
	/* what it means to the commands of alt_modes, if that differs */
	unsigned alt_modes;
	const char *help_alt;
};

extern const struct opt_def opt_defs[];

/* The entry getopt's c stands for, or NULL. */
const struct opt_def *opt_def_of(int c);

#endif
