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

#endif
