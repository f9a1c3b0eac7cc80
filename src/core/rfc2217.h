/* rfc2217.h: the similar-RFC2217 scanner (spec §6.8), a pure byte-stream filter.
 *
 * Network bytes go in, in any split; ordinary data comes out in order, and a recognised
 * settings packet `55 AA 55 b2 b1 b0 param sum` comes out as a setting at the exact point
 * in the stream where it ended. At most 7 bytes (a packet minus its last byte) are ever
 * held back; see rfc2217.c for how a packet is found and m0__rfc2217_flush() for when the
 * caller releases held bytes. One scanner per link: bytes of two peers must not mix.
 */
#ifndef M0_CORE_RFC2217_H
#define M0_CORE_RFC2217_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m0/dev.h"

#define M0__RFC2217_PACKET_LEN 8
/* feed() makes progress whenever out has at least this much room. */
#define M0__RFC2217_OUT_MIN M0__RFC2217_PACKET_LEN
/* Suggested hold: release a partial packet when nothing more arrived on the link for
 * this long. 50 ms covers a sender that writes the packet in two calls and meets Nagle
 * plus a delayed ACK (40 ms minimum on Linux), and is only paid by data that ends a read
 * with a packet's first bytes. The caller owns the timer. */
#define M0__RFC2217_HOLD_NS 50000000ull

/* UART settings carried by one packet, in the same encoding as struct m0_config. */
struct m0__rfc2217_setting {
  uint32_t baud;
  uint8_t data_bits; /* 5..8 */
  uint8_t stop_bits; /* 1..2 */
  uint8_t parity;    /* enum m0_parity */
};

/* Scanner state, struct m0__rfc2217 (in m0/dev_internal.h, because every link of a
 * struct m0_dev embeds one): the start of a possible packet, held back until it checks
 * out or not. Plain data: zero it (or call init) and it is ready; it may be copied. */
_Static_assert(sizeof(((struct m0__rfc2217 *)0)->held) == M0__RFC2217_PACKET_LEN - 1,
               "the scanner holds at most a packet minus its last byte");

void m0__rfc2217_init(struct m0__rfc2217 *s);

/* Scan in[0..len). Ordinary data (including held bytes released by this call) is written
 * to out, and its length stored in *out_len. Stops right after a packet, with *changed
 * true and *setting filled: the caller delivers out, applies the setting, and calls again
 * with the rest of in (in + return value). Otherwise *changed is false. Also stops when
 * out has fewer than M0__RFC2217_OUT_MIN bytes of room left. Returns how many bytes of in
 * were consumed (held bytes count as consumed). setting may be NULL when changed is. */
size_t m0__rfc2217_feed(struct m0__rfc2217 *s, const uint8_t *in, size_t len, uint8_t *out,
                        size_t out_cap, size_t *out_len, struct m0__rfc2217_setting *setting,
                        bool *changed);

/* Bytes currently held (0..7): when non-zero, the caller should arrange a flush. */
static inline size_t m0__rfc2217_pending(const struct m0__rfc2217 *s) {
  return s->len;
}

/* Give up on a held partial packet: copy the held bytes (as data) into out and return
 * how many. out must have room for m0__rfc2217_pending() bytes (7 always suffice);
 * with less, nothing is released and 0 is returned. Call it when the link has been
 * quiet for the hold time, at the end of each UDP datagram (a packet lies within one
 * datagram, and the next may come from another sender), and at link close; deliver what
 * it returns like any data, so nothing received is ever lost. */
size_t m0__rfc2217_flush(struct m0__rfc2217 *s, uint8_t *out, size_t out_cap);

/* Decode the 5 bytes after `55 AA 55` (baud, parameter, checksum). Returns 0 and fills
 * *setting, or -1 when they do not check out (checksum, or baud outside AT+UART's range). */
int m0__rfc2217_decode(const uint8_t body[5], struct m0__rfc2217_setting *setting);

/* Build the 8-byte packet for a setting (bits 7:6 of the parameter set to 10, as in the
 * published examples). Returns 0, or -1 when the setting is outside AT+UART's ranges. */
int m0__rfc2217_encode(const struct m0__rfc2217_setting *setting,
                       uint8_t out[M0__RFC2217_PACKET_LEN]);

#endif
