/* Loading BPF objects program by program (see bpf_load.h). libbpf loads an
 * object's programs all or none, so a refusal is found in libbpf's own
 * warning ("prog 'X': BPF program load failed") and the object is opened and
 * loaded again without X.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <bpf/btf.h>
#include "bpf_load.h"
#include "log.h"

/* Every program of every object this process loads: a handful. */
#define BPF_LOAD_MAX_PROGS 48
#define BPF_LOAD_NAME 64
#define BPF_LOAD_WHY 192

struct prog_entry {
	char name[BPF_LOAD_NAME];
	enum bpf_load_status status;
	char why[BPF_LOAD_WHY];
};

static struct prog_entry progs[BPF_LOAD_MAX_PROGS];
static size_t nprogs;

static struct prog_entry *entry(const char *name)
{
	for (size_t i = 0; i < nprogs; i++)
		if (!strcmp(progs[i].name, name))
			return &progs[i];
	if (nprogs == BPF_LOAD_MAX_PROGS)
		return NULL;
	snprintf(progs[nprogs].name, sizeof(progs[nprogs].name), "%s", name);
	return &progs[nprogs++];
}

void bpf_load_off(struct bpf_load *l, struct bpf_program *p, const char *fmt, ...)
{
	struct prog_entry *e = entry(bpf_program__name(p));
	va_list ap;

	(void)l;
	bpf_program__set_autoload(p, false);
	if (!e)
		return;
	e->status = BPF_LOAD_OFF;
	va_start(ap, fmt);
	vsnprintf(e->why, sizeof(e->why), fmt, ap);
	va_end(ap);
}

/* What the last failed load said: which program, and the verifier's last
 * word on it.
 */
struct refusal {
	char prog[BPF_LOAD_NAME];
	char why[BPF_LOAD_WHY];
};

static void set_why(struct refusal *r, const char *line, size_t len)
{
	if (len >= sizeof(r->why))
		len = sizeof(r->why) - 1;
	memcpy(r->why, line, len);
	r->why[len] = 0;
}

/* The verifier's log ends with its complaint, then a "processed N insns"
 * summary: keep the last line that is neither.
 */
static void last_complaint(struct refusal *r, const char *log)
{
	const char *line = log, *best = NULL;
	size_t best_len = 0;

	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		if (len && strncmp(line, "processed ", 10) && strncmp(line, "-- END", 6) &&
		    strncmp(line, "verification time", 17) && strncmp(line, "stack depth", 11)) {
			best = line;
			best_len = len;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	if (best)
		set_why(r, best, best_len);
}

static void on_libbpf_warning(bool warn, const char *msg, void *arg)
{
	static const char failed[] = "': BPF program load failed: ";
	static const char begin[] = "-- BEGIN PROG LOAD LOG --\n";
	struct refusal *r = arg;
	const char *p = strstr(msg, "prog '"), *q;

	if (!warn || !p)
		return;
	p += 6;
	q = strchr(p, '\'');
	if (!q || (size_t)(q - p) >= sizeof(r->prog))
		return;
	if (!strncmp(q, failed, sizeof(failed) - 1)) {
		memcpy(r->prog, p, (size_t)(q - p));
		r->prog[q - p] = 0;
		/* the errno, until the log says more */
		set_why(r, q + sizeof(failed) - 1, strcspn(q + sizeof(failed) - 1, "\n"));
	} else if ((p = strstr(q, begin))) {
		last_complaint(r, p + sizeof(begin) - 1);
	}
}

static const char *loss_of(const struct bpf_load *l, const char *name)
{
	for (const struct bpf_load_loss *x = l->losses; x && x->prog; x++)
		if (!strcmp(x->prog, name))
			return x->loses;
	return "going on without it";
}

/* TCPTRAIL_BPF_BREAK=NAME[,NAME...]: the tests' way to have the kernel
 * refuse a program, as a newer verifier might (bpf/refuse.bpf.h): the
 * object's refuse_mask gets the bit of each named program, numbered in the
 * object's order, which is its source order.
 */
static bool broken(const char *name)
{
	const char *list = getenv("TCPTRAIL_BPF_BREAK");
	size_t n = strlen(name);

	for (const char *p = list; p && *p; p += strcspn(p, ","), p += *p == ',')
		if (!strncmp(p, name, n) && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

static void set_u64_var(const struct btf *btf, char *data, size_t size, const char *var,
			uint64_t v)
{
	int id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -1;
	const struct btf_type *sec;
	const struct btf_var_secinfo *vs;

	if (id < 0)
		return;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *t = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, t->name_off), var) ||
		    vs->size != sizeof(v) || vs->offset + sizeof(v) > size)
			continue;
		memcpy(data + vs->offset, &v, sizeof(v));
	}
}

