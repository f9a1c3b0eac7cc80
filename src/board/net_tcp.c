/* net_tcp.c: TCP links: dial, listen and accept, read, and the gathered writer.
 *
 * Sockets get nodelay, keepalive 60 s when the core asks for it (spec §6.2), a listen
 * backlog of 16. A dial is given no deadline here (the core closes it after 10 s).
 *
 * Frames are invisible on a TCP stream, so the bytes of one loop turn (every frame cut
 * from one pty read, typically 400 bytes each) leave in one write: a syscall per frame
 * cost more than half the CPU of a pty-to-TCP stream (docs/performance.md). A send only
 * appends to the link's pending buffer; m0__net_flush_all, at the end of the loop turn,
 * tries the socket first and hands what it did not take to uv_write. Two growing
 * buffers per link (one with libuv, one filling, swapped), so nothing is dropped while a
 * link is open and a 10 MB backlog costs a handful of reallocs, not one malloc per frame;
 * a buffer above 1 MiB is freed once drained.
 */
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

#define LISTEN_BACKLOG 16
#define WBUF_MIN 4096
#define WBUF_KEEP (1u << 20) /* larger write buffers are freed once drained */

static int connect_reason(int err) {
  switch (err) {
  case UV_ETIMEDOUT:
    return M0_DOWN_TIMEOUT; /* the kernel's own, long after the core's 10 s */
  case UV_EADDRINUSE:
  case UV_EADDRNOTAVAIL:
    return M0_DOWN_BIND; /* the local SOCKPORT (bind() itself fails at open) */
  default:
    return M0_DOWN_REFUSED;
  }
}

/* ---- dialling ---- */

static void on_connect(uv_connect_t *req, int status) {
  struct m0__net_link *l = req->data;
  struct m0__net *n = l->net;
  if (l->closing || !l->attached)
    return;
  if (status < 0) {
    m0__net_link_down(l, connect_reason(status), status);
    return;
  }
  l->up = true;
  char peer[128];
  m0_json_hostport(peer, sizeof peer, l->req.peer.host, l->req.peer.port);
  m0__net_emit(n, "net.connected", "\"link\":%u,\"peer\":%s", l->id, peer);
  m0__net_read_update(l);
  if (l->paused)
    m0__net_watch_paused(n); /* dialled while paused: watched from now on */
  m0_dev_on_link_up(n->dev, uv_hrtime(), l->id, &l->req.peer);
}

static void start_connect(struct m0__net_link *l) {
  char peer[128], dial[128];
  m0_json_hostport(peer, sizeof peer, l->req.peer.host, l->req.peer.port);
  m0__net_json_sockaddr(dial, sizeof dial, (struct sockaddr *)&l->dial);
  m0__net_emit(l->net, "net.connecting", "\"link\":%u,\"peer\":%s,\"dial\":%s", l->id, peer,
               dial);
  /* A module with a loopback address of its own dials from it: a server sees each
   * module of a fleet as its own peer. */
  bool own_source = l->net->bind_source && m0__net_is_loopback((struct sockaddr *)&l->dial);
  if (l->req.local_port != 0 || own_source) {
    int rc = m0__net_bind_port(l, l->req.local_port);
    if (rc != 0) {
      m0__net_defer_down(l, M0_DOWN_BIND, rc);
      return;
    }
  }
  uv_tcp_nodelay(&l->sock.tcp, 1); /* applied when the socket is created */
  if (l->req.keepalive)
    uv_tcp_keepalive(&l->sock.tcp, 1, M0__NET_KEEPALIVE_S);
  int rc = uv_tcp_connect(&l->connect, &l->sock.tcp, (struct sockaddr *)&l->dial,
                          on_connect);
  if (rc != 0)
    m0__net_defer_down(l, connect_reason(rc), rc);
}

void m0__net_tcp_resolved(struct m0__net_link *l, bool ok, int status) {
  if (!ok) {
    m0__net_link_down(l, M0_DOWN_REFUSED, status);
    return;
  }
  l->have_dial = true;
  start_connect(l);
}

void m0__net_tcp_connect(struct m0__net_link *l) {
  int rc = m0__net_dial_addr(l->net, &l->req.peer, m0__net_sock_family(l), &l->dial);
  if (rc == M0__NET_NEED_LOOKUP) {
    char peer[128];
    m0_json_hostport(peer, sizeof peer, l->req.peer.host, l->req.peer.port);
    m0__net_emit(l->net, "net.connecting",
                 "\"link\":%u,\"peer\":%s,\"dial\":%s,\"lookup\":true", l->id, peer, peer);
    rc = m0__net_start_lookup(l);
  } else if (rc == 0) {
    l->have_dial = true;
    start_connect(l);
    return;
  }
  if (rc != 0)
    m0__net_defer_down(l, M0_DOWN_REFUSED, rc);
}

