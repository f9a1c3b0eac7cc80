/* net_internal.h: what the board's link files share; private to net_addr.c, net_link.c,
 * net_tcp.c and net_udp.c (the others see links.h).
 *
 * A link is one malloc'd struct holding its libuv handles, so the core may reuse an id the
 * moment it closes one while the old handles finish closing; it is freed when its two
 * handles are closed and no name lookup is in flight (refs). The core is only ever called
 * from libuv callbacks, never from inside a HAL call, and after every call into the core
 * the link may have been closed or its id given to a new link: callbacks re-check
 * l->attached before touching the slot again.
 */
#ifndef M0_BOARD_NET_INTERNAL_H
#define M0_BOARD_NET_INTERNAL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "board.h"

#define M0__NET_KEEPALIVE_S 60
#define M0__NET_LINGER_MS 10000 /* a closed TCP link delivers what it queued for so long */

/* The link's one timer, for what must not run inside a HAL call or what waits. */
enum m0__net_timer_use {
  M0__NET_T_NONE,
  M0__NET_T_REPORT_UP,   /* listener or UDP socket bound: tell the core */
  M0__NET_T_REPORT_DOWN, /* failed inside a HAL call: tell the core from the loop */
  M0__NET_T_LINGER,      /* closed with bytes still queued: stop waiting for the peer */
};

/* A growing write buffer (net_tcp.c). */
struct m0__net_wbuf {
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
  enum m0__net_timer_use timer_use;
  int down_reason, down_error; /* M0__NET_T_REPORT_DOWN */
  uv_connect_t connect;
  uv_getaddrinfo_t gai;
  uv_write_t write;
  bool writing;                  /* write (inflight) is with libuv */
  struct m0__net_wbuf inflight;  /* bytes handed to uv_write */
  struct m0__net_wbuf pending;   /* bytes queued behind them */
  struct sockaddr_storage dial;
};

static inline bool m0__net_is_stream(const struct m0__net_link *l) {
  return l->kind == M0_LINK_TCP_CONNECT || l->kind == M0_LINK_TCP_ACCEPTED;
}

/* ---- net_addr.c: where an address really is ---- */

/* m0__net_dial_addr(): the device's address is a name that must be looked up first. */
#define M0__NET_NEED_LOOKUP 1

/* --bind's literal (NULL: 127.0.0.1) with port 0; UV_EINVAL if it is not one. */
int m0__net_bind_addr(const char *bind_addr, struct sockaddr_storage *out);
/* Where device address a really is, for a socket of family sock_family (0: not bound yet,
 * any): 0, M0__NET_NEED_LOOKUP (--net host, a name), or a negative errno. */
int m0__net_dial_addr(const struct m0__net *n, const struct m0_net_addr *a, int sock_family,
                      struct sockaddr_storage *out);
/* The looked-up address to dial for a socket of family sock_family, on port. */
bool m0__net_pick_addr(const struct addrinfo *res, int sock_family, uint16_t port,
                       struct sockaddr_storage *out);
/* The device's view of a datagram's source: the configured peer when it is that peer's
 * port on the host machine in loopback mode, else the address as it is. */
void m0__net_source_as_device(const struct m0__net *n, const struct m0_net_addr *peer,
                              const struct sockaddr_storage *dial, const struct sockaddr *sa,
                              struct m0_net_addr *from);
/* 127.0.0.0/8, ::1 or v4-mapped loopback. */
bool m0__net_is_loopback(const struct sockaddr *sa);
/* Numeric address and port, v4-mapped IPv6 shown as the IPv4 it is. */
void m0__net_sockaddr_to_addr(const struct sockaddr *sa, struct m0_net_addr *out);
/* sa as a JSON "host:port" string, quotes included. */
const char *m0__net_json_sockaddr(char *buf, size_t cap, const struct sockaddr *sa);
void m0__net_set_port(struct sockaddr_storage *ss, uint16_t port);

static inline int m0__net_bind_family(const struct m0__net *n) {
  return n->bind_sa.ss_family;
}

/* ---- net_link.c: a link's life ---- */

/* An event of the network, on its device's stream (events.c). */
#define m0__net_emit(n, name, ...) m0__events_emitf((n)->events, (name), __VA_ARGS__)
struct m0__net_link *m0__net_link_new(struct m0__net *n, enum m0_link_kind kind);
/* Give l the core's id (an accepted client once the core took it). */
void m0__net_attach(struct m0__net_link *l, unsigned id);
/* Close now: queued bytes are lost, pending callbacks come back cancelled and are
 * ignored (closing), the memory goes when the handles are closed. */
void m0__net_hard_close(struct m0__net_link *l);
/* The link failed or went away on its own: the OS fact as an event, then the core,
 * unless the core already closed it. */
void m0__net_link_down(struct m0__net_link *l, int reason, int err);
/* The same, from inside a HAL call: reported from the loop. */
void m0__net_defer_down(struct m0__net_link *l, int reason, int err);
/* Report up from the loop (a bound listener or UDP socket). */
void m0__net_defer_up(struct m0__net_link *l);
void m0__net_report_up(struct m0__net_link *l);
/* Bind --bind:port (the privileged-port rule applied). */
int m0__net_bind_port(struct m0__net_link *l, uint16_t port);
/* The socket family a link's dial address must have (0: any). */
int m0__net_sock_family(const struct m0__net_link *l);
/* getaddrinfo for l->req.peer.host; the outcome goes to m0__net_tcp_resolved or
 * m0__net_udp_resolved. */
int m0__net_start_lookup(struct m0__net_link *l);
/* Read while up and not paused by the core; lingering links read (and discard) always. */
void m0__net_read_update(struct m0__net_link *l);
/* A TCP link was paused: look at the paused ones until none is left. */
void m0__net_watch_paused(struct m0__net *n);

/* ---- net_tcp.c: TCP ---- */

void m0__net_tcp_connect(struct m0__net_link *l);
void m0__net_tcp_resolved(struct m0__net_link *l, bool ok, int status);
void m0__net_tcp_listen(struct m0__net_link *l);
void m0__net_tcp_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
long m0__net_tcp_send(struct m0__net_link *l, const uint8_t *data, size_t len);
/* Write what is pending now; 0 or a libuv error. */
int m0__net_tcp_flush_pending(struct m0__net_link *l);
/* The end-of-turn flusher's handles (opened at init, closed at exit). */
void m0__net_tcp_init(struct m0__net *n, struct m0__turn *turn);
void m0__net_tcp_close(struct m0__net *n);

/* ---- net_udp.c: UDP ---- */

void m0__net_udp_open(struct m0__net_link *l);
void m0__net_udp_resolved(struct m0__net_link *l, bool ok, int status);
void m0__net_udp_on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                         const struct sockaddr *addr, unsigned flags);
long m0__net_udp_send(struct m0__net_link *l, const uint8_t *data, size_t len,
                      const struct m0_net_addr *to);

#endif
