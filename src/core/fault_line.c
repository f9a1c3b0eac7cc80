/* fault_line.c: noise on the serial line (m0_dev_fault_uart's, docs/faults.md), and the
 * generator that every fault's noise and loss draws from (fault_net.c's datagram loss
 * and jitter too).
 *
 * Noise applies per byte crossing the UART in one direction: each byte is lost with
 * probability loss_ppb / 1e9, else each of its 8 bits flips with bit_error_ppb / 1e9.
 * The generator is splitmix64: 64 bits of state, a full period, every seed good
 * (m0_dev_fault_seed), and nothing but additions, shifts and multiplications, so a run
 * is repeatable from its seed.
 */
#include "core.h"

/* ---- the generator ---- */

static uint64_t next_random(struct m0__faults *f) {
  uint64_t z = (f->rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* True with probability ppb / 1e9. */
bool m0__fault_chance(struct m0__faults *f, uint32_t ppb) {
  if (ppb == 0)
    return false;
  return ((next_random(f) >> 32) * (uint64_t)M0_PPB >> 32) < ppb;
}

/* Uniform in [0, n]. */
uint64_t m0__fault_uniform(struct m0__faults *f, uint64_t n) {
  return n == UINT64_MAX ? next_random(f) : next_random(f) % (n + 1);
}

/* ---- the serial line ---- */

bool m0__fault_line_active(const struct m0_dev *dev, enum m0_uart_dir dir) {
  const struct m0_uart_noise *n = &dev->fault.line[dir].noise;
  return n->bit_error_ppb != 0 || n->loss_ppb != 0;
}

size_t m0__fault_line(struct m0_dev *dev, uint64_t now, enum m0_uart_dir dir,
                      const uint8_t *in, size_t len, uint8_t *out, uint16_t *from) {
  struct m0__faults *f = &dev->fault;
  struct m0__fault_line *l = &f->line[dir];
  size_t i, n = 0;
  (void)now;
  for (i = 0; i < len; i++) {
    uint8_t c = in[i];
    if (m0__fault_chance(f, l->noise.loss_ppb))
      continue;
    if (l->noise.bit_error_ppb != 0) {
      uint8_t hit = 0;
      for (unsigned bit = 0; bit < 8; bit++)
        if (m0__fault_chance(f, l->noise.bit_error_ppb))
          hit |= (uint8_t)(1u << bit);
      c ^= hit;
    }
    if (from != NULL)
      from[n] = (uint16_t)i;
    out[n++] = c;
  }
  return n;
}

void m0__fault_line_count(struct m0_dev *dev, enum m0_uart_dir dir, size_t corrupted,
                          size_t lost) {
  dev->fault.line[dir].corrupted += corrupted;
  dev->fault.line[dir].lost += lost;
}

