/* links.h: the board's network links (net_*.c), the OS half of struct m0_hal's link_*.
 *
 * One struct m0__net per device, embedded in the board. It turns link_open / link_send /
 * link_close / link_pause into libuv sockets and reports back through m0_dev_on_link_*()
 * with uv_hrtime() as the clock. Where the network is (spec §6.1) is decided here:
 * --net loopback dials 127.0.0.1 (same port) for every device address, --net host dials
 * the real one; listening and bound sockets use --bind. No policy: when to reconnect,
 * whom to kick and how long a dial may take are the core's. Functions return 0 or a
 * negative errno (UV_E* values).
 *
 * The files: net_addr.c (where an address really is, the privileged-port rule),
 * net_link.c (a link's life, the HAL's entry points), net_tcp.c (connect, accept, read,
 * the gathered writer), net_udp.c (bind, send, receive); net_internal.h is what they share.
 */
#ifndef M0_BOARD_LINKS_H
#define M0_BOARD_LINKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "m0/dev.h"
#include "turn.h"

struct m0__events;
struct m0__peer_map;
struct m0__net_link; /* one socket; private to net_*.c, allocated per open */

/* The read buffer: one per loop (the process's), shared by every device's links. libuv
 * pairs each alloc with its read callback, so only one read is in flight at a time.
 * 64 KiB holds any UDP datagram. */
#define M0__NET_READ_MAX 65536
/* The core sizes its inbox for one read of at most M0_LINK_RX_MAX bytes. */
_Static_assert(M0__NET_READ_MAX <= M0_LINK_RX_MAX, "one read must fit the core's inbox");

/* Observer of every byte a link carries (the web page's live view). to_network: sent by
 * the device; else received from the network. Called before the core sees the bytes. */
typedef void (*m0__net_tap_fn)(void *tap_ctx, unsigned id, bool to_network,
                               const uint8_t *data, size_t len);

struct m0__net {
  uv_loop_t *loop;
  struct m0_dev *dev;
  struct m0__events *events;
  uint8_t *rbuf;                     /* the process's M0__NET_READ_MAX bytes */
  bool net_host;                     /* --net host: dial real addresses */
  bool bind_source;                  /* bind dialled loopback connections to bind_sa */
  const struct m0__peer_map *peers;  /* --peer (loopback mode); NULL = none */
  bool closed;                       /* m0__net_close_all() ran: no more core calls */
  struct sockaddr_storage bind_sa;   /* --bind, port 0 */
  struct m0__net_link *links[M0_LINKS_MAX]; /* by the core's id; NULL = free */
  struct m0__net_link *all;          /* every live link, including closing ones */
  /* A pause the core asked for on an id that has no link yet: it pauses a client from
   * inside m0_dev_on_link_accept, before the board has stored the new connection. */
  bool pause_unattached[M0_LINKS_MAX];
  /* TCP sends are gathered and written once per loop turn (net_tcp.c, m0__net_flush_all),
   * a job of the process's end-of-turn service (turn.h). */
  struct m0__turn_job flush_job;
  /* While a TCP link is paused nobody reads it, so a reset would wait for the host: this
   * timer looks at the paused links' sockets instead (net_link.c, watch_paused). */
  uv_timer_t paused_timer;
  bool paused_timer_open;
  bool paused_timer_running;
  m0__net_tap_fn tap;                /* NULL = no tap; set after m0__net_init() */
  void *tap_ctx;
};

/* bind_addr: IPv4 or IPv6 literal for bound sockets (NULL = 127.0.0.1). Returns UV_EINVAL
 * when it is not a literal. rbuf: M0__NET_READ_MAX bytes that outlive n (the process's
 * read buffer). Opens nothing. */
int m0__net_init(struct m0__net *n, uv_loop_t *loop, struct m0_dev *dev,
                 struct m0__events *events, bool net_host, const char *bind_addr,
                 uint8_t *rbuf, struct m0__turn *turn);
/* The HAL's link_open: 0 when the outcome will come as m0_dev_on_link_up/down (always on a
 * later loop iteration, never from inside this call), negative when it cannot start. A
 * dial has no deadline here: the core closes it when it stops waiting. */
int m0__net_link_open(struct m0__net *n, unsigned id, const struct m0_link_open *req);
/* The HAL's link_send. TCP: every byte is queued; returns the bytes now waiting; after a
 * positive return, m0_dev_on_link_drained() follows once they are all with the kernel (it
 * may also follow a 0 when libuv finished a write at once). UDP: one datagram to `to`
 * (NULL: the peer), 0; negative when it cannot go (no route, 1 MiB already queued). */
long m0__net_link_send(struct m0__net *n, unsigned id, const uint8_t *data, size_t len,
                       const struct m0_net_addr *to);
/* The HAL's link_close: the id is free again at once. Bytes already queued on a TCP
 * connection are still delivered (up to 10 s) like close() on a real socket; a dial or a
 * name lookup under way is abandoned. */
void m0__net_link_close(struct m0__net *n, unsigned id);
/* The HAL's link_abort: close with a reset (RST), queued bytes lost; net.closed with
 * reason "abort". The id is free again at once. */
void m0__net_link_abort(struct m0__net *n, unsigned id);
/* The HAL's link_pause: stop / resume reading (TCP back-pressure through the window). */
void m0__net_link_pause(struct m0__net *n, unsigned id, bool paused);
/* Write every TCP byte gathered during this loop turn (net_tcp.c). Called at the end of
 * the turn, before the loop may block, and right after the device's deadline fired
 * (board.c); may call into the core (drained links). */
void m0__net_flush_all(struct m0__net *n);
/* At exit: close every handle without telling the core; uv_run() afterwards frees them. */
void m0__net_close_all(struct m0__net *n);

/* The privileged-port rule (spec §6.1), for links and the web server alike: a bind of
 * port that failed with bind_rc for lack of privileges (EACCES, EPERM on a port below
 * 1024) is retried on 8000+port. Returns true and sets *host_port when it applies. */
bool m0__net_port_unprivileged(int bind_rc, uint16_t port, uint16_t *host_port);

#endif