/* ---- listening ---- */

static void on_connection(uv_stream_t *server, int status) {
  struct m0__net_link *ls = server->data;
  struct m0__net *n = ls->net;
  if (status < 0) {
    m0__log(n->events, "link %u: accept: %s", ls->id, uv_strerror(status));
    return;
  }
  struct m0__net_link *c = m0__net_link_new(n, M0_LINK_TCP_ACCEPTED);
  if (c == NULL) {
    m0__log(n->events, "link %u: out of memory for a new client", ls->id);
    return;
  }
  if (uv_accept(server, &c->sock.stream) != 0 || !ls->attached || ls->closing || n->closed) {
    m0__net_hard_close(c);
    return;
  }
  struct sockaddr_storage sa;
  int salen = sizeof sa;
  c->req.kind = M0_LINK_TCP_ACCEPTED;
  c->req.keepalive = ls->req.keepalive;
  c->req.local_port = ls->req.local_port;
  if (uv_tcp_getpeername(&c->sock.tcp, (struct sockaddr *)&sa, &salen) == 0)
    m0__net_sockaddr_to_addr((struct sockaddr *)&sa, &c->req.peer);
  char peer[128];
  m0_json_hostport(peer, sizeof peer, c->req.peer.host, c->req.peer.port);

  unsigned listen_id = ls->id;
  int id = m0_dev_on_link_accept(n->dev, uv_hrtime(), listen_id, &c->req.peer);
  if (id < 0 || id >= M0_LINKS_MAX || n->closed) {
    m0__net_emit(n, "net.refused", "\"link\":%u,\"peer\":%s,\"reason\":\"full\"", listen_id,
                 peer);
    m0__net_hard_close(c);
    return;
  }
  if (n->links[id] != NULL) { /* the core promised a free slot */
    m0__log(n->events, "link %d: given to a client while still open: closing the old one",
            id);
    m0__net_hard_close(n->links[id]);
  }
  m0__net_attach(c, (unsigned)id);
  c->up = true;
  uv_tcp_nodelay(&c->sock.tcp, 1);
  if (c->req.keepalive)
    uv_tcp_keepalive(&c->sock.tcp, 1, M0__NET_KEEPALIVE_S);
  m0__net_emit(n, "net.connected", "\"link\":%d,\"peer\":%s,\"accepted\":true,\"listen\":%u",
               id, peer, listen_id);
  m0__net_read_update(c);
}

void m0__net_tcp_listen(struct m0__net_link *l) {
  int rc = m0__net_bind_port(l, l->req.local_port);
  if (rc == 0)
    rc = uv_listen(&l->sock.stream, LISTEN_BACKLOG, on_connection); /* EADDRINUSE here */
  if (rc != 0)
    m0__net_defer_down(l, M0_DOWN_BIND, rc);
  else
    m0__net_defer_up(l);
}

/* ---- reading ---- */

void m0__net_tcp_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  struct m0__net_link *l = s->data;
  struct m0__net *n = l->net;
  if (nread < 0) {
    l->reading = false; /* libuv stops reading at EOF and errors */
    l->eof = true;
  }
  if (l->closing)
    return;
  if (!l->attached) { /* lingering: input is discarded, the peer's end ends the wait */
    if (nread < 0)
      m0__net_hard_close(l);
    return;
  }
  if (nread > 0) {
    if (n->tap != NULL)
      n->tap(n->tap_ctx, l->id, false, (const uint8_t *)buf->base, (size_t)nread);
    m0_dev_on_link_rx(n->dev, uv_hrtime(), l->id, (const uint8_t *)buf->base,
                      (size_t)nread, NULL);
  } else if (nread == UV_EOF) {
    m0__net_link_down(l, M0_DOWN_CLOSED, UV_EOF);
  } else if (nread < 0) {
    m0__net_link_down(l, M0_DOWN_RESET, (int)nread);
  }
}

/* ---- writing ---- */

static void on_write(uv_write_t *req, int status);

static int wbuf_append(struct m0__net_wbuf *b, const uint8_t *data, size_t len) {
  if (len > SIZE_MAX - b->len)
    return UV_ENOMEM;
  if (b->len + len > b->cap) {
    size_t cap = b->cap ? b->cap : WBUF_MIN;
    while (cap < b->len + len)
      cap = cap > SIZE_MAX / 2 ? b->len + len : cap * 2;
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL)
      return UV_ENOMEM;
    b->data = p;
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
  return 0;
}

