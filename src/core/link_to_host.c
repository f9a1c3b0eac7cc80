/* link_to_host.c: every network byte the device accepted for the host, on its way to
 * flow.c: the INDEXEN prefix (spec §6.3), similar-RFC2217 (spec §6.8), and the datagram
 * rule (spec §6.4). net.c owns the links; this is their one crossing toward the host.
 *
 * With RFCEN=on, every link but HTPC's runs its bytes through its own scanner
 * (rfc2217.h), so a packet split over TCP segments is found and two clients' bytes never
 * mix. Held bytes (at most 7) go to the host as data after 50 ms without more from that
 * link (M0__RFC2217_HOLD_NS), at the end of every datagram, and when the link closes;
 * nothing received is lost or reordered. A datagram's data still goes to the host whole
 * or not at all.
 */
#include "core.h"
#include "rfc2217.h"

/* Scanner output is moved on in pieces of this much (stack space, not a limit). */
#define SCAN_CHUNK 1024

/* One delivery toward the host (a read, a datagram, released bytes), maybe in pieces. */
struct delivery {
  unsigned id;
  bool started; /* a piece went: the INDEXEN prefix is not repeated */
  bool lost;    /* a datagram that does not fit: already dropped and counted */
};

static void give(struct m0_dev *dev, uint64_t now, struct delivery *d, const uint8_t *data,
                 size_t len) {
  if (len == 0 || d->lost)
    return;
  if (!d->started && dev->net.link[d->id].role == M0__LINK_CLIENT && dev->running.indexen) {
    /* INDEXEN: "I" and the client's number ahead of its bytes (spec §6.3). */
    uint8_t prefix[2] = {'I', (uint8_t)('0' + d->id)};
    m0__flow_to_host(dev, now, prefix, sizeof prefix, data, len, false);
  } else {
    m0__flow_to_host(dev, now, NULL, 0, data, len, false);
  }
  d->started = true;
}

/* RFCEN=on: every work mode but HTPC (spec §6.8); read at boot like every setting. */
static bool scanned(const struct m0_dev *dev, const struct m0__link *l) {
  return dev->running.rfcen && (l->role == M0__LINK_TCPC || l->role == M0__LINK_CLIENT ||
                                l->role == M0__LINK_UDP);
}

/* Data through the link's scanner: ordinary bytes on to the host in order, a packet
 * applied to the running UART at the point of the stream where it ended. */
static void scan(struct m0_dev *dev, uint64_t now, struct delivery *d, const uint8_t *data,
                 size_t len) {
  struct m0__rfc2217 *s = &dev->net.link[d->id].rfc;
  uint8_t out[SCAN_CHUNK];
  while (len > 0) {
    struct m0__rfc2217_setting set;
    size_t n, used;
    bool changed;
    used = m0__rfc2217_feed(s, data, len, out, sizeof out, &n, &set, &changed);
    data += used;
    len -= used;
    give(dev, now, d, out, n);
    if (changed)
      m0__dev_uart_running(dev, now, set.baud, set.data_bits, set.stop_bits, set.parity,
                           d->id);
  }
}

/* Held bytes that did not become a packet go to the host as data. */
static void release(struct m0_dev *dev, uint64_t now, struct delivery *d) {
  uint8_t out[M0__RFC2217_PACKET_LEN];
  give(dev, now, d, out, m0__rfc2217_flush(&dev->net.link[d->id].rfc, out, sizeof out));
}

void m0__link_release(struct m0_dev *dev, uint64_t now, unsigned id) {
  struct delivery d = {id, false, false};
  if (m0__rfc2217_pending(&dev->net.link[id].rfc) > 0)
    release(dev, now, &d);
}

/* How many bytes of a datagram reach the host once its packets are taken out: scanned on
 * a copy of the scanner (plain data), so the real pass finds the same packets. */
static size_t datagram_data(const struct m0__link *l, const uint8_t *data, size_t len) {
  struct m0__rfc2217 s = l->rfc;
  uint8_t out[SCAN_CHUNK];
  size_t total = 0;
  while (len > 0) {
    size_t n, used;
    bool changed;
    used = m0__rfc2217_feed(&s, data, len, out, sizeof out, &n, NULL, &changed);
    data += used;
    len -= used;
    total += n;
  }
  return total + m0__rfc2217_pending(&s);
}

void m0__link_to_host(struct m0_dev *dev, uint64_t now, unsigned id, const uint8_t *data,
                      size_t len) {
  struct m0__link *l = &dev->net.link[id];
  struct delivery d = {id, false, false};
  if (!scanned(dev, l)) {
    if (l->role == M0__LINK_UDP)
      m0__flow_to_host(dev, now, NULL, 0, data, len, true); /* whole or not at all */
    else
      give(dev, now, &d, data, len);
    return;
  }
  if (l->role == M0__LINK_UDP) {
    /* A packet lies within one datagram and the next may come from another sender, so
     * nothing is held past the datagram's end; its data goes whole or not at all, while
     * its packets apply either way (they are for the device, not for the host). */
    d.lost = !m0__flow_admit(dev, now, datagram_data(l, data, len));
    scan(dev, now, &d, data, len);
    release(dev, now, &d);
    return;
  }
  scan(dev, now, &d, data, len);
  l->rfc_flush_at = now + M0__RFC2217_HOLD_NS; /* meaningful while something is held */
}

