/* net.c: the board's network links: libuv TCP and UDP sockets behind the HAL's link_*.
 *
 * A link is one malloc'd struct holding its libuv handles, so the core may reuse an id the
 * moment it closes one while the old handles finish closing; a link is freed when its two
 * handles are closed and no name lookup is in flight (refs). Numbers: connect timeout 10 s
 * (name lookup included), TCP keepalive 60 s, nodelay on, listen backlog 16, one 64 KiB
 * read buffer per device. TCP sends try the socket first and queue the rest in two
 * growing buffers (one being written, one filling), so nothing is dropped while a link is
 * open and a 10 MB backlog costs a handful of reallocs, not one malloc per frame. A closed
 * TCP link keeps delivering what it had queued for up to 10 s (a real close() does too).
 * UDP sends go straight to the socket; only when its buffer is full are datagrams copied
 * and queued, up to 1 MiB, beyond which they are dropped like on a busy network.
 *
 * A link the core paused is not read, so its peer's reset would only show when the host
 * reads again. While any TCP link is paused, one timer per device (not per link) looks at
 * each paused socket every 100 ms: a socket the kernel closed (TCP_INFO state TCP_CLOSE:
 * a reset, or keepalive giving up) is reported down with its SO_ERROR at once, exactly
 * as a read would have (net.closed, reason "reset"); what the kernel still held unread
 * for it is dropped, as a module's stack drops its receive queue on a reset. A graceful
 * close (FIN) is left alone: the data before it reaches the host first, and the close
 * follows when reading resumes and meets the end of the stream.
 *
 * The core is only ever called from libuv callbacks, never from inside a HAL call: an open
 * that is decided at once (bound, or failed to bind) is reported through the link's timer
 * at 0 ms. After every call into the core the link may have been closed or its id given to
 * a new link, so callbacks re-check l->attached before touching the slot again.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "net.h"

#define CONNECT_TIMEOUT_MS 10000
#define KEEPALIVE_S 60
#define LISTEN_BACKLOG 16
#define LINGER_MS 10000
#define UDP_QUEUE_MAX (1u << 20)
#define WBUF_MIN 4096
#define WBUF_KEEP (1u << 20) /* larger write buffers are freed once drained */
#define PRIVILEGED_MAP 8000  /* device port P < 1024 becomes host port 8000+P */
#define PAUSED_CHECK_MS 100  /* how often a paused link's socket is looked at */

/* dial_addr(): the device's address is a name that must be looked up first. */
#define NEED_LOOKUP 1

enum timer_use {
  T_NONE,
  T_CONNECT_TIMEOUT, /* dialling: give up */
  T_REPORT_UP,       /* listener or UDP socket bound: tell the core */
  T_REPORT_DOWN,     /* failed inside a HAL call: tell the core from the loop */
  T_LINGER,          /* closed with bytes still queued: stop waiting for the peer */
};

struct wbuf {
  uint8_t *data;
  size_t len, cap;
};

struct m0__net_link {
  struct m0__net *net;
  struct m0__net_link *prev, *next; /* net->all */
  unsigned id;
  enum m0_link_kind kind;
  struct m0_link_open req; /* TCP_ACCEPTED: peer is the client as seen */
  bool attached;           /* net->links[id] == this: the core knows the link */
  bool up;                 /* connected, accepted, or bound and reported */
  bool paused;             /* the core's back-pressure */
  bool reading;
  bool eof;                /* the peer closed its side: nothing more to read */
  bool closing;            /* uv_close issued */
  bool lookup;             /* getaddrinfo in flight */
  bool have_dial;          /* dial holds where the peer really is */
  unsigned refs;           /* open handles + lookup in flight */
  union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_udp_t udp;
  } sock;
  uv_timer_t timer;
  enum timer_use timer_use;
  int down_reason, down_error; /* T_REPORT_DOWN */
  uv_connect_t connect;
  uv_getaddrinfo_t gai;
  uv_write_t write;
  bool writing;          /* write (inflight) is with libuv */
  struct wbuf inflight;  /* bytes handed to uv_write */
  struct wbuf pending;   /* bytes queued behind them */
  struct sockaddr_storage dial;
};

struct udp_send {
  uv_udp_send_t req;
  size_t len;
  uint8_t data[];
};

/* ---- small helpers ---- */

