/* Names for TCP states and history outcomes, as they appear in output. */
#ifndef TT_TCP_NAMES_H
#define TT_TCP_NAMES_H

#include <stdint.h>

/* Kernel state name without the TCP_ prefix ("ESTABLISHED"); "UNKNOWN" for
 * values outside the kernel's range.
 */
const char *tcp_state_name(uint8_t state);

/* Congestion state (icsk_ca_state) in lower case as ss prints it: "open",
 * "disorder", "cwr", "recovery", "loss"; "unknown" past those.
 */
const char *tcp_ca_state_name(uint8_t ca_state);

/* A retransmit's result: "sent" for 0, else the errno's name ("EBUSY"), or
 * "E<n>" for numbers the C library does not name. buf holds 8 bytes.
 */
const char *tcp_result_name(uint16_t err, char buf[8]);

#endif