static void wbuf_trim(struct m0__net_wbuf *b) {
  if (b->len == 0 && b->cap > WBUF_KEEP) {
    free(b->data);
    *b = (struct m0__net_wbuf){0};
  }
}

/* Hand the pending bytes to libuv; the former in-flight buffer becomes the pending one. */
static int start_write(struct m0__net_link *l) {
  struct m0__net_wbuf t = l->inflight;
  l->inflight = l->pending;
  l->pending = t;
  l->pending.len = 0;
  uv_buf_t buf = uv_buf_init((char *)l->inflight.data, (unsigned)l->inflight.len);
  int rc = uv_write(&l->write, &l->sock.stream, &buf, 1, on_write);
  l->writing = rc == 0;
  if (rc != 0)
    l->inflight.len = 0;
  return rc;
}

static void on_write(uv_write_t *req, int status) {
  struct m0__net_link *l = req->data;
  l->writing = false;
  l->inflight.len = 0;
  if (l->closing)
    return; /* cancelled by uv_close */
  if (status < 0) {
    m0__net_link_down(l, M0_DOWN_RESET, status);
    return;
  }
  if (l->pending.len > 0) {
    int rc = start_write(l);
    if (rc != 0)
      m0__net_link_down(l, M0_DOWN_RESET, rc);
    return;
  }
  wbuf_trim(&l->inflight);
  wbuf_trim(&l->pending);
  if (!l->attached) { /* lingering: all delivered to the kernel */
    m0__net_hard_close(l);
    return;
  }
  m0_dev_on_link_drained(l->net->dev, uv_hrtime(), l->id);
}

/* Straight to the socket while it takes it (no copy into libuv's queue), the rest through
 * uv_write. */
int m0__net_tcp_flush_pending(struct m0__net_link *l) {
  if (l->writing || l->pending.len == 0)
    return 0;
  uv_buf_t buf = uv_buf_init((char *)l->pending.data,
                             l->pending.len > UINT32_MAX ? UINT32_MAX : (unsigned)l->pending.len);
  int n = uv_try_write(&l->sock.stream, &buf, 1);
  /* Errors other than EAGAIN come back from uv_write's callback as a reset. */
  if (n > 0) {
    memmove(l->pending.data, l->pending.data + n, l->pending.len - (size_t)n);
    l->pending.len -= (size_t)n;
  }
  return l->pending.len > 0 ? start_write(l) : 0;
}

/* The flush runs right after the callbacks that queued the bytes, before the loop can
 * block (turn.h): a heartbeat sent from a timer does not wait for the next wakeup. */
void m0__net_flush_all(struct m0__net *n) {
  unsigned drained[M0_LINKS_MAX], ndrained = 0;
  m0__turn_disarm(&n->flush_job); /* when called directly, not as the job */
  for (struct m0__net_link *l = n->all; l != NULL; l = l->next) {
    if (!m0__net_is_stream(l) || l->closing || l->writing || l->pending.len == 0)
      continue;
    int rc = m0__net_tcp_flush_pending(l);
    if (rc != 0)
      m0__net_defer_down(l, M0_DOWN_RESET, rc);
    else if (!l->writing && l->attached)
      drained[ndrained++] = l->id; /* tcp_send said these bytes were waiting */
  }
  /* Calls into the core last: it may close or reopen links. */
  for (unsigned i = 0; i < ndrained && !n->closed; i++) {
    struct m0__net_link *l = n->links[drained[i]];
    if (l != NULL && !l->writing && l->pending.len == 0)
      m0_dev_on_link_drained(n->dev, uv_hrtime(), drained[i]);
  }
}

static void on_flush(void *ctx) { m0__net_flush_all(ctx); }

void m0__net_tcp_init(struct m0__net *n, struct m0__turn *turn) {
  m0__turn_job_init(&n->flush_job, turn, on_flush, n);
}

void m0__net_tcp_close(struct m0__net *n) {
  m0__turn_disarm(&n->flush_job);
}

long m0__net_tcp_send(struct m0__net_link *l, const uint8_t *data, size_t len) {
  struct m0__net *n = l->net;
  if (len > 0) {
    int rc = wbuf_append(&l->pending, data, len);
    if (rc != 0) {
      m0__net_defer_down(l, M0_DOWN_RESET, rc);
      return rc;
    }
    /* At the end of the turn; now only when the service is closed (exiting). */
    if (!l->writing && !m0__turn_arm(&n->flush_job)) {
      rc = m0__net_tcp_flush_pending(l);
      if (rc != 0) {
        m0__net_defer_down(l, M0_DOWN_RESET, rc);
        return rc;
      }
    }
  }
  return (long)(uv_stream_get_write_queue_size(&l->sock.stream) + l->pending.len);
}