static void emit(struct m0__net *n, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void emit(struct m0__net *n, const char *name, const char *fmt, ...) {
  char fields[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(fields, sizeof fields, fmt, ap);
  va_end(ap);
  m0__events_emit(n->events, name, fields);
}

static void copy_host(char *dst, size_t cap, const char *src) {
  size_t len = strnlen(src, cap - 1);
  memcpy(dst, src, len);
  dst[len] = '\0';
}

/* "host:port" ("[v6]:port") as a JSON string, quotes included. */
static const char *json_hostport(char *buf, size_t cap, const char *host, unsigned port) {
  char s[96];
  if (strchr(host, ':') != NULL)
    snprintf(s, sizeof s, "[%.60s]:%u", host, port);
  else
    snprintf(s, sizeof s, "%.60s:%u", host, port);
  m0__json_string(buf, cap, s);
  return buf;
}

static bool is_v4_mapped(const struct sockaddr_in6 *a) {
  static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return memcmp(a->sin6_addr.s6_addr, prefix, sizeof prefix) == 0;
}

/* ::ffff:a.b.c.d, for an IPv4 destination on an IPv6 socket (dual stack). */
static void to_v4_mapped(struct sockaddr_storage *ss) {
  struct sockaddr_in v4;
  memcpy(&v4, ss, sizeof v4);
  struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = v4.sin_port};
  v6.sin6_addr.s6_addr[10] = 0xff;
  v6.sin6_addr.s6_addr[11] = 0xff;
  memcpy(&v6.sin6_addr.s6_addr[12], &v4.sin_addr, 4);
  memset(ss, 0, sizeof *ss);
  memcpy(ss, &v6, sizeof v6);
}

/* Numeric address and port, v4-mapped IPv6 shown as the IPv4 it is. */
static void sockaddr_to_net(const struct sockaddr *sa, struct m0_net_addr *out) {
  char ip[INET6_ADDRSTRLEN] = "";
  out->port = 0;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
    uv_ip4_name(a, ip, sizeof ip);
    out->port = ntohs(a->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
    if (is_v4_mapped(a)) {
      struct sockaddr_in v4 = {.sin_family = AF_INET};
      memcpy(&v4.sin_addr, &a->sin6_addr.s6_addr[12], 4);
      uv_ip4_name(&v4, ip, sizeof ip);
    } else {
      uv_ip6_name(a, ip, sizeof ip); /* longer than M0_SOCK_ADDR_MAX at worst: cut */
    }
    out->port = ntohs(a->sin6_port);
  }
  copy_host(out->host, sizeof out->host, ip);
}

static const char *json_sockaddr(char *buf, size_t cap, const struct sockaddr *sa) {
  char ip[INET6_ADDRSTRLEN] = "";
  unsigned port = 0;
  if (sa->sa_family == AF_INET) {
    uv_ip4_name((const struct sockaddr_in *)sa, ip, sizeof ip);
    port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    uv_ip6_name((const struct sockaddr_in6 *)sa, ip, sizeof ip);
    port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
  }
  return json_hostport(buf, cap, ip, port);
}

static bool is_loopback(const struct sockaddr *sa) {
  if (sa->sa_family == AF_INET)
    return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
    if (is_v4_mapped(a))
      return a->sin6_addr.s6_addr[12] == 127;
    static const uint8_t one[16] = {[15] = 1};
    return memcmp(a->sin6_addr.s6_addr, one, 16) == 0;
  }
  return false;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port) {
  if (ss->ss_family == AF_INET)
    ((struct sockaddr_in *)ss)->sin_port = htons(port);
  else
    ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* Where device address a really is, for a socket of family sock_family (0: not bound
 * yet, any). Loopback mode: the host machine plays every peer, so 127.0.0.1 (::1 on an
 * IPv6 socket) and the same port, names not resolved. Host mode: the literal, or
 * NEED_LOOKUP for a name. */
static int dial_addr(const struct m0__net *n, const struct m0_net_addr *a, int sock_family,
                     struct sockaddr_storage *out) {
  memset(out, 0, sizeof *out);
  if (!n->net_host && m0__peer_find(n->peers, a, (struct sockaddr_in *)out)) {
    if (sock_family == AF_INET6)
      to_v4_mapped(out);
    return 0;
  }
  if (!n->net_host) {
    if (sock_family == AF_INET6)
      return uv_ip6_addr("::1", a->port, (struct sockaddr_in6 *)out);
    return uv_ip4_addr("127.0.0.1", a->port, (struct sockaddr_in *)out);
  }
  if (uv_ip4_addr(a->host, a->port, (struct sockaddr_in *)out) == 0) {
    if (sock_family == AF_INET6)
      to_v4_mapped(out);
    return 0;
  }
  if (uv_ip6_addr(a->host, a->port, (struct sockaddr_in6 *)out) == 0)
    return sock_family == AF_INET ? UV_EAFNOSUPPORT : 0;
  return a->host[0] == '\0' ? UV_EINVAL : NEED_LOOKUP;
}

static int bind_family(const struct m0__net *n) {
  return n->bind_sa.ss_family;
}

/* ---- link lifetime ---- */

static void on_handle_closed(uv_handle_t *h);
static void on_timer(uv_timer_t *t);

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

static struct m0__net_link *link_new(struct m0__net *n, enum m0_link_kind kind) {
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

static void watch_paused(struct m0__net *n);

static void attach(struct m0__net_link *l, unsigned id) {
  l->id = id;
  l->attached = true;
  l->net->links[id] = l;
  l->paused = l->net->pause_unattached[id];
  l->net->pause_unattached[id] = false;
  if (l->paused)
    watch_paused(l->net);
}

static void detach(struct m0__net_link *l) {
  if (!l->attached)
    return;
  l->net->links[l->id] = NULL;
  l->attached = false;
}

/* Close now: queued bytes are lost, pending callbacks come back cancelled and are
 * ignored (closing), the memory goes when the handles are closed. */
static void hard_close(struct m0__net_link *l) {
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

static void arm(struct m0__net_link *l, enum timer_use use, uint64_t ms) {
  l->timer_use = use;
  uv_timer_start(&l->timer, on_timer, ms, 0);
}

static void read_update(struct m0__net_link *l);

/* Closed by the core or by the peer's EOF: keep delivering what is queued (bounded by
 * LINGER_MS), reading and discarding meanwhile so unread input does not turn our close
 * into a reset, then close. */
static int flush_pending(struct m0__net_link *l);

static void linger(struct m0__net_link *l) {
  detach(l);
  if (l->closing)
    return;
  if (l->pending.len > 0 && flush_pending(l) != 0)
    l->pending.len = 0; /* the socket is broken: nothing more can be delivered */
  if (!l->writing) {
    hard_close(l);
    return;
  }
  arm(l, T_LINGER, LINGER_MS);
  read_update(l);
}

static const char *reason_name(int reason) {
  return reason == M0_DOWN_CLOSED ? "closed" : "reset";
}

/* The link failed or went away on its own: the OS fact as an event, then the core,
 * unless the core already closed it. */
static void link_down(struct m0__net_link *l, int reason, int err) {
  struct m0__net *n = l->net;
  if (!l->attached || n->closed) {
    hard_close(l);
    return;
  }
  unsigned id = l->id;
  bool was_up = l->up;
  if (reason == M0_DOWN_CLOSED)
    linger(l);
  else
    hard_close(l);

  char peer[128], bound[128];
  json_hostport(peer, sizeof peer, l->req.peer.host, l->req.peer.port);
  if (was_up && l->kind != M0_LINK_UDP && l->kind != M0_LINK_TCP_LISTEN) {
    emit(n, "net.closed", "\"link\":%u,\"peer\":%s,\"reason\":\"%s\"", id, peer,
         reason_name(reason));
  } else if (l->kind == M0_LINK_TCP_CONNECT && reason != M0_DOWN_BIND) {
    emit(n, "net.refused", "\"link\":%u,\"peer\":%s,\"error\":\"%s\"", id, peer,
         uv_strerror(err));
  } else {
    struct sockaddr_storage b = n->bind_sa;
    set_port(&b, l->req.local_port);
    json_sockaddr(bound, sizeof bound, (struct sockaddr *)&b);
    emit(n, "net.refused", "\"link\":%u,\"peer\":%s,\"bind\":%s,\"error\":\"%s\"", id,
         peer, bound, uv_strerror(err));
  }
  m0__log(n->events, "link %u down (%d): %s", id, reason, uv_strerror(err));
  m0_dev_on_link_down(n->dev, uv_hrtime(), id, reason);
}

/* Inside a HAL call the core must not be re-entered: report the failure from the loop. */
static void defer_down(struct m0__net_link *l, int reason, int err) {
  l->down_reason = reason;
  l->down_error = err;
  arm(l, T_REPORT_DOWN, 0);
}

static int connect_reason(int err) {
  switch (err) {
  case UV_ETIMEDOUT:
    return M0_DOWN_TIMEOUT;
  case UV_EADDRINUSE:
  case UV_EADDRNOTAVAIL:
    return M0_DOWN_BIND; /* the local SOCKPORT (bind() itself fails at open) */
  default:
    return M0_DOWN_REFUSED;
  }
}

/* ---- binding (listeners, UDP, a dialling socket's SOCKPORT) ---- */

static int bind_one(struct m0__net_link *l, const struct sockaddr_storage *sa) {
  if (l->kind == M0_LINK_UDP)
    return uv_udp_bind(&l->sock.udp, (const struct sockaddr *)sa, 0);
  return uv_tcp_bind(&l->sock.tcp, (const struct sockaddr *)sa, 0);
}

/* Bind --bind:port; a privileged port we may not bind becomes 8000+port (spec §6.1). */
static int bind_port(struct m0__net_link *l, uint16_t port) {
  struct m0__net *n = l->net;
  struct sockaddr_storage sa = n->bind_sa;
  set_port(&sa, port);
  int rc = bind_one(l, &sa);
  if ((rc == UV_EACCES || rc == UV_EPERM) && port != 0 && port < 1024) {
    unsigned host_port = PRIVILEGED_MAP + port;
    set_port(&sa, (uint16_t)host_port);
    rc = bind_one(l, &sa);
    if (rc == 0) {
      emit(n, "net.port_mapped", "\"link\":%u,\"port\":%u,\"host_port\":%u", l->id, port,
           host_port);
      if (n->events->verbosity >= 0)
        fprintf(stderr, "m0emu: port %u needs privileges: using host port %u instead\n",
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
  json_sockaddr(buf, cap, (struct sockaddr *)&sa);
}

/* ---- reading ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct m0__net_link *l = h->data;
  (void)suggested;
  *buf = uv_buf_init((char *)l->net->rbuf, sizeof l->net->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
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
      hard_close(l);
    return;
  }
  if (nread > 0) {
    if (n->tap != NULL)
      n->tap(n->tap_ctx, l->id, false, (const uint8_t *)buf->base, (size_t)nread);
    m0_dev_on_link_rx(n->dev, uv_hrtime(), l->id, (const uint8_t *)buf->base,
                      (size_t)nread, NULL);
  } else if (nread == UV_EOF) {
    link_down(l, M0_DOWN_CLOSED, UV_EOF);
  } else if (nread < 0) {
    link_down(l, M0_DOWN_RESET, (int)nread);
  }
}

/* sa is where the link's peer really is (its --peer target). */
static bool from_dial(const struct m0__net_link *l, const struct sockaddr *sa) {
  const struct sockaddr_storage *d = &l->dial;
  struct m0_net_addr x, y;
  sockaddr_to_net(sa, &x);
  sockaddr_to_net((const struct sockaddr *)d, &y);
  return x.port == y.port && strcmp(x.host, y.host) == 0;
}

/* Datagrams from the host machine are reported as coming from the configured peer when
 * their port is the peer's: in loopback mode every peer is 127.0.0.1, and this is what
 * lets UDPC's "accept only its peer" (the core compares against SOCK's address, possibly
 * a LAN address or a name) work on one machine. Other sources are reported as they are
 * (127.0.0.1:port), so UDPS answers them through the same mapping on the way out. */
static void source_as_device(const struct m0__net_link *l, const struct sockaddr *sa,
                             struct m0_net_addr *from) {
  sockaddr_to_net(sa, from);
  if (!l->net->net_host && l->req.peer.port != 0 && is_loopback(sa) &&
      (from->port == l->req.peer.port || (l->have_dial && from_dial(l, sa)))) {
    copy_host(from->host, sizeof from->host, l->req.peer.host);
    from->port = l->req.peer.port;
  }
}

static void on_udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                        const struct sockaddr *addr, unsigned flags) {
  struct m0__net_link *l = h->data;
  struct m0__net *n = l->net;
  if (nread == 0 && addr == NULL)
    return; /* nothing more to read for now, not an empty datagram */
  if (l->closing || !l->attached)
    return;
  if (nread < 0) {
    m0__log(n->events, "link %u: UDP receive: %s", l->id, uv_strerror((int)nread));
    return;
  }
  if (flags & UV_UDP_PARTIAL)
    m0__log(n->events, "link %u: datagram cut to %zd bytes", l->id, nread);
  struct m0_net_addr from;
  source_as_device(l, addr, &from);
  if (n->tap != NULL && nread > 0)
    n->tap(n->tap_ctx, l->id, false, (const uint8_t *)buf->base, (size_t)nread);
  m0_dev_on_link_rx(n->dev, uv_hrtime(), l->id, (const uint8_t *)buf->base, (size_t)nread,
                    &from);
}

/* Read while up and not paused by the core; lingering links read (and discard) always. */
static void read_update(struct m0__net_link *l) {
  if (l->closing || l->kind == M0_LINK_TCP_LISTEN)
    return;
  bool want = l->attached ? l->up && !l->paused : !l->eof;
  if (want == l->reading)
    return;
  int rc;
  if (l->kind == M0_LINK_UDP)
    rc = want ? uv_udp_recv_start(&l->sock.udp, on_alloc, on_udp_recv)
              : uv_udp_recv_stop(&l->sock.udp);
  else
    rc = want ? uv_read_start(&l->sock.stream, on_alloc, on_read)
              : uv_read_stop(&l->sock.stream);
  if (rc == 0)
    l->reading = want;
  else
    m0__log(l->net->events, "link %u: cannot %s reading: %s", l->id,
            want ? "start" : "stop", uv_strerror(rc));
}

/* ---- resets while paused ---- */

static bool is_stream(const struct m0__net_link *l) {
  return l->kind == M0_LINK_TCP_CONNECT || l->kind == M0_LINK_TCP_ACCEPTED;
}

static bool watched(const struct m0__net_link *l) {
  return l != NULL && is_stream(l) && l->up && l->paused && !l->eof && !l->closing;
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
      link_down(l, M0_DOWN_RESET, err); /* the core may reopen or resume links */
  }
  for (unsigned id = 0; id < M0_LINKS_MAX && !n->closed; id++)
    any = any || watched(n->links[id]);
  if (!any && n->paused_timer_running) {
    uv_timer_stop(t);
    n->paused_timer_running = false;
  }
}

/* A TCP link was paused: look at the paused ones until none is left. */
static void watch_paused(struct m0__net *n) {
  if (!n->paused_timer_open || n->paused_timer_running || n->closed)
    return;
  n->paused_timer_running = true;
  uv_timer_start(&n->paused_timer, on_paused_timer, PAUSED_CHECK_MS, PAUSED_CHECK_MS);
}

/* ---- TCP writing ---- */

static void on_write(uv_write_t *req, int status);

static int wbuf_append(struct wbuf *b, const uint8_t *data, size_t len) {
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

static void wbuf_trim(struct wbuf *b) {
  if (b->len == 0 && b->cap > WBUF_KEEP) {
    free(b->data);
    *b = (struct wbuf){0};
  }
}

/* Hand the pending bytes to libuv; the former in-flight buffer becomes the pending one. */
static int start_write(struct m0__net_link *l) {
  struct wbuf t = l->inflight;
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
    link_down(l, M0_DOWN_RESET, status);
    return;
  }
  if (l->pending.len > 0) {
    int rc = start_write(l);
    if (rc != 0)
      link_down(l, M0_DOWN_RESET, rc);
    return;
  }
  wbuf_trim(&l->inflight);
  wbuf_trim(&l->pending);
  if (!l->attached) { /* lingering: all delivered to the kernel */
    hard_close(l);
    return;
  }
  m0_dev_on_link_drained(l->net->dev, uv_hrtime(), l->id);
}

/* Write what is pending now: straight to the socket while it takes it (no copy into
 * libuv's queue), the rest through uv_write. Returns 0 or a libuv error. */
static int flush_pending(struct m0__net_link *l) {
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

/* Frames are invisible on a TCP stream, so the bytes of one loop turn (every frame cut
 * from one pty read, typically 400 bytes each) leave in one write: a syscall per frame
 * cost more than half the CPU of a pty-to-TCP stream (docs/performance.md). The flush
 * runs right after the callbacks that queued the bytes, before the loop can block: in a
 * prepare handle for sends made by timer callbacks (a heartbeat must not wait for the
 * next wakeup), in a check handle for sends made by I/O callbacks. */
static void flush_all(struct m0__net *n) {
  unsigned drained[M0_LINKS_MAX], ndrained = 0;
  uv_check_stop(&n->flush_check);
  uv_prepare_stop(&n->flush_prepare);
  n->flush_armed = false;
  for (struct m0__net_link *l = n->all; l != NULL; l = l->next) {
    bool stream = l->kind == M0_LINK_TCP_CONNECT || l->kind == M0_LINK_TCP_ACCEPTED;
    if (!stream || l->closing || l->writing || l->pending.len == 0)
      continue;
    int rc = flush_pending(l);
    if (rc != 0)
      defer_down(l, M0_DOWN_RESET, rc);
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

static void on_flush_check(uv_check_t *h) { flush_all(h->data); }
static void on_flush_prepare(uv_prepare_t *h) { flush_all(h->data); }

static long tcp_send(struct m0__net_link *l, const uint8_t *data, size_t len) {
  struct m0__net *n = l->net;
  if (len > 0) {
    int rc = wbuf_append(&l->pending, data, len);
    if (rc != 0) {
      defer_down(l, M0_DOWN_RESET, rc);
      return rc;
    }
    if (!l->writing && !n->flush_armed && n->flush_check_open) {
      n->flush_armed = true;
      uv_check_start(&n->flush_check, on_flush_check);
      uv_prepare_start(&n->flush_prepare, on_flush_prepare);
    } else if (!l->writing && !n->flush_check_open) {
      int rc2 = flush_pending(l);
      if (rc2 != 0) {
        defer_down(l, M0_DOWN_RESET, rc2);
        return rc2;
      }
    }
  }
  return (long)(uv_stream_get_write_queue_size(&l->sock.stream) + l->pending.len);
}

/* ---- UDP sending ---- */

static void on_udp_sent(uv_udp_send_t *req, int status) {
  struct udp_send *s = (struct udp_send *)req;
  struct m0__net_link *l = req->handle->data;
  if (status < 0 && status != UV_ECANCELED)
    m0__log(l->net->events, "link %u: datagram of %zu bytes not sent: %s", l->id, s->len,
            uv_strerror(status));
  free(s);
}

static long udp_send(struct m0__net_link *l, const uint8_t *data, size_t len,
                     const struct m0_net_addr *to) {
  struct m0__net *n = l->net;
  struct sockaddr_storage dst;
  if (to == NULL || (strcmp(to->host, l->req.peer.host) == 0 && to->port == l->req.peer.port)) {
    if (!l->have_dial)
      return UV_EDESTADDRREQ;
    dst = l->dial;
  } else {
    int rc = dial_addr(n, to, bind_family(n), &dst);
    if (rc == NEED_LOOKUP)
      return UV_EINVAL; /* host mode: only the peer's name is looked up (at open) */
    if (rc != 0)
      return rc;
  }
  if (len > M0__NET_READ_MAX)
    return UV_EMSGSIZE;
  uv_buf_t buf = uv_buf_init((char *)data, (unsigned)len);
  int rc = uv_udp_try_send(&l->sock.udp, &buf, 1, (const struct sockaddr *)&dst);
  if (rc == UV_EAGAIN) {
    if (uv_udp_get_send_queue_size(&l->sock.udp) + len > UDP_QUEUE_MAX)
      return UV_ENOBUFS;
    struct udp_send *s = malloc(sizeof *s + len);
    if (s == NULL)
      return UV_ENOMEM;
    s->len = len;
    memcpy(s->data, data, len);
    buf = uv_buf_init((char *)s->data, (unsigned)len);
    rc = uv_udp_send(&s->req, &l->sock.udp, &buf, 1, (const struct sockaddr *)&dst,
                     on_udp_sent);
    if (rc != 0)
      free(s);
  }
  if (rc < 0)
    return rc;
  if (n->tap != NULL)
    n->tap(n->tap_ctx, l->id, true, data, len);
  return 0;
}

/* ---- opening ---- */

static void report_up(struct m0__net_link *l) {
  struct m0__net *n = l->net;
  char bound[128], peer[128];
  l->up = true;
  read_update(l);
  bound_json(l, bound, sizeof bound);
  json_hostport(peer, sizeof peer, l->req.peer.host, l->req.peer.port);
  if (l->kind == M0_LINK_TCP_LISTEN)
    emit(n, "net.listening", "\"link\":%u,\"bind\":%s", l->id, bound);
  else
    emit(n, "net.listening", "\"link\":%u,\"bind\":%s,\"peer\":%s,\"udp\":true", l->id,
         bound, peer);
  m0_dev_on_link_up(n->dev, uv_hrtime(), l->id, &l->req.peer);
}

static void on_connect(uv_connect_t *req, int status) {
  struct m0__net_link *l = req->data;
  struct m0__net *n = l->net;
  if (l->closing || !l->attached)
    return;
  if (status < 0) {
    link_down(l, connect_reason(status), status);
    return;
  }
  uv_timer_stop(&l->timer);
  l->timer_use = T_NONE;
  l->up = true;
  char peer[128];
  json_hostport(peer, sizeof peer, l->req.peer.host, l->req.peer.port);
  emit(n, "net.connected", "\"link\":%u,\"peer\":%s", l->id, peer);
  read_update(l);
  if (l->paused)
    watch_paused(n); /* dialled while paused: watched from now on */
  m0_dev_on_link_up(n->dev, uv_hrtime(), l->id, &l->req.peer);
}

static void start_connect(struct m0__net_link *l) {
  struct m0__net *n = l->net;
  char peer[128], dial[128];
  json_hostport(peer, sizeof peer, l->req.peer.host, l->req.peer.port);
  json_sockaddr(dial, sizeof dial, (struct sockaddr *)&l->dial);
  emit(n, "net.connecting", "\"link\":%u,\"peer\":%s,\"dial\":%s", l->id, peer, dial);
  bool own_source = n->bind_source && is_loopback((struct sockaddr *)&l->dial);
  if (l->req.local_port != 0 || own_source) {
    int rc = bind_port(l, l->req.local_port);
    if (rc != 0) {
      defer_down(l, M0_DOWN_BIND, rc);
      return;
    }
  }
  uv_tcp_nodelay(&l->sock.tcp, 1); /* applied when the socket is created */
  if (l->req.keepalive)
    uv_tcp_keepalive(&l->sock.tcp, 1, KEEPALIVE_S);
  int rc = uv_tcp_connect(&l->connect, &l->sock.tcp, (struct sockaddr *)&l->dial,
                          on_connect);
  if (rc != 0)
    defer_down(l, connect_reason(rc), rc);
}

/* The first address of the wanted family; an IPv4 one serves an IPv6 socket mapped. */
static bool pick_addr(const struct addrinfo *res, int sock_family, uint16_t port,
                      struct sockaddr_storage *out) {
  const struct addrinfo *v4 = NULL, *v6 = NULL;
  for (const struct addrinfo *a = res; a != NULL; a = a->ai_next) {
    if (a->ai_family == AF_INET && v4 == NULL)
      v4 = a;
    else if (a->ai_family == AF_INET6 && v6 == NULL)
      v6 = a;
  }
  const struct addrinfo *a = sock_family == AF_INET6 ? (v6 ? v6 : v4)
                             : sock_family == AF_INET ? v4
                                                      : (v4 ? v4 : v6);
  if (a == NULL)
    return false;
  memset(out, 0, sizeof *out);
  memcpy(out, a->ai_addr, a->ai_addrlen);
  set_port(out, port);
  if (sock_family == AF_INET6 && out->ss_family == AF_INET)
    to_v4_mapped(out);
  return true;
}

static int sock_family_of(const struct m0__net_link *l) {
  if (l->kind == M0_LINK_UDP || l->req.local_port != 0)
    return bind_family(l->net);
  return 0;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  struct m0__net_link *l = req->data;
  l->lookup = false;
  l->refs--;
  if (l->closing) {
    uv_freeaddrinfo(res);
    maybe_free(l);
    return;
  }
  bool ok = status == 0 && pick_addr(res, sock_family_of(l), l->req.peer.port, &l->dial);
  uv_freeaddrinfo(res);
  if (status == 0 && !ok)
    status = UV_EAI_ADDRFAMILY;
  if (l->kind == M0_LINK_UDP) {
    /* The socket works without its default peer (UDPS still hears and answers senders);
     * sends to the peer fail until the next open. */
    l->have_dial = ok;
    if (!ok)
      m0__log(l->net->events, "link %u: cannot resolve %s: %s", l->id, l->req.peer.host,
              uv_strerror(status));
    report_up(l);
    return;
  }
  if (!ok) {
    link_down(l, M0_DOWN_REFUSED, status);
    return;
  }
  l->have_dial = true;
  start_connect(l);
}

static int start_lookup(struct m0__net_link *l) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC,
                           .ai_socktype = l->kind == M0_LINK_UDP ? SOCK_DGRAM : SOCK_STREAM};
  int rc = uv_getaddrinfo(l->net->loop, &l->gai, on_resolved, l->req.peer.host, NULL, &hints);
  if (rc == 0) {
    l->lookup = true;
    l->refs++;
  }
  return rc;
}

static void open_connect(struct m0__net_link *l) {
  arm(l, T_CONNECT_TIMEOUT, CONNECT_TIMEOUT_MS);
  int rc = dial_addr(l->net, &l->req.peer, sock_family_of(l), &l->dial);
  if (rc == NEED_LOOKUP) {
    char peer[128], dial[128];
    json_hostport(peer, sizeof peer, l->req.peer.host, l->req.peer.port);
    json_hostport(dial, sizeof dial, l->req.peer.host, l->req.peer.port);
    emit(l->net, "net.connecting",
         "\"link\":%u,\"peer\":%s,\"dial\":%s,\"lookup\":true", l->id, peer, dial);
    rc = start_lookup(l);
  } else if (rc == 0) {
    l->have_dial = true;
    start_connect(l);
    return;
  }
  if (rc != 0)
    defer_down(l, M0_DOWN_REFUSED, rc);
}

static void on_connection(uv_stream_t *server, int status);

static void open_listen(struct m0__net_link *l) {
  int rc = bind_port(l, l->req.local_port);
  if (rc == 0)
    rc = uv_listen(&l->sock.stream, LISTEN_BACKLOG, on_connection); /* EADDRINUSE here */
  if (rc != 0)
    defer_down(l, M0_DOWN_BIND, rc);
  else
    arm(l, T_REPORT_UP, 0);
}

static void open_udp(struct m0__net_link *l) {
  int rc = bind_port(l, l->req.local_port);
  if (rc != 0) {
    defer_down(l, M0_DOWN_BIND, rc);
    return;
  }
  if (l->req.peer.port != 0) {
    rc = dial_addr(l->net, &l->req.peer, bind_family(l->net), &l->dial);
    if (rc == NEED_LOOKUP && start_lookup(l) == 0)
      return; /* on_resolved reports up */
    l->have_dial = rc == 0;
  }
  arm(l, T_REPORT_UP, 0);
}

static void on_connection(uv_stream_t *server, int status) {
  struct m0__net_link *ls = server->data;
  struct m0__net *n = ls->net;
  if (status < 0) {
    m0__log(n->events, "link %u: accept: %s", ls->id, uv_strerror(status));
    return;
  }
  struct m0__net_link *c = link_new(n, M0_LINK_TCP_ACCEPTED);
  if (c == NULL) {
    m0__log(n->events, "link %u: out of memory for a new client", ls->id);
    return;
  }
  if (uv_accept(server, &c->sock.stream) != 0 || !ls->attached || ls->closing || n->closed) {
    hard_close(c);
    return;
  }
  struct sockaddr_storage sa;
  int salen = sizeof sa;
  c->req.kind = M0_LINK_TCP_ACCEPTED;
  c->req.keepalive = ls->req.keepalive;
  c->req.local_port = ls->req.local_port;
  if (uv_tcp_getpeername(&c->sock.tcp, (struct sockaddr *)&sa, &salen) == 0)
    sockaddr_to_net((struct sockaddr *)&sa, &c->req.peer);
  char peer[128];
  json_hostport(peer, sizeof peer, c->req.peer.host, c->req.peer.port);

  unsigned listen_id = ls->id;
  int id = m0_dev_on_link_accept(n->dev, uv_hrtime(), listen_id, &c->req.peer);
  if (id < 0 || id >= M0_LINKS_MAX || n->closed) {
    emit(n, "net.refused", "\"link\":%u,\"peer\":%s,\"reason\":\"full\"", listen_id, peer);
    hard_close(c);
    return;
  }
  if (n->links[id] != NULL) { /* the core promised a free slot */
    m0__log(n->events, "link %d: given to a client while still open: closing the old one",
            id);
    hard_close(n->links[id]);
  }
  attach(c, (unsigned)id);
  c->up = true;
  uv_tcp_nodelay(&c->sock.tcp, 1);
  if (c->req.keepalive)
    uv_tcp_keepalive(&c->sock.tcp, 1, KEEPALIVE_S);
  emit(n, "net.connected", "\"link\":%d,\"peer\":%s,\"accepted\":true,\"listen\":%u", id,
       peer, listen_id);
  read_update(c);
}

static void on_timer(uv_timer_t *t) {
  struct m0__net_link *l = t->data;
  enum timer_use use = l->timer_use;
  l->timer_use = T_NONE;
  if (l->closing)
    return;
  switch (use) {
  case T_CONNECT_TIMEOUT:
    link_down(l, M0_DOWN_TIMEOUT, UV_ETIMEDOUT);
    break;
  case T_REPORT_UP:
    if (l->attached && !l->net->closed)
      report_up(l);
    break;
  case T_REPORT_DOWN:
    link_down(l, l->down_reason, l->down_error);
    break;
  case T_LINGER:
    m0__log(l->net->events, "closed link: %zu bytes never taken by the peer",
            uv_stream_get_write_queue_size(&l->sock.stream) + l->pending.len);
    hard_close(l);
    break;
  case T_NONE:
    break;
  }
}

/* ---- the HAL's link_* ---- */

int m0__net_init(struct m0__net *n, uv_loop_t *loop, struct m0_dev *dev,
                 struct m0__events *events, bool net_host, const char *bind_addr) {
  memset(n, 0, offsetof(struct m0__net, rbuf));
  n->loop = loop;
  n->dev = dev;
  n->events = events;
  n->net_host = net_host;
  if (bind_addr == NULL)
    bind_addr = "127.0.0.1";
  if (uv_ip4_addr(bind_addr, 0, (struct sockaddr_in *)&n->bind_sa) != 0 &&
      uv_ip6_addr(bind_addr, 0, (struct sockaddr_in6 *)&n->bind_sa) != 0)
    return UV_EINVAL;
  if (uv_timer_init(loop, &n->paused_timer) == 0) {
    n->paused_timer.data = n;
    n->paused_timer_open = true;
  }
  if (uv_check_init(loop, &n->flush_check) == 0) {
    if (uv_prepare_init(loop, &n->flush_prepare) == 0) {
      n->flush_check.data = n;
      n->flush_prepare.data = n;
      n->flush_check_open = true;
    } else {
      uv_close((uv_handle_t *)&n->flush_check, NULL);
    }
  }
  return 0;
}

int m0__net_link_open(struct m0__net *n, unsigned id, const struct m0_link_open *req) {
  if (id >= M0_LINKS_MAX || req == NULL || req->kind == M0_LINK_TCP_ACCEPTED)
    return UV_EINVAL;
  if (n->closed)
    return UV_ECANCELED;
  if (n->links[id] != NULL) { /* the core closes before reusing; be safe if it did not */
    m0__log(n->events, "link %u: opened while open: closing the old one", id);
    hard_close(n->links[id]);
  }
  struct m0__net_link *l = link_new(n, req->kind);
  if (l == NULL)
    return UV_ENOMEM;
  l->req = *req;
  l->req.peer.host[sizeof l->req.peer.host - 1] = '\0';
  attach(l, id);
  switch (req->kind) {
  case M0_LINK_TCP_CONNECT:
    open_connect(l);
    break;
  case M0_LINK_TCP_LISTEN:
    open_listen(l);
    break;
  case M0_LINK_UDP:
    open_udp(l);
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
    return udp_send(l, data, len, to);
  if (l->kind == M0_LINK_TCP_LISTEN)
    return UV_EINVAL;
  if (len > 0 && n->tap != NULL)
    n->tap(n->tap_ctx, id, true, data, len);
  return tcp_send(l, data, len);
}

void m0__net_link_close(struct m0__net *n, unsigned id) {
  struct m0__net_link *l = id < M0_LINKS_MAX ? n->links[id] : NULL;
  if (l == NULL)
    return;
  bool stream = l->kind == M0_LINK_TCP_CONNECT || l->kind == M0_LINK_TCP_ACCEPTED;
  if (stream && l->up) {
    char peer[128];
    json_hostport(peer, sizeof peer, l->req.peer.host, l->req.peer.port);
    emit(n, "net.closed", "\"link\":%u,\"peer\":%s,\"reason\":\"local\"", id, peer);
    linger(l);
  } else {
    hard_close(l);
  }
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
  read_update(l);
  if (paused && is_stream(l))
    watch_paused(n);
}

void m0__net_close_all(struct m0__net *n) {
  n->closed = true;
  if (n->paused_timer_open) {
    n->paused_timer_open = false;
    n->paused_timer_running = false;
    uv_close((uv_handle_t *)&n->paused_timer, NULL);
  }
  if (n->flush_check_open) {
    n->flush_check_open = false;
    uv_close((uv_handle_t *)&n->flush_check, NULL);
    uv_close((uv_handle_t *)&n->flush_prepare, NULL);
  }
  for (struct m0__net_link *l = n->all; l != NULL; l = l->next)
    hard_close(l);
}
