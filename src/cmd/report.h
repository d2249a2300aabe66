/* tcptrail report FILE... -o report.html: one self-contained HTML page
 * from recordings and JSON logs (docs/report.md).
 */
#ifndef TT_REPORT_H
#define TT_REPORT_H

#include "opts.h"

int report_main(struct options *o);

#endif
