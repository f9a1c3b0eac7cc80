/* net.c: the device's links and the network's inputs (spec §6): which id is what, the
 * board's m0_dev_on_link_*() calls, the routing of serial frames, boot and restart.
 *
 * Policy lives in one file per work mode (tcpc.c, tcps.c, udp.c) and back-pressure in
 * flow.c; this file owns the link table, so that the two crossings other features hook
 * into stay single: every serial frame leaves through m0__dev_frame_out() (registration
 * prefixes, HTTP requests), every network byte for the host through m0__link_to_host()
 * (similar-RFC2217, index prefixes). Ids are fixed per role: the mode's own link (TCPC
 * connection, TCPS listener, UDP socket, HTPC request) is id 0, and TCPS client N is id N
 * (1..8), which
 * is also its INDEXEN number. A link that fails to open or goes down is retried 1 s later
 * (spec §6.2's interval, used for listeners and UDP sockets too). A dial (TCPC, HTPC) that
 * is not up 10 s after the core asked for it (the name lookup included) is given up here,
 * not in the board: the link is closed and the mode sees a connect failure with reason
 * M0_DOWN_TIMEOUT, with the `net.refused` event a board reports for a refusal. RSTIM
 * restarts the device when nothing came from the network for RSTIM seconds, counted from
 * the end of the boot.
 *
 * What m0__link_to_host() does with the bytes (INDEXEN, similar-RFC2217) is
 * link_to_host.c's; this file releases what a link's scanner holds when it is due or the
 * link closes.
 */
#include <string.h>
#include <strings.h>

#include "core.h"
#include "m0/json.h"
#include "reg.h"
#include "heart.h"
#include "rfc2217.h"

/* ---- the link table ---- */

#define DIAL_TIMEOUT_NS (10 * M0_NS_PER_S)

static enum m0_link_kind kind_of(enum m0__link_role role) {
  switch (role) {
  case M0__LINK_LISTEN:
    return M0_LINK_TCP_LISTEN;
  case M0__LINK_CLIENT:
    return M0_LINK_TCP_ACCEPTED;
  case M0__LINK_UDP:
    return M0_LINK_UDP;
  case M0__LINK_TCPC:
  case M0__LINK_HTTP:
  case M0__LINK_FREE:
    break;
  }
  return M0_LINK_TCP_CONNECT;
}

/* The id is free again: the board forgot it (down) or we closed it. */
static void link_free(struct m0_dev *dev, unsigned id) {
  memset(&dev->net.link[id], 0, sizeof dev->net.link[id]);
  dev->net.gen[id]++; /* what the board reported about it before now is stale */
  m0__flow_queued(dev, id, 0);
  m0__fault_link_freed(dev, id);
}

int m0__link_open(struct m0_dev *dev, uint64_t now, unsigned id, enum m0__link_role role,
                  const struct m0_link_open *request) {
  struct m0__link *l = &dev->net.link[id];
  int rc;
  memset(l, 0, sizeof *l);
  l->role = (uint8_t)role;
  l->peer = request->peer;
  /* A dial into a pulled cable goes nowhere: it times out, or goes when it comes back. */
  if (request->kind == M0_LINK_TCP_CONNECT && m0__fault_dial_void(dev, now, id, request))
    return 0;
  rc = dev->hal->link_open(dev->ctx, id, request);
  if (rc < 0)
    link_free(dev, id);
  return rc < 0 ? rc : 0;
}

int m0__link_dial(struct m0_dev *dev, uint64_t now, unsigned id, enum m0__link_role role,
                  const struct m0_link_open *request) {
  int rc = m0__link_open(dev, now, id, role, request);
  if (rc == 0)
    dev->net.link[id].dial_at = now + DIAL_TIMEOUT_NS;
  return rc;
}

bool m0__link_dialling(const struct m0__link *l) {
  return (l->role == M0__LINK_TCPC || l->role == M0__LINK_HTTP) && !l->up;
}

