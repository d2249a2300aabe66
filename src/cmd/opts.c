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
#include "opts_table.h"
#include "report_model.h"

/* getopt's view of the table: built once per parse. */
#define MAX_OPTS 64
static struct option long_opts[MAX_OPTS];
static char short_opts[2 * MAX_OPTS];

static void build_getopt_tables(void)
{
	size_t n = 0, k = 0;

	short_opts[k++] = ':';	/* a missing value is ':' */
	for (const struct opt_def *d = opt_defs; d->name && n < MAX_OPTS - 1; d++, n++) {
		long_opts[n] = (struct option){ d->name, d->arg ? required_argument : no_argument,
						NULL, d->val };
		for (int c = d->val; c < 256 && k < sizeof(short_opts) - 3;
		     c = c == d->val && d->alias ? d->alias : 256) {
			short_opts[k++] = (char)c;
			if (d->arg)
				short_opts[k++] = ':';
		}
	}
	long_opts[n] = (struct option){ 0 };
	short_opts[k] = '\0';
}

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
	o->ring_mb = 0;	/* sized at start (tracer_setup.c) */
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

/* How the user wrote option c: -x/--name (or --name where it has no short
 * form).
 */
static void opt_name(int c, char *buf, size_t len)
{
	const struct opt_def *d = opt_def_of(c);

	if (d && d->val < 256)
		snprintf(buf, len, "-%c/--%s", c, d->name);
	else if (d)
		snprintf(buf, len, "--%s", d->name);
	else
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
	const struct opt_def *d = opt_def_of(c);

	return d && (d->modes & (1u << mode));
}

static int take_limit(struct options *o, int c, const char *arg, char *err, size_t errlen);

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

/* The filter options (-4 and -6 wait for the end: together they are an
 * error). Returns 0, or -1 with err said.
 */
static int take_filter(struct options *o, int c, const char *arg, char *err, size_t errlen)
{
	struct filter *f = &o->filter;
	const struct opt_def *d = opt_def_of(c);
	char perr[160];
	int ret = 0;

	switch (c) {
	case 'L': case 'l':
		ret = filter_parse_ports(&f->lports, arg, perr, sizeof(perr));
		break;
	case 'D': case 'r':
		ret = filter_parse_ports(&f->rports, arg, perr, sizeof(perr));
		break;
	case 'P':
		ret = filter_parse_ports(&f->ports, arg, perr, sizeof(perr));
		break;
	case 'a':
		ret = filter_parse_addrs(&f->addrs, arg, perr, sizeof(perr));
		break;
	case OPT_LADDR:
		ret = filter_parse_addrs(&f->laddrs, arg, perr, sizeof(perr));
		break;
	case OPT_RADDR:
		ret = filter_parse_addrs(&f->raddrs, arg, perr, sizeof(perr));
		break;
	case 'p':
		return parse_u32("--pid", arg, 1, INT32_MAX, &f->pid, err, errlen);
	case 'c':
		ret = filter_parse_comm(f, arg, perr, sizeof(perr));
		break;
	case OPT_NETNS:
		return parse_u32("--netns", arg, 1, UINT32_MAX, &f->netns, err, errlen);
	case OPT_CGROUP:
		if (arg[0] != '/' || strlen(arg) > 4096) {
			snprintf(err, errlen, "--cgroup: '%.80s' is not a cgroup path (one "
				 "starting with /, as in /proc/PID/cgroup)", arg);
			return -1;
		}
		f->cgroup = arg;
		break;
	case OPT_CONTAINER:
		ret = filter_parse_container(f, arg, perr, sizeof(perr));
		break;
	default:
		return 1;	/* not a filter */
	}
	if (ret)
		snprintf(err, errlen, "--%s: %s", d ? d->name : "?", perr);
	return ret;
}

/* What an output, running or limit option sets. Returns 0, or -1 with err
 * said.
 */
static int take_setting(struct options *o, int c, const char *arg, char *err, size_t errlen)
{
	switch (c) {
	case 'j':
		o->json = true;
		return 0;
	case 'w':
		o->wide = true;
		return 0;
	case 'T':	/* the text view always has its TIME column */
		return 0;
	case 'o':
		if (!*arg) {
			snprintf(err, errlen, "--output: empty file name");
			return -1;
		}
		o->output = arg;
		return 0;
	case OPT_STATES:
	case OPT_NO_STATES:
		o->states = c == OPT_STATES;
		o->states_explicit = true;
		return 0;
	case OPT_NO_HISTORIES:
		o->histories = false;
		return 0;
	case 'd':
		return parse_seconds("--duration", arg, false, &o->duration_s, err, errlen);
	case OPT_LEAK_AFTER:
		if (parse_seconds("--leak-after", arg, true, &o->leak_after_s, err, errlen))
			return -1;
		if (o->leak_after_s > 0 && o->leak_after_s < OPT_MIN_LEAK_AFTER_S) {
			snprintf(err, errlen, "--leak-after: '%s' is below the minimum of %g "
				 "seconds (0 turns leak reports off)", arg, OPT_MIN_LEAK_AFTER_S);
			return -1;
		}
		return 0;
	case OPT_ALL:
		o->all = true;
		return 0;
	case OPT_RECORD:
		if (!*arg) {
			snprintf(err, errlen, "--record: empty file name");
			return -1;
		}
		o->record = arg;
		return 0;
	case OPT_NO_SNAPSHOT:
		o->snapshot = false;
		return 0;
	case OPT_WEB_CONFIG:
		if (!*arg) {
			snprintf(err, errlen, "--web-config: empty file name");
			return -1;
		}
		o->web_config = arg;
		return 0;
	case OPT_SINCE:
	case OPT_UNTIL:
	case OPT_LISTENER:
		return report_option(o, c, arg, err, errlen);
	case 'v':
		o->verbosity++;
		return 0;
	default:
		return take_limit(o, c, arg, err, errlen);
	}
}

