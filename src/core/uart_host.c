/* uart_host.c: the host's side of the UART: the 64 KiB queue toward the host, and
 * reading from the host, both paced by pace.c's budgets (spec §2.1).
 *
 * Toward the host the chunks leave a 64 KiB ring through hal->uart_write; a short write
 * means the pty is full, and the queue waits for m0_dev_on_uart_writable(). From the host
 * the board asks m0_dev_uart_rx_budget() before reading; when the budget is spent the core
 * stops reading (uart_rx_enable(false)) and resumes once a chunk is available, leaving the
 * pty's own buffer to back-pressure the host as a real line would. A slow network peer
 * stops reading too (flow.c, m0__host_rx_hold), and so does a flash write in flight in
 * command mode (dev.c, m0__host_rx_flash): reading goes on only when none of them holds
 * it, in both timings. In fast timing the budget does not
 * apply: bytes move as fast as the pty takes them.
 */
#include <string.h>

#include "core.h"

/* What a mismatched line does to a byte: XOR 0x55 flips every other bit, so each byte
 * arrives as a different, reproducible one, in both directions (spec §2 --line-faults). */
#define LINE_FAULT_XOR 0x55

static bool real_timing(const struct m0_dev *dev) {
  return dev->options.timing == M0_TIMING_REAL;
}

static bool line_faulty(const struct m0_dev *dev) {
  return dev->options.line_faults && dev->mismatch;
}

void m0__host_send(struct m0_dev *dev, uint64_t now, const void *data, size_t len) {
  struct m0__txq *q = &dev->txq;
  const uint8_t *src = data;
  size_t n, tail, first;

  if (len == 0)
    return;
  if (dev->fault.off) { /* made while the power is off (a save's late reply): unsaid */
    dev->counters.uart_tx_dropped += len;
    m0__dev_drop(dev, now, M0__DROP_TO_HOST_OFF, len);
    return;
  }
  if (!dev->attached) {
    /* Nobody listens: a real UART loses it too, and a late reader must not get it. */
    dev->counters.uart_tx_dropped += len;
    m0__dev_drop(dev, now, M0__DROP_TO_HOST_NO_HOST, len);
    return;
  }
  if (q->len == 0 && !dev->stalled && real_timing(dev))
    m0__pace_cap(&dev->tx, now); /* the line was idle until now */
  n = len;
  if (n > M0_UART_TXQ_SIZE - q->len)
    n = M0_UART_TXQ_SIZE - q->len;
  tail = (q->head + q->len) % M0_UART_TXQ_SIZE;
  first = n < M0_UART_TXQ_SIZE - tail ? n : M0_UART_TXQ_SIZE - tail;
  memcpy(dev->bufs.txq + tail, src, first);
  memcpy(dev->bufs.txq, src + first, n - first);
  q->len += n;
  if (n < len) {
    dev->counters.uart_tx_dropped += len - n;
    m0__dev_drop(dev, now, M0__DROP_TO_HOST_FULL, len - n);
  }
  m0__host_kick(dev, now);
}

void m0__host_kick(struct m0_dev *dev, uint64_t now) {
  struct m0__txq *q = &dev->txq;
  bool real = real_timing(dev);

  if (m0__fault_frozen(dev))
    return; /* a hung firmware sends nothing: the queue waits for the watchdog's restart */

  dev->tx_due = M0_TIME_NEVER;
  if (!dev->attached || dev->stalled)
    return;
  while (q->len > 0) {
    uint8_t scratch[256], clean[256];
    uint16_t from[256];
    const uint8_t *src = dev->bufs.txq + q->head;
    size_t n = q->len, m, k, used, lost;
    bool noisy = m0__fault_line_active(dev, M0_UART_TO_HOST);
    if (n > M0_UART_TXQ_SIZE - q->head)
      n = M0_UART_TXQ_SIZE - q->head;
    if (real) {
      uint64_t allowed = m0__pace_avail(&dev->tx, now);
      if (allowed == 0)
        break;
      if (n > allowed)
        n = (size_t)allowed;
    }
    if (line_faulty(dev) || noisy) {
      size_t i;
      if (n > sizeof scratch)
        n = sizeof scratch;
      for (i = 0; i < n; i++)
        scratch[i] = line_faulty(dev) ? src[i] ^ LINE_FAULT_XOR : src[i];
      src = scratch;
    }
    /* A noisy line (fault.c) flips bits and loses bytes: what the host gets is shorter,
     * and from[] says which queued byte each written one was. */
    if (noisy)
      memcpy(clean, scratch, n);
    m = noisy ? m0__fault_line(dev, now, M0_UART_TO_HOST, scratch, n, scratch, from) : n;
    k = m > 0 ? dev->hal->uart_write(dev->ctx, src, m) : 0;
    if (k > m)
      k = m;
    used = !noisy ? k : k < m ? from[k] : n; /* queued bytes the write took or lost */
    lost = used - k;
    q->head = (q->head + used) % M0_UART_TXQ_SIZE;
    q->len -= used;
    if (q->len == 0)
      q->head = 0;
    dev->counters.uart_tx += k;
    if (real)
      m0__pace_take(&dev->tx, used); /* lost bytes took their time on the line too */
    if (noisy) {
      size_t j, corrupted = 0;
      for (j = 0; j < k; j++)
        corrupted += scratch[j] != clean[from[j]];
      m0__fault_line_count(dev, M0_UART_TO_HOST, corrupted, lost);
    }
    if (lost > 0) {
      dev->counters.uart_tx_dropped += lost;
      m0__dev_drop(dev, now, M0__DROP_TO_HOST_LOSS, lost);
    }
    if (k < m) {
      dev->stalled = true; /* the pty is full: m0_dev_on_uart_writable() resumes */
      return;
    }
  }
  if (real && q->len > 0)
    dev->tx_due = m0__pace_due(&dev->tx, q->len < dev->tx.burst ? q->len : dev->tx.burst);
}

