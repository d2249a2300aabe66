/* Option parsing: good input accepted, bad input explained. */
#include <string.h>
#include "harness.h"
#include "opts.h"

static int parse(struct options *o, char *err, const char *a1, const char *a2,
		 const char *a3)
{
	char *argv[5] = { "tcptrail", (char *)a1, (char *)a2, (char *)a3, NULL };
	int argc = 1 + (a1 != NULL) + (a2 != NULL) + (a3 != NULL);

	err[0] = 0;
	return opts_parse(o, argc, argv, err, 200);
}

static void defaults_and_values(void)
{
	struct options o;
	char err[200];

	CHECK(parse(&o, err, NULL, NULL, NULL) == 0);
	CHECK(!o.json && o.states && o.histories && o.snapshot);
	CHECK(o.max_conns == OPT_DEFAULT_MAX_CONNS);
	CHECK(parse(&o, err, "--json", "-d", "2.5") == 0);
	CHECK(o.json && o.duration_s == 2.5);
	CHECK(parse(&o, err, "-6", "--lport", "80,8000-8002") == 0);
	CHECK(!o.filter.ipv4 && o.filter.ipv6);
	CHECK(filter_match(&o.filter, 10, 8001, 1));
	CHECK(!filter_match(&o.filter, 10, 8003, 1));
	CHECK(parse(&o, err, "--max-conns", "1000", "--ring-mb=16") == 0);
	CHECK(o.max_conns == 1000 && o.ring_mb == 16);
	CHECK(parse(&o, err, "-h", NULL, NULL) == 0 && o.mode == MODE_HELP);
	CHECK(parse(&o, err, "--leak-after", "0.5", NULL) == 0 && o.leak_after_s == 0.5);
	CHECK(parse(&o, err, "leaks", "--json", "--all") == 0);
	CHECK(o.mode == MODE_LEAKS && o.json && o.all);
	CHECK(parse(&o, err, "replay", "f.rec", "--json") == 0);
	CHECK(o.mode == MODE_REPLAY && o.json && strcmp(o.replay, "f.rec") == 0);
	CHECK(parse(&o, err, NULL, NULL, NULL) == 0 && o.leak_after_s == OPT_DEFAULT_LEAK_AFTER_S);
}

static void rejects_bad_input(void)
{
	struct options o;
	char err[200];

	CHECK(parse(&o, err, "-d", "abc", NULL) == -1);
	CHECK(strstr(err, "--duration") != NULL);
	CHECK(parse(&o, err, "-d", "-1", NULL) == -1);
	CHECK(parse(&o, err, "--bogus", NULL, NULL) == -1);
	CHECK(strstr(err, "--bogus") != NULL);
	CHECK(parse(&o, err, "-x", NULL, NULL) == -1);
	CHECK(strstr(err, "-x") != NULL);
	CHECK(parse(&o, err, "--lport", "70000", NULL) == -1);
	CHECK(parse(&o, err, "--lport", "90-80", NULL) == -1);
	CHECK(strstr(err, "backwards") != NULL);
	CHECK(parse(&o, err, "--rport", "80,", NULL) == 0);
	CHECK(parse(&o, err, "--rport", "80;81", NULL) == -1);
	CHECK(parse(&o, err, "--ring-mb", "3", NULL) == -1);
	CHECK(strstr(err, "power of 2") != NULL);
	CHECK(parse(&o, err, "--max-conns", "1e6", NULL) == -1);
	CHECK(parse(&o, err, "-4", "-6", NULL) == -1);
	/* leaks only: a valid way to run */
	CHECK(parse(&o, err, "--no-states", "--no-histories", NULL) == 0);
	CHECK(parse(&o, err, "--leak-after", "-1", NULL) == -1);
	CHECK(strstr(err, "--leak-after") != NULL);
	CHECK(parse(&o, err, "--all", NULL, NULL) == -1);
	CHECK(parse(&o, err, "replay", NULL, NULL) == -1);
	CHECK(strstr(err, "replay FILE") != NULL);
	CHECK(parse(&o, err, "replay", "f.rec", "--duration=1") == -1);
	/* two names for one file are refused when opened, by device and inode */
	CHECK(parse(&o, err, "--record", "x", "--output=x") == 0);
	/* messages name the option, not its value, and say the bounds */
	CHECK(parse(&o, err, "leaks", "-l", "80") == -1);
	CHECK(strstr(err, "--lport") && !strstr(err, "'80'"));
	CHECK(parse(&o, err, "--json=5", NULL, NULL) == -1);
	CHECK(strstr(err, "'--json' takes no value") != NULL);
	CHECK(parse(&o, err, "--duration", "1e10", NULL) == -1);
	CHECK(strstr(err, "up to 1000000000") != NULL);
	CHECK(parse(&o, err, "--leak-after", "1e-300", NULL) == -1);
	CHECK(strstr(err, "minimum") != NULL);
	CHECK(parse(&o, err, "--max-conns", "268435456", NULL) == -1);
	CHECK(strstr(err, "16777216") != NULL);
	CHECK(parse(&o, err, "leaks", "--duration", "1") == -1);
	CHECK(strstr(err, "does not apply") != NULL);
	CHECK(parse(&o, err, "-o", NULL, NULL) == -1);
	CHECK(strstr(err, "needs a value") != NULL);
	CHECK(parse(&o, err, "stray", NULL, NULL) == -1);
}

