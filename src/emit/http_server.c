/* The metrics endpoint's server. libmicrohttpd runs in "external" epoll
 * mode inside our own thread, with no listening socket of its own: this
 * file accepts, asks http_guard whether the client gets in and which
 * connection makes room, and hands the socket over (MHD_add_connection).
 * Running the loop here, rather than in libmicrohttpd's thread, is what
 * lets deadlines be enforced (a slowloris client that sends a byte now and
 * then never trips an inactivity timeout) and connections be shut down to
 * make room: both are done from the one thread that runs the server.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include "clock.h"
#include "hostport.h"
#include "http_auth.h"
#include "http_guard.h"
#include "http_settings.h"
#include "http_server.h"
#include "http_tls.h"
#include "log.h"
#include "web_config.h"

/* libmicrohttpd's memory per connection: request headers up to
 * HTTP_MAX_HEADER and the answer's headers fit; a longer request line or
 * header is answered 414/431 by libmicrohttpd itself.
 */
#define HTTP_POOL (2 * HTTP_MAX_HEADER)
#define HTTP_BACKLOG 4096
/* Accepted per turn of the loop, before the server reads what came in:
 * a burst of connects then cannot push a client that has sent its hello
 * out before that hello is seen.
 */
#define ACCEPT_BATCH 16
/* When accept() finds no descriptor: try again this much later. */
#define ACCEPT_PAUSE_NS 100000000ull

enum { EV_LISTEN, EV_WAKE, EV_MHD };

struct http_server {
	int lfd, ep, wake;
	struct MHD_Daemon *d;
	struct http_settings *cur;
	pthread_mutex_t lock;
	struct http_settings *pending;	/* a reloaded web-config, under lock */
	pthread_t thread;
	bool started;
	atomic_bool stopping;
	bool listening;		/* the listening socket is in the epoll set */
	uint64_t resume_ns;	/* accepting paused until then (no descriptors) */
	bool dropping;		/* closing every connection for a reload */
	int adding;		/* the slot MHD_add_connection is filling, or -1 */
	struct http_guard *guard;
	struct http_stats stats;
	const char *config_path;
	const char *scrape_path;
	bool warned;		/* said once that the web-config is readable */
	http_request_fn fn;
	void *arg;
	char where[64];
};

static struct guard_slot *slot_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *i =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return i ? i->socket_context : NULL;
}

static void phase(struct http_server *s, struct guard_slot *slot, enum guard_phase p)
{
	http_guard_phase(s->guard, http_guard_index(s->guard, slot), p, clock_mono_ns());
}

/* GnuTLS asks about the client's certificate during the handshake. */
static int tls_verify(gnutls_session_t session)
{
	struct guard_slot *slot = slot_of(gnutls_session_get_ptr(session));
	struct http_server *s;

	if (!slot)
		return -1;
	s = slot->ctx;
	if (http_tls_verify(session, &s->cur->cfg)) {
		slot->cert_refused = true;
		return -1;
	}
	return 0;
}

/* Each handshake message the client sends: its hello means it is talking
 * (it is no longer the first to go), its Finished that the handshake is
 * done.
 */
static int tls_hook(gnutls_session_t session, unsigned int type, unsigned int when,
		    unsigned int incoming, const gnutls_datum_t *msg)
{
	struct guard_slot *slot = slot_of(gnutls_session_get_ptr(session));

	(void)when;
	(void)msg;
	if (!slot || !incoming)
		return 0;
	if (type == GNUTLS_HANDSHAKE_CLIENT_HELLO && slot->phase == GUARD_SILENT)
		phase(slot->ctx, slot, GUARD_TALKING);
	else if (type == GNUTLS_HANDSHAKE_CERTIFICATE_PKT)
		slot->cert_seen = true;
	else if (type == GNUTLS_HANDSHAKE_FINISHED)
		slot->tls_done = true;
	return 0;
}

