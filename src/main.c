/* tcptrail: trace TCP connection lifecycles live. This file only parses the
 * command line and dispatches; each command lives in src/cmd/.
 */
#include <stdio.h>
#include "leaks.h"
#include "log.h"
#include "opts.h"
#include "replay.h"
#include "report.h"
#include "top.h"
#include "trace.h"
#include "version.h"

/* Exit statuses: 0 done, 1 failed (one sentence said why), 2 bad usage. */
enum { EXIT_OK = 0, EXIT_USAGE = 2 };

static int help_main(struct options *o)
{
	static char text[16384];

	opts_usage(o->help_for, text, sizeof(text));
	fputs(text, stdout);
	return EXIT_OK;
}

static int version_main(struct options *o)
{
	(void)o;
	puts("tcptrail " TCPTRAIL_VERSION);
	return EXIT_OK;
}

/* One entry per enum tt_mode: what opts_parse() chose. */
static const struct cmd {
	enum tt_mode mode;
	int (*run)(struct options *o);
	bool quiet_setup;	/* runs before logging is set up */
} cmds[] = {
	{ MODE_HELP, help_main, true },
	{ MODE_VERSION, version_main, true },
	{ MODE_TRACE, trace_main, false },
	{ MODE_TOP, top_main, false },
	{ MODE_LEAKS, leaks_main, false },
	{ MODE_REPLAY, replay_main, false },
	{ MODE_REPORT, report_main, false },
};

int main(int argc, char **argv)
{
	struct options o;
	char err[256];

	if (opts_parse(&o, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "tcptrail: %s\nTry 'tcptrail --help'.\n", err);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (cmds[i].mode != o.mode)
			continue;
		if (!cmds[i].quiet_setup) {
			log_set_verbosity(o.verbosity);
			log_route_libbpf();
		}
		return cmds[i].run(&o);
	}
	fprintf(stderr, "tcptrail: no command for mode %d\n", o.mode);
	return EXIT_USAGE;
}
