/* Names for TCP states and history outcomes, as they appear in output. */
#ifndef TT_TCP_NAMES_H
#define TT_TCP_NAMES_H

#include <stdint.h>

/* Kernel state name without the TCP_ prefix ("ESTABLISHED"); "UNKNOWN" for
 * values outside the kernel's range.
 */
const char *tcp_state_name(uint8_t state);

#endif