static void listen_arm(struct http_server *s, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.u32 = EV_LISTEN };

	if (on != s->listening && !epoll_ctl(s->ep, EPOLL_CTL_MOD, s->lfd, &ev))
		s->listening = on;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http_server *s = cls;
	struct guard_slot *slot;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = NULL;
		if (s->adding < 0)
			return;
		slot = http_guard_slot(s->guard, s->adding);
		s->adding = -1;
		*socket_context = slot;
		if (s->cur->cfg.tls) {
			const union MHD_ConnectionInfo *i =
				MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);

			if (i)
				http_tls_session(i->tls_session, &s->cur->cfg, tls_verify, tls_hook);
		}
	} else if ((slot = *socket_context)) {
		if (s->cur->cfg.tls && !slot->tls_done && slot->phase != GUARD_CLOSING &&
		    !s->dropping)
			s->stats.tls_failures[slot->cert_refused || slot->cert_seen ?
					      HTTP_TLS_CLIENT_CERT : HTTP_TLS_OTHER]++;
		http_guard_release(s->guard, http_guard_index(s->guard, slot));
		*socket_context = NULL;
	}
	s->stats.open = http_guard_open(s->guard);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct guard_slot *slot = slot_of(c);

	(void)uri;
	if (slot) {
		phase(cls, slot, GUARD_TALKING);
		slot->request_ns = clock_mono_ns();
		slot->scrape = false;
	}
	return NULL;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct guard_slot *slot = slot_of(c);
	const union MHD_ConnectionInfo *st = MHD_get_connection_info(c,
								     MHD_CONNECTION_INFO_HTTP_STATUS);
	unsigned int status = st ? st->http_status : 0;

	(void)req;
	if (!slot)
		return;
	if (slot->phase == GUARD_TALKING && status >= 400) {
		/* answered by libmicrohttpd itself: the request did not parse */
		s->stats.refused[status == 413 || status == 414 || status == 431 ?
				 HTTP_REFUSED_TOO_LARGE : HTTP_REFUSED_BAD_REQUEST]++;
	} else if (slot->phase == GUARD_ANSWERING && slot->scrape && status == 200 &&
		   toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
		http_stats_scrape(&s->stats, (clock_mono_ns() - slot->request_ns) / 1e9);
	}
	slot->scrape = false;
	phase(s, slot, GUARD_IDLE);
}

enum MHD_Result http_server_reply(struct http_server *s, struct MHD_Connection *c,
				  unsigned int status, char *body, size_t len,
				  enum MHD_ResponseMemoryMode mode, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	const struct web_config *cfg = &s->cur->cfg;
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	for (uint32_t i = 0; i < cfg->nheaders; i++)
		MHD_add_response_header(r, cfg->headers[i].name, cfg->headers[i].value);
	/* a refused client starts over: a new connection (and handshake) per try */
	if (status == MHD_HTTP_UNAUTHORIZED) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Basic realm=\"tcptrail\"");
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	}
	if (status == MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result plain(struct http_server *s, struct MHD_Connection *c,
			     unsigned int status, const char *text)
{
	return http_server_reply(s, c, status, (char *)text, strlen(text), MHD_RESPMEM_PERSISTENT,
				 "text/plain; charset=utf-8");
}

static bool authorized(struct http_server *s, struct MHD_Connection *c)
{
	char *password = NULL, *user;
	bool ok;

	if (!s->cur->auth)
		return true;
	user = MHD_basic_auth_get_username_password(c, &password);
	ok = http_auth_check(s->cur->auth, user, password);
	if (password) {
		explicit_bzero(password, strlen(password));
		MHD_free(password);
	}
	MHD_free(user);
	return ok;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
				 const char *method, const char *version,
				 const char *upload_data, size_t *upload_data_size, void **req)
{
	struct http_server *s = cls;
	struct guard_slot *slot = slot_of(c);
	const union MHD_ConnectionInfo *hs =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req;
	/* Answered as soon as the headers are in: a request body is never
	 * read (the server discards it and closes the connection).
	 */
	if (slot)
		phase(s, slot, GUARD_ANSWERING);
	if (hs && hs->header_size > HTTP_MAX_HEADER) {
		s->stats.refused[HTTP_REFUSED_TOO_LARGE]++;
		return plain(s, c, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
			     "request headers too large\n");
	}
	if (!authorized(s, c)) {
		s->stats.refused[HTTP_REFUSED_UNAUTHORIZED]++;
		return plain(s, c, MHD_HTTP_UNAUTHORIZED, "unauthorized\n");
	}
	if (slot)
		slot->scrape = get && !strcmp(url, s->scrape_path);
	return s->fn(s->arg, s, c, url, get);
}

static struct MHD_Daemon *daemon_start(struct http_server *s, struct http_settings *v)
{
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET;
	struct MHD_OptionItem o[12];
	int n = 0;

#define OPT(k, val, ptr) (o[n++] = (struct MHD_OptionItem){ (k), (intptr_t)(val), (ptr) })
	OPT(MHD_OPTION_CONNECTION_LIMIT, HTTP_GUARD_SLOTS, NULL);
	/* a stalled answer; the request deadlines are http_guard's */
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, HTTP_GUARD_ANSWER_S, NULL);
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_POOL, NULL);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, on_connection, s);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, on_completed, s);
	OPT(MHD_OPTION_URI_LOG_CALLBACK, on_uri, s);
	if (v->cfg.tls) {
		flags |= MHD_USE_TLS;
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, v->cfg.cert);
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, v->cfg.key);
		OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, v->prio);
		if (v->cfg.client_ca)
			OPT(MHD_OPTION_HTTPS_MEM_TRUST, 0, v->cfg.client_ca);
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	return MHD_start_daemon(flags, 0, NULL, NULL, on_access, s, MHD_OPTION_ARRAY, o,
				MHD_OPTION_END);
}

