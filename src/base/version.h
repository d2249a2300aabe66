/* The release, as --version and tcptrail_build_info say it. */
#ifndef TT_VERSION_H
#define TT_VERSION_H

#define TCPTRAIL_VERSION "0.2.0"

#endif
