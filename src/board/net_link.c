/* net_link.c: a link's life on libuv, and the HAL's link_* entry points (links.h).
 *
 * Opening dispatches to net_tcp.c (dial, listen) and net_udp.c (bind); what is decided at
 * once (bound, or failed to bind) is reported through the link's timer at 0 ms, since
 * the core must not be re-entered from inside a HAL call. A dial has no deadline here:
 * the core closes it after 10 s, and a close cancels the name lookup under way. A TCP link
 * that is closed (by the core, or by the peer's end of stream) keeps delivering what it
 * had queued for up to 10 s (M0__NET_LINGER_MS), as close() on a real socket does. Every
 * OS fact becomes one event (net.connected, net.closed, net.refused, net.listening,
 * net.port_mapped) and then one core input.
 *
 * A link the core paused is not read, so its peer's reset would only show when the host
 * reads again. While any TCP link is paused, one timer per device (not per link) looks at
 * each paused socket every 100 ms: a socket the kernel closed (TCP_INFO state TCP_CLOSE:
 * a reset, or keepalive giving up) is reported down with its SO_ERROR at once, exactly
 * as a read would have (net.closed, reason "reset"); what the kernel still held unread
 * for it is dropped, as a module's stack drops its receive queue on a reset. A graceful
 * close (FIN) is left alone: the data before it reaches the host first, and the close
 * follows when reading resumes and meets the end of the stream.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

#define PAUSED_CHECK_MS 100 /* how often a paused link's socket is looked at */

/* ---- lifetime ---- */

static void maybe_free(struct m0__net_link *l) {
  if (l->refs > 0)
    return;
  struct m0__net *n = l->net;
  if (l->prev != NULL)
    l->prev->next = l->next;
  else
    n->all = l->next;
  if (l->next != NULL)
    l->next->prev = l->prev;
  free(l->inflight.data);
  free(l->pending.data);
  free(l);
}

static void on_handle_closed(uv_handle_t *h) {
  struct m0__net_link *l = h->data;
  l->refs--;
  maybe_free(l);
}

struct m0__net_link *m0__net_link_new(struct m0__net *n, enum m0_link_kind kind) {
  struct m0__net_link *l = calloc(1, sizeof *l);
  if (l == NULL)
    return NULL;
  l->net = n;
  l->kind = kind;
  int rc = kind == M0_LINK_UDP ? uv_udp_init(n->loop, &l->sock.udp)
                               : uv_tcp_init(n->loop, &l->sock.tcp);
  if (rc != 0) {
    free(l);
    return NULL;
  }
  uv_timer_init(n->loop, &l->timer); /* cannot fail on Unix */
  l->sock.handle.data = l;
  l->timer.data = l;
  l->connect.data = l;
  l->gai.data = l;
  l->write.data = l;
  l->refs = 2;
  l->next = n->all;
  if (n->all != NULL)
    n->all->prev = l;
  n->all = l;
  return l;
}

void m0__net_attach(struct m0__net_link *l, unsigned id) {
  l->id = id;
  l->attached = true;
  l->net->links[id] = l;
  l->paused = l->net->pause_unattached[id];
  l->net->pause_unattached[id] = false;
  if (l->paused)
    m0__net_watch_paused(l->net);
}

static void detach(struct m0__net_link *l) {
  if (!l->attached)
    return;
  l->net->links[l->id] = NULL;
  l->attached = false;
}

void m0__net_hard_close(struct m0__net_link *l) {
  detach(l);
  if (l->closing)
    return;
  l->closing = true;
  l->reading = false;
  uv_close(&l->sock.handle, on_handle_closed);
  uv_close((uv_handle_t *)&l->timer, on_handle_closed);
  if (l->lookup)
    uv_cancel((uv_req_t *)&l->gai); /* if it already runs, its callback frees */
}

static void on_timer(uv_timer_t *t);

static void arm(struct m0__net_link *l, enum m0__net_timer_use use, uint64_t ms) {
  l->timer_use = use;
  uv_timer_start(&l->timer, on_timer, ms, 0);
}

