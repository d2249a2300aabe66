/* Opening the files tcptrail writes (-o and --record) safely as root, in
 * world-writable directories too: never through a symbolic link, never into
 * a FIFO, socket or device (which could block forever or reach something
 * else), and never one file under two names.
 *
 * Accepted: "-" or no name (standard output), a regular file, and the null
 * device (for measuring). Everything else gets one sentence.
 */
#ifndef TT_OUTFILE_H
#define TT_OUTFILE_H

#include <stdbool.h>
#include <sys/types.h>

/* For -o: stdout for NULL or "-"; else path opened for appending (a
 * restarted tracer never destroys earlier records), created 0644.
 * Returns the descriptor, or -1 after saying why.
 */
int outfile_open(const char *path);

/* For --record: a new file, created 0600 (it holds every connection's
 * addresses); an existing name is refused. Returns the descriptor, or -1
 * after saying why.
 */
int outfile_create(const char *path, const char *what);

/* Close what outfile_open() or outfile_create() returned (stdout stays). */
void outfile_close(int fd);

/* Do descriptors a and b (either may be -1) name the same file? By device
 * and inode, whatever the paths said.
 */
bool outfile_same(int a, int b);

#endif
