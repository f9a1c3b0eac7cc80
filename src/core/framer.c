/* framer.c: host bytes in transparent mode become frames for the network (spec §2.2).
 *
 * A frame ends when the line has been idle for 4 character times (0.35 ms at 115200 8N1,
 * 4.2 ms at 9600 8N1) or when it holds 400 bytes (M0_FRAME_MAX). Idle means no byte
 * arrived: bytes the board has not read yet (hal->uart_rx_pending: a busy machine, the
 * board late to its read) keep the frame open. In fast timing a frame
 * ends with each read from the pty instead (dev.c flushes after every m0_dev_on_uart_rx),
 * still cut at 400. A frame is the unit of a UDP datagram, an HTTP request, the
 * registration prefix and index addressing, so every finished frame leaves through one
 * function, m0__dev_frame_out().
 */
#include "core.h"

#include <string.h>

#define IDLE_CHARS 4

void m0__framer_push(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len) {
  struct m0__framer *f = &dev->framer;
  while (len > 0) {
    size_t take = M0_FRAME_MAX - f->len < len ? M0_FRAME_MAX - f->len : len;
    memcpy(f->buf + f->len, data, take);
    f->len += take;
    data += take;
    len -= take;
    if (f->len == M0_FRAME_MAX)
      m0__framer_flush(dev, now);
  }
  if (f->len > 0 && dev->options.timing == M0_TIMING_REAL)
    f->deadline = now + m0__dev_char_ns(dev, IDLE_CHARS);
}

/* The idle deadline passed. In real timing the board takes host bytes in paced chunks
 * of about a millisecond, so a line that is still busy looks idle between two chunks
 * (4 characters are 0.35 ms at 115200): while the receive budget, not the host, is what
 * stopped the bytes, the frame waits for the next chunk (spec §2.2: a frame ends when
 * the *line* is idle). */
void m0__framer_expire(struct m0_dev *dev, uint64_t now) {
  uint64_t busy = m0__host_rx_busy_until(dev);
  if (busy > now) {
    dev->framer.deadline = busy + m0__dev_char_ns(dev, IDLE_CHARS);
    return;
  }
  /* Bytes the host wrote that the board has not read yet: the line was not idle, the
   * machine was busy (the board's read came later than its chunk). Look again 4
   * character times on; each read pushes the deadline anyway. */
  if (dev->hal->uart_rx_pending != NULL && dev->hal->uart_rx_pending(dev->ctx) > 0) {
    dev->framer.deadline = now + m0__dev_char_ns(dev, IDLE_CHARS);
    return;
  }
  m0__framer_flush(dev, now);
}

void m0__framer_flush(struct m0_dev *dev, uint64_t now) {
  struct m0__framer *f = &dev->framer;
  size_t len = f->len;
  f->deadline = M0_TIME_NEVER;
  if (len == 0)
    return;
  f->len = 0;
  if (dev->frame_tap != NULL)
    dev->frame_tap(dev->frame_tap_arg, now, f->buf, len);
  m0__dev_frame_out(dev, now, f->buf, len);
}

void m0__framer_discard(struct m0_dev *dev, uint64_t now, enum m0__drop_kind kind) {
  struct m0__framer *f = &dev->framer;
  size_t len = f->len;
  f->len = 0;
  f->deadline = M0_TIME_NEVER;
  if (len > 0) {
    dev->counters.net_tx_dropped += len;
    m0__dev_drop(dev, now, kind, len);
  }
}
