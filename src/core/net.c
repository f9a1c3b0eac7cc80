/* net.c: the network side of the device, for now without a network.
 *
 * This file is the seam the network work replaces: every serial frame leaves through
 * m0__dev_frame_out(), AT+SOCKLK and the status page ask m0__dev_socket_connected(), a
 * restart calls m0__dev_net_restart(), and the board's network inputs land here. Until then
 * no link is ever opened: frames are counted in net_tx_dropped and reported as `drop`
 * events (reason "no-network", rate-limited by dev.c), and the socket is never connected.
 */
#include "core.h"

void m0__dev_frame_out(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len) {
  (void)data;
  dev->counters.net_tx_dropped += len;
  m0__dev_drop(dev, now, M0__DROP_NET_NO_NETWORK, len);
}

bool m0__dev_socket_connected(const struct m0_dev *dev) {
  (void)dev;
  return false;
}

void m0__dev_net_restart(struct m0_dev *dev, uint64_t now) {
  (void)dev;
  (void)now;
}

/* The core opens no link yet, so none of these can concern one of its links. */

void m0_dev_on_link_up(struct m0_dev *dev, uint64_t now, unsigned id,
                       const struct m0_net_addr *peer) {
  (void)dev, (void)now, (void)id, (void)peer;
}

int m0_dev_on_link_accept(struct m0_dev *dev, uint64_t now, unsigned listen_id,
                          const struct m0_net_addr *peer) {
  (void)dev, (void)now, (void)listen_id, (void)peer;
  return -1;
}

void m0_dev_on_link_rx(struct m0_dev *dev, uint64_t now, unsigned id, const uint8_t *data,
                       size_t len, const struct m0_net_addr *from) {
  (void)dev, (void)now, (void)id, (void)data, (void)len, (void)from;
}

void m0_dev_on_link_down(struct m0_dev *dev, uint64_t now, unsigned id, int reason) {
  (void)dev, (void)now, (void)id, (void)reason;
}

void m0_dev_on_link_drained(struct m0_dev *dev, uint64_t now, unsigned id) {
  (void)dev, (void)now, (void)id;
}
