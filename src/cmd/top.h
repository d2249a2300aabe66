/* tcptrail top: the listener view, live. */
#ifndef TT_TOP_H
#define TT_TOP_H

#include "opts.h"

int top_main(struct options *o);

#endif
