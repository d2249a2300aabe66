/* Opening the file records are written to (-o). */
#ifndef TT_OUTFILE_H
#define TT_OUTFILE_H

/* stdout for NULL; else path opened for appending (a restarted tracer never
 * destroys earlier records). Returns the descriptor, or -1 after saying why.
 */
int outfile_open(const char *path);

/* Close what outfile_open() returned (stdout stays open). */
void outfile_close(int fd);

#endif
