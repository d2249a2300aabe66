/* The metrics endpoint's connection policy, apart from any socket: which
 * client gets in, which connection makes room when all are taken, and
 * which has waited too long. Pure logic on a fixed table of slots.
 *
 * The limits (documented in docs/metrics.md and tcptrail(8)):
 *   HTTP_GUARD_PER_ADDRESS  connections from one client address (an IPv6
 *                           client's whole /64), more are closed at once;
 *   HTTP_GUARD_OPEN         connections open at once; one more makes the
 *                           least useful one go (see http_guard_admit), so
 *                           a scrape always gets in;
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
	uint8_t addr[17];	/* family byte, then the address (IPv6: its /64) */
	uint64_t since_ns;	/* entered this phase */
	uint64_t deadline_ns;
	enum guard_cause cause;	/* GUARD_CLOSING: why */
	void *ctx;		/* the server's, for this connection */
	bool tls_done;		/* the TLS handshake completed */
	bool cert_refused;	/* the client certificate was refused */
	bool cert_seen;		/* the client sent its certificate message */
	bool scrape;		/* the request being answered is a scrape */
	uint64_t request_ns;	/* when the current request began */
};

struct http_guard {
	struct guard_slot slots[HTTP_GUARD_SLOTS];
	uint32_t used;		/* slots not free */
	uint32_t open;		/* slots neither free nor closing */
};

void http_guard_init(struct http_guard *g);

enum guard_verdict {
	GUARD_ADMIT,
	GUARD_PER_ADDRESS,	/* refused: that address has its share */
	GUARD_FULL,		/* no slot now: leave it in the backlog */
};

/* A client at sa connected on fd at now_ns. On GUARD_ADMIT *slot is its
 * slot (SILENT), and *victim the slot (now CLOSING, cause EVICTED) whose
 * socket the caller must shut down to stay within HTTP_GUARD_OPEN, or -1.
 * The victim is the connection that has been longest silent, else longest
 * talking, else longest idle, else longest answering: a new scrape is the
 * youngest of all and goes last.
 */
enum guard_verdict http_guard_admit(struct http_guard *g, int fd, const struct sockaddr *sa,
				    uint64_t now_ns, int *slot, int *victim);

/* Slot i entered phase p (SILENT..ANSWERING) at now_ns. */
void http_guard_phase(struct http_guard *g, int i, enum guard_phase p, uint64_t now_ns);

/* The next slot whose deadline passed by now_ns, now CLOSING with cause
 * TIMEOUT; -1 when none.
 */
int http_guard_expired(struct http_guard *g, uint64_t now_ns);

/* The earliest deadline of a slot that can expire; UINT64_MAX if none. */
uint64_t http_guard_next_deadline(const struct http_guard *g);

/* The connection in slot i is gone. */
void http_guard_release(struct http_guard *g, int i);

/* The slot index of fd, or -1. */
int http_guard_find(const struct http_guard *g, int fd);

#endif