long m0__link_send(struct m0_dev *dev, uint64_t now, unsigned id, const uint8_t *data,
                   size_t len, const struct m0_net_addr *to) {
  if (len == 0)
    return 0;
  /* Held (a pulled cable, an impaired network) or lost (a datagram into a pulled cable):
   * the device sent it either way. */
  if (m0__fault_tx(dev, now, id, data, len, to)) {
    m0__heart_on_sent(&dev->heart, now);
    return dev->net.link[id].role == M0__LINK_UDP ? 0 : (long)dev->net.link[id].queued;
  }
  return m0__link_send_now(dev, now, id, data, len, to);
}

long m0__link_send_now(struct m0_dev *dev, uint64_t now, unsigned id, const uint8_t *data,
                       size_t len, const struct m0_net_addr *to) {
  struct m0__link *l = &dev->net.link[id];
  long rc;
  if (len == 0)
    return 0;
  rc = dev->hal->link_send(dev->ctx, id, data, len, to);
  if (rc < 0) {
    /* A TCP link failing under us (its down report follows) or a datagram with no route:
     * the bytes are gone, say so. */
    dev->counters.net_tx_dropped += len;
    m0__dev_drop(dev, now, M0__DROP_TO_NET_SEND_ERROR, len);
    return rc;
  }
  l->tx_bytes += len;
  dev->counters.net_tx += len;
  if (l->role != M0__LINK_UDP)
    m0__flow_queued(dev, id, (uint64_t)rc);
  /* Anything sent (frame, registration, the beat itself) is a sign of life: a NET
   * heartbeat waits a whole HEARTTM again. */
  m0__heart_on_sent(&dev->heart, now);
  return rc;
}

void m0__link_close(struct m0_dev *dev, uint64_t now, unsigned id) {
  if (dev->net.link[id].role == M0__LINK_FREE)
    return;
  m0__link_release(dev, now, id); /* nothing received is lost to a close */
  if (dev->fault.dial_until[id] == M0_TIME_NEVER) /* (a dial into a pulled cable never */
    dev->hal->link_close(dev->ctx, id);           /* reached the board: nothing to close) */
  link_free(dev, id);
}

void m0__link_forget(struct m0_dev *dev, unsigned id) {
  if (id < M0_LINKS_MAX && dev->net.link[id].role != M0__LINK_FREE)
    link_free(dev, id);
}

void m0__link_heard(struct m0_dev *dev, uint64_t now) {
  if (dev->running.rstim > 0)
    dev->net.rstim_at = now + dev->running.rstim * M0_NS_PER_S;
}

bool m0__link_same_addr(const struct m0_net_addr *a, const struct m0_net_addr *b) {
  return a->port == b->port && strcasecmp(a->host, b->host) == 0;
}

void m0__link_sock_addr(const struct m0_dev *dev, struct m0_net_addr *out) {
  memset(out, 0, sizeof *out);
  memcpy(out->host, dev->running.sock_addr, sizeof out->host - 1);
  out->port = dev->running.sock_port;
}

/* ---- life cycle ---- */

static void deadlines_clear(struct m0_dev *dev) {
  dev->net.retry_at = M0_TIME_NEVER;
  dev->net.idle_at = M0_TIME_NEVER;
  dev->net.rstim_at = M0_TIME_NEVER;
  dev->net.http_timeout_at = M0_TIME_NEVER;
}

void m0__link_init(struct m0_dev *dev) {
  deadlines_clear(dev); /* the rest is zero: every id free, nothing waiting */
}

