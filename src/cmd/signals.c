/* Signal flags for the tracing loop. */
#include <signal.h>
#include "signals.h"

static volatile sig_atomic_t exiting, reopen;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reopen = 1;
	else
		exiting = 1;
}

void signals_install(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);	/* reopen -o (log rotation), reread --web-config */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

bool signals_exiting(void)
{
	return exiting;
}

bool signals_take_reopen(void)
{
	if (!reopen)
		return false;
	reopen = 0;
	return true;
}
