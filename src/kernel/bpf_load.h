/* Loading a BPF object so that each program loads, or is left out, on its
 * own: a verifier that refuses one optional program costs only what depends
 * on it, and what every program became is kept for `tcptrail -v` and tests.
 */
#ifndef TT_BPF_LOAD_H
#define TT_BPF_LOAD_H

#include <stdbool.h>
#include <bpf/libbpf.h>

enum bpf_load_status {
	BPF_LOAD_LOADED,
	BPF_LOAD_OFF,		/* not asked for: a feature this kernel lacks, or a choice */
	BPF_LOAD_REFUSED,	/* asked for, and the kernel refused it */
};

/* One BPF skeleton, driven through its generated functions. */
struct bpf_load {
	const char *what;	/* "the tracer", for messages */
	void *(*open)(void);
	void (*destroy)(void *skel);
	struct bpf_object *(*object)(void *skel);
	/* the skeleton's own load: it maps the global data for userspace */
	int (*load)(void *skel);
	/* Set read-only data, sizes and autoload on a freshly opened skeleton;
	 * called again after each refusal. Programs turned off here say why
	 * through bpf_load_off(). Returns 0 or negative errno.
	 */
	int (*configure)(struct bpf_load *l, void *skel, void *arg);
	void *arg;
	/* NULL-terminated, by program: what its refusal costs, said in the
	 * one warning a refusal gets ("owners are found through /proc")
	 */
	const struct bpf_load_loss {
		const char *prog;
		const char *loses;
	} *losses;
};

/* Leave p out of this load because of reason ("the kernel lacks
 * tcp_send_reset_reason", "superseded by reset_sent_why", ...).
 */
void bpf_load_off(struct bpf_load *l, struct bpf_program *p, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Open, configure and load. When the kernel refuses a program, it is
 * recorded as refused (with the verifier's last word) and the load is
 * tried again without it. Returns the loaded skeleton in *skel, or a
 * negative errno the caller explains (maps, privileges, BTF).
 */
int bpf_load_run(struct bpf_load *l, void **skel);

/* What became of the named program in any object loaded so far; false if
 * it was never seen.
 */
bool bpf_load_status_of(const char *prog, enum bpf_load_status *st);

/* Was the named program loaded? */
bool bpf_load_loaded(const char *prog);

/* One line per program, in load order, through p_info (-v):
 *   program NAME: loaded | off (WHY) | refused by the verifier (WHY)
 */
void bpf_load_report(void);

#endif
