/* escape.c: entering command mode with the timed +++ / a handshake (spec §3.1).
 *
 * The first '+' counts only after the line was idle for 4 character times (the packing
 * interval, 347 us at 115200 8N1); each next '+' must follow within 300 ms of the one
 * before (300 ms exactly is still in time); after the third the device answers 'a' and
 * the host has 3 s (3 s exactly is in time) to send 'a' back, which the device answers
 * with "+ok" in every dialect. Nothing of it is echoed. The '+' bytes are held back from
 * the network meanwhile; if the handshake fails they go on as ordinary data, in order,
 * followed by the byte that broke it. A window that expires is handled by the device
 * timer, so held bytes leave at the deadline and not only when the next byte comes; a
 * late '+' therefore finds the window already closed, and since the line was idle long
 * enough it starts a new handshake of its own.
 */
#include "core.h"

#define PLUS_WINDOW_NS (300 * M0_NS_PER_MS)
#define A_WINDOW_NS (3 * M0_NS_PER_S)
#define GUARD_CHARS 4

void m0__escape_reset(struct m0_dev *dev) {
  dev->escape.state = M0__ESC_IDLE;
  dev->escape.held = 0;
  dev->escape.deadline = M0_TIME_NEVER;
}

/* The held '+' bytes, then `extra`, go to the network as data. */
static void release(struct m0_dev *dev, uint64_t now, const uint8_t *extra, size_t n) {
  static const uint8_t plus[3] = {'+', '+', '+'};
  m0__framer_push(dev, now, plus, dev->escape.held);
  m0__escape_reset(dev);
  if (n > 0)
    m0__framer_push(dev, now, extra, n);
}

void m0__escape_expire(struct m0_dev *dev, uint64_t now) {
  if (dev->escape.state == M0__ESC_IDLE) {
    dev->escape.deadline = M0_TIME_NEVER;
    return;
  }
  release(dev, now, NULL, 0);
  /* The line has been quiet for the whole window, far more than the packing interval. */
  m0__framer_flush(dev, now);
}

static bool guard_passed(const struct m0_dev *dev, uint64_t now) {
  return !dev->have_last_rx || now - dev->last_rx >= m0__dev_char_ns(dev, GUARD_CHARS);
}

void m0__escape_input(struct m0_dev *dev, uint64_t now, uint8_t c) {
  struct m0__escape *e = &dev->escape;
  if (e->state != M0__ESC_IDLE && now >= e->deadline)
    m0__escape_expire(dev, now);
  switch (e->state) {
  case M0__ESC_IDLE:
    if (c == '+' && guard_passed(dev, now)) {
      e->state = M0__ESC_PLUS;
      e->held = 1;
      e->deadline = now + PLUS_WINDOW_NS + 1;
      return;
    }
    m0__framer_push(dev, now, &c, 1);
    return;
  case M0__ESC_PLUS:
    if (c != '+') {
      release(dev, now, &c, 1);
      return;
    }
    if (++e->held < 3) {
      e->deadline = now + PLUS_WINDOW_NS + 1;
      return;
    }
    e->state = M0__ESC_WAIT_A;
    e->deadline = now + A_WINDOW_NS + 1;
    m0__host_send(dev, now, "a", 1);
    return;
  case M0__ESC_WAIT_A:
    if (c != 'a') {
      release(dev, now, &c, 1);
      return;
    }
    m0__escape_reset(dev);
    m0__host_send(dev, now, "+ok", 3);
    m0__dev_enter_command(dev, now);
    return;
  }
}