/* Numbers with bounds: listeners, metrics, table and ring sizes. */
static int take_limit(struct options *o, int c, const char *arg, char *err, size_t errlen)
{
	switch (c) {
	case OPT_INTERVAL:
		if (parse_seconds("--interval", arg, false, &o->interval_s, err, errlen))
			return -1;
		if (o->interval_s < OPT_MIN_INTERVAL_S) {
			snprintf(err, errlen, "--interval: '%s' is below the minimum of %g seconds",
				 arg, OPT_MIN_INTERVAL_S);
			return -1;
		}
		return 0;
	case OPT_NO_LISTENERS:
		o->listeners = false;
		return 0;
	case OPT_MAX_LISTENERS:
		return parse_u32("--max-listeners", arg, 1, 1u << 20, &o->max_listeners, err, errlen);
	case OPT_RETRANSMITS_PER_S:
		return parse_u32("--retransmits-per-s", arg, 0, 1000000, &o->retransmits_per_s, err,
				 errlen);
	case OPT_MAX_DESTINATIONS:
		return parse_u32("--max-destinations", arg, 1, 1u << 20, &o->max_destinations, err,
				 errlen);
	case OPT_METRICS: {
		struct sockaddr_storage ss;
		socklen_t len;
		char perr[160];

		if (hostport_parse(arg, &ss, &len, perr, sizeof(perr))) {
			snprintf(err, errlen, "--metrics: %s", perr);
			return -1;
		}
		o->metrics = arg;
		return 0;
	}
	case OPT_METRICS_LINGER:
		return parse_seconds("--metrics-linger", arg, true, &o->metrics_linger_s, err, errlen);
	case OPT_MAX_CONNS:
		return parse_u32("--max-conns", arg, 16, OPT_MAX_MAX_CONNS, &o->max_conns, err, errlen);
	case OPT_RING_MB:
		if (parse_u32("--ring-mb", arg, 1, 1024, &o->ring_mb, err, errlen))
			return -1;
		if (o->ring_mb & (o->ring_mb - 1)) {
			snprintf(err, errlen, "--ring-mb: %u is not a power of 2", o->ring_mb);
			return -1;
		}
		return 0;
	case OPT_GRACE_MS:
		return parse_u32("--close-grace-ms", arg, 0, 10000, &o->grace_ms, err, errlen);
	default:
		snprintf(err, errlen, "option %d has no handler", c);
		return -1;
	}
}

/* What the whole command line says once every option is read. */
static int check_whole(struct options *o, bool only4, bool only6, char *err, size_t errlen)
{
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

static enum tt_mode command_of(const char *arg)
{
	static const struct {
		const char *name;
		enum tt_mode mode;
	} commands[] = { { "leaks", MODE_LEAKS }, { "replay", MODE_REPLAY }, { "top", MODE_TOP },
			 { "report", MODE_REPORT } };

	for (size_t i = 0; arg && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(arg, commands[i].name))
			return commands[i].mode;
	return MODE_TRACE;
}

int opts_parse(struct options *o, int argc, char **argv, char *err, size_t errlen)
{
	bool only4 = false, only6 = false;
	int c;

	set_defaults(o);
	build_getopt_tables();
	o->mode = command_of(argc > 1 ? argv[1] : NULL);
	if (o->mode != MODE_TRACE) {
		argc--;
		argv++;
	}
	optind = 0;	/* full getopt reset: parse may run more than once */
	opterr = 0;
	while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
		if (c == 'h' || c == 'V') {
			o->help_for = o->mode;
			o->mode = c == 'h' ? MODE_HELP : MODE_VERSION;
			return 0;
		}
		if (c == ':') {
			snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
			return -1;
		}
		if (c == '?') {
			unknown_option(argv[optind - 1], optopt, err, errlen);
			return -1;
		}
		if (!applies(o->mode, c)) {
			char name[48];

			opt_name(c, name, sizeof(name));
			snprintf(err, errlen, "option '%s' does not apply to %s", name,
				 mode_name(o->mode));
			return -1;
		}
		if (c == '4' || c == '6') {
			*(c == '4' ? &only4 : &only6) = true;
			continue;
		}
		switch (take_filter(o, c, optarg, err, errlen)) {
		case 0:
			continue;
		case 1:
			break;
		default:
			return -1;
		}
		if (take_setting(o, c, optarg, err, errlen))
			return -1;
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
		snprintf(err, errlen, "unexpected argument '%.80s'", argv[optind]);
		return -1;
	}
	return check_whole(o, only4, only6, err, errlen);
}
