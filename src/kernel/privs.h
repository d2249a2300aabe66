/* Least privilege: once the BPF programs are loaded and attached, keep only
 * the capabilities the running tracer still uses (README.md, "Privileges"),
 * shrink the bounding set to them, and set no_new_privs.
 */
#ifndef TT_PRIVS_H
#define TT_PRIVS_H

/* Drop the rest. Returns 0, or negative errno after saying what failed
 * (tracing goes on: it only keeps more than it needs).
 */
int privs_drop(void);

#endif
