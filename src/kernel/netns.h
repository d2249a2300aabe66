/* Network namespaces: list the reachable ones and run code inside each.
 * Socket iterators and sock_diag see one namespace, the caller's, so
 * whole-machine views visit every namespace in turn.
 */
#ifndef TT_NETNS_H
#define TT_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bound on namespaces visited; more are counted and reported. */
#define NETNS_MAX 4096

/* Namespace inum is reachable: 1 yes, 0 no, -1 cannot tell (namespaces
 * could not be listed, or some were past NETNS_MAX).
 */
int netns_has(uint32_t inum);

/* The name `ip netns` gave namespace inum (its bind mount under
 * /run/netns), or NULL. The names are re-read at most once a second.
 */
const char *netns_name(uint32_t inum);

/* The inode number of our own network namespace (0 if unknown). */
uint32_t netns_self(void);

/* Run fn inside every reachable namespace in turn, ours first (without
 * entering it). A namespace that vanishes meanwhile is skipped. Returns how
 * many were visited, or the first negative errno from fn or from entering.
 * *complete (if not NULL): every reachable namespace was visited (none
 * left out past NETNS_MAX, no error).
 */
int netns_for_each(int (*fn)(uint32_t inum, void *arg), void *arg, bool *complete);

/* Run fn inside the namespace at path, then return to our own.
 * Returns fn's result or negative errno when the namespace cannot be entered.
 */
int netns_run_in(const char *path, int (*fn)(void *arg), void *arg);

#endif
