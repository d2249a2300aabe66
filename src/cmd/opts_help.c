/* The option table and each command's --help, printed from it: a command
 * lists only the options it takes.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "opts_table.h"

/* Help lines are at most 52 characters, so that with the 26 of the names a
 * line fits 78 columns.
 */
const struct opt_def opt_defs[] = {
	{ "json", 'j', 0, NULL, M_ANY, G_OUTPUT,
	  "newline-delimited JSON instead of the text view",
	  M_TOP, "the listener, namespace and alert records as\nnewline-delimited JSON instead of the view" },
	{ "output", 'o', 0, "FILE", M_ANY | M_REPORT, G_OUTPUT,
	  "append output to FILE (a regular file, reopened\non SIGHUP; - for standard output)",
	  M_REPORT, "write the page to FILE (a new page, replaced\nwhole)" },
	{ "states", OPT_STATES, 0, NULL, M_TRACE | M_REPLAY, G_OUTPUT,
	  "each transition as a record too (the default in\nthe text view and replay; --json: histories only)" },
	{ "no-states", OPT_NO_STATES, 0, NULL, M_TRACE | M_REPLAY, G_OUTPUT,
	  "omit per-transition records (histories only)" },
	{ "no-histories", OPT_NO_HISTORIES, 0, NULL, M_TRACE | M_REPLAY, G_OUTPUT,
	  "omit per-connection histories (transitions only)" },
	{ "wide", 'w', 0, NULL, M_TRACE | M_TOP | M_REPLAY, G_OUTPUT,
	  "each record on one line, however long",
	  M_TOP, "every column, lines not cut to the terminal (or\nto 100 columns when not one)" },
	{ "time", 'T', 0, NULL, M_TRACE | M_REPLAY, G_OUTPUT,
	  "the TIME column, as in tcplife and tcpstates (the\ntext view always has it)" },
	{ "pid", 'p', 0, "PID", M_ANY, G_FILTERS,
	  "only sockets of process PID (their owner: the\nprocess that connected, accepted or listens)",
	  M_TOP, "only listeners of process PID" },
	{ "comm", 'c', 0, "NAME", M_ANY, G_FILTERS,
	  "only sockets of processes named NAME (as in\n/proc/PID/comm; at most 15 characters)",
	  M_TOP, "only listeners of processes named NAME" },
	{ "ipv4", '4', 0, NULL, M_TRACE | M_TOP | M_REPLAY, G_FILTERS, "only IPv4" },
	{ "ipv6", '6', 0, NULL, M_TRACE | M_TOP | M_REPLAY, G_FILTERS, "only IPv6" },
	{ "lport", 'L', 'l', "PORTS", M_TRACE | M_TOP | M_REPLAY, G_FILTERS,
	  "only these local ports, e.g. 80,443,8000-8100" },
	{ "rport", 'D', 'r', "PORTS", M_TRACE | M_TOP | M_REPLAY, G_FILTERS,
	  "only these remote ports" },
	{ "port", 'P', 0, "PORTS", M_TRACE | M_TOP | M_REPLAY, G_FILTERS,
	  "only these ports at either end (to or from them)" },
	{ "addr", 'a', 0, "ADDRS", M_TRACE | M_TOP | M_REPLAY, G_FILTERS,
	  "only these addresses or prefixes at either end,\ne.g. 192.0.2.7,198.51.100.0/24,2001:db8::/32" },
	{ "laddr", OPT_LADDR, 0, "ADDRS", M_TRACE | M_TOP | M_REPLAY, G_FILTERS,
	  "only these local addresses or prefixes" },
	{ "raddr", OPT_RADDR, 0, "ADDRS", M_TRACE | M_TOP | M_REPLAY, G_FILTERS,
	  "only these remote addresses or prefixes" },
	{ "netns", OPT_NETNS, 0, "INODE", M_ANY, G_FILTERS,
	  "only this network namespace (ls -l /proc/PID/ns/net)" },
	{ "cgroup", OPT_CGROUP, 0, "PATH", M_TRACE | M_TOP | M_LEAKS, G_FILTERS,
	  "only sockets of this cgroup and those below it\n(a cgroup v2 path, e.g. /system.slice/nginx.service)" },
	{ "container", OPT_CONTAINER, 0, "ID", M_TRACE | M_TOP | M_LEAKS, G_FILTERS,
	  "only this container's sockets (4 to 64 hex digits\nof its id)" },
	{ "duration", 'd', 0, "SECONDS", M_TRACE | M_TOP, G_RUNNING,
	  "stop after SECONDS (fractions allowed)" },
	{ "leak-after", OPT_LEAK_AFTER, 0, "SECONDS", M_TRACE, G_RUNNING,
	  "report sockets in CLOSE_WAIT this long, with the\nprocess and fd holding them (default 30; 0: off)" },
	{ "no-snapshot", OPT_NO_SNAPSHOT, 0, NULL, M_TRACE, G_RUNNING,
	  "do not seed histories from sockets already open" },
	{ "record", OPT_RECORD, 0, "FILE", M_TRACE, G_RUNNING,
	  "also write every input to FILE, a new file (mode\n0600; compact binary) for 'tcptrail replay'\n(connections only)" },
	{ "all", OPT_ALL, 0, NULL, M_LEAKS, G_RUNNING,
	  "list every socket (default: the 10 oldest per\nprocess)" },
	{ "interval", OPT_INTERVAL, 0, "SECONDS", M_TRACE | M_TOP, G_LISTENERS,
	  "sample listen queues this often (default 1, at\nleast 0.1); JSON gets a \"listener\" record per\nlistener and a \"netns\" record per namespace" },
	{ "no-listeners", OPT_NO_LISTENERS, 0, NULL, M_TRACE, G_LISTENERS,
	  "no listener sampling, records or alerts" },
	{ "max-listeners", OPT_MAX_LISTENERS, 0, "N", M_TRACE | M_TOP, G_LISTENERS,
	  "listeners watched at once (default 4096)" },
	{ "max-destinations", OPT_MAX_DESTINATIONS, 0, "N", M_TRACE | M_TOP, G_LISTENERS,
	  "destinations whose ephemeral ports are watched\n(default 4096; the quietest is dropped when full)" },
	{ "retransmits-per-s", OPT_RETRANSMITS_PER_S, 0, "N", M_TRACE | M_TOP, G_LISTENERS,
	  "live retransmit records a second at most\n(default 1000; 0: none); the rest are counted,\nnot written" },
	{ "metrics", OPT_METRICS, 0, "[ADDR:]PORT", M_TRACE | M_TOP, G_METRICS,
	  "serve Prometheus metrics at\nhttp://ADDR:PORT/metrics (ADDR: IPv4, [IPv6] or\nlocalhost; none: every address)" },
	{ "metrics-linger", OPT_METRICS_LINGER, 0, "SECONDS", M_TRACE | M_TOP, G_METRICS,
	  "keep a closed listener's series this long\n(default 300)" },
	{ "web-config", OPT_WEB_CONFIG, 0, "FILE", M_TRACE | M_TOP, G_METRICS,
	  "TLS, client certificates and basic auth for\n--metrics, in the Prometheus exporters' web\nconfiguration format (reread on SIGHUP)" },
	{ "max-conns", OPT_MAX_CONNS, 0, "N", M_TRACE, G_LIMITS,
	  "sockets tracked at once (default 262144); when\nfull, the least recently active is reported and\ndropped" },
	{ "ring-mb", OPT_RING_MB, 0, "N", M_TRACE, G_LIMITS,
	  "kernel ring buffer size in MiB, a power of 2\n(default: room for a history of every socket\nopen at start, 8 to 128)" },
	{ "close-grace-ms", OPT_GRACE_MS, 0, "N", M_TRACE, G_LIMITS,
	  "wait this long after CLOSE for a reset record\nbefore finishing a history (default 20)" },
	{ "since", OPT_SINCE, 0, "TIME", M_REPORT, G_REPORT,
	  "only records at or after TIME (RFC 3339, e.g.\n2026-11-21T10:00:00Z)" },
	{ "until", OPT_UNTIL, 0, "TIME", M_REPORT, G_REPORT,
	  "only records at or before TIME" },
	{ "listener", OPT_LISTENER, 0, "ADDR:PORT", M_REPORT, G_REPORT,
	  "only this listener and connections to it (ADDR:\nIPv4, [IPv6] or * for any address)" },
	{ "verbose", 'v', 0, NULL, M_ANY | M_REPORT, G_OTHER,
	  "more diagnostics on stderr (twice: libbpf's too)" },
	{ "help", 'h', 0, NULL, M_ANY | M_REPORT, G_OTHER, "this text" },
	{ "version", 'V', 0, NULL, M_ANY | M_REPORT, G_OTHER, "version" },
	{ NULL, 0, 0, NULL, 0, 0, NULL, 0, NULL },
};

