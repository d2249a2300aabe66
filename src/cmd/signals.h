/* Signals of the tracing loop: the handler only sets a flag, the loop acts
 * on it (redis's sigShutdownHandler).
 */
#ifndef TT_SIGNALS_H
#define TT_SIGNALS_H

#include <stdbool.h>

/* SIGINT and SIGTERM finish, SIGHUP asks to reopen -o and reread
 * --web-config, SIGPIPE is ignored
 * (a closed reader shows as EPIPE).
 */
void signals_install(void);

/* SIGINT or SIGTERM arrived. */
bool signals_exiting(void);

/* SIGHUP arrived since the last call. */
bool signals_take_reopen(void);

#endif