void m0__link_boot(struct m0_dev *dev, uint64_t now) {
  m0__link_heard(dev, now); /* RSTIM counts from the boot */
  /* The factory MAC is checked by whoever made the options; a bad one sends nothing. */
  (void)m0__reg_init(&dev->net.reg, &dev->running, dev->options.factory.mac);
  dev->net.reg_done = false;
  dev->net.reg_every_told = false;
  switch (dev->running.proto) {
  case M0_PROTO_TCPC:
    m0__tcpc_start(dev, now);
    break;
  case M0_PROTO_TCPS:
    m0__tcps_start(dev, now);
    break;
  case M0_PROTO_UDPC:
  case M0_PROTO_UDPS:
    m0__udp_start(dev, now);
    break;
  default:
    /* HTPC opens one connection per frame (htpc_mode.c), nothing at boot. */
    break;
  }
}

void m0__dev_net_restart(struct m0_dev *dev, uint64_t now) {
  unsigned id;
  size_t pending = dev->running.proto == M0_PROTO_HTPC ? m0__htpc_mode_queued(dev)
                                                       : dev->net.pending_len;
  m0__fault_net_restart(dev, now); /* what was held for the network is lost too */
  for (id = 0; id < M0_LINKS_MAX; id++)
    m0__link_close(dev, now, id); /* held bytes to the inbox, which flow_reset counts */
  if (pending > 0) {
    dev->counters.net_tx_dropped += pending;
    m0__dev_drop(dev, now, M0__DROP_TO_NET_RESTART, pending);
  }
  m0__flow_reset(dev, now);
  /* Keep what the inbox and the event state need; forget the rest. */
  dev->net.pending_len = 0;
  dev->net.tcpc = M0__TCPC_IDLE;
  dev->net.failures = 0;
  dev->net.http_busy = false;
  dev->net.links_paused = false;
  memset(&dev->net.udp_dest, 0, sizeof dev->net.udp_dest);
  deadlines_clear(dev);
}

uint64_t m0__link_next(const struct m0_dev *dev) {
  const struct m0__network *n = &dev->net;
  uint64_t when = n->retry_at;
  unsigned id;
  if (n->idle_at < when)
    when = n->idle_at;
  if (n->rstim_at < when)
    when = n->rstim_at;
  if (n->http_timeout_at < when)
    when = n->http_timeout_at;
  if (m0__flow_next(dev) < when)
    when = m0__flow_next(dev);
  for (id = 0; id < M0_LINKS_MAX; id++) {
    const struct m0__link *l = &n->link[id];
    if (m0__rfc2217_pending(&l->rfc) > 0 && l->rfc_flush_at < when)
      when = l->rfc_flush_at;
    if (m0__link_dialling(l) && l->dial_at < when && dev->fault.dial_until[id] == M0_TIME_NEVER)
      when = l->dial_at;
  }
  return when;
}


/* The dial took too long: what a board reports for a refusal, then the same way down. */
static void dial_timeout(struct m0_dev *dev, uint64_t now, unsigned id) {
  char peer[128];
  m0_json_hostport(peer, sizeof peer, dev->net.link[id].peer.host, dev->net.link[id].peer.port);
  m0__dev_event(dev, "net.refused", "\"link\":%u,\"peer\":%s,\"error\":\"connection timed out\"",
                id, peer);
  dev->hal->link_close(dev->ctx, id); /* the board forgets it, lookup and all */
  m0__link_lost(dev, now, id, M0_DOWN_TIMEOUT);
}