/* Closed by the core or by the peer's EOF: keep delivering what is queued (bounded by
 * M0__NET_LINGER_MS), reading and discarding meanwhile so unread input does not turn our
 * close into a reset, then close. */
static void linger(struct m0__net_link *l) {
  detach(l);
  if (l->closing)
    return;
  if (l->pending.len > 0 && m0__net_tcp_flush_pending(l) != 0)
    l->pending.len = 0; /* the socket is broken: nothing more can be delivered */
  if (!l->writing) {
    m0__net_hard_close(l);
    return;
  }
  arm(l, M0__NET_T_LINGER, M0__NET_LINGER_MS);
  m0__net_read_update(l);
}

static const char *reason_name(int reason) {
  return reason == M0_DOWN_CLOSED ? "closed" : "reset";
}

void m0__net_link_down(struct m0__net_link *l, int reason, int err) {
  struct m0__net *n = l->net;
  if (!l->attached || n->closed) {
    m0__net_hard_close(l);
    return;
  }
  unsigned id = l->id;
  bool was_up = l->up;
  if (reason == M0_DOWN_CLOSED)
    linger(l);
  else
    m0__net_hard_close(l);

  char peer[128], bound[128];
  m0_json_hostport(peer, sizeof peer, l->req.peer.host, l->req.peer.port);
  if (was_up && m0__net_is_stream(l)) {
    m0__net_emit(n, "net.closed", "\"link\":%u,\"peer\":%s,\"reason\":\"%s\"", id, peer,
                 reason_name(reason));
  } else if (l->kind == M0_LINK_TCP_CONNECT && reason != M0_DOWN_BIND) {
    m0__net_emit(n, "net.refused", "\"link\":%u,\"peer\":%s,\"error\":\"%s\"", id, peer,
                 uv_strerror(err));
  } else {
    struct sockaddr_storage b = n->bind_sa;
    m0__net_set_port(&b, l->req.local_port);
    m0__net_json_sockaddr(bound, sizeof bound, (struct sockaddr *)&b);
    m0__net_emit(n, "net.refused", "\"link\":%u,\"peer\":%s,\"bind\":%s,\"error\":\"%s\"",
                 id, peer, bound, uv_strerror(err));
  }
  m0__log(n->events, "link %u down (%d): %s", id, reason, uv_strerror(err));
  m0_dev_on_link_down(n->dev, uv_hrtime(), id, reason);
}

void m0__net_defer_down(struct m0__net_link *l, int reason, int err) {
  l->down_reason = reason;
  l->down_error = err;
  arm(l, M0__NET_T_REPORT_DOWN, 0);
}

void m0__net_defer_up(struct m0__net_link *l) { arm(l, M0__NET_T_REPORT_UP, 0); }

static void on_timer(uv_timer_t *t) {
  struct m0__net_link *l = t->data;
  enum m0__net_timer_use use = l->timer_use;
  l->timer_use = M0__NET_T_NONE;
  if (l->closing)
    return;
  switch (use) {
  case M0__NET_T_REPORT_UP:
    if (l->attached && !l->net->closed)
      m0__net_report_up(l);
    break;
  case M0__NET_T_REPORT_DOWN:
    m0__net_link_down(l, l->down_reason, l->down_error);
    break;
  case M0__NET_T_LINGER:
    m0__log(l->net->events, "closed link: %zu bytes never taken by the peer",
            uv_stream_get_write_queue_size(&l->sock.stream) + l->pending.len);
    m0__net_hard_close(l);
    break;
  case M0__NET_T_NONE:
    break;
  }
}

/* ---- binding (listeners, UDP, a dialling socket's SOCKPORT) ---- */

static int bind_one(struct m0__net_link *l, const struct sockaddr_storage *sa) {
  if (l->kind == M0_LINK_UDP)
    return uv_udp_bind(&l->sock.udp, (const struct sockaddr *)sa, 0);
  return uv_tcp_bind(&l->sock.tcp, (const struct sockaddr *)sa, 0);
}

