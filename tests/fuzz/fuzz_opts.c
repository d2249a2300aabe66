/* libFuzzer target: the command line. The input is split at NUL bytes into
 * arguments. A failed parse must give one terminated, non-empty sentence; a
 * parse that succeeds must give options within the bounds --help documents
 * (and opts.h names), only the options the mode takes, the same options
 * when parsed again. The oracle aborts on its own: no sanitizer is needed.
 */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hostport.h"
#include "opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 32

static void fail(const char *why)
{
	fprintf(stderr, "fuzz_opts: %s\n", why);
	abort();
}

/* 0 (the default: none) or a number within [lo, hi]. */
static bool zero_or_within(double v, double lo, double hi)
{
	return v == 0 || (isfinite(v) && v >= lo && v <= hi);
}

static void check_values(const struct options *o)
{
	if (o->max_conns < 16 || o->max_conns > OPT_MAX_MAX_CONNS)
		fail("--max-conns out of 16..2^24");
	/* 0: not given, sized at start */
	if (o->ring_mb && (o->ring_mb > 1024 || (o->ring_mb & (o->ring_mb - 1))))
		fail("--ring-mb not a power of 2 from 1 to 1024");
	if (o->grace_ms > 10000)
		fail("--close-grace-ms over 10000");
	if (!zero_or_within(o->leak_after_s, OPT_MIN_LEAK_AFTER_S, OPT_MAX_SECONDS))
		fail("--leak-after neither 0 nor from 0.001 s to 10^9 s");
	if (!(o->duration_s == 0 || (o->duration_s > 0 && o->duration_s <= OPT_MAX_SECONDS)))
		fail("--duration not positive up to 10^9 s");
	if (!isfinite(o->interval_s) || o->interval_s < OPT_MIN_INTERVAL_S ||
	    o->interval_s > OPT_MAX_SECONDS)
		fail("--interval out of 0.1 s to 10^9 s");
	if (o->max_listeners < 1 || o->max_listeners > 1u << 20 ||
	    o->max_destinations < 1 || o->max_destinations > 1u << 20)
		fail("--max-listeners or --max-destinations out of 1..2^20");
	if (!zero_or_within(o->metrics_linger_s, 0, OPT_MAX_SECONDS))
		fail("--metrics-linger out of 0 to 10^9 s");
	if (o->limit != OPT_DEFAULT_LEAK_LIMIT || o->verbosity < 0)
		fail("a setting no option sets changed");
	if ((o->output && !*o->output) || (o->record && !*o->record))
		fail("an empty file name");
	if (!o->filter.ipv4 && !o->filter.ipv6)
		fail("neither family shown");
	if (o->filter.cgroup && (o->filter.cgroup[0] != '/' || strlen(o->filter.cgroup) > 4096))
		fail("--cgroup not a path of at most 4096 bytes");
	for (const char *c = o->filter.container; *c; c++)
		if (!isxdigit((unsigned char)*c))
			fail("--container not hex digits");
	if (o->filter.container[0] && strlen(o->filter.container) < 4)
		fail("--container shorter than 4 digits");
	if (o->metrics) {
		struct sockaddr_storage ss;
		socklen_t len;
		char err[160];

		if (hostport_parse(o->metrics, &ss, &len, err, sizeof(err)))
			fail("--metrics accepted an address it cannot bind");
	}
}

/* Only the options each mode takes (--help's sections). */
static void check_mode(const struct options *o)
{
	bool trace = o->mode == MODE_TRACE, top = o->mode == MODE_TOP;

	if ((o->mode == MODE_REPLAY) != (o->replay != NULL))
		fail("a recording named without replay, or replay without one");
	if (o->all && o->mode != MODE_LEAKS)
		fail("--all outside tcptrail leaks");
	if ((o->record || !o->snapshot || o->max_conns != OPT_DEFAULT_MAX_CONNS ||
	     o->ring_mb != 0 || o->grace_ms != OPT_DEFAULT_GRACE_MS ||
	     o->leak_after_s != OPT_DEFAULT_LEAK_AFTER_S || !o->listeners) && !trace)
		fail("a tracing setting outside tracing");
	if ((o->metrics || o->duration_s || o->interval_s != OPT_DEFAULT_INTERVAL_S) &&
	    !trace && !top)
		fail("a live setting outside tracing and top");
	if (o->filter.cgroup && o->mode == MODE_REPLAY)
		fail("--cgroup with replay");
	if (trace && !o->states && !o->histories && !o->leak_after_s && !o->record &&
	    !o->listeners && !o->metrics)
		fail("tracing that would show nothing");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *argv[MAX_ARGS + 2];
	static struct options o, again;	/* 16 KiB of port bits each */
	char err[256];
	int argc = 1, rc;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[0] = "tcptrail";
	for (size_t i = 0; i < size && argc <= MAX_ARGS; i += strlen(copy + i) + 1)
		argv[argc++] = copy + i;
	argv[argc] = NULL;
	err[0] = '\0';
	rc = opts_parse(&o, argc, argv, err, sizeof(err));
	if (rc && (!err[0] || !memchr(err, '\0', sizeof(err))))
		fail("a refusal without a sentence");
	if (!rc && o.mode != MODE_HELP && o.mode != MODE_VERSION) {
		check_values(&o);
		check_mode(&o);
		if (opts_parse(&again, argc, argv, err, sizeof(err)) || memcmp(&o, &again, sizeof(o)))
			fail("the same command line parsed twice gave two answers");
	}
	free(copy);
	return 0;
}
