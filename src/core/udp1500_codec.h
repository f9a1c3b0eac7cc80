/* udp1500_codec.h: what the two UDP 1500 codecs share (not an API; the API is
 * include/m0/udp1500.h).
 *
 * The codec is split by protocol: udp1500_ff.c (the FF frames and its basic, port and
 * heartbeat blocks), udp1500_t24.c (the similar-T24 frames and its 28-byte block), and
 * udp1500.c (the checksum, the field helpers below, the parsers of the header's last
 * section, and the decoding of a block into settings that both protocols' decoders end
 * in). Block fields are little-endian, addresses too (192.168.0.7 is `07 00 A8 C0`); the
 * one big-endian field, the FF search reply's address, is the FF file's own. Names here
 * are m0__udp1500_*.
 */
#ifndef M0_UDP1500_CODEC_H
#define M0_UDP1500_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "m0/udp1500.h"

/* ---- fields ---- */

static inline void m0__udp1500_put_le16(uint8_t *out, uint32_t v) {
  out[0] = (uint8_t)v;
  out[1] = (uint8_t)(v >> 8);
}

static inline uint16_t m0__udp1500_get_le16(const uint8_t *in) {
  return (uint16_t)(in[0] | in[1] << 8);
}

/* An address in block order (little-endian): 192.168.0.7 is 07 00 A8 C0. */
static inline void m0__udp1500_put_ip(uint8_t *out, const uint8_t ip[4]) {
  out[0] = ip[3];
  out[1] = ip[2];
  out[2] = ip[1];
  out[3] = ip[0];
}

static inline void m0__udp1500_get_ip(const uint8_t *in, uint8_t ip[4]) {
  ip[0] = in[3];
  ip[1] = in[2];
  ip[2] = in[1];
  ip[3] = in[0];
}

/* Text into a fixed field, NUL-padded; at most n bytes (no terminator when full). */
void m0__udp1500_put_text(uint8_t *out, size_t n, const char *s);
/* A fixed text field up to its first NUL, as a C string (buf holds n + 1). */
void m0__udp1500_get_text(const uint8_t *in, size_t n, char *buf);

/* ---- codes both protocols use ---- */

/* No M0 parameter holds the device ID: the real M0s captured report 1. */
#define M0__UDP1500_DEVICE_ID 1

/* The work mode code of an enum m0_proto: 0 UDPC, 1 TCPC, 2 UDPS, 3 TCPS, 4 HTPC (FF
 * only); an out-of-range value codes as UDPC. */
uint8_t m0__udp1500_mode_code(uint8_t proto);
/* The other way. Returns 0, or -1 for a code no work mode has. */
int m0__udp1500_proto_from_code(uint8_t code, uint8_t *proto);
/* The ID type / flags bits the M0 has parameters for (both protocols): 0x10 CLIENTRST,
 * 0x20 SCSLINK, 0x40 INDEXEN, 0x80 RFCEN. */
uint8_t m0__udp1500_id_flags(const struct m0_config *c);

/* ---- decoding a block into settings ---- */

/* One decode: the configuration as the block asks (next), which parameters it touched,
 * and the field that made it fail. */
struct m0__udp1500_decode {
  struct m0_config next;
  uint64_t touched; /* bit per enum m0_param_id */
  const char *bad;
};

static inline void m0__udp1500_touch(struct m0__udp1500_decode *d, enum m0_param_id id) {
  d->touched |= 1ull << id;
}

static inline bool m0__udp1500_differs(const uint8_t *in, const uint8_t *ref, size_t n) {
  return memcmp(in, ref, n) != 0;
}

/* Record the field no parameter can hold; returns M0_ERR_PARAM. */
int m0__udp1500_fail(struct m0__udp1500_decode *d, const char *field);
/* End a decode: rc 0 gives the touched parameters as settings in out, else out->bad. */
int m0__udp1500_done(struct m0__udp1500_decode *d, int rc, struct m0_udp1500_settings *out);
/* One of WANN's address fields (ip, mask, gateway) in block order into dst. */
void m0__udp1500_wann_field(struct m0__udp1500_decode *d, const uint8_t *in,
                            const uint8_t *ref, uint8_t dst[4]);
/* The ID flags byte (see m0__udp1500_id_flags): one touched parameter per changed bit. */
void m0__udp1500_flag_fields(struct m0__udp1500_decode *d, uint8_t in, uint8_t ref);

#endif
