/* tcpc.c: the TCP client work mode (spec §6.2): dial, retry, keep or discard data while
 * not connected, and the short connection.
 *
 * One connection, link id 0, dialled from SOCKPORT (0 = any) with keepalive; a dial not up
 * after 10 s fails as a timeout (net.c). A failed attempt or a lost connection is retried
 * 1 s after the failure (ASSUMPTION in the spec); with CLIENTRST=on the 30th failed attempt in a row restarts the device, and a
 * connection that came up starts the count again. While not connected, serial data is kept
 * (UARTCLBUF=off: the newest 4 KiB, the oldest dropped and counted) and sent as soon as the
 * connection is up, or discarded and counted (UARTCLBUF=on). With SOCKSL=on nothing is
 * dialled at boot: serial data opens the connection (it is always kept for it, whatever
 * UARTCLBUF says: it is what the connection is for), and SHORTO seconds without a byte
 * either way close it again.
 *
 * Registration (spec §6.6): REGTCP=first sends it as the first bytes of every connection,
 * short ones included, ahead of the kept data; REGTCP=every puts it in front of each frame
 * as the frame is sent or kept, so kept frames carry it too. The NET heartbeat runs while
 * the connection is up and does not count as traffic for SHORTO (a heartbeat shorter than
 * SHORTO would otherwise keep a short connection open for ever).
 */
#include <string.h>

#include "core.h"
#include "reg.h"
#include "heart.h"

#define TCPC_ID 0
#define RETRY_NS M0_NS_PER_S
#define CLIENTRST_ATTEMPTS 30

/* Keep serial data for the connection: the newest M0_NET_PENDING_MAX bytes. */
static void keep(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len) {
  struct m0__network *n = &dev->net;
  size_t lost = 0;
  if (len >= M0_NET_PENDING_MAX) {
    lost = n->pending_len + len - M0_NET_PENDING_MAX;
    data += len - M0_NET_PENDING_MAX;
    len = M0_NET_PENDING_MAX;
    n->pending_len = 0;
  } else if (n->pending_len + len > M0_NET_PENDING_MAX) {
    lost = n->pending_len + len - M0_NET_PENDING_MAX;
    memmove(dev->bufs.pending, dev->bufs.pending + lost, n->pending_len - lost);
    n->pending_len -= lost;
  }
  memcpy(dev->bufs.pending + n->pending_len, data, len);
  n->pending_len += len;
  if (lost > 0) {
    dev->counters.net_tx_dropped += lost;
    m0__dev_drop(dev, now, M0__DROP_TO_NET_BUFFER_FULL, lost);
  }
}

static void touch(struct m0_dev *dev, uint64_t now) {
  if (dev->running.socksl)
    dev->net.idle_at = now + dev->running.shorto * M0_NS_PER_S;
}

static void failed(struct m0_dev *dev, uint64_t now) {
  struct m0__network *n = &dev->net;
  n->failures++;
  /* Waiting first: a restart waits for a flash write in flight, and the client must be
   * in a sane state meanwhile. */
  n->tcpc = M0__TCPC_WAITING;
  n->retry_at = now + RETRY_NS;
  if (dev->running.clientrst && n->failures >= CLIENTRST_ATTEMPTS)
    m0__dev_restart_now(dev, now, "clientrst");
}

static void dial(struct m0_dev *dev, uint64_t now) {
  struct m0_link_open req;
  memset(&req, 0, sizeof req);
  req.kind = M0_LINK_TCP_CONNECT;
  m0__link_sock_addr(dev, &req.peer);
  req.local_port = dev->running.sockport;
  req.keepalive = true;
  dev->net.tcpc = M0__TCPC_CONNECTING;
  if (m0__link_dial(dev, now, TCPC_ID, M0__LINK_TCPC, &req) != 0)
    failed(dev, now); /* cannot even start: an immediate refusal */
}

void m0__tcpc_start(struct m0_dev *dev, uint64_t now) {
  dev->net.failures = 0;
  dev->net.tcpc = M0__TCPC_IDLE;
  if (!dev->running.socksl)
    dial(dev, now);
}