void m0__link_expire(struct m0_dev *dev, uint64_t now) {
  struct m0__network *n = &dev->net;
  unsigned id;
  if (n->rstim_at <= now) {
    n->rstim_at = M0_TIME_NEVER;
    m0__dev_restart_now(dev, now, "rstim"); /* clears every other deadline */
    return;
  }
  for (id = 0; id < M0_LINKS_MAX; id++) {
    const struct m0__link *l = &n->link[id];
    if (m0__rfc2217_pending(&l->rfc) > 0 && l->rfc_flush_at <= now)
      m0__link_release(dev, now, id); /* the link was quiet for the hold time */
  }
  /* Before the HTTP silence deadline, which a dial that hangs reaches at the same instant:
   * a request that never connected ends as a connect timeout. */
  for (id = 0; id < M0_LINKS_MAX; id++) {
    const struct m0__link *l = &n->link[id];
    /* (a dial into a pulled cable is the faults' own: fault.c times it out, the same 10 s,
     * saying why) */
    if (m0__link_dialling(l) && l->dial_at <= now && dev->fault.dial_until[id] == M0_TIME_NEVER)
      dial_timeout(dev, now, id); /* may restart the device (CLIENTRST) */
  }
  if (n->http_timeout_at <= now) {
    n->http_timeout_at = M0_TIME_NEVER;
    m0__htpc_mode_timeout(dev, now);
  }
  if (m0__flow_next(dev) <= now)
    m0__flow_expire(dev, now);
  if (n->idle_at <= now) {
    n->idle_at = M0_TIME_NEVER;
    m0__tcpc_idle(dev, now);
  }
  if (n->retry_at <= now) {
    n->retry_at = M0_TIME_NEVER;
    switch (dev->running.proto) {
    case M0_PROTO_TCPC:
      m0__tcpc_retry(dev, now); /* may restart the device (CLIENTRST) */
      break;
    case M0_PROTO_TCPS:
      m0__tcps_retry(dev, now);
      break;
    case M0_PROTO_UDPC:
    case M0_PROTO_UDPS:
      m0__udp_retry(dev, now);
      break;
    default:
      break;
    }
  }
}

/* ---- what leaves and what is shown ---- */

void m0__dev_frame_out(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len) {
  switch (dev->running.proto) {
  case M0_PROTO_TCPC:
    m0__tcpc_frame(dev, now, data, len);
    break;
  case M0_PROTO_TCPS:
    m0__tcps_frame(dev, now, data, len);
    break;
  case M0_PROTO_UDPC:
  case M0_PROTO_UDPS:
    m0__udp_frame(dev, now, data, len);
    break;
  default:
    m0__htpc_mode_frame(dev, now, data, len); /* one HTTP request per frame */
    break;
  }
}

bool m0__dev_socket_connected(const struct m0_dev *dev) {
  const struct m0__network *n = &dev->net;
  unsigned id;
  if (dev->mode == M0_MODE_BOOTING)
    return false;
  switch (dev->running.proto) {
  case M0_PROTO_TCPC:
    return n->tcpc == M0__TCPC_CONNECTED;
  case M0_PROTO_TCPS:
    for (id = 1; id < M0_LINKS_MAX; id++) {
      if (n->link[id].role == M0__LINK_CLIENT)
        return true;
    }
    return false;
  case M0_PROTO_UDPC:
  case M0_PROTO_UDPS:
    /* No connection in UDP: the socket is "connected" once it is bound and can send. */
    return n->link[0].role == M0__LINK_UDP && n->link[0].up;
  default:
    return n->link[0].role == M0__LINK_HTTP && n->link[0].up; /* a request under way */
  }
}

void m0__link_status(const struct m0_dev *dev, struct m0_status *out) {
  unsigned id;
  out->nlinks = 0;
  for (id = 0; id < M0_LINKS_MAX; id++) {
    const struct m0__link *l = &dev->net.link[id];
    struct m0_link_status *s;
    if (l->role == M0__LINK_FREE)
      continue;
    s = &out->links[out->nlinks++];
    s->id = id;
    s->kind = kind_of((enum m0__link_role)l->role);
    s->connected = l->up;
    s->peer = l->peer;
    if (l->role == M0__LINK_UDP && dev->running.proto == M0_PROTO_UDPS)
      s->peer = dev->net.udp_dest; /* where serial data goes now */
    s->tx_bytes = l->tx_bytes;
    s->rx_bytes = l->rx_bytes;
  }
}

void m0__link_settle(struct m0_dev *dev, uint64_t now) {
  bool connected;
  m0__flow_settle(dev, now);
  connected = m0__dev_socket_connected(dev);
  if (connected != dev->net.socket_shown)
    m0__link_socket_event(dev);
}