static void set_refuse_mask(struct bpf_object *obj)
{
	struct bpf_program *p;
	struct bpf_map *m;
	uint64_t mask = 0;
	unsigned int bit = 0;
	size_t size;
	char *data;

	if (!getenv("TCPTRAIL_BPF_BREAK"))
		return;
	bpf_object__for_each_program(p, obj) {
		if (broken(bpf_program__name(p)) && bit < 64)
			mask |= 1ull << bit;
		bit++;
	}
	/* the variable's place in the object's .rodata, from its BTF */
	bpf_object__for_each_map(m, obj) {
		const char *name = bpf_map__name(m);
		size_t n = strlen(name);

		if (n < 7 || strcmp(name + n - 7, ".rodata"))
			continue;
		const void *cur = bpf_map__initial_value(m, &size);

		if (!cur || !(data = malloc(size)))
			continue;
		memcpy(data, cur, size);
		set_u64_var(bpf_object__btf(obj), data, size, "refuse_mask", mask);
		bpf_map__set_initial_value(m, data, size);
		free(data);
	}
}

/* Open and configure a skeleton, leaving out what was refused before. */
static int open_configured(struct bpf_load *l, void **out)
{
	struct bpf_program *p;
	void *skel = l->open();
	int err;

	*out = NULL;
	if (!skel)
		return errno ? -errno : -ENOMEM;
	err = l->configure(l, skel, l->arg);
	if (err) {
		l->destroy(skel);
		return err;
	}
	bpf_object__for_each_program(p, l->object(skel)) {
		struct prog_entry *e = entry(bpf_program__name(p));

		if (e && e->status == BPF_LOAD_REFUSED)
			bpf_program__set_autoload(p, false);
	}
	set_refuse_mask(l->object(skel));
	*out = skel;
	return 0;
}

int bpf_load_run(struct bpf_load *l, void **out)
{
	struct bpf_program *p;
	void *skel = NULL;
	int err;

	*out = NULL;
	for (int attempt = 0; attempt < BPF_LOAD_MAX_PROGS; attempt++) {
		struct refusal r = { "", "" };
		struct prog_entry *e;

		err = open_configured(l, &skel);
		if (err)
			return err;
		log_capture_libbpf(on_libbpf_warning, &r);
		err = l->load(skel);
		log_capture_libbpf(NULL, NULL);
		if (!err)
			break;
		l->destroy(skel);
		skel = NULL;
		/* Not a program's fault (maps, BTF, privileges): the caller
		 * says why.
		 */
		if (!r.prog[0])
			return err;
		e = entry(r.prog);
		if (!e || e->status == BPF_LOAD_REFUSED)
			return err;	/* refused again: no progress */
		e->status = BPF_LOAD_REFUSED;
		snprintf(e->why, sizeof(e->why), "%s", r.why);
		p_warn("the kernel refused %s's BPF program %s (%s): %s", l->what, r.prog,
		       r.why, loss_of(l, r.prog));
	}
	if (!skel)
		return -ELOOP;
	bpf_object__for_each_program(p, l->object(skel)) {
		struct prog_entry *e = entry(bpf_program__name(p));

		if (e && bpf_program__autoload(p)) {
			e->status = BPF_LOAD_LOADED;
			e->why[0] = 0;
		}
	}
	*out = skel;
	return 0;
}

bool bpf_load_status_of(const char *prog, enum bpf_load_status *st)
{
	for (size_t i = 0; i < nprogs; i++) {
		if (!strcmp(progs[i].name, prog)) {
			*st = progs[i].status;
			return true;
		}
	}
	return false;
}

bool bpf_load_loaded(const char *prog)
{
	enum bpf_load_status st;

	return bpf_load_status_of(prog, &st) && st == BPF_LOAD_LOADED;
}

void bpf_load_report(void)
{
	for (size_t i = 0; i < nprogs; i++) {
		const struct prog_entry *e = &progs[i];

		switch (e->status) {
		case BPF_LOAD_LOADED:
			p_info("program %s: loaded", e->name);
			break;
		case BPF_LOAD_OFF:
			p_info("program %s: off (%s)", e->name, e->why);
			break;
		case BPF_LOAD_REFUSED:
			p_info("program %s: refused by the verifier (%s)", e->name, e->why);
			break;
		}
	}
}