void m0__host_flush(struct m0_dev *dev, uint64_t now, enum m0__drop_kind kind) {
  size_t n = dev->txq.len;
  dev->txq.head = 0;
  dev->txq.len = 0;
  dev->tx_due = M0_TIME_NEVER;
  if (n > 0) {
    dev->counters.uart_tx_dropped += n;
    m0__dev_drop(dev, now, kind, n);
  }
}

void m0__host_reconfigure(struct m0_dev *dev, uint64_t now) {
  const struct m0_config *c = &dev->running;
  unsigned bits = m0_uart_bits_per_char(c->data_bits, c->stop_bits, c->parity);
  m0__pace_init(&dev->tx, now, c->baud, bits);
  m0__pace_init(&dev->rx, now, c->baud, bits);
  if (!real_timing(dev))
    return;
  if (dev->rx_paced)
    dev->rx_due = m0__pace_due(&dev->rx, dev->rx.burst);
  m0__host_kick(dev, now);
}

/* Three reasons stop reading from the host, the budget (rx_paced), a slow network
 * (rx_held, flow.c) and a flash write in command mode (rx_flash, dev.c); the board is
 * told only when the combined answer changes, so they never undo each other. */
static void rx_apply(struct m0_dev *dev) {
  bool want = !dev->rx_paced && !dev->rx_held && !dev->rx_flash;
  if (want != dev->rx_enabled) {
    dev->rx_enabled = want;
    dev->hal->uart_rx_enable(dev->ctx, want);
  }
}

static void rx_stop(struct m0_dev *dev) {
  dev->rx_paced = true;
  rx_apply(dev);
  dev->rx_throttled = true;
  dev->rx_due = m0__pace_due(&dev->rx, dev->rx.burst);
}

void m0__host_rx_resume(struct m0_dev *dev, uint64_t now) {
  dev->rx_due = M0_TIME_NEVER;
  dev->rx_resumed = now;
  dev->rx_paced = false;
  rx_apply(dev);
}

void m0__host_rx_hold(struct m0_dev *dev, bool hold) {
  dev->rx_held = hold;
  rx_apply(dev);
}

void m0__host_rx_flash(struct m0_dev *dev, bool hold) {
  if (hold == dev->rx_flash)
    return;
  dev->rx_flash = hold;
  rx_apply(dev);
}

size_t m0__host_rx_budget(struct m0_dev *dev, uint64_t now) {
  uint64_t allowed;
  if (dev->rx_held || dev->rx_flash)
    return 0;
  if (!real_timing(dev))
    return SIZE_MAX;
  if (!dev->rx_enabled)
    return 0;
  /* Credit is kept only right after a throttled pause (the host still had bytes
   * waiting); otherwise the line was idle and gets at most one chunk. */
  if (!dev->rx_throttled || now - dev->rx_resumed > dev->rx.chunk_ns)
    m0__pace_cap(&dev->rx, now);
  allowed = m0__pace_avail(&dev->rx, now);
  if (allowed == 0) {
    rx_stop(dev);
    return 0;
  }
  return allowed < SIZE_MAX ? (size_t)allowed : SIZE_MAX;
}

uint64_t m0__host_rx_busy_until(const struct m0_dev *dev) {
  if (!real_timing(dev) || !dev->rx_throttled || !dev->rx_filled)
    return 0;
  /* Stopped: busy until the next chunk may be read, plus one chunk for the board to
   * read it. Resumed: one chunk after resuming; a read that takes less than the budget
   * clears rx_throttled, and a host with nothing more gives no read at all. */
  uint64_t from = dev->rx_paced ? dev->rx_due : dev->rx_resumed;
  return from > M0_TIME_NEVER - dev->rx.chunk_ns ? M0_TIME_NEVER : from + dev->rx.chunk_ns;
}

void m0__host_rx_take(struct m0_dev *dev, uint64_t now, size_t n) {
  uint64_t allowed;
  if (!real_timing(dev))
    return;
  allowed = m0__pace_avail(&dev->rx, now);
  m0__pace_take(&dev->rx, n);
  /* Exactly the budget: the pty probably holds more (the line is busy). More than the
   * budget only comes from a caller that does not ask for it (unit tests). */
  dev->rx_filled = n == allowed;
  if (n < allowed)
    dev->rx_throttled = false; /* the board read less than it could: the host is done */
  else
    rx_stop(dev);
}