/* Up to ACCEPT_BATCH connections from the backlog, in or out. */
static void accept_some(struct http_server *s)
{
	for (int k = 0; k < ACCEPT_BATCH; k++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd, slot;

		if (http_guard_used(s->guard) == HTTP_GUARD_SLOTS) {
			listen_arm(s, false);	/* back on when a slot frees */
			return;
		}
		fd = accept4(s->lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				listen_arm(s, false);
				s->resume_ns = clock_mono_ns() + ACCEPT_PAUSE_NS;
			}
			return;
		}
		if (http_guard_admit(s->guard, fd, (struct sockaddr *)&ss, clock_mono_ns(),
				     &slot) != GUARD_ADMIT) {
			close(fd);
			s->stats.refused[HTTP_REFUSED_PER_ADDRESS]++;
			continue;
		}
		http_guard_slot(s->guard, slot)->ctx = s;
		s->adding = slot;
		/* on failure libmicrohttpd has closed fd */
		if (MHD_add_connection(s->d, fd, (struct sockaddr *)&ss, len) != MHD_YES &&
		    s->adding == slot)
			http_guard_release(s->guard, slot);
		s->adding = -1;
		s->stats.open = http_guard_open(s->guard);
	}
}

/* Shut down what waited too long, and what is over the cap past its
 * grace; libmicrohttpd reaps them next. After libmicrohttpd has run, so a
 * hello that came in is seen before its connection is judged.
 */
static void expire(struct http_server *s)
{
	uint64_t now = clock_mono_ns();
	int i;

	while ((i = http_guard_expired(s->guard, now)) >= 0) {
		shutdown(http_guard_slot(s->guard, i)->fd, SHUT_RDWR);
		s->stats.refused[HTTP_REFUSED_TIMEOUT]++;
	}
	while ((i = http_guard_trim(s->guard, now)) >= 0) {
		shutdown(http_guard_slot(s->guard, i)->fd, SHUT_RDWR);
		s->stats.refused[HTTP_REFUSED_EVICTED]++;
	}
	s->stats.open = http_guard_open(s->guard);
}

/* A reloaded web-config: a new server beside the old, then the old goes. */
static void swap_in(struct http_server *s, struct http_settings *v)
{
	struct MHD_Daemon *d = daemon_start(s, v);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = EV_MHD };
	const union MHD_DaemonInfo *i = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;

	if (!i || epoll_ctl(s->ep, EPOLL_CTL_ADD, i->epoll_fd, &ev)) {
		p_warn("--web-config: the reloaded settings do not start a server; the settings in "
		       "force stay");
		if (d)
			MHD_stop_daemon(d);
		http_settings_free(v);
		return;
	}
	s->dropping = true;
	MHD_stop_daemon(s->d);	/* its epoll descriptor leaves our set as it closes */
	s->dropping = false;
	http_settings_free(s->cur);
	s->d = d;
	s->cur = v;
	s->stats.tls = v->cfg.tls;
	p_info("--web-config reloaded");
}

/* Milliseconds until the next thing to do, for epoll_wait. */
static int wait_ms(struct http_server *s)
{
	uint64_t now = clock_mono_ns(), next = http_guard_next_deadline(s->guard, now);
	MHD_UNSIGNED_LONG_LONG mhd;

	if (!s->listening && s->resume_ns && s->resume_ns < next)
		next = s->resume_ns;
	if (MHD_get_timeout(s->d, &mhd) == MHD_YES && mhd < (next - now) / 1000000)
		next = now + mhd * 1000000;
	if (next == UINT64_MAX)
		return -1;
	if (next <= now)
		return 0;
	return (next - now) / 1000000 + 1 > INT_MAX ? INT_MAX : (int)((next - now) / 1000000 + 1);
}

