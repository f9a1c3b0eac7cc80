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
 * (spec §6.2's interval, used for listeners and UDP sockets too). RSTIM restarts the device
 * when nothing came from the network for RSTIM seconds, counted from the end of the boot.
 */
#include <string.h>
#include <strings.h>

#include "core.h"

/* ---- the link table ---- */

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
  m0__flow_queued(dev, id, 0);
}

int m0__link_open(struct m0_dev *dev, unsigned id, enum m0__link_role role,
                  const struct m0_link_open *request) {
  struct m0__link *l = &dev->net.link[id];
  int rc;
  memset(l, 0, sizeof *l);
  l->role = (uint8_t)role;
  l->peer = request->peer;
  rc = dev->hal->link_open(dev->ctx, id, request);
  if (rc < 0)
    link_free(dev, id);
  return rc < 0 ? rc : 0;
}

long m0__link_send(struct m0_dev *dev, uint64_t now, unsigned id, const uint8_t *data,
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
    m0__dev_drop(dev, now, M0__DROP_NET_SEND_ERROR, len);
    return rc;
  }
  l->tx_bytes += len;
  if (l->role != M0__LINK_UDP)
    m0__flow_queued(dev, id, (uint64_t)rc);
  return rc;
}

void m0__link_close(struct m0_dev *dev, unsigned id) {
  if (dev->net.link[id].role == M0__LINK_FREE)
    return;
  dev->hal->link_close(dev->ctx, id);
  link_free(dev, id);
}

void m0__link_to_host(struct m0_dev *dev, uint64_t now, unsigned id, const uint8_t *data,
                      size_t len) {
  const struct m0__link *l = &dev->net.link[id];
  if (l->role == M0__LINK_CLIENT && dev->running.indexen) {
    /* INDEXEN: "I" and the client's number ahead of its bytes (spec §6.3). */
    uint8_t prefix[2] = {'I', (uint8_t)('0' + id)};
    m0__flow_to_host(dev, now, prefix, sizeof prefix, data, len, false);
    return;
  }
  m0__flow_to_host(dev, now, NULL, 0, data, len, l->role == M0__LINK_UDP);
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
}

void m0__link_init(struct m0_dev *dev) {
  deadlines_clear(dev); /* the rest is zero: every id free, nothing waiting */
}

void m0__link_boot(struct m0_dev *dev, uint64_t now) {
  m0__link_heard(dev, now); /* RSTIM counts from the boot */
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
  for (id = 0; id < M0_LINKS_MAX; id++)
    m0__link_close(dev, id);
  if (pending > 0) {
    dev->counters.net_tx_dropped += pending;
    m0__dev_drop(dev, now, M0__DROP_NET_RESTART, pending);
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
  if (n->idle_at < when)
    when = n->idle_at;
  if (n->rstim_at < when)
    when = n->rstim_at;
  return when;
}

void m0__link_expire(struct m0_dev *dev, uint64_t now) {
  struct m0__network *n = &dev->net;
  if (n->rstim_at <= now) {
    n->rstim_at = M0_TIME_NEVER;
    m0__dev_restart_now(dev, now, "rstim"); /* clears every other deadline */
    return;
  }
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
  if (connected != dev->net.socket_shown) {
    dev->net.socket_shown = connected;
    m0__dev_event(dev, "net.socket", "\"connected\":%s,\"link_pin\":%s",
                  connected ? "true" : "false",
                  connected || !dev->running.scslink ? "true" : "false");
  }
}

/* ---- the board's inputs ---- */

static struct m0__link *known(struct m0_dev *dev, unsigned id) {
  if (id >= M0_LINKS_MAX || dev->net.link[id].role == M0__LINK_FREE)
    return NULL; /* not ours (closed by us, or from before a restart): ignore */
  return &dev->net.link[id];
}

void m0_dev_on_link_up(struct m0_dev *dev, uint64_t now, unsigned id,
                       const struct m0_net_addr *peer) {
  struct m0__link *l;
  m0__dev_catch_up(dev, now);
  l = known(dev, id);
  if (l != NULL && !l->up) {
    (void)peer; /* the peer we asked for: the device's own view of the address */
    l->up = true;
    if (l->role == M0__LINK_TCPC)
      m0__tcpc_up(dev, now);
    else if (l->role == M0__LINK_HTTP)
      m0__htpc_mode_up(dev, now);
  }
  m0__dev_settle(dev, now);
}

int m0_dev_on_link_accept(struct m0_dev *dev, uint64_t now, unsigned listen_id,
                          const struct m0_net_addr *peer) {
  struct m0__link *l;
  int id = -1;
  m0__dev_catch_up(dev, now);
  l = known(dev, listen_id);
  if (l != NULL && l->role == M0__LINK_LISTEN && peer != NULL)
    id = m0__tcps_accept(dev, now, peer);
  m0__dev_settle(dev, now);
  return id;
}

void m0_dev_on_link_rx(struct m0_dev *dev, uint64_t now, unsigned id, const uint8_t *data,
                       size_t len, const struct m0_net_addr *from) {
  struct m0__link *l;
  m0__dev_catch_up(dev, now);
  l = known(dev, id);
  if (l != NULL) {
    l->rx_bytes += len;
    switch ((enum m0__link_role)l->role) {
    case M0__LINK_TCPC:
      m0__flow_received(dev, id);
      m0__tcpc_rx(dev, now, data, len);
      break;
    case M0__LINK_CLIENT:
      m0__flow_received(dev, id);
      m0__tcps_rx(dev, now, id, data, len);
      break;
    case M0__LINK_UDP:
      m0__udp_rx(dev, now, data, len, from);
      break;
    case M0__LINK_HTTP:
      m0__flow_received(dev, id);
      m0__htpc_mode_rx(dev, now, data, len);
      break;
    case M0__LINK_LISTEN:
    case M0__LINK_FREE:
      break;
    }
  }
  m0__dev_settle(dev, now);
}

void m0_dev_on_link_down(struct m0_dev *dev, uint64_t now, unsigned id, int reason) {
  struct m0__link *l;
  (void)reason; /* every failure is retried the same way; the board reports the cause */
  m0__dev_catch_up(dev, now);
  l = known(dev, id);
  if (l != NULL) {
    enum m0__link_role role = (enum m0__link_role)l->role;
    bool was_up = l->up;
    link_free(dev, id);
    switch (role) {
    case M0__LINK_TCPC:
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
      m0__htpc_mode_down(dev, now, was_up);
      break;
    case M0__LINK_FREE:
      break;
    }
  }
  m0__dev_settle(dev, now);
}

void m0_dev_on_link_drained(struct m0_dev *dev, uint64_t now, unsigned id) {
  m0__dev_catch_up(dev, now);
  if (known(dev, id) != NULL)
    m0__flow_queued(dev, id, 0);
  m0__dev_settle(dev, now);
}