static void listener_options(void)
{
	struct options o;
	char err[200];

	CHECK(parse(&o, err, NULL, NULL, NULL) == 0);
	CHECK(o.listeners && o.interval_s == OPT_DEFAULT_INTERVAL_S);
	CHECK(o.max_listeners == OPT_DEFAULT_MAX_LISTENERS);
	CHECK(parse(&o, err, "top", "--interval", "0.1") == 0);
	CHECK(o.mode == MODE_TOP && o.interval_s == 0.1);
	CHECK(parse(&o, err, "top", "-j", "-l80") == 0 && o.json);
	CHECK(parse(&o, err, "--interval", "0.05", NULL) == -1);
	CHECK(strstr(err, "minimum") != NULL);
	CHECK(parse(&o, err, "--interval", "x", NULL) == -1);
	CHECK(parse(&o, err, "--max-listeners", "0", NULL) == -1);
	CHECK(parse(&o, err, "--no-listeners", "--max-listeners=9", NULL) == 0);
	CHECK(!o.listeners && o.max_listeners == 9);
	/* connection options mean nothing to the listener view */
	CHECK(parse(&o, err, "top", "--leak-after", "3") == -1);
	CHECK(strstr(err, "tcptrail top") != NULL);
	CHECK(parse(&o, err, "top", "--no-states", NULL) == -1);
	CHECK(parse(&o, err, "leaks", "--interval", "1") == -1);
	CHECK(parse(&o, err, "replay", "f", "--interval=1") == -1);
}

static void metrics_options(void)
{
	struct options o;
	char err[200];

	CHECK(parse(&o, err, NULL, NULL, NULL) == 0 && !o.metrics);
	CHECK(o.metrics_linger_s == OPT_DEFAULT_METRICS_LINGER_S);
	CHECK(parse(&o, err, "--metrics", "127.0.0.1:9100", "--metrics-linger=5") == 0);
	CHECK_STR(o.metrics, "127.0.0.1:9100");
	CHECK(o.metrics_linger_s == 5);
	CHECK(parse(&o, err, "top", "--metrics", "[::1]:9100") == 0 && o.mode == MODE_TOP);
	CHECK(parse(&o, err, "--metrics", "example.com:9100", NULL) == -1);
	CHECK(strstr(err, "--metrics") && strstr(err, "not an IPv4 address"));
	CHECK(parse(&o, err, "--metrics", "99999", NULL) == -1);
	CHECK(strstr(err, "1-65535") != NULL);
	CHECK(parse(&o, err, "leaks", "--metrics", "9100") == -1);
	CHECK(strstr(err, "does not apply") != NULL);
	CHECK(parse(&o, err, "--metrics-linger", "-1", NULL) == -1);
	/* metrics alone are something to show */
	CHECK(parse(&o, err, "--no-states", "--no-histories", "--no-listeners") == 0);
	{
		char *argv[] = { "tcptrail", "--no-states", "--no-histories", "--no-listeners",
				 "--leak-after=0", "--metrics=9100", NULL };

		CHECK(opts_parse(&o, 6, argv, err, sizeof(err)) == 0);
		CHECK(opts_parse(&o, 5, argv, err, sizeof(err)) == -1);
	}
}

static void where_options(void)
{
	struct options o;
	char err[200];

	CHECK(parse(&o, err, "--netns", "4026531840", "--container=abcd") == 0);
	CHECK(o.filter.netns == 4026531840u && !strcmp(o.filter.container, "abcd"));
	CHECK(parse(&o, err, "leaks", "--cgroup", "/system.slice") == 0);
	CHECK_STR(o.filter.cgroup, "/system.slice");
	CHECK(parse(&o, err, "top", "--container", "0123456789ab") == 0);
	CHECK(parse(&o, err, "replay", "f", "--netns=5") == 0 && o.filter.netns == 5);
	CHECK(parse(&o, err, "replay", "f", "--container=abcd") == -1);
	CHECK(strstr(err, "does not apply") != NULL);
	CHECK(parse(&o, err, "--container", "abc", NULL) == -1);
	CHECK(strstr(err, "4 to 64") != NULL);
	/* runtimes print ids in lower case; upper case is read as the same id */
	CHECK(parse(&o, err, "--container", "ABCD", NULL) == 0);
	CHECK_STR(o.filter.container, "abcd");
	CHECK(parse(&o, err, "--container", "abcg", NULL) == -1);
	CHECK(strstr(err, "4 to 64 hex digits") != NULL);
	CHECK(parse(&o, err, "--cgroup", "system.slice", NULL) == -1);
	CHECK(parse(&o, err, "--netns", "-1", NULL) == -1);
}

