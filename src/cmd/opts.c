/* Option parsing. Every value is range-checked here so the rest of the
 * program can trust struct options.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hostport.h"
#include "jsonl.h"
#include "opts.h"
#include "report_model.h"

static const char usage[] =
"Usage: tcptrail [OPTIONS]          trace live\n"
"       tcptrail leaks [OPTIONS]    report CLOSE_WAIT sockets now, then exit\n"
"       tcptrail top [OPTIONS]      live view of every listener's queues\n"
"       tcptrail replay FILE [OPTIONS]  reconstruct offline from a --record file\n"
"       tcptrail report [OPTIONS] FILE... -o report.html\n"
"                                   one HTML page from recordings and JSON logs\n"
"Trace every TCP connection's lifecycle live: state transitions, complete\n"
"histories, resets, SYN-ACK retransmits and accept-queue overflows; watch\n"
"every listener's SYN and accept queues and flag SYN floods and full accept\n"
"queues.\n"
"\n"
"Output:\n"
"  -j, --json              newline-delimited JSON instead of the text view\n"
"  -o, --output FILE       append output to FILE (a regular file, reopened\n"
"                          on SIGHUP; - for standard output)\n"
"      --states            each transition as a record too (the default in\n"
"                          the text view and replay; --json: histories only)\n"
"      --no-states         omit per-transition records (histories only)\n"
"      --no-histories      omit per-connection histories (transitions only)\n"
"Filters (output only; every socket is still tracked):\n"
"  -4, --ipv4              only IPv4 connections\n"
"  -6, --ipv6              only IPv6 connections\n"
"  -l, --lport PORTS       only these local ports, e.g. 80,443,8000-8100\n"
"  -r, --rport PORTS       only these remote ports\n"
"      --netns INODE       only this network namespace (ls -l /proc/PID/ns/net)\n"
"      --cgroup PATH       only sockets of this cgroup and those below it\n"
"                          (a cgroup v2 path, e.g. /system.slice/nginx.service)\n"
"      --container ID      only this container's sockets (4 to 64 hex digits\n"
"                          of its id)\n"
"Running:\n"
"  -d, --duration SECONDS  stop after SECONDS (fractions allowed)\n"
"      --leak-after SECONDS  report sockets in CLOSE_WAIT this long, with the\n"
"                          process and fd holding them (default 30; 0: off)\n"
"      --no-snapshot       do not seed histories from sockets already open\n"
"      --record FILE       also write every input to FILE, a new file (mode\n"
"                          0600; compact binary) for\n"
"                          'tcptrail replay' (connections only)\n"
"Listeners (tracing and tcptrail top):\n"
"      --interval SECONDS  sample listen queues this often (default 1, at\n"
"                          least 0.1); JSON gets a \"listener\" record per\n"
"                          listener and a \"netns\" record per namespace\n"
"      --no-listeners      no listener sampling, records or alerts (tracing)\n"
"      --max-listeners N   listeners watched at once (default 4096)\n"
"      --max-destinations N  destinations whose ephemeral ports are watched\n"
"                          (default 4096; the quietest is dropped when full)\n"
"      --retransmits-per-s N  live retransmit records a second at most (default\n"
"                          1000; 0: none); the rest are counted, not written\n"
"Metrics (tracing and tcptrail top):\n"
"      --metrics [ADDR:]PORT  serve Prometheus metrics at http://ADDR:PORT/metrics\n"
"                          (ADDR: IPv4, [IPv6] or localhost; none: every address)\n"
"      --metrics-linger SECONDS  keep a closed listener's series this long\n"
"                          (default 300)\n"
"      --web-config FILE   TLS, client certificates and basic auth for\n"
"                          --metrics, in the Prometheus exporters' web\n"
"                          configuration format (reread on SIGHUP)\n"
"Limits:\n"
"      --max-conns N       sockets tracked at once (default 262144); when full,\n"
"                          the least recently active is reported and dropped\n"
"      --ring-mb N         kernel ring buffer size in MiB, a power of 2\n"
"                          (default 8)\n"
"      --close-grace-ms N  wait this long after CLOSE for a reset record\n"
"                          before finishing a history (default 20)\n"
"tcptrail top: -j (the listener records as JSON), -o, -4, -6, -l, -d, --netns,\n"
"  --cgroup, --container as above\n"
"Leak report (tcptrail leaks): -j, -o, --netns, --cgroup, --container as above,\n"
"  and\n"
"      --all               list every socket (default: the 10 oldest per process)\n"
"Report (tcptrail report): -o (a new page, replaced whole), and\n"
"      --since TIME        only records at or after TIME (RFC 3339, e.g.\n"
"                          2026-11-21T10:00:00Z)\n"
"      --until TIME        only records at or before TIME\n"
"      --listener ADDR:PORT  only this listener and connections to it (ADDR:\n"
"                          IPv4, [IPv6] or * for any address)\n"
"  -v, --verbose           more diagnostics on stderr (twice: libbpf's too)\n"
"  -h, --help              this text\n"
"  -V, --version           version\n";

const char *opts_usage(void)
{
	return usage;
}

enum {
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
	OPT_RETRANSMITS_PER_S,
	OPT_METRICS,
	OPT_METRICS_LINGER,
	OPT_STATES,
	OPT_WEB_CONFIG,
	OPT_NETNS,
	OPT_CGROUP,
	OPT_CONTAINER,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_LISTENER,
};

static const struct option long_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "output", required_argument, NULL, 'o' },
	{ "states", no_argument, NULL, OPT_STATES },
	{ "no-states", no_argument, NULL, OPT_NO_STATES },
	{ "no-histories", no_argument, NULL, OPT_NO_HISTORIES },
	{ "ipv4", no_argument, NULL, '4' },
	{ "ipv6", no_argument, NULL, '6' },
	{ "lport", required_argument, NULL, 'l' },
	{ "rport", required_argument, NULL, 'r' },
	{ "duration", required_argument, NULL, 'd' },
	{ "no-snapshot", no_argument, NULL, OPT_NO_SNAPSHOT },
	{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
	{ "ring-mb", required_argument, NULL, OPT_RING_MB },
	{ "close-grace-ms", required_argument, NULL, OPT_GRACE_MS },
	{ "leak-after", required_argument, NULL, OPT_LEAK_AFTER },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "record", required_argument, NULL, OPT_RECORD },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "no-listeners", no_argument, NULL, OPT_NO_LISTENERS },
	{ "max-listeners", required_argument, NULL, OPT_MAX_LISTENERS },
	{ "max-destinations", required_argument, NULL, OPT_MAX_DESTINATIONS },
	{ "retransmits-per-s", required_argument, NULL, OPT_RETRANSMITS_PER_S },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "container", required_argument, NULL, OPT_CONTAINER },
	{ "metrics-linger", required_argument, NULL, OPT_METRICS_LINGER },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "listener", required_argument, NULL, OPT_LISTENER },
	{ "web-config", required_argument, NULL, OPT_WEB_CONFIG },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

static int parse_u32(const char *name, const char *s, uint32_t min, uint32_t max,
		     uint32_t *out, char *err, size_t errlen)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (*s < '0' || *s > '9')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		goto bad;
	*out = (uint32_t)v;
	return 0;
bad:
	snprintf(err, errlen, "%s: '%s' is not a whole number from %u to %u", name, s,
		 min, max);
	return -1;
}

static void set_defaults(struct options *o)
{
	memset(o, 0, sizeof(*o));
	filter_init(&o->filter);
	o->states = o->histories = o->snapshot = true;
	o->max_conns = OPT_DEFAULT_MAX_CONNS;
	o->ring_mb = OPT_DEFAULT_RING_MB;
	o->grace_ms = OPT_DEFAULT_GRACE_MS;
	o->leak_after_s = OPT_DEFAULT_LEAK_AFTER_S;
	o->limit = OPT_DEFAULT_LEAK_LIMIT;
	o->listeners = true;
	o->interval_s = OPT_DEFAULT_INTERVAL_S;
	o->max_listeners = OPT_DEFAULT_MAX_LISTENERS;
	o->retransmits_per_s = OPT_DEFAULT_RETRANSMITS_PER_S;
	o->max_destinations = OPT_DEFAULT_MAX_DESTINATIONS;
	o->metrics_linger_s = OPT_DEFAULT_METRICS_LINGER_S;
	o->since_ns = INT64_MIN;
	o->until_ns = INT64_MAX;
}

/* A non-negative number of seconds (fractions allowed); zero only if
 * allow_zero.
 */
