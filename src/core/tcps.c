/* tcps.c: the TCP server work mode (spec §6.3): listen, admit up to MAXSK clients,
 * keep or kick, and index addressing.
 *
 * The listener is link 0, on SOCKPORT (0: SOCK's port field); client N is link N, N the
 * lowest free of 1..8, and that N is also its INDEXEN number, so the number a host sees in
 * `IN`, `ON`, `CNM` and `DNM` names the same client for as long as it stays connected.
 * When MAXSK clients are connected a newcomer is refused (TCPSE=keep) or the client that
 * arrived first is closed to make room (TCPSE=kick). Serial frames go to every client;
 * with INDEXEN=on a frame `ON...` (N a connected client) goes to client N only, without
 * the two bytes. Client bytes go to the host, each read from the socket prefixed `IN`
 * under INDEXEN (TCP has no message boundaries; a read is what the network delivered in
 * one piece). A listener that cannot bind is retried every 1 s.
 */
#include <string.h>

#include "core.h"

#define LISTEN_ID 0
#define CLIENT_FIRST 1
#define CLIENT_LAST 8
#define RETRY_NS M0_NS_PER_S

static bool is_client(const struct m0_dev *dev, unsigned id) {
  return dev->net.link[id].role == M0__LINK_CLIENT;
}

static unsigned clients(const struct m0_dev *dev) {
  unsigned id, n = 0;
  for (id = CLIENT_FIRST; id <= CLIENT_LAST; id++)
    n += is_client(dev, id);
  return n;
}

/* INDEXEN notices to the host: "C" or "D", the client's number, the clients connected. */
static void notice(struct m0_dev *dev, uint64_t now, char what, unsigned id, unsigned count) {
  uint8_t msg[3] = {(uint8_t)what, (uint8_t)('0' + id), (uint8_t)('0' + count)};
  if (dev->running.indexen)
    m0__flow_to_host(dev, now, NULL, 0, msg, sizeof msg, false);
}

static void listen_open(struct m0_dev *dev, uint64_t now) {
  struct m0_link_open req;
  memset(&req, 0, sizeof req);
  req.kind = M0_LINK_TCP_LISTEN;
  req.local_port = dev->running.sockport != 0 ? dev->running.sockport : dev->running.sock_port;
  req.keepalive = true; /* the board gives it to every accepted connection */
  if (m0__link_open(dev, now, LISTEN_ID, M0__LINK_LISTEN, &req) != 0)
    dev->net.retry_at = now + RETRY_NS;
}

void m0__tcps_start(struct m0_dev *dev, uint64_t now) { listen_open(dev, now); }

void m0__tcps_retry(struct m0_dev *dev, uint64_t now) {
  if (dev->net.link[LISTEN_ID].role == M0__LINK_FREE)
    listen_open(dev, now);
}

int m0__tcps_accept(struct m0_dev *dev, uint64_t now, const struct m0_net_addr *peer) {
  struct m0__network *n = &dev->net;
  unsigned id, count = clients(dev);
  unsigned maxsk = dev->running.maxsk;
  struct m0__link *l;
  if (maxsk < 1 || maxsk > CLIENT_LAST)
    maxsk = CLIENT_LAST;
  if (count >= maxsk) {
    unsigned oldest = 0;
    if (dev->running.tcpse == M0_TCPSE_KEEP) {
      if (dev->running.indexen)
        m0__flow_to_host(dev, now, NULL, 0, (const uint8_t *)"FF", 2, false);
      return -1;
    }
    for (id = CLIENT_FIRST; id <= CLIENT_LAST; id++) {
      if (is_client(dev, id) && (oldest == 0 || n->link[id].seq < n->link[oldest].seq))
        oldest = id;
    }
    m0__link_close(dev, now, oldest);
    count--;
    notice(dev, now, 'D', oldest, count);
  }
  for (id = CLIENT_FIRST; id <= CLIENT_LAST && is_client(dev, id); id++)
    ;
  l = &n->link[id];
  memset(l, 0, sizeof *l);
  l->role = M0__LINK_CLIENT;
  l->up = true; /* the board reads from it as soon as we return */
  l->peer = *peer;
  l->seq = ++n->seq;
  notice(dev, now, 'C', id, count + 1);
  return (int)id;
}

void m0__tcps_rx(struct m0_dev *dev, uint64_t now, unsigned id, const uint8_t *data,
                 size_t len) {
  m0__link_heard(dev, now);
  m0__link_to_host(dev, now, id, data, len);
}

void m0__tcps_down(struct m0_dev *dev, uint64_t now, unsigned id, enum m0__link_role role) {
  if (role == M0__LINK_LISTEN) {
    dev->net.retry_at = now + RETRY_NS; /* could not bind or listen: try again */
    return;
  }
  notice(dev, now, 'D', id, clients(dev));
}

void m0__tcps_frame(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len) {
  unsigned id, sent = 0;
  if (dev->running.indexen && len >= 2 && data[0] == 'O' && data[1] >= '0' + CLIENT_FIRST &&
      data[1] <= '0' + CLIENT_LAST && is_client(dev, (unsigned)(data[1] - '0'))) {
    m0__link_send(dev, now, (unsigned)(data[1] - '0'), data + 2, len - 2, NULL);
    return;
  }
  for (id = CLIENT_FIRST; id <= CLIENT_LAST; id++) {
    if (is_client(dev, id)) {
      m0__link_send(dev, now, id, data, len, NULL);
      sent++;
    }
  }
  if (sent == 0) {
    dev->counters.net_tx_dropped += len;
    m0__dev_drop(dev, now, M0__DROP_TO_NET_NOT_CONNECTED, len);
  }
}