/* libbpf-tools' names (tcplife, tcpstates, tcpconnect) beside the old ones. */
static void libbpf_tools_names(void)
{
	struct options o;
	char err[200];

	CHECK(parse(&o, err, "-L", "80", "-D443") == 0);
	CHECK(filter_match(&o.filter, 2, 80, 443) && !filter_match(&o.filter, 2, 80, 444));
	CHECK(parse(&o, err, "-l", "80", "--rport=443") == 0);	/* the old names */
	CHECK(filter_match(&o.filter, 2, 80, 443) && !filter_match(&o.filter, 2, 81, 443));
	CHECK(parse(&o, err, "-p", "4242", "-c") == -1 && strstr(err, "needs a value"));
	CHECK(parse(&o, err, "-p", "4242", NULL) == 0 && o.filter.pid == 4242);
	CHECK(parse(&o, err, "-p", "0", NULL) == -1 && strstr(err, "--pid"));
	CHECK(parse(&o, err, "-c", "nginx", "-T") == 0 && !strcmp(o.filter.comm, "nginx"));
	CHECK(parse(&o, err, "-c", "a-name-of-16-chr", NULL) == -1);
	CHECK(strstr(err, "at most") || strstr(err, "15"));
	CHECK(parse(&o, err, "top", "-w", "-p1") == 0 && o.wide && o.filter.pid == 1);
	CHECK(parse(&o, err, "leaks", "-c", "java") == 0);
	CHECK(parse(&o, err, "leaks", "-w", NULL) == -1 && strstr(err, "does not apply"));
	CHECK(parse(&o, err, "leaks", "-T", NULL) == -1);
}

/* --port is either end: what "to and from port 443" means. */
static void port_and_address_filters(void)
{
	struct options o;
	char err[200];
	struct filter_subject s = { .family = 2, .has_rport = true };
	uint8_t a[16] = { 192, 0, 2, 7 }, b[16] = { 198, 51, 100, 9 };
	uint8_t m[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7 };

	CHECK(parse(&o, err, "--port", "443", NULL) == 0);
	CHECK(filter_match(&o.filter, 2, 443, 50000) && filter_match(&o.filter, 2, 50000, 443));
	CHECK(!filter_match(&o.filter, 2, 50000, 80));
	CHECK(parse(&o, err, "-P", "443", "-L443") == 0);	/* kinds are ANDed */
	CHECK(filter_match(&o.filter, 2, 443, 1) && !filter_match(&o.filter, 2, 1, 443));
	CHECK(parse(&o, err, "--addr", "192.0.2.0/24,2001:db8::/32", NULL) == 0);
	s.laddr = b, s.raddr = a;
	CHECK(filter_match_subject(&o.filter, &s));
	s.raddr = b;
	CHECK(!filter_match_subject(&o.filter, &s));
	s.family = 10, s.raddr = m;	/* an IPv4 peer of a dual-stack socket */
	CHECK(filter_match_subject(&o.filter, &s));
	s.family = 2;
	CHECK(parse(&o, err, "--raddr", "198.51.100.9", "--laddr=192.0.2.7") == 0);
	s.laddr = a, s.raddr = b;
	CHECK(filter_match_subject(&o.filter, &s));
	s.laddr = b;
	CHECK(!filter_match_subject(&o.filter, &s));
	/* a listener has no remote end: remote filters do not apply to it */
	s.has_rport = false, s.laddr = a, s.raddr = NULL;
	CHECK(filter_match_subject(&o.filter, &s));
	CHECK(parse(&o, err, "--addr", "192.0.2.300", NULL) == -1 && strstr(err, "--addr"));
	CHECK(parse(&o, err, "--addr", "192.0.2.0/33", NULL) == -1);
	CHECK(parse(&o, err, "--addr", "2001:db8::/129", NULL) == -1);
	CHECK(parse(&o, err, "--addr", "", NULL) == -1);
	CHECK(parse(&o, err, "--laddr", "1.2.3.4,,", NULL) == -1);
	/* an owner filter keeps only what is known to be that owner's */
	CHECK(parse(&o, err, "-p", "77", NULL) == 0);
	s = (struct filter_subject){ .family = 2, .has_rport = true, .pid = 77 };
	CHECK(filter_match_subject(&o.filter, &s));
	s.pid = 0;
	CHECK(!filter_match_subject(&o.filter, &s));
	CHECK(parse(&o, err, "-c", "nginx", NULL) == 0);
	s.comm = "nginx";
	CHECK(filter_match_subject(&o.filter, &s));
	s.comm = "nginx-worker";
	CHECK(!filter_match_subject(&o.filter, &s));
}