static int parse_seconds(const char *name, const char *s, bool allow_zero, double *out,
			 char *err, size_t errlen)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || !isfinite(v) || v < 0 || (!allow_zero && v == 0) ||
	    v > OPT_MAX_SECONDS) {
		snprintf(err, errlen, "%s: '%s' is not a %s number of seconds up to %.0f", name, s,
			 allow_zero ? "non-negative" : "positive", OPT_MAX_SECONDS);
		return -1;
	}
	*out = v;
	return 0;
}

/* How the user wrote option c: --name (and -x where it has a short form). */
static void opt_name(int c, char *buf, size_t len)
{
	for (const struct option *lo = long_opts; lo->name; lo++)
		if (lo->val == c) {
			if (c < 256)
				snprintf(buf, len, "-%c/--%s", c, lo->name);
			else
				snprintf(buf, len, "--%s", lo->name);
			return;
		}
	snprintf(buf, len, "-%c", c);
}

/* The message for getopt's '?': an unknown option, or a known one given a
 * value it does not take (--json=5).
 */
static void unknown_option(const char *arg, int optopt_c, char *err, size_t errlen)
{
	if (arg && !strncmp(arg, "--", 2)) {
		size_t n = strcspn(arg + 2, "=");

		for (const struct option *lo = long_opts; lo->name; lo++)
			if (strlen(lo->name) == n && !strncmp(lo->name, arg + 2, n) &&
			    arg[2 + n] == '=') {
				snprintf(err, errlen, "option '--%s' takes no value", lo->name);
				return;
			}
		snprintf(err, errlen, "unknown option '%.*s'", (int)(n + 2), arg);
	} else if (optopt_c) {
		snprintf(err, errlen, "unknown option '-%c'", optopt_c);
	} else {
		snprintf(err, errlen, "unknown option '%s'", arg ? arg : "?");
	}
}