int m0__net_bind_port(struct m0__net_link *l, uint16_t port) {
  struct m0__net *n = l->net;
  struct sockaddr_storage sa = n->bind_sa;
  uint16_t host_port;
  m0__net_set_port(&sa, port);
  int rc = bind_one(l, &sa);
  if (m0__net_port_unprivileged(rc, port, &host_port)) {
    m0__net_set_port(&sa, host_port);
    rc = bind_one(l, &sa);
    if (rc == 0) {
      m0__net_emit(n, "net.port_mapped", "\"link\":%u,\"port\":%u,\"host_port\":%u", l->id,
                   port, host_port);
      m0__log_at(n->events, M0__LOG_INFO, "port %u needs privileges: using host port %u instead",
                 port, host_port);
    }
  }
  return rc;
}

static void bound_json(struct m0__net_link *l, char *buf, size_t cap) {
  struct sockaddr_storage sa;
  int len = sizeof sa;
  int rc = l->kind == M0_LINK_UDP
               ? uv_udp_getsockname(&l->sock.udp, (struct sockaddr *)&sa, &len)
               : uv_tcp_getsockname(&l->sock.tcp, (struct sockaddr *)&sa, &len);
  if (rc != 0)
    sa = l->net->bind_sa;
  m0__net_json_sockaddr(buf, cap, (struct sockaddr *)&sa);
}

/* A listener or UDP socket is bound (or a UDP peer looked up): tell the core. */
void m0__net_report_up(struct m0__net_link *l) {
  struct m0__net *n = l->net;
  char bound[128], peer[128];
  l->up = true;
  m0__net_read_update(l);
  bound_json(l, bound, sizeof bound);
  m0_json_hostport(peer, sizeof peer, l->req.peer.host, l->req.peer.port);
  if (l->kind == M0_LINK_TCP_LISTEN)
    m0__net_emit(n, "net.listening", "\"link\":%u,\"bind\":%s", l->id, bound);
  else
    m0__net_emit(n, "net.listening", "\"link\":%u,\"bind\":%s,\"peer\":%s,\"udp\":true",
                 l->id, bound, peer);
  m0_dev_on_link_up(n->dev, uv_hrtime(), l->id, &l->req.peer);
}

/* ---- name lookups (--net host) ---- */

int m0__net_sock_family(const struct m0__net_link *l) {
  if (l->kind == M0_LINK_UDP || l->req.local_port != 0)
    return m0__net_bind_family(l->net);
  return 0;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  struct m0__net_link *l = req->data;
  l->lookup = false;
  l->refs--;
  if (l->closing) { /* the core closed the link meanwhile (its dial timed out) */
    uv_freeaddrinfo(res);
    maybe_free(l);
    return;
  }
  bool ok = status == 0 &&
            m0__net_pick_addr(res, m0__net_sock_family(l), l->req.peer.port, &l->dial);
  uv_freeaddrinfo(res);
  if (status == 0 && !ok)
    status = UV_EAI_ADDRFAMILY;
  if (l->kind == M0_LINK_UDP)
    m0__net_udp_resolved(l, ok, status);
  else
    m0__net_tcp_resolved(l, ok, status);
}

int m0__net_start_lookup(struct m0__net_link *l) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC,
                           .ai_socktype = l->kind == M0_LINK_UDP ? SOCK_DGRAM : SOCK_STREAM};
  int rc = uv_getaddrinfo(l->net->loop, &l->gai, on_resolved, l->req.peer.host, NULL, &hints);
  if (rc == 0) {
    l->lookup = true;
    l->refs++;
  }
  return rc;
}

