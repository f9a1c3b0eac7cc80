/* udp1500_t24.c: the codec of the "similar T24" protocol on UDP 1500
 * (include/m0/udp1500.h, reference UDP1500.md): its frames and its parameter block.
 *
 * No checksums and no framing byte: a datagram is known by its length. The search is the
 * 40 ASCII bytes "0123456789" x 4; the reply 35 bytes (MAC, the version's low byte, the
 * block); the set 40 bytes (MAC, the password "110415" NUL-padded to 6, the block). The
 * 28-byte block, little-endian: SOCK's address and port, WANN's address, SOCKPORT, the
 * gateway, the work mode (0-3: HTPC goes out as TCP client, 1), a 3-byte baud rate, one
 * serial byte (data bits - 5 | stop 2 << 2 | parity on << 3 | kind << 4), the device ID
 * (big-endian, 1), the ID flags, the mask. A SOCK host name goes out as 0.0.0.0 and,
 * since its decode compares with that, survives a read-modify-write (udp1500.c).
 */
#include "udp1500_codec.h"

#include <string.h>

/* ---- the search ---- */

const uint8_t m0_udp1500_t24_search[40] = {
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '1', '2', '3',
    '4', '5', '6', '7', '8', '9', '0', '1', '2', '3', '4', '5', '6', '7',
    '8', '9', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
};

/* ---- the block ---- */

/* T24 serial byte bits 5:4 when parity is on (bit 3): 00 odd, 01 even, 10 mark, 11 space. */
static const uint8_t t24_parity[] = {
    [M0_PARITY_ODD] = 0, [M0_PARITY_EVEN] = 1, [M0_PARITY_MASK] = 2, [M0_PARITY_SPACE] = 3,
};

void m0_udp1500_t24_block(const struct m0_config *c, uint8_t out[M0_UDP1500_T24_BLOCK_LEN]) {
  uint8_t quad[4] = {0, 0, 0, 0};
  uint8_t serial;
  memset(out, 0, M0_UDP1500_T24_BLOCK_LEN);
  (void)m0_udp1500_ipv4_parse(c->sock_addr, quad); /* a host name: 0.0.0.0 */
  m0__udp1500_put_ip(out, quad);
  m0__udp1500_put_le16(out + 4, c->sock_port);
  m0__udp1500_put_ip(out + 6, c->wann_ip);
  m0__udp1500_put_le16(out + 10, c->sockport);
  m0__udp1500_put_ip(out + 12, c->wann_gateway);
  out[16] = c->proto == M0_PROTO_HTPC ? 1 : m0__udp1500_mode_code(c->proto);
  out[17] = (uint8_t)c->baud;
  out[18] = (uint8_t)(c->baud >> 8);
  out[19] = (uint8_t)(c->baud >> 16);
  serial = (uint8_t)(((c->data_bits - 5) & 3) | ((c->stop_bits == 2) ? 0x04 : 0));
  if (c->parity != M0_PARITY_NONE && c->parity < sizeof t24_parity)
    serial |= (uint8_t)(0x08 | t24_parity[c->parity] << 4);
  out[20] = serial;
  out[21] = (uint8_t)(M0__UDP1500_DEVICE_ID >> 8);
  out[22] = (uint8_t)M0__UDP1500_DEVICE_ID;
  out[23] = m0__udp1500_id_flags(c);
  m0__udp1500_put_ip(out + 24, c->wann_mask);
}

/* ---- frames ---- */

void m0_udp1500_t24_reply(uint8_t out[M0_UDP1500_T24_REPLY_LEN], const uint8_t mac[6],
                          uint8_t version, const uint8_t block[M0_UDP1500_T24_BLOCK_LEN]) {
  memcpy(out, mac, 6);
  out[6] = version;
  memcpy(out + 7, block, M0_UDP1500_T24_BLOCK_LEN);
}

void m0_udp1500_t24_set(uint8_t out[M0_UDP1500_T24_REQUEST_LEN], const uint8_t mac[6],
                        const char *password, const uint8_t block[M0_UDP1500_T24_BLOCK_LEN]) {
  memcpy(out, mac, 6);
  m0__udp1500_put_text(out + 6, 6, password);
  memcpy(out + 12, block, M0_UDP1500_T24_BLOCK_LEN);
}

