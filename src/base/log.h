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

/* Route libbpf's own output through this sink: its warnings (the verifier's
 * log among them) show from verbosity 1 (-v), its debug lines at 2 (-vv);
 * at 0 the one sentence tcptrail says is enough.
 */
void log_route_libbpf(void);

/* While set, each of libbpf's warnings is also given to fn, whole (a failed
 * program load names the program and ends with the verifier's log). NULL
 * stops it. libbpf must have been routed here first.
 */
typedef void (*log_capture_fn)(bool warn, const char *msg, void *arg);
void log_capture_libbpf(log_capture_fn fn, void *arg);

#endif
