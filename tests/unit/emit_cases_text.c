/* What each record type must read back as in the text view: whole lines
 * of printable ASCII whose pid and comm are the case's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "emit.h"
#include "emit_cases_int.h"

#define MAX_TOKENS 8

/* The first whitespace-separated words of a line. */
static int tokens(const char *s, size_t n, const char *tok[], size_t len[], int max)
{
	int k = 0;

	for (size_t i = 0; i < n && k < max;) {
		while (i < n && (s[i] == ' ' || s[i] == '\n'))
			i++;
		if (i >= n)
			break;
		tok[k] = s + i;
		while (i < n && s[i] != ' ' && s[i] != '\n')
			i++;
		len[k] = (size_t)(s + i - tok[k]);
		k++;
	}
	return k;
}

static bool word_is_u64(const char *tok, size_t n, uint64_t v)
{
	char want[24];

	snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
	return n == strlen(want) && !memcmp(tok, want, n);
}

/* TIME EVENT PID COMM ...: the owner shown (pid, comm) or "-" "-". */
static void owner_columns(struct case_check *ck, const char *s, size_t n, bool shown,
			  uint32_t pid, const char *comm)
{
	const char *tok[MAX_TOKENS];
	size_t len[MAX_TOKENS];

	if (tokens(s, n, tok, len, MAX_TOKENS) < 5) {
		case_fail(ck, "text: too few columns: %.200s", s);
		return;
	}
	if (!shown ? len[2] != 1 || tok[2][0] != '-' || len[3] != 1 || tok[3][0] != '-'
		   : !word_is_u64(tok[2], len[2], pid) || !case_text_comm_is(tok[3], len[3], comm))
		case_fail(ck, "text: not the owner given (pid %u): %.200s", shown ? pid : 0, s);
}

/* A leak line: its holder in the columns, or "-" and, for a leak, "held
 * by no process" said.
 */
static void leak_line(struct case_check *ck, const char *s, size_t n, uint32_t pid,
		      const char *comm, bool resolved)
{
	char flat[2048];
	size_t m = 0;

	owner_columns(ck, s, n, pid != 0, pid, comm);
	if (pid || resolved)
		return;
	/* the words as read: a wrapped line's break and indent are a space */
	for (size_t i = 0; i < n && m < sizeof(flat); i++)
		if (!((s[i] == ' ' || s[i] == '\n') && m && flat[m - 1] == ' '))
			flat[m++] = s[i] == '\n' ? ' ' : s[i];
	if (!memmem(flat, m, "held by no process", 18))
		case_fail(ck, "text: want no process: %.200s", s);
}

void case_check_text(struct case_check *ck, const char *s, size_t n)
{
	const struct emit_case *k = ck->k;
	const struct ports_process *who = k->d.ntop ? &k->d.top[0] : NULL;

	if (!case_text_lines(ck, s, n))
		return;
	switch (k->kind) {
	case CASE_STATE:
	case CASE_RESET:
	case CASE_SYNACK:
	case CASE_OVERFLOW:
	case CASE_RETRANSMIT:
		owner_columns(ck, s, n, k->e.flags & TT_F_OWNER_CTX, k->e.pid, k->e.comm);
		break;
	case CASE_HISTORY:
		owner_columns(ck, s, n, k->c.flags & CONN_OWNER_SEEN, k->c.pid, k->c.comm);
		break;
	case CASE_ALERT:
		owner_columns(ck, s, n, k->l.pid, k->l.pid, k->l.comm);
		break;
	case CASE_PORTS_ALERT:
		owner_columns(ck, s, n, who && who->pid, who ? who->pid : 0, who ? who->comm : "");
		if (!memmem(s, n, " (namespace gone)", 17) != !(k->gone && !k->start))
			case_fail(ck, "text: namespace gone %d: %.200s", k->gone && !k->start, s);
		break;
	case CASE_LEAK:
		leak_line(ck, s, n, k->nowners ? k->owners[0].pid : 0,
			  k->nowners ? k->owners[0].comm : "", false);
		break;
	case CASE_LEAK_RESOLVED:
		leak_line(ck, s, n, k->c.leak_pid,
			  k->c.flags & CONN_OWNER_SEEN ? k->c.comm : "", true);
		break;
	case CASE_LOST: {
		char want[48];

		snprintf(want, sizeof(want), " LOST %llu ", (unsigned long long)k->count);
		if (!memmem(s, n, want, strlen(want)))
			case_fail(ck, "text: want%s: %.200s", want, s);
		break;
	}
	default:
		break;
	}
}