/* Each command's --help lists only its own options. */
static void help_per_command(void)
{
	static char text[16384];
	struct options o;
	char err[200];

	CHECK(parse(&o, err, "top", "--help", NULL) == 0 && o.mode == MODE_HELP);
	CHECK(o.help_for == MODE_TOP);
	opts_usage(o.help_for, text, sizeof(text));
	CHECK(strncmp(text, "Usage: tcptrail top", 19) == 0);
	CHECK(strstr(text, "--interval") && strstr(text, "--wide"));
	CHECK(!strstr(text, "--no-states") && !strstr(text, "--all") && !strstr(text, "--record"));
	CHECK(parse(&o, err, "leaks", "-h", NULL) == 0);
	opts_usage(o.help_for, text, sizeof(text));
	CHECK(strstr(text, "--all") && strstr(text, "--netns") && strstr(text, "--pid"));
	CHECK(!strstr(text, "--interval") && !strstr(text, "--lport") && !strstr(text, "-4,"));
	CHECK(parse(&o, err, "replay", "--help", NULL) == 0);
	opts_usage(o.help_for, text, sizeof(text));
	CHECK(!strstr(text, "--cgroup") && !strstr(text, "--metrics") && strstr(text, "--netns"));
	CHECK(parse(&o, err, "--help", NULL, NULL) == 0 && o.help_for == MODE_TRACE);
	opts_usage(o.help_for, text, sizeof(text));
	CHECK(strstr(text, "tcptrail top [OPTIONS]") && strstr(text, "--record"));
	/* every line fits 80 columns */
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");

		CHECK(n <= 80);
		p += n + (p[n] != 0);
	}
	/* a cut buffer stays a string */
	CHECK(opts_usage(MODE_TRACE, text, 10) == 9 && strlen(text) == 9);
}

/* tcptrail report: inputs after the options or among them, the window and
 * the listener checked here, the live options refused.
 */
static void report_options(void)
{
	char *argv[] = { "tcptrail", "report", "a.json", "--since", "2026-11-21T10:00:00Z",
			 "b.rec.gz", "-o", "r.html", "--listener", "[::1]:443", NULL };
	struct options o;
	char err[200];

	CHECK(opts_parse(&o, 10, argv, err, sizeof(err)) == 0 && o.mode == MODE_REPORT);
	CHECK(o.n_report_files == 2 && !strcmp(o.report_files[0], "a.json") &&
	      !strcmp(o.report_files[1], "b.rec.gz"));
	CHECK(o.since_ns == 1795255200000000000ll && o.until_ns == INT64_MAX);
	CHECK_STR(o.output, "r.html");
	CHECK_STR(o.report_listener, "[::1]:443");
	CHECK(parse(&o, err, "report", NULL, NULL) == -1 && strstr(err, "at least one input"));
	CHECK(parse(&o, err, "report", "x", "--json") == -1 && strstr(err, "does not apply"));
	CHECK(parse(&o, err, "report", "--since", "today") == -1 && strstr(err, "RFC 3339"));
	CHECK(parse(&o, err, "report", "--listener", "x:1") == -1 && strstr(err, "ADDR:PORT"));
	CHECK(parse(&o, err, "report", "--listener", "*:0") == -1);
	CHECK(parse(&o, err, "--since", "2026-11-21T10:00:00Z", NULL) == -1);
	char *late[] = { "tcptrail", "report", "x", "--since", "2026-11-21T10:00:01Z", "--until",
			 "2026-11-21T10:00:00Z", NULL };
	CHECK(opts_parse(&o, 7, late, err, sizeof(err)) == -1 && strstr(err, "after --until"));
}

TEST_LIST(opts_tests) = {
	TEST_ENTRY(report_options),
	TEST_ENTRY(where_options),
	TEST_ENTRY(libbpf_tools_names),
	TEST_ENTRY(port_and_address_filters),
	TEST_ENTRY(help_per_command),
	TEST_ENTRY(metrics_options),
	TEST_ENTRY(defaults_and_values),
	TEST_ENTRY(rejects_bad_input),
	TEST_ENTRY(listener_options),
	{ 0 },
};