bool m0__link_pin(const struct m0_dev *dev) {
  /* The pin shows the socket with SCSLINK=on, else the Ethernet link: down without a
   * cable either way. */
  return !dev->fault.unplugged && (m0__dev_socket_connected(dev) || !dev->running.scslink);
}

void m0__link_socket_event(struct m0_dev *dev) {
  bool connected = m0__dev_socket_connected(dev);
  dev->net.socket_shown = connected;
  m0__dev_event(dev, "net.socket", "\"connected\":%s,\"link_pin\":%s",
                connected ? "true" : "false", m0__link_pin(dev) ? "true" : "false");
}

/* ---- registration and the NET heartbeat (spec §6.6, §6.7) ---- */

void m0__link_reg_sent(struct m0_dev *dev, unsigned id, bool every) {
  if (every) {
    if (dev->net.reg_every_told)
      return; /* in front of every frame: reported once per connection or boot */
    dev->net.reg_every_told = true;
  }
  m0__dev_event(dev, "reg.sent", "\"link\":%u,\"bytes\":%u,\"when\":\"%s\"", id,
                dev->net.reg.len, every ? "every" : "first");
}

void m0__link_heart_up(struct m0_dev *dev, uint64_t now) {
  if (dev->heart.target == M0__HEART_NET)
    m0__heart_start(&dev->heart, now); /* silence counts from now */
}

void m0__link_heart_down(struct m0_dev *dev) {
  if (dev->heart.target == M0__HEART_NET)
    m0__heart_stop(&dev->heart);
}

void m0__link_beat(struct m0_dev *dev, uint64_t now) {
  const struct m0__heart *h = &dev->heart;
  long rc = -1;
  if (dev->running.proto == M0_PROTO_TCPC)
    rc = m0__tcpc_beat(dev, now, h->data, h->len);
  else if (dev->running.proto == M0_PROTO_UDPC)
    rc = m0__udp_beat(dev, now, h->data, h->len);
  if (rc >= 0)
    m0__dev_event(dev, "heart.sent", "\"to\":\"net\",\"bytes\":%u", h->len);
}

/* ---- the board's inputs ---- */

/* The id's generation when the input arrived, before catching up. */
static uint32_t gen_of(const struct m0_dev *dev, unsigned id) {
  return id < M0_LINKS_MAX ? dev->net.gen[id] : 0;
}

/* The link an input is about, or NULL to ignore the input: not ours (closed by us, or
 * from before a restart), or freed while catching up on this very input (a timeout or
 * a restart closed it, perhaps reusing the id at once: the report is about the old). */
static struct m0__link *known(struct m0_dev *dev, unsigned id, uint32_t gen) {
  if (id >= M0_LINKS_MAX || dev->net.link[id].role == M0__LINK_FREE || dev->net.gen[id] != gen)
    return NULL;
  return &dev->net.link[id];
}

void m0_dev_on_link_up(struct m0_dev *dev, uint64_t now, unsigned id,
                       const struct m0_net_addr *peer) {
  struct m0__link *l;
  uint32_t gen = gen_of(dev, id);
  m0__dev_catch_up(dev, now);
  l = known(dev, id, gen);
  if (l != NULL && !l->up) {
    (void)peer; /* the peer we asked for: the device's own view of the address */
    l->up = true;
    if (l->role == M0__LINK_TCPC)
      m0__tcpc_up(dev, now);
    else if (l->role == M0__LINK_HTTP)
      m0__htpc_mode_up(dev, now);
    else if (l->role == M0__LINK_UDP)
      m0__udp_up(dev, now);
  }
  m0__dev_settle(dev, now);
}