static void *serve(void *arg)
{
	struct http_server *s = arg;

	while (!atomic_load(&s->stopping)) {
		struct epoll_event ev[8];
		struct http_settings *v;
		uint64_t eat;
		int n;

		/* listen again once a slot is free or the pause is over */
		if (s->resume_ns && clock_mono_ns() >= s->resume_ns)
			s->resume_ns = 0;
		if (!s->resume_ns && http_guard_used(s->guard) < HTTP_GUARD_SLOTS)
			listen_arm(s, true);
		n = epoll_wait(s->ep, ev, 8, wait_ms(s));
		for (int k = 0; k < n; k++)
			if (ev[k].data.u32 == EV_WAKE && read(s->wake, &eat, sizeof(eat)) < 0)
				eat = 0;
		pthread_mutex_lock(&s->lock);
		v = s->pending;
		s->pending = NULL;
		pthread_mutex_unlock(&s->lock);
		if (v)
			swap_in(s, v);
		if (s->listening)
			accept_some(s);
		MHD_run(s->d);
		expire(s);
	}
	return NULL;
}

struct http_server *http_server_bind(const char *spec, const char *web_config,
				     const char *scrape_path, http_request_fn fn, void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct http_server *s = calloc(1, sizeof(*s));

	if (!s) {
		p_err("out of memory");
		return NULL;
	}
	s->lfd = s->ep = s->wake = -1;
	s->adding = -1;
	s->config_path = web_config;
	s->scrape_path = scrape_path;
	s->fn = fn;
	s->arg = arg;
	pthread_mutex_init(&s->lock, NULL);
	s->guard = http_guard_new();
	if (!s->guard) {
		p_err("out of memory");
		goto fail;
	}
	s->cur = http_settings_load(web_config, &s->warned, true);
	if (!s->cur)
		goto fail;
	s->stats.tls = s->cur->cfg.tls;
	s->lfd = hostport_listen(spec, HTTP_BACKLOG, s->where, sizeof(s->where));
	if (s->lfd < 0)
		goto fail;
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->ep < 0 || s->wake < 0) {
		p_err("cannot serve metrics on %s: %s", s->where, strerror(errno));
		goto fail;
	}
	ev.data.u32 = EV_WAKE;
	epoll_ctl(s->ep, EPOLL_CTL_ADD, s->wake, &ev);
	ev.data.u32 = EV_LISTEN;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &ev)) {
		p_err("cannot serve metrics on %s: %s", s->where, strerror(errno));
		goto fail;
	}
	s->listening = true;
	return s;
fail:
	http_server_stop(s);
	return NULL;
}

int http_server_start(struct http_server *s)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = EV_MHD };
	const union MHD_DaemonInfo *i;
	sigset_t all, old;
	int err;

	s->d = daemon_start(s, s->cur);
	i = s->d ? MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!i || epoll_ctl(s->ep, EPOLL_CTL_ADD, i->epoll_fd, &ev)) {
		p_err("cannot serve metrics on %s: the HTTP server did not start", s->where);
		return -1;
	}
	/* Signals are the main thread's: it is the one that stops. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&s->thread, NULL, serve, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		p_err("cannot serve metrics on %s: %s", s->where, strerror(err));
		return -1;
	}
	s->started = true;
	p_info("metrics at %s://%s/metrics%s", s->cur->cfg.tls ? "https" : "http", s->where,
	       s->cur->cfg.nusers ? " (basic auth)" : "");
	return 0;
}

static void wake(struct http_server *s)
{
	uint64_t one = 1;

	if (write(s->wake, &one, sizeof(one)) < 0)
		one = 0;	/* already pending: the thread wakes anyway */
}

void http_server_reload(struct http_server *s)
{
	struct http_settings *v, *old;

	if (!s || !s->config_path || !s->started)
		return;
	v = http_settings_load(s->config_path, &s->warned, false);
	if (!v)
		return;
	pthread_mutex_lock(&s->lock);
	old = s->pending;
	s->pending = v;
	pthread_mutex_unlock(&s->lock);
	http_settings_free(old);
	wake(s);
}

void http_server_stop(struct http_server *s)
{
	if (!s)
		return;
	if (s->started) {
		atomic_store(&s->stopping, true);
		wake(s);
		pthread_join(s->thread, NULL);
	}
	if (s->d)
		MHD_stop_daemon(s->d);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->ep >= 0)
		close(s->ep);
	if (s->wake >= 0)
		close(s->wake);
	http_settings_free(s->pending);
	http_settings_free(s->cur);
	pthread_mutex_destroy(&s->lock);
	http_guard_free(s->guard);	/* after the daemon: its callbacks release slots */
	free(s);
}

const struct http_stats *http_server_stats(const struct http_server *s)
{
	return &s->stats;
}
