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
 */
#include <string.h>

#include "core.h"

#define UDP_ID 0
#define RETRY_NS M0_NS_PER_S

static void bind_open(struct m0_dev *dev, uint64_t now) {
  struct m0_link_open req;
  memset(&req, 0, sizeof req);
  req.kind = M0_LINK_UDP;
  m0__link_sock_addr(dev, &req.peer);
  req.local_port = dev->running.sockport;
  if (m0__link_open(dev, UDP_ID, M0__LINK_UDP, &req) != 0)
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

void m0__udp_down(struct m0_dev *dev, uint64_t now) { dev->net.retry_at = now + RETRY_NS; }

void m0__udp_frame(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len) {
  const struct m0__link *l = &dev->net.link[UDP_ID];
  if (l->role != M0__LINK_UDP || !l->up) {
    dev->counters.net_tx_dropped += len;
    m0__dev_drop(dev, now, M0__DROP_NET_NO_NETWORK, len);
    return;
  }
  m0__link_send(dev, now, UDP_ID, data, len,
                dev->running.proto == M0_PROTO_UDPS ? &dev->net.udp_dest : NULL);
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
