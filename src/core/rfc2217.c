/* rfc2217.c: finding similar-RFC2217 packets (spec §6.8) in a network byte stream.
 *
 * How a packet is found (the vendor says nothing beyond the layout):
 * - Anywhere in the stream: at the start of a read, after other data in the same read, or
 *   split over several reads. The stream is searched like a string: the leftmost place
 *   where 8 bytes check out is a packet, and the search goes on after its last byte.
 * - "Checks out" means `55 AA 55`, then a checksum equal to the low byte of the sum of
 *   the baud and parameter bytes, and a baud inside AT+UART's range (600-460800, read
 *   from the parameter table so both paths agree). Bits 7:6 of the parameter are ignored;
 *   with the parity-enable bit (3) clear, bits 5:4 are ignored too (parity NONE). Every
 *   parameter byte then names a valid setting, so no other check is needed.
 * - Bytes that might still become a packet are held (at most 7). When the next byte
 *   rules that out, only the first held byte is released as data and the search resumes
 *   at the byte after it, so `55 55 AA 55 ...` or a packet hidden inside a failed one is
 *   still found. A baud high byte above 0x07 rules a packet out at once, so ordinary
 *   data is held as briefly as possible.
 * - Held bytes wait for more input; the caller releases them with m0__rfc2217_flush()
 *   after a quiet time of its choosing (M0__RFC2217_HOLD_NS suggested), at the end of a
 *   UDP datagram, or at link close. Nothing is ever lost or reordered.
 */
#include "rfc2217.h"

#include <string.h>

#include "m0/params.h"

static const uint8_t magic[3] = {0x55, 0xAA, 0x55};

static uint32_t baud_min(void) {
  return m0_params[M0_ID_UART].fields[0].min;
}

static uint32_t baud_max(void) {
  return m0_params[M0_ID_UART].fields[0].max;
}

void m0__rfc2217_init(struct m0__rfc2217 *s) {
  memset(s, 0, sizeof *s);
}

int m0__rfc2217_decode(const uint8_t body[5], struct m0__rfc2217_setting *setting) {
  static const uint8_t parities[4] = {M0_PARITY_ODD, M0_PARITY_EVEN, M0_PARITY_MASK,
                                      M0_PARITY_SPACE};
  uint32_t baud = (uint32_t)body[0] << 16 | (uint32_t)body[1] << 8 | body[2];
  uint8_t param = body[3];
  if ((uint8_t)(body[0] + body[1] + body[2] + param) != body[4])
    return -1;
  if (baud < baud_min() || baud > baud_max())
    return -1;
  setting->baud = baud;
  setting->data_bits = (uint8_t)(5 + (param & 3));
  setting->stop_bits = (param & 4) ? 2 : 1;
  setting->parity = (param & 8) ? parities[(param >> 4) & 3] : M0_PARITY_NONE;
  return 0;
}

int m0__rfc2217_encode(const struct m0__rfc2217_setting *setting,
                       uint8_t out[M0__RFC2217_PACKET_LEN]) {
  uint8_t param = 0x80;
  if (setting->baud < baud_min() || setting->baud > baud_max() || setting->data_bits < 5 ||
      setting->data_bits > 8 || setting->stop_bits < 1 || setting->stop_bits > 2)
    return -1;
  param |= (uint8_t)(setting->data_bits - 5);
  if (setting->stop_bits == 2)
    param |= 4;
  switch (setting->parity) {
  case M0_PARITY_NONE: break;
  case M0_PARITY_ODD: param |= 0x08; break;
  case M0_PARITY_EVEN: param |= 0x18; break;
  case M0_PARITY_MASK: param |= 0x28; break;
  case M0_PARITY_SPACE: param |= 0x38; break;
  default: return -1;
  }
  memcpy(out, magic, sizeof magic);
  out[3] = (uint8_t)(setting->baud >> 16);
  out[4] = (uint8_t)(setting->baud >> 8);
  out[5] = (uint8_t)setting->baud;
  out[6] = param;
  out[7] = (uint8_t)(out[3] + out[4] + out[5] + param);
  return 0;
}

/* Could p[0..k) (k < 8) still grow into a packet? */
static bool viable(const uint8_t *p, size_t k) {
  size_t m = k < sizeof magic ? k : sizeof magic;
  if (memcmp(p, magic, m) != 0)
    return false;
  return k <= 3 || p[3] <= (baud_max() >> 16);
}

/* Push one byte through the matcher. Released data goes to out[*o...], which has room
 * for s->len + 1 bytes. Returns true when b completed a packet (setting filled). */
static bool step(struct m0__rfc2217 *s, uint8_t b, uint8_t *out, size_t *o,
                 struct m0__rfc2217_setting *setting) {
  uint8_t win[M0__RFC2217_PACKET_LEN];
  size_t n = s->len, start = 0;
  memcpy(win, s->held, n);
  win[n++] = b;
  for (;;) {
    size_t k = n - start;
    if (k == 0) {
      s->len = 0;
      return false;
    }
    if (k == M0__RFC2217_PACKET_LEN) { /* only possible with start == 0 */
      struct m0__rfc2217_setting got;
      if (memcmp(win, magic, sizeof magic) == 0 && m0__rfc2217_decode(win + 3, &got) == 0) {
        if (setting != NULL)
          *setting = got;
        s->len = 0;
        return true;
      }
    } else if (viable(win + start, k)) {
      memmove(s->held, win + start, k);
      s->len = (uint8_t)k;
      return false;
    }
    out[(*o)++] = win[start++];
  }
}

size_t m0__rfc2217_feed(struct m0__rfc2217 *s, const uint8_t *in, size_t len, uint8_t *out,
                        size_t out_cap, size_t *out_len, struct m0__rfc2217_setting *setting,
                        bool *changed) {
  size_t i = 0, o = 0;
  *changed = false;
  while (i < len) {
    if (s->len == 0 && in[i] != magic[0]) {
      /* Fast path: copy the run of data up to the next candidate packet start. */
      const uint8_t *next = memchr(in + i, magic[0], len - i);
      size_t run = (next != NULL ? (size_t)(next - in) : len) - i;
      if (run > out_cap - o)
        run = out_cap - o;
      if (run == 0)
        break;
      memcpy(out + o, in + i, run);
      o += run;
      i += run;
      continue;
    }
    if (out_cap - o < (size_t)s->len + 1)
      break;
    if (step(s, in[i++], out, &o, setting)) {
      *changed = true;
      break;
    }
  }
  *out_len = o;
  return i;
}

size_t m0__rfc2217_flush(struct m0__rfc2217 *s, uint8_t *out, size_t out_cap) {
  size_t n = s->len;
  if (n > out_cap) /* a caller bug: keep everything rather than split the held run */
    return 0;
  memcpy(out, s->held, n);
  s->len = 0;
  return n;
}