static bool reg_every(const struct m0_dev *dev) {
  return dev->net.reg.every && dev->net.reg.len > 0;
}

void m0__tcpc_frame(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len) {
  struct m0__network *n = &dev->net;
  uint8_t wrapped[M0__REG_WRAP_MAX];
  const uint8_t *out = data;
  size_t out_len = len;
  if (reg_every(dev)) {
    long w = m0__reg_wrap(&n->reg, data, len, wrapped, sizeof wrapped);
    if (w >= 0) {
      out = wrapped;
      out_len = (size_t)w;
    }
  }
  if (n->tcpc == M0__TCPC_CONNECTED) {
    if (m0__link_send(dev, now, TCPC_ID, out, out_len, NULL) >= 0 && reg_every(dev))
      m0__link_reg_sent(dev, TCPC_ID, true);
    touch(dev, now);
    return;
  }
  if (dev->running.socksl) {
    keep(dev, now, out, out_len);
    if (n->tcpc == M0__TCPC_IDLE)
      dial(dev, now);
    return;
  }
  if (dev->running.uartclbuf) {
    dev->counters.net_tx_dropped += len; /* the serial data; the prefix was never sent */
    m0__dev_drop(dev, now, M0__DROP_TO_NET_NOT_CONNECTED, len);
    return;
  }
  keep(dev, now, out, out_len);
}

void m0__tcpc_up(struct m0_dev *dev, uint64_t now) {
  struct m0__network *n = &dev->net;
  n->tcpc = M0__TCPC_CONNECTED;
  n->failures = 0;
  n->reg_every_told = false; /* a new connection: report its first prefixed frame */
  if (n->reg.len > 0 && !n->reg.every &&
      m0__link_send(dev, now, TCPC_ID, n->reg.data, n->reg.len, NULL) >= 0)
    m0__link_reg_sent(dev, TCPC_ID, false);
  if (n->pending_len > 0) {
    size_t len = n->pending_len;
    n->pending_len = 0;
    if (m0__link_send(dev, now, TCPC_ID, dev->bufs.pending, len, NULL) >= 0 && reg_every(dev))
      m0__link_reg_sent(dev, TCPC_ID, true); /* kept frames carry it */
  }
  m0__link_heart_up(dev, now);
  touch(dev, now);
}

long m0__tcpc_beat(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len) {
  if (dev->net.tcpc != M0__TCPC_CONNECTED)
    return -1; /* the heartbeat only runs while connected; belt and braces */
  return m0__link_send(dev, now, TCPC_ID, data, len, NULL);
}

void m0__tcpc_rx(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len) {
  m0__link_heard(dev, now);
  m0__link_to_host(dev, now, TCPC_ID, data, len);
  touch(dev, now);
}

void m0__tcpc_down(struct m0_dev *dev, uint64_t now, bool was_up) {
  struct m0__network *n = &dev->net;
  n->idle_at = M0_TIME_NEVER;
  m0__link_heart_down(dev);
  if (!was_up) {
    failed(dev, now);
    return;
  }
  /* A loss. A short connection waits for the next serial data; a long one comes back. */
  if (dev->running.socksl && n->pending_len == 0) {
    n->tcpc = M0__TCPC_IDLE;
    return;
  }
  n->tcpc = M0__TCPC_WAITING;
  n->retry_at = now + RETRY_NS;
}

void m0__tcpc_retry(struct m0_dev *dev, uint64_t now) {
  if (dev->net.tcpc == M0__TCPC_WAITING)
    dial(dev, now);
}

void m0__tcpc_idle(struct m0_dev *dev, uint64_t now) {
  if (dev->net.tcpc != M0__TCPC_CONNECTED || !dev->running.socksl)
    return;
  m0__link_close(dev, now, TCPC_ID);
  m0__link_heart_down(dev);
  dev->net.tcpc = M0__TCPC_IDLE;
}
