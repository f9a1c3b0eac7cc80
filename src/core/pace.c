/* pace.c: the UART's speed, both ways (spec §2.1): a byte budget on the ns clock.
 *
 * libuv timers tick in milliseconds and 460800 baud is 46 bytes per millisecond, so the
 * core never times single bytes. It counts: by `now` the line can have carried
 *   base + floor((now - epoch) * baud / (bits * 1e9))
 * bytes; whatever was taken beyond that waits. The product is split into two exact 64-bit
 * steps, so nothing overflows in centuries at any baud. Bytes move in chunks of ~1 ms
 * worth (at least one byte: 600 baud 8N1 is one byte per 16.7 ms). Credit is cut to one
 * chunk when the line was idle, so a quiet line never bursts; while it is busy credit is
 * kept, so a timer that fires late is caught up and the long-run rate stays exact (the
 * error is one chunk per busy run, 0.02 % over 5 s at 115200). The queue toward the host
 * and reading from it (uart_host.c) spend these budgets.
 */
#include "core.h"

/* floor(x * mul / div), exact while (div - 1) * mul fits in 64 bits (bits * 1e9 * baud:
 * 12e9 * 16.7e6 < 2^64 for any 24-bit baud). */
static uint64_t mul_div(uint64_t x, uint64_t mul, uint64_t div) {
  return (x / div) * mul + (x % div) * mul / div;
}

void m0__pace_init(struct m0__pace *p, uint64_t now, uint32_t baud, unsigned bits) {
  p->epoch = now;
  p->base = 0;
  p->taken = 0;
  p->baud = baud > 0 ? baud : 1;
  p->bit_ns = (uint64_t)bits * M0_NS_PER_S;
  p->burst = mul_div(M0_NS_PER_MS, p->baud, p->bit_ns);
  if (p->burst == 0)
    p->burst = 1;
  p->chunk_ns = (p->burst * p->bit_ns + p->baud - 1) / p->baud;
}

uint64_t m0__pace_avail(const struct m0__pace *p, uint64_t now) {
  uint64_t granted = p->base;
  if (now > p->epoch)
    granted += mul_div(now - p->epoch, p->baud, p->bit_ns);
  return granted > p->taken ? granted - p->taken : 0;
}

void m0__pace_take(struct m0__pace *p, uint64_t n) { p->taken += n; }

void m0__pace_cap(struct m0__pace *p, uint64_t now) {
  if (m0__pace_avail(p, now) > p->burst) {
    p->epoch = now;
    p->base = p->burst;
    p->taken = 0;
  }
}

uint64_t m0__pace_due(const struct m0__pace *p, uint64_t n) {
  uint64_t need = p->taken + n, q, r;
  if (need <= p->base)
    return p->epoch;
  need -= p->base;
  /* ceil(need * bit_ns / baud), split like mul_div. */
  q = need / p->baud;
  r = need % p->baud;
  return p->epoch + q * p->bit_ns + (r * p->bit_ns + p->baud - 1) / p->baud;
}