const struct opt_def *opt_def_of(int c)
{
	for (const struct opt_def *d = opt_defs; d->name; d++)
		if (d->val == c || (d->alias && d->alias == c))
			return d;
	return NULL;
}

static const char *const group_names[G_N] = {
	[G_OUTPUT] = "Output", [G_FILTERS] = "Filters (options of one kind are ORed, kinds ANDed)",
	[G_RUNNING] = "Running", [G_LISTENERS] = "Listeners", [G_METRICS] = "Metrics",
	[G_LIMITS] = "Limits", [G_REPORT] = "Report", [G_OTHER] = "Other",
};

static const struct {
	enum tt_mode mode;
	const char *usage;
} heads[] = {
	{ MODE_TRACE,
	  "Usage: tcptrail [OPTIONS]              trace live\n"
	  "       tcptrail top [OPTIONS]          live view of every listener's queues\n"
	  "       tcptrail leaks [OPTIONS]        report CLOSE_WAIT sockets now, then exit\n"
	  "       tcptrail replay FILE [OPTIONS]  reconstruct offline from a --record file\n"
	  "       tcptrail report [OPTIONS] FILE... -o report.html\n"
	  "                                       one HTML page of recordings and logs\n"
	  "Trace every TCP connection's lifecycle live: state transitions, complete\n"
	  "histories, resets, SYN-ACK retransmits and accept-queue overflows; watch\n"
	  "every listener's SYN and accept queues and flag SYN floods and full accept\n"
	  "queues. Filters choose what is printed; every socket is still tracked.\n"
	  "'tcptrail COMMAND --help' lists a command's own options.\n" },
	{ MODE_TOP,
	  "Usage: tcptrail top [OPTIONS]\n"
	  "A live view of every listener: its queues, SYN rate, drops and alerts, with\n"
	  "its namespace's counters and sysctls, redrawn every interval (q quits).\n" },
	{ MODE_LEAKS,
	  "Usage: tcptrail leaks [OPTIONS]\n"
	  "Report every socket in CLOSE_WAIT now, grouped by the process holding it,\n"
	  "then exit.\n" },
	{ MODE_REPLAY,
	  "Usage: tcptrail replay FILE [OPTIONS]\n"
	  "Rebuild the histories of a recording made with --record, with the same\n"
	  "filters and output as live tracing.\n" },
	{ MODE_REPORT,
	  "Usage: tcptrail report [OPTIONS] FILE... -o report.html\n"
	  "One self-contained HTML page from recordings and JSON logs (plain or gzip,\n"
	  "rotated, in any order).\n" },
};

