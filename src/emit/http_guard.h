/* The metrics endpoint's connection policy, apart from any socket: which
 * client gets in, which connection makes room when all are taken, and
 * which has waited too long. Pure logic on a fixed table of slots.
 *
 * The limits (documented in docs/metrics.md and tcptrail(8)):
 *   HTTP_GUARD_PER_ADDRESS  connections from one client address (an IPv6
 *                           client's whole /64), more are closed at once;
 *   HTTP_GUARD_OPEN         connections open at once; past it the least
 *                           useful one goes (see http_guard_trim), so a
 *                           scrape always gets in;
 *   HTTP_GUARD_REQUEST_S    from connect, or from the end of the previous
 *                           answer, to a whole request (TLS handshake and
 *                           headers included);
 *   HTTP_GUARD_ANSWER_S     for the client to take an answer.
 */
#ifndef TT_HTTP_GUARD_H
#define TT_HTTP_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define HTTP_GUARD_PER_ADDRESS 8
#define HTTP_GUARD_OPEN 64
/* Slots: the open ones, and as many again closing (shut down by us but
 * not yet reaped by the HTTP server).
 */
#define HTTP_GUARD_SLOTS (2 * HTTP_GUARD_OPEN)
/* A connection younger than this is not made to room for another: a
 * client sends its TLS hello or request line right behind the handshake's
 * last ACK, so only one that stays silent longer can be an attacker's. A
 * burst of connects thus cannot push out a scrape before it has spoken.
 */
#define HTTP_GUARD_GRACE_MS 20
#define HTTP_GUARD_REQUEST_S 5
#define HTTP_GUARD_ANSWER_S 30

/* A connection's phases, in the order they are given up to make room. */
enum guard_phase {
	GUARD_FREE,
	GUARD_SILENT,		/* connected, nothing heard yet */
	GUARD_TALKING,		/* a TLS handshake or a request under way */
	GUARD_IDLE,		/* kept alive between requests */
	GUARD_ANSWERING,	/* its answer being sent */
	GUARD_CLOSING,		/* shut down by us, being reaped */
};

enum guard_cause {
	GUARD_EVICTED,		/* made room for a newer connection */
	GUARD_TIMEOUT,		/* no whole request, or answer not taken, in time */
};

struct guard_slot {
	enum guard_phase phase;
	int fd;
	enum guard_cause cause;	/* GUARD_CLOSING: why */
	void *ctx;		/* the server's, for this connection */
	bool tls_done;		/* the TLS handshake completed */
	bool cert_refused;	/* the client certificate was refused */
	bool cert_seen;		/* the client sent its certificate message */
	bool scrape;		/* the request being answered is a scrape */
	uint64_t request_ns;	/* when the current request began */
};

struct http_guard;

/* Every slot free; NULL without memory. */
struct http_guard *http_guard_new(void);
/* NULL-safe. */
void http_guard_free(struct http_guard *g);

/* Slot i, and the index of a slot of g. */
struct guard_slot *http_guard_slot(struct http_guard *g, int i);
int http_guard_index(const struct http_guard *g, const struct guard_slot *s);
/* Slots neither free nor closing, and slots not free. */
uint32_t http_guard_open(const struct http_guard *g);
uint32_t http_guard_used(const struct http_guard *g);

enum guard_verdict {
	GUARD_ADMIT,
	GUARD_PER_ADDRESS,	/* refused: that address has its share */
	GUARD_FULL,		/* no slot now: leave it in the backlog */
};

/* A client at sa connected on fd at now_ns. On GUARD_ADMIT *slot is its
 * slot (SILENT). More than HTTP_GUARD_OPEN may be open for a moment:
 * http_guard_trim() brings them back.
 */
enum guard_verdict http_guard_admit(struct http_guard *g, int fd, const struct sockaddr *sa,
				    uint64_t now_ns, int *slot);

/* While more than HTTP_GUARD_OPEN are open: the slot (now CLOSING, cause
 * EVICTED) whose socket the caller must shut down, or -1 when every
 * candidate is within its grace. The victim is the connection past its
 * grace that has been longest silent, else (when none is in its grace)
 * longest talking, else longest idle, else longest answering: a new scrape
 * goes last.
 */
int http_guard_trim(struct http_guard *g, uint64_t now_ns);

/* Slot i entered phase p (SILENT..ANSWERING) at now_ns. */
void http_guard_phase(struct http_guard *g, int i, enum guard_phase p, uint64_t now_ns);

/* The next slot whose deadline passed by now_ns, now CLOSING with cause
 * TIMEOUT; -1 when none.
 */
int http_guard_expired(struct http_guard *g, uint64_t now_ns);

/* The earliest deadline of a slot that can expire, or, while over the
 * cap, the end of the earliest grace after now_ns; UINT64_MAX if none.
 */
uint64_t http_guard_next_deadline(const struct http_guard *g, uint64_t now_ns);

/* The connection in slot i is gone. */
void http_guard_release(struct http_guard *g, int i);

/* The slot index of fd, or -1. */
int http_guard_find(const struct http_guard *g, int fd);

#endif
