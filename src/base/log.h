/* One error sink for the whole program; libbpf's messages are routed here. */
#ifndef TT_LOG_H
#define TT_LOG_H

#include <stdbool.h>

/* Verbosity: 0 quiet apart from errors and warnings, 1 info, 2 libbpf debug. */
void log_set_verbosity(int level);

/* "tcptrail: <message>" on stderr. */
void p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void p_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void p_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Route libbpf's own output through this sink: shown only at verbosity 2,
 * since its raw verifier logs are not what a user needs to read.
 */
void log_route_libbpf(void);

#endif