/* ---- reading ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct m0__net_link *l = h->data;
  (void)suggested;
  *buf = uv_buf_init((char *)l->net->rbuf, M0__NET_READ_MAX);
}

void m0__net_read_update(struct m0__net_link *l) {
  if (l->closing || l->kind == M0_LINK_TCP_LISTEN)
    return;
  bool want = l->attached ? l->up && !l->paused : !l->eof;
  if (want == l->reading)
    return;
  int rc;
  if (l->kind == M0_LINK_UDP)
    rc = want ? uv_udp_recv_start(&l->sock.udp, on_alloc, m0__net_udp_on_recv)
              : uv_udp_recv_stop(&l->sock.udp);
  else
    rc = want ? uv_read_start(&l->sock.stream, on_alloc, m0__net_tcp_on_read)
              : uv_read_stop(&l->sock.stream);
  if (rc == 0)
    l->reading = want;
  else
    m0__log(l->net->events, "link %u: cannot %s reading: %s", l->id,
            want ? "start" : "stop", uv_strerror(rc));
}

/* ---- resets while paused ---- */

static bool watched(const struct m0__net_link *l) {
  return l != NULL && m0__net_is_stream(l) && l->up && l->paused && !l->eof && !l->closing;
}

/* The error a read would meet first if the kernel already closed this socket under us
 * (a reset, a keepalive timeout); 0 while it is open or only half-closed (FIN). */
static int closed_under_us(struct m0__net_link *l) {
  uv_os_fd_t fd;
  struct tcp_info ti;
  socklen_t len = sizeof ti;
  int err = 0;
  socklen_t elen = sizeof err;
  if (uv_fileno(&l->sock.handle, &fd) != 0)
    return 0;
  memset(&ti, 0, sizeof ti);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 || ti.tcpi_state != TCP_CLOSE)
    return 0;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err == 0)
    err = ECONNRESET;
  return uv_translate_sys_error(err);
}

static void on_paused_timer(uv_timer_t *t) {
  struct m0__net *n = t->data;
  bool any = false;
  for (unsigned id = 0; id < M0_LINKS_MAX && !n->closed; id++) {
    struct m0__net_link *l = n->links[id];
    if (!watched(l))
      continue;
    int err = closed_under_us(l);
    if (err != 0)
      m0__net_link_down(l, M0_DOWN_RESET, err); /* the core may reopen or resume links */
  }
  for (unsigned id = 0; id < M0_LINKS_MAX && !n->closed; id++)
    any = any || watched(n->links[id]);
  if (!any && n->paused_timer_running) {
    uv_timer_stop(t);
    n->paused_timer_running = false;
  }
}

void m0__net_watch_paused(struct m0__net *n) {
  if (!n->paused_timer_open || n->paused_timer_running || n->closed)
    return;
  n->paused_timer_running = true;
  uv_timer_start(&n->paused_timer, on_paused_timer, PAUSED_CHECK_MS, PAUSED_CHECK_MS);
}

/* ---- the HAL's link_* ---- */

int m0__net_init(struct m0__net *n, uv_loop_t *loop, struct m0_dev *dev,
                 struct m0__events *events, bool net_host, const char *bind_addr,
                 uint8_t *rbuf, struct m0__turn *turn) {
  memset(n, 0, sizeof *n);
  n->loop = loop;
  n->dev = dev;
  n->events = events;
  n->rbuf = rbuf;
  n->net_host = net_host;
  if (m0__net_bind_addr(bind_addr, &n->bind_sa) != 0)
    return UV_EINVAL;
  if (uv_timer_init(loop, &n->paused_timer) == 0) {
    n->paused_timer.data = n;
    n->paused_timer_open = true;
  }
  m0__net_tcp_init(n, turn);
  return 0;
}

