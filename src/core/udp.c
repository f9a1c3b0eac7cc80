/* udp.c: the UDP work modes (spec §6.4): one socket, link 0, bound to SOCKPORT (0 = any),
 * each serial frame one datagram.
 *
 * UDPC sends to SOCK's address and port and takes datagrams only from there (the host
 * name compared case-insensitively, and the port); anything else is dropped and counted.
 * UDPS sends to the source of the last datagram received, SOCK's address and port until
 * the first one. A datagram goes to the host whole or not at all (flow.c: it must fit the
 * 64 KiB UART queue with what already waits). Frames before the socket is bound have no
 * network to go to and are dropped and counted; a socket that cannot bind is retried
 * every 1 s.
 *
 * UDPC registration (spec §6.6): REGTCP=first sends it as a datagram of its own before the
 * first datagram after restart (a frame's or a heartbeat's), REGTCP=every inside each
 * frame's datagram. The NET heartbeat (UDPC) runs while the socket is bound: a datagram
 * to SOCK's address after HEARTTM s without a datagram sent.
 */
#include <string.h>

#include "core.h"
#include "reg.h"
#include "heart.h"

#define UDP_ID 0
#define RETRY_NS M0_NS_PER_S

static void bind_open(struct m0_dev *dev, uint64_t now) {
  struct m0_link_open req;
  memset(&req, 0, sizeof req);
  req.kind = M0_LINK_UDP;
  m0__link_sock_addr(dev, &req.peer);
  req.local_port = dev->running.sockport;
  if (m0__link_open(dev, now, UDP_ID, M0__LINK_UDP, &req) != 0)
    dev->net.retry_at = now + RETRY_NS;
}

void m0__udp_start(struct m0_dev *dev, uint64_t now) {
  m0__link_sock_addr(dev, &dev->net.udp_dest);
  bind_open(dev, now);
}

void m0__udp_retry(struct m0_dev *dev, uint64_t now) {
  if (dev->net.link[UDP_ID].role == M0__LINK_FREE)
    bind_open(dev, now);
}

void m0__udp_up(struct m0_dev *dev, uint64_t now) { m0__link_heart_up(dev, now); }

void m0__udp_down(struct m0_dev *dev, uint64_t now) {
  m0__link_heart_down(dev);
  dev->net.retry_at = now + RETRY_NS;
}

/* UDPC, REGTCP=first: the registration datagram, once per boot, before any other. It is
 * due again after a send error (nothing went out). reg.len is 0 in UDPS. */
static void register_first(struct m0_dev *dev, uint64_t now) {
  struct m0__network *n = &dev->net;
  if (n->reg.len == 0 || n->reg.every || n->reg_done)
    return;
  if (m0__link_send(dev, now, UDP_ID, n->reg.data, n->reg.len, NULL) >= 0) {
    n->reg_done = true;
    m0__link_reg_sent(dev, UDP_ID, false);
  }
}

void m0__udp_frame(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len) {
  struct m0__network *n = &dev->net;
  const struct m0__link *l = &n->link[UDP_ID];
  uint8_t wrapped[M0__REG_WRAP_MAX];
  bool every = n->reg.every && n->reg.len > 0;
  if (l->role != M0__LINK_UDP || !l->up) {
    dev->counters.net_tx_dropped += len;
    m0__dev_drop(dev, now, M0__DROP_TO_NET_NO_NETWORK, len);
    return;
  }
  register_first(dev, now);
  if (every) {
    long w = m0__reg_wrap(&n->reg, data, len, wrapped, sizeof wrapped);
    if (w >= 0) {
      data = wrapped;
      len = (size_t)w;
    }
  }
  if (m0__link_send(dev, now, UDP_ID, data, len,
                    dev->running.proto == M0_PROTO_UDPS ? &n->udp_dest : NULL) >= 0 &&
      every)
    m0__link_reg_sent(dev, UDP_ID, true);
}

long m0__udp_beat(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len) {
  const struct m0__link *l = &dev->net.link[UDP_ID];
  if (l->role != M0__LINK_UDP || !l->up)
    return -1;
  register_first(dev, now);
  return m0__link_send(dev, now, UDP_ID, data, len, NULL);
}

void m0__udp_rx(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len,
                const struct m0_net_addr *from) {
  if (dev->running.proto == M0_PROTO_UDPC) {
    struct m0_net_addr peer;
    m0__link_sock_addr(dev, &peer);
    if (from != NULL && !m0__link_same_addr(from, &peer)) {
      dev->counters.net_rx_dropped += len;
      m0__dev_drop(dev, now, M0__DROP_FROM_NET_STRANGER, len);
      return; /* a stranger does not prove the peer alive: RSTIM keeps counting */
    }
  } else if (from != NULL) {
    dev->net.udp_dest = *from; /* UDPS answers whoever spoke last */
  }
  m0__link_heard(dev, now);
  m0__link_to_host(dev, now, UDP_ID, data, len);
}