/* Whether option c means something in this mode. */
static bool applies(enum tt_mode mode, int c)
{
	if (mode == MODE_REPORT)
		return c == 'o' || c == 'v' || c == 'h' || c == 'V' || c == OPT_SINCE ||
		       c == OPT_UNTIL || c == OPT_LISTENER;
	switch (c) {
	case 'j': case 'o': case 'v': case 'h': case 'V':
		return true;
	case OPT_SINCE: case OPT_UNTIL: case OPT_LISTENER:
		return false;
	case OPT_ALL:
		return mode == MODE_LEAKS;
	case OPT_NETNS:
		return true;
	case OPT_CGROUP: case OPT_CONTAINER:	/* paths are live: not in recordings */
		return mode != MODE_REPLAY;
	case '4': case '6': case 'l':
		return mode != MODE_LEAKS;
	case OPT_STATES: case OPT_NO_STATES: case OPT_NO_HISTORIES: case 'r':
		return mode == MODE_TRACE || mode == MODE_REPLAY;
	case 'd': case OPT_INTERVAL: case OPT_MAX_LISTENERS: case OPT_METRICS:
	case OPT_MAX_DESTINATIONS: case OPT_RETRANSMITS_PER_S:
	case OPT_METRICS_LINGER: case OPT_WEB_CONFIG:
		return mode == MODE_TRACE || mode == MODE_TOP;
	default:	/* the kernel-facing and reconstruction settings */
		return mode == MODE_TRACE;
	}
}

static const char *mode_name(enum tt_mode mode)
{
	switch (mode) {
	case MODE_LEAKS:
		return "tcptrail leaks";
	case MODE_REPLAY:
		return "tcptrail replay";
	case MODE_TOP:
		return "tcptrail top";
	case MODE_REPORT:
		return "tcptrail report";
	default:
		return "tracing";
	}
}

/* tcptrail report's own options: the time window and the listener. */
static int report_option(struct options *o, int c, const char *arg, char *err, size_t errlen)
{
	struct rm_config lcfg;
	char perr[160];

	if (c == OPT_LISTENER) {
		if (rm_parse_listener(arg, &lcfg, perr, sizeof(perr))) {
			snprintf(err, errlen, "--listener: %s", perr);
			return -1;
		}
		o->report_listener = arg;
		return 0;
	}
	if (jsonl_rfc3339(arg, c == OPT_SINCE ? &o->since_ns : &o->until_ns)) {
		snprintf(err, errlen, "--%s: '%.80s' is not an RFC 3339 time such as "
			 "2026-11-21T10:00:00Z", c == OPT_SINCE ? "since" : "until", arg);
		return -1;
	}
	return 0;
}