int m0__net_link_open(struct m0__net *n, unsigned id, const struct m0_link_open *req) {
  if (id >= M0_LINKS_MAX || req == NULL || req->kind == M0_LINK_TCP_ACCEPTED)
    return UV_EINVAL;
  if (n->closed)
    return UV_ECANCELED;
  if (n->links[id] != NULL) { /* the core closes before reusing; be safe if it did not */
    m0__log(n->events, "link %u: opened while open: closing the old one", id);
    m0__net_hard_close(n->links[id]);
  }
  struct m0__net_link *l = m0__net_link_new(n, req->kind);
  if (l == NULL)
    return UV_ENOMEM;
  l->req = *req;
  l->req.peer.host[sizeof l->req.peer.host - 1] = '\0';
  m0__net_attach(l, id);
  switch (req->kind) {
  case M0_LINK_TCP_CONNECT:
    m0__net_tcp_connect(l);
    break;
  case M0_LINK_TCP_LISTEN:
    m0__net_tcp_listen(l);
    break;
  case M0_LINK_UDP:
    m0__net_udp_open(l);
    break;
  case M0_LINK_TCP_ACCEPTED:
    break;
  }
  return 0;
}

long m0__net_link_send(struct m0__net *n, unsigned id, const uint8_t *data, size_t len,
                       const struct m0_net_addr *to) {
  struct m0__net_link *l = id < M0_LINKS_MAX ? n->links[id] : NULL;
  if (l == NULL || !l->up || l->closing)
    return UV_ENOTCONN;
  if (l->kind == M0_LINK_UDP)
    return m0__net_udp_send(l, data, len, to);
  if (l->kind == M0_LINK_TCP_LISTEN)
    return UV_EINVAL;
  if (len > 0 && n->tap != NULL)
    n->tap(n->tap_ctx, id, true, data, len);
  return m0__net_tcp_send(l, data, len);
}

void m0__net_link_close(struct m0__net *n, unsigned id) {
  struct m0__net_link *l = id < M0_LINKS_MAX ? n->links[id] : NULL;
  if (l == NULL)
    return;
  if (m0__net_is_stream(l) && l->up) {
    char peer[128];
    m0_json_hostport(peer, sizeof peer, l->req.peer.host, l->req.peer.port);
    m0__net_emit(n, "net.closed", "\"link\":%u,\"peer\":%s,\"reason\":\"local\"", id, peer);
    linger(l);
  } else {
    if (l->kind == M0_LINK_TCP_CONNECT)
      m0__log(n->events, "link %u: dial abandoned%s", id, l->lookup ? " (lookup cancelled)" : "");
    m0__net_hard_close(l);
  }
}

void m0__net_link_abort(struct m0__net *n, unsigned id) {
  struct m0__net_link *l = id < M0_LINKS_MAX ? n->links[id] : NULL;
  if (l == NULL)
    return;
  if (!m0__net_is_stream(l) || !l->up || l->closing) {
    m0__net_hard_close(l);
    return;
  }
  char peer[128];
  m0_json_hostport(peer, sizeof peer, l->req.peer.host, l->req.peer.port);
  m0__net_emit(n, "net.closed", "\"link\":%u,\"peer\":%s,\"reason\":\"abort\"", id, peer);
  /* SO_LINGER 0 then close: the kernel sends RST and drops what it still held. */
  detach(l);
  l->closing = true;
  l->reading = false;
  if (uv_tcp_close_reset(&l->sock.tcp, on_handle_closed) != 0)
    uv_close(&l->sock.handle, on_handle_closed);
  uv_close((uv_handle_t *)&l->timer, on_handle_closed);
}

void m0__net_link_pause(struct m0__net *n, unsigned id, bool paused) {
  struct m0__net_link *l = id < M0_LINKS_MAX ? n->links[id] : NULL;
  if (id < M0_LINKS_MAX && l == NULL) {
    n->pause_unattached[id] = paused;
    return;
  }
  if (l == NULL)
    return;
  l->paused = paused;
  m0__net_read_update(l);
  if (paused && m0__net_is_stream(l))
    m0__net_watch_paused(n);
}

void m0__net_close_all(struct m0__net *n) {
  n->closed = true;
  if (n->paused_timer_open) {
    n->paused_timer_open = false;
    n->paused_timer_running = false;
    uv_close((uv_handle_t *)&n->paused_timer, NULL);
  }
  m0__net_tcp_close(n);
  for (struct m0__net_link *l = n->all; l != NULL; l = l->next)
    m0__net_hard_close(l);
}
