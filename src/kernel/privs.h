/* Least privilege: once the BPF programs are loaded and attached, keep only
 * the capabilities the running tracer still uses (docs/security.md),
 * shrink the bounding set to them, and set no_new_privs.
 */
#ifndef TT_PRIVS_H
#define TT_PRIVS_H

/* Drop the rest. Returns 0, or negative errno after saying what failed
 * (the caller refuses to go on with more than it needs).
 */
int privs_drop(void);

/* Drop every capability (commands that only read files and write output,
 * such as replay, once their files are open), and set no_new_privs. The
 * same return.
 */
int privs_drop_all(void);

/* Before privs_drop() (it needs CAP_SYS_NICE): the calling thread, the
 * ring's reader, at nice PRIVS_READER_NICE, unless the process was started
 * with a nice value of its own (nice(1), systemd's Nice=), which is kept.
 * Threads made after it inherit it: the metrics server's goes back to the
 * value it was made with. Says at -v what it did.
 */
#define PRIVS_READER_NICE (-20)
void privs_reader_priority(void);

#endif