int m0_udp1500_t24_parse(const uint8_t *p, size_t len, struct m0_udp1500_t24 *out) {
  const uint8_t *b = p + 7;
  if (len != M0_UDP1500_T24_REPLY_LEN || (b[20] & 0xC0) != 0)
    return -1;
  memset(out, 0, sizeof *out);
  memcpy(out->mac, p, 6);
  out->version = p[6];
  m0__udp1500_get_ip(b, out->dest_ip);
  out->dest_port = m0__udp1500_get_le16(b + 4);
  m0__udp1500_get_ip(b + 6, out->ip);
  out->port = m0__udp1500_get_le16(b + 10);
  m0__udp1500_get_ip(b + 12, out->gateway);
  out->mode = b[16];
  out->baud = (uint32_t)b[17] | (uint32_t)b[18] << 8 | (uint32_t)b[19] << 16;
  out->serial = b[20];
  out->id = (uint16_t)(b[21] << 8 | b[22]);
  out->flags = b[23];
  m0__udp1500_get_ip(b + 24, out->mask);
  return 0;
}

/* ---- the block: decoding into settings ---- */

int m0_udp1500_t24_settings(const uint8_t in[M0_UDP1500_T24_BLOCK_LEN],
                            const struct m0_config *cur, struct m0_udp1500_settings *out) {
  static const uint8_t parity_of[4] = {M0_PARITY_ODD, M0_PARITY_EVEN, M0_PARITY_MASK,
                                       M0_PARITY_SPACE};
  uint8_t ref[M0_UDP1500_T24_BLOCK_LEN];
  struct m0__udp1500_decode d = {.next = *cur};
  int rc = 0;
  m0_udp1500_t24_block(cur, ref);
  if (m0__udp1500_differs(in, ref, 4)) {
    uint8_t ip[4];
    m0__udp1500_get_ip(in, ip);
    /* Formatted the way AT writes an address: the table parses it back. */
    memset(d.next.sock_addr, 0, sizeof d.next.sock_addr);
    for (unsigned i = 0, pos = 0; i < 4; i++) {
      unsigned v = ip[i];
      char digits[4];
      unsigned n = 0;
      do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
      } while (v != 0);
      while (n > 0)
        d.next.sock_addr[pos++] = digits[--n];
      if (i < 3)
        d.next.sock_addr[pos++] = '.';
    }
    m0__udp1500_touch(&d, M0_ID_SOCK);
  }
  if (m0__udp1500_differs(in + 4, ref + 4, 2)) {
    d.next.sock_port = m0__udp1500_get_le16(in + 4);
    m0__udp1500_touch(&d, M0_ID_SOCK);
  }
  m0__udp1500_wann_field(&d, in + 6, ref + 6, d.next.wann_ip);
  if (m0__udp1500_differs(in + 10, ref + 10, 2)) {
    d.next.sockport = m0__udp1500_get_le16(in + 10);
    m0__udp1500_touch(&d, M0_ID_SOCKPORT);
  }
  m0__udp1500_wann_field(&d, in + 12, ref + 12, d.next.wann_gateway);
  if (in[16] != ref[16]) {
    if (in[16] > 3 || m0__udp1500_proto_from_code(in[16], &d.next.proto) != 0)
      rc = m0__udp1500_fail(&d, "work mode");
    m0__udp1500_touch(&d, M0_ID_SOCK);
  }
  if (m0__udp1500_differs(in + 17, ref + 17, 3)) {
    d.next.baud = (uint32_t)in[17] | (uint32_t)in[18] << 8 | (uint32_t)in[19] << 16;
    m0__udp1500_touch(&d, M0_ID_UART);
  }
  if (rc == 0 && in[20] != ref[20]) {
    uint8_t s = in[20];
    if (s & 0xC0)
      rc = m0__udp1500_fail(&d, "serial parameter");
    d.next.data_bits = (uint8_t)((s & 3) + 5);
    d.next.stop_bits = (s & 0x04) ? 2 : 1;
    d.next.parity = (s & 0x08) ? parity_of[(s >> 4) & 3] : M0_PARITY_NONE;
    m0__udp1500_touch(&d, M0_ID_UART);
  }
  m0__udp1500_flag_fields(&d, in[23], ref[23]);
  m0__udp1500_wann_field(&d, in + 24, ref + 24, d.next.wann_mask);
  return m0__udp1500_done(&d, rc, out);
}