/* The report's inputs: every argument left (getopt moved them last). */
static int report_inputs(struct options *o, int argc, char **argv, char *err, size_t errlen)
{
	if (optind >= argc) {
		snprintf(err, errlen, "report needs at least one input: a recording or a "
			 "JSON log (tcptrail report FILE... -o report.html)");
		return -1;
	}
	o->report_files = argv + optind;
	o->n_report_files = argc - optind;
	optind = argc;
	if (o->since_ns > o->until_ns) {
		snprintf(err, errlen, "--since is after --until: no record would be shown");
		return -1;
	}
	return 0;
}

int opts_parse(struct options *o, int argc, char **argv, char *err, size_t errlen)
{
	bool only4 = false, only6 = false;
	char perr[160];
	int c;

	set_defaults(o);
	if (argc > 1 && strcmp(argv[1], "leaks") == 0)
		o->mode = MODE_LEAKS;
	else if (argc > 1 && strcmp(argv[1], "replay") == 0)
		o->mode = MODE_REPLAY;
	else if (argc > 1 && strcmp(argv[1], "top") == 0)
		o->mode = MODE_TOP;
	else if (argc > 1 && strcmp(argv[1], "report") == 0)
		o->mode = MODE_REPORT;
	if (o->mode != MODE_TRACE) {
		argc--;
		argv++;
	}
	optind = 0;	/* full getopt reset: parse may run more than once */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jo:46l:r:d:vhV", long_opts, NULL)) != -1) {
		if (c != '?' && c != ':' && !applies(o->mode, c)) {
			char name[48];

			opt_name(c, name, sizeof(name));
			snprintf(err, errlen, "option '%s' does not apply to %s", name,
				 mode_name(o->mode));
			return -1;
		}
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 'o':
			if (!*optarg) {
				snprintf(err, errlen, "--output: empty file name");
				return -1;
			}
			o->output = optarg;
			break;
		case OPT_STATES:
		case OPT_NO_STATES:
			o->states = c == OPT_STATES;
			o->states_explicit = true;
			break;
		case OPT_NO_HISTORIES:
			o->histories = false;
			break;
		case '4':
			only4 = true;
			break;
		case '6':
			only6 = true;
			break;
		case 'l':
		case 'r':
			if (filter_parse_ports(c == 'l' ? &o->filter.lports : &o->filter.rports,
					       optarg, perr, sizeof(perr))) {
				snprintf(err, errlen, "--%s: %s", c == 'l' ? "lport" : "rport", perr);
				return -1;
			}
			break;
		case 'd':
			if (parse_seconds("--duration", optarg, false, &o->duration_s, err, errlen))
				return -1;
			break;
		case OPT_LEAK_AFTER:
			if (parse_seconds("--leak-after", optarg, true, &o->leak_after_s, err, errlen))
				return -1;
			if (o->leak_after_s > 0 && o->leak_after_s < OPT_MIN_LEAK_AFTER_S) {
				snprintf(err, errlen, "--leak-after: '%s' is below the minimum of %g "
					 "seconds (0 turns leak reports off)", optarg,
					 OPT_MIN_LEAK_AFTER_S);
				return -1;
			}
			break;
		case OPT_ALL:
			o->all = true;
			break;
		case OPT_RECORD:
			if (!*optarg) {
				snprintf(err, errlen, "--record: empty file name");
				return -1;
			}
			o->record = optarg;
			break;
		case OPT_INTERVAL:
			if (parse_seconds("--interval", optarg, false, &o->interval_s, err, errlen))
				return -1;
			if (o->interval_s < OPT_MIN_INTERVAL_S) {
				snprintf(err, errlen, "--interval: '%s' is below the minimum of %g seconds",
					 optarg, OPT_MIN_INTERVAL_S);
				return -1;
			}
			break;
		case OPT_NO_LISTENERS:
			o->listeners = false;
			break;
		case OPT_MAX_LISTENERS:
			if (parse_u32("--max-listeners", optarg, 1, 1u << 20, &o->max_listeners, err,
				      errlen))
				return -1;
			break;
		case OPT_RETRANSMITS_PER_S:
			if (parse_u32("--retransmits-per-s", optarg, 0, 1000000, &o->retransmits_per_s,
				      err, errlen))
				return -1;
			break;
		case OPT_MAX_DESTINATIONS:
			if (parse_u32("--max-destinations", optarg, 1, 1u << 20,
				      &o->max_destinations, err, errlen))
				return -1;
			break;
		case OPT_NETNS:
			if (parse_u32("--netns", optarg, 1, UINT32_MAX, &o->filter.netns, err, errlen))
				return -1;
			break;
		case OPT_CGROUP:
			if (optarg[0] != '/' || strlen(optarg) > 4096) {
				snprintf(err, errlen, "--cgroup: '%.80s' is not a cgroup path (one "
					 "starting with /, as in /proc/PID/cgroup)", optarg);
				return -1;
			}
			o->filter.cgroup = optarg;
			break;
		case OPT_CONTAINER:
			if (filter_parse_container(&o->filter, optarg, perr, sizeof(perr))) {
				snprintf(err, errlen, "--container: %s", perr);
				return -1;
			}
			break;
		case OPT_METRICS: {
			struct sockaddr_storage ss;
			socklen_t len;

			if (hostport_parse(optarg, &ss, &len, perr, sizeof(perr))) {
				snprintf(err, errlen, "--metrics: %s", perr);
				return -1;
			}
			o->metrics = optarg;
			break;
		}
		case OPT_METRICS_LINGER:
			if (parse_seconds("--metrics-linger", optarg, true, &o->metrics_linger_s, err,
					  errlen))
				return -1;
			break;
		case OPT_WEB_CONFIG:
			if (!*optarg) {
				snprintf(err, errlen, "--web-config: empty file name");
				return -1;
			}
			o->web_config = optarg;
			break;
		case OPT_NO_SNAPSHOT:
			o->snapshot = false;
			break;
		case OPT_SINCE:
		case OPT_UNTIL:
		case OPT_LISTENER:
			if (report_option(o, c, optarg, err, errlen))
				return -1;
			break;
		case OPT_MAX_CONNS:
			if (parse_u32("--max-conns", optarg, 16, OPT_MAX_MAX_CONNS, &o->max_conns, err,
				      errlen))
				return -1;
			break;
		case OPT_RING_MB:
			if (parse_u32("--ring-mb", optarg, 1, 1024, &o->ring_mb, err, errlen))
				return -1;
			if (o->ring_mb & (o->ring_mb - 1)) {
				snprintf(err, errlen, "--ring-mb: %u is not a power of 2", o->ring_mb);
				return -1;
			}
			break;
		case OPT_GRACE_MS:
			if (parse_u32("--close-grace-ms", optarg, 0, 10000, &o->grace_ms, err, errlen))
				return -1;
			break;
		case 'v':
			o->verbosity++;
			break;
		case 'h':
			o->mode = MODE_HELP;
			return 0;
		case 'V':
			o->mode = MODE_VERSION;
			return 0;
		case ':':
			snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
			return -1;
		default:
			unknown_option(argv[optind - 1], optopt, err, errlen);
			return -1;
		}
	}
	if (o->mode == MODE_REPLAY) {
		if (optind >= argc) {
			snprintf(err, errlen, "replay needs the recorded file: tcptrail replay FILE");
			return -1;
		}
		o->replay = argv[optind++];
	}
	if (o->mode == MODE_REPORT && report_inputs(o, argc, argv, err, errlen))
		return -1;
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (o->web_config && !o->metrics) {
		snprintf(err, errlen, "--web-config configures the --metrics endpoint; give "
			 "--metrics too");
		return -1;
	}
	if (only4 && only6) {
		snprintf(err, errlen, "-4 and -6 together would show nothing; give one or neither");
		return -1;
	}
	/* JSON goes where histories are wanted: each transition as a record
	 * costs the kernel a record per state change (--states asks for it)
	 */
	if (o->mode == MODE_TRACE && o->json && !o->states_explicit)
		o->states = false;
	if (only4)
		o->filter.ipv6 = false;
	if (only6)
		o->filter.ipv4 = false;
	if (o->mode == MODE_TRACE && !o->states && !o->histories && o->leak_after_s == 0 &&
	    !o->record && !o->listeners && !o->metrics) {
		snprintf(err, errlen, "--no-states with --no-histories, --leak-after 0 and "
			 "--no-listeners would show nothing");
		return -1;
	}
	return 0;
}