int m0_dev_on_link_accept(struct m0_dev *dev, uint64_t now, unsigned listen_id,
                          const struct m0_net_addr *peer) {
  struct m0__link *l;
  int id = -1;
  uint32_t gen = gen_of(dev, listen_id);
  m0__dev_catch_up(dev, now);
  l = known(dev, listen_id, gen);
  if (l != NULL && l->role == M0__LINK_LISTEN && peer != NULL)
    id = m0__tcps_accept(dev, now, peer);
  m0__dev_settle(dev, now);
  return id;
}

void m0_dev_on_link_rx(struct m0_dev *dev, uint64_t now, unsigned id, const uint8_t *data,
                       size_t len, const struct m0_net_addr *from) {
  struct m0__link *l;
  uint32_t gen = gen_of(dev, id);
  m0__dev_catch_up(dev, now);
  l = known(dev, id, gen);
  if (l != NULL) {
    l->rx_bytes += len;
    dev->counters.net_rx += len;
    if (l->role == M0__LINK_UDP && m0__fault_rx_lost(dev, now, len))
      l = NULL; /* a pulled cable, a hang, an impaired network: it never arrived */
  }
  if (l != NULL) {
    switch ((enum m0__link_role)l->role) {
    case M0__LINK_TCPC:
      m0__flow_received(dev, now, id, len);
      m0__tcpc_rx(dev, now, data, len);
      break;
    case M0__LINK_CLIENT:
      m0__flow_received(dev, now, id, len);
      m0__tcps_rx(dev, now, id, data, len);
      break;
    case M0__LINK_UDP:
      m0__udp_rx(dev, now, data, len, from);
      break;
    case M0__LINK_HTTP:
      m0__flow_received(dev, now, id, len);
      m0__htpc_mode_rx(dev, now, data, len);
      break;
    case M0__LINK_LISTEN:
    case M0__LINK_FREE:
      break;
    }
  }
  m0__dev_settle(dev, now);
}

/* The link is down (reported by the board, a dial given up, a fault's reset): free the
 * id, tell the mode. */
void m0__link_lost(struct m0_dev *dev, uint64_t now, unsigned id, int reason) {
  struct m0__link *l = &dev->net.link[id];
  enum m0__link_role role = (enum m0__link_role)l->role;
  bool was_up = l->up;
  if (role == M0__LINK_FREE)
    return;
  m0__link_release(dev, now, id); /* nothing received is lost to a close */
  link_free(dev, id);
  switch (role) {
  case M0__LINK_TCPC:
    /* Every failure is retried the same way; the board reports the cause. */
    m0__tcpc_down(dev, now, was_up); /* may restart the device (CLIENTRST) */
    break;
  case M0__LINK_LISTEN:
  case M0__LINK_CLIENT:
    m0__tcps_down(dev, now, id, role);
    break;
  case M0__LINK_UDP:
    m0__udp_down(dev, now);
    break;
  case M0__LINK_HTTP:
    m0__htpc_mode_down(dev, now, was_up, reason);
    break;
  case M0__LINK_FREE:
    break;
  }
}

void m0_dev_on_link_down(struct m0_dev *dev, uint64_t now, unsigned id, int reason) {
  uint32_t gen = gen_of(dev, id);
  m0__dev_catch_up(dev, now);
  if (known(dev, id, gen) != NULL)
    m0__link_lost(dev, now, id, reason);
  m0__dev_settle(dev, now);
}

void m0_dev_on_link_drained(struct m0_dev *dev, uint64_t now, unsigned id) {
  uint32_t gen = gen_of(dev, id);
  m0__dev_catch_up(dev, now);
  if (known(dev, id, gen) != NULL)
    m0__flow_queued(dev, id, 0);
  m0__dev_settle(dev, now);
}

const char *m0_link_kind_name(enum m0_link_kind kind) {
  switch (kind) {
  case M0_LINK_TCP_CONNECT:
    return "tcp_connect";
  case M0_LINK_TCP_LISTEN:
    return "tcp_listen";
  case M0_LINK_TCP_ACCEPTED:
    return "tcp_accepted";
  case M0_LINK_UDP:
    return "udp";
  }
  return "unknown";
}
