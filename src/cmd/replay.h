/* tcptrail replay FILE: the same calls as the live run made, from a
 * recording, so the same output byte for byte.
 */
#ifndef TT_REPLAY_H
#define TT_REPLAY_H

#include "opts.h"

int replay_main(struct options *o);

#endif