#define NAME_COL 26

/* printf at buf + *off, never past len (cut text stays terminated). */
__attribute__((format(printf, 4, 5)))
static void append(char *buf, size_t len, size_t *off, const char *f, ...)
{
	va_list ap;
	int n;

	if (*off >= len - 1)
		return;
	va_start(ap, f);
	n = vsnprintf(buf + *off, len - *off, f, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n < len - *off ? (size_t)n : len - *off - 1;
}

/* "  -L, -l, --lport PORTS" and its help, continuation lines indented. */
static void option_lines(const struct opt_def *d, enum tt_mode mode, char *buf, size_t len,
			 size_t *off)
{
	char name[64];
	const char *h = d->help_alt && (d->alt_modes & (1u << mode)) ? d->help_alt : d->help;
	size_t n = 0;

	if (d->val < 256 && d->alias)
		append(name, sizeof(name), &n, "  -%c, -%c, --%s", d->val, d->alias, d->name);
	else if (d->val < 256)
		append(name, sizeof(name), &n, "  -%c, --%s", d->val, d->name);
	else
		append(name, sizeof(name), &n, "      --%s", d->name);
	if (d->arg)
		append(name, sizeof(name), &n, " %s", d->arg);
	if (n <= NAME_COL - 2)
		append(buf, len, off, "%-*s", NAME_COL, name);
	else
		append(buf, len, off, "%s  ", name);
	for (;;) {
		size_t l = strcspn(h, "\n");

		append(buf, len, off, "%.*s\n", (int)l, h);
		if (!h[l])
			break;
		h += l + 1;
		append(buf, len, off, "%*s", NAME_COL, "");
	}
}

size_t opts_usage(enum tt_mode mode, char *buf, size_t len)
{
	unsigned bit = 1u << mode;
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
		if (heads[i].mode == mode)
			append(buf, len, &off, "%s", heads[i].usage);
	for (int g = 0; g < G_N; g++) {
		bool named = false;

		for (const struct opt_def *d = opt_defs; d->name; d++) {
			if (d->group != g || !(d->modes & bit))
				continue;
			if (!named)
				append(buf, len, &off, "%s:\n", group_names[g]);
			named = true;
			option_lines(d, mode, buf, len, &off);
		}
	}
	return off;
}
