/* udp1500_ff.c: the codec of the FF setting protocol on UDP 1500 (include/m0/udp1500.h,
 * reference UDP1500.md): its frames and its three parameter blocks.
 *
 * Requests are `FF LEN CMD MAC USER PASS PARAMS SUM`, LEN = total - 3 (0x13 without
 * parameters), SUM = the low byte of the sum from LEN on; the 36-byte search reply is the
 * odd one out: its length byte is the total (0x24), its address big-endian, its checksum
 * 0 minus the sum of every byte before it. The blocks, little-endian: basic (67 bytes:
 * WANN, WEBPORT, MID, WEBU, ID flags, MAC, DNS), port (63: UART, SOCKPORT, SOCK, HTPTP,
 * MAXSK) and heartbeat/registration (84: flags, HEARTTM in one byte, two 40-byte
 * contents). Each decoder compares the block with the encoding of the current
 * configuration and ends in the shared decode of udp1500.c (udp1500_codec.h).
 */
#include "udp1500_codec.h"

#include <string.h>

/* ---- frames ---- */

const uint8_t m0_udp1500_ff_search[4] = {0xFF, 0x01, 0x01, 0x02};

size_t m0_udp1500_request(uint8_t *out, size_t cap, uint8_t cmd, const uint8_t mac[6],
                          const char *user, const char *pass, const uint8_t *params,
                          size_t plen) {
  size_t len = 3 + M0_UDP1500_AUTH_LEN + plen; /* FF LEN ... SUM */
  if (M0_UDP1500_AUTH_LEN + plen > 255 || len > cap)
    return 0;
  out[0] = M0_UDP1500_TAG;
  out[1] = (uint8_t)(M0_UDP1500_AUTH_LEN + plen);
  out[2] = cmd;
  memcpy(out + 3, mac, 6);
  m0__udp1500_put_text(out + 9, M0_UDP1500_CRED_LEN, user);
  m0__udp1500_put_text(out + 15, M0_UDP1500_CRED_LEN, pass);
  if (plen > 0)
    memcpy(out + 21, params, plen);
  out[len - 1] = m0_udp1500_sum(out + 1, len - 2);
  return len;
}

/* ---- the FF search reply ---- */

void m0_udp1500_search_reply(uint8_t out[M0_UDP1500_SEARCH_REPLY_LEN],
                             const struct m0_udp1500_ident *id) {
  out[0] = M0_UDP1500_TAG;
  out[1] = M0_UDP1500_SEARCH_REPLY_LEN; /* the total length, unlike requests */
  out[2] = M0_UDP1500_SEARCH;
  out[3] = id->board_type;
  out[4] = id->board_id;
  memcpy(out + 5, id->ip, 4); /* big-endian: dotted order */
  memcpy(out + 9, id->mac, 6);
  out[15] = (uint8_t)(id->version & 0xFF);
  out[16] = (uint8_t)(id->version >> 8);
  out[17] = id->fw_extra[0];
  out[18] = id->fw_extra[1];
  m0__udp1500_put_text(out + 19, 16, id->name);
  out[35] = (uint8_t)(0u - m0_udp1500_sum(out, 35));
}

int m0_udp1500_search_reply_parse(const uint8_t *p, size_t len, struct m0_udp1500_ident *id) {
  if (len != M0_UDP1500_SEARCH_REPLY_LEN || p[0] != M0_UDP1500_TAG ||
      p[1] != M0_UDP1500_SEARCH_REPLY_LEN || p[2] != M0_UDP1500_SEARCH)
    return -1;
  memset(id, 0, sizeof *id);
  id->board_type = p[3];
  id->board_id = p[4];
  memcpy(id->ip, p + 5, 4);
  memcpy(id->mac, p + 9, 6);
  id->version = (uint16_t)(p[15] | p[16] << 8);
  id->fw_extra[0] = p[17];
  id->fw_extra[1] = p[18];
  m0__udp1500_get_text(p + 19, 16, id->name);
  id->sum_ok = (uint8_t)(m0_udp1500_sum(p, 35) + p[35]) == 0;
  return 0;
}

/* The port block's baud rate is the one 4-byte field. */
static void put_le32(uint8_t *out, uint32_t v) {
  m0__udp1500_put_le16(out, v);
  m0__udp1500_put_le16(out + 2, v >> 16);
}

static uint32_t get_le32(const uint8_t *in) {
  return (uint32_t)m0__udp1500_get_le16(in) | (uint32_t)m0__udp1500_get_le16(in + 2) << 16;
}

/* ---- codes of the blocks ---- */

/* FF port block: 1 none, 2 odd, 3 even, 4 mark, 5 space (indexed by enum m0_parity). */
static const uint8_t ff_parity[] = {
    [M0_PARITY_NONE] = 1, [M0_PARITY_ODD] = 2, [M0_PARITY_EVEN] = 3,
    [M0_PARITY_MASK] = 4, [M0_PARITY_SPACE] = 5,
};

static int parity_from_ff(uint8_t code, uint8_t *parity) {
  uint8_t p;
  for (p = 0; p < sizeof ff_parity; p++) {
    if (ff_parity[p] == code) {
      *parity = p;
      return 0;
    }
  }
  return -1;
}

/* ---- blocks: encoding ---- */

void m0_udp1500_basic_block(const struct m0_config *c, const uint8_t mac[6],
                            uint8_t out[M0_UDP1500_BASIC_LEN]) {
  memset(out, 0, M0_UDP1500_BASIC_LEN);
  out[3] = c->wann_mode == M0_WANN_STATIC ? 0x80 : 0x00;
  m0__udp1500_put_le16(out + 6, c->webport);
  m0__udp1500_put_ip(out + 9, c->wann_ip);
  m0__udp1500_put_ip(out + 13, c->wann_gateway);
  m0__udp1500_put_ip(out + 17, c->wann_mask);
  m0__udp1500_put_text(out + 21, 14, c->mid);
  m0__udp1500_put_text(out + 37, M0_UDP1500_CRED_LEN, c->webu_user);
  m0__udp1500_put_text(out + 43, M0_UDP1500_CRED_LEN, c->webu_pass);
  m0__udp1500_put_le16(out + 50, M0__UDP1500_DEVICE_ID);
  out[52] = m0__udp1500_id_flags(c);
  memcpy(out + 53, mac, 6);
  m0__udp1500_put_ip(out + 59, c->dns);
}

void m0_udp1500_port_block(const struct m0_config *c, uint8_t out[M0_UDP1500_PORT_BLOCK_LEN]) {
  uint8_t quad[4];
  memset(out, 0, M0_UDP1500_PORT_BLOCK_LEN);
  put_le32(out, c->baud);
  out[4] = c->data_bits;
  out[5] = ff_parity[c->parity < sizeof ff_parity ? c->parity : 0];
  out[6] = c->stop_bits;
  out[7] = 1; /* flow control: none, the M0's only choice (NFC) */
  m0__udp1500_put_le16(out + 12, c->sockport);
  m0__udp1500_put_le16(out + 14, c->sock_port);
  m0__udp1500_put_text(out + 16, 30, c->sock_addr);
  if (m0_udp1500_ipv4_parse(c->sock_addr, quad) == 0)
    /* "invalid byte": mirrors the URL when it is an address */
    m0__udp1500_put_ip(out + 46, quad);
  out[51] = m0__udp1500_mode_code(c->proto);
  out[52] = c->htptp;
  out[53] = c->maxsk;
}

void m0_udp1500_heart_block(const struct m0_config *c, uint8_t out[M0_UDP1500_HEART_LEN]) {
  uint8_t flags = 0xC0; /* bits 7, 6: heartbeat and registration given as hex (M0: always) */
  memset(out, 0, M0_UDP1500_HEART_LEN);
  if (c->hearten)
    flags |= c->hearttp == M0_HEARTTP_COM ? 0x02 : 0x01;
  if (c->regen != M0_REGEN_OFF)
    flags |= c->regtcp == M0_REGTCP_EVERY ? 0x08 : 0x04;
  if (c->htpchd)
    flags |= 0x10;
  out[0] = flags;
  out[1] = (uint8_t)(c->hearttm > 255 ? 255 : c->hearttm);
  out[2] = c->heartdt_len;
  out[3] = c->regusr_len;
  memcpy(out + 4, c->heartdt, c->heartdt_len <= 40 ? c->heartdt_len : 40);
  memcpy(out + 44, c->regusr, c->regusr_len <= 40 ? c->regusr_len : 40);
}

/* ---- blocks: decoding into settings ---- */

/* A text field that differs from the reference (compared up to each one's NUL). */
static bool text_differs(const uint8_t *in, const uint8_t *ref, size_t n, char *buf) {
  char was[M0_SOCK_ADDR_MAX + 1];
  m0__udp1500_get_text(in, n, buf);
  m0__udp1500_get_text(ref, n, was);
  return strcmp(buf, was) != 0;
}

int m0_udp1500_basic_settings(const uint8_t in[M0_UDP1500_BASIC_LEN],
                              const struct m0_config *cur, struct m0_udp1500_settings *out) {
  static const uint8_t no_mac[6] = {0};
  uint8_t ref[M0_UDP1500_BASIC_LEN];
  struct m0__udp1500_decode d = {.next = *cur};
  char text[M0_SOCK_ADDR_MAX + 1];
  m0_udp1500_basic_block(cur, no_mac, ref);
  if ((in[3] ^ ref[3]) & 0x80) {
    d.next.wann_mode = (in[3] & 0x80) ? M0_WANN_STATIC : M0_WANN_DHCP;
    m0__udp1500_touch(&d, M0_ID_WANN);
  }
  m0__udp1500_wann_field(&d, in + 9, ref + 9, d.next.wann_ip);
  m0__udp1500_wann_field(&d, in + 13, ref + 13, d.next.wann_gateway);
  m0__udp1500_wann_field(&d, in + 17, ref + 17, d.next.wann_mask);
  if (m0__udp1500_differs(in + 6, ref + 6, 2)) {
    d.next.webport = m0__udp1500_get_le16(in + 6);
    m0__udp1500_touch(&d, M0_ID_WEBPORT);
  }
  if (text_differs(in + 21, ref + 21, 14, text)) {
    memcpy(d.next.mid, text, strlen(text) + 1);
    m0__udp1500_touch(&d, M0_ID_MID);
  }
  if (text_differs(in + 37, ref + 37, M0_UDP1500_CRED_LEN, text)) {
    memset(d.next.webu_user, 0, sizeof d.next.webu_user);
    memcpy(d.next.webu_user, text, strlen(text));
    m0__udp1500_touch(&d, M0_ID_WEBU);
  }
  if (text_differs(in + 43, ref + 43, M0_UDP1500_CRED_LEN, text)) {
    memset(d.next.webu_pass, 0, sizeof d.next.webu_pass);
    memcpy(d.next.webu_pass, text, strlen(text));
    m0__udp1500_touch(&d, M0_ID_WEBU);
  }
  m0__udp1500_flag_fields(&d, in[52], ref[52]);
  /* The MAC (53) and the DNS server (59) are "only support query" (302 manual). */
  return m0__udp1500_done(&d, 0, out);
}

int m0_udp1500_port_settings(const uint8_t in[M0_UDP1500_PORT_BLOCK_LEN],
                             const struct m0_config *cur, struct m0_udp1500_settings *out) {
  uint8_t ref[M0_UDP1500_PORT_BLOCK_LEN];
  struct m0__udp1500_decode d = {.next = *cur};
  char text[M0_SOCK_ADDR_MAX + 1];
  int rc = 0;
  m0_udp1500_port_block(cur, ref);
  if (m0__udp1500_differs(in, ref, 4)) {
    d.next.baud = get_le32(in);
    m0__udp1500_touch(&d, M0_ID_UART);
  }
  if (in[4] != ref[4]) {
    d.next.data_bits = in[4];
    m0__udp1500_touch(&d, M0_ID_UART);
  }
  if (in[5] != ref[5]) {
    if (parity_from_ff(in[5], &d.next.parity) != 0)
      rc = m0__udp1500_fail(&d, "ucParity");
    m0__udp1500_touch(&d, M0_ID_UART);
  }
  if (in[6] != ref[6]) {
    d.next.stop_bits = in[6];
    m0__udp1500_touch(&d, M0_ID_UART);
  }
  if (rc == 0 && in[7] != ref[7])
    rc = m0__udp1500_fail(&d, "ucFlowControl"); /* the M0 has no flow control: "none" (1) */
  if (m0__udp1500_differs(in + 12, ref + 12, 2)) {
    d.next.sockport = m0__udp1500_get_le16(in + 12);
    m0__udp1500_touch(&d, M0_ID_SOCKPORT);
  }
  if (m0__udp1500_differs(in + 14, ref + 14, 2)) {
    d.next.sock_port = m0__udp1500_get_le16(in + 14);
    m0__udp1500_touch(&d, M0_ID_SOCK);
  }
  if (text_differs(in + 16, ref + 16, 30, text)) {
    memset(d.next.sock_addr, 0, sizeof d.next.sock_addr);
    memcpy(d.next.sock_addr, text, strlen(text));
    m0__udp1500_touch(&d, M0_ID_SOCK);
  }
  if (rc == 0 && in[51] != ref[51]) {
    if (m0__udp1500_proto_from_code(in[51], &d.next.proto) != 0)
      rc = m0__udp1500_fail(&d, "ucWorkMode");
    m0__udp1500_touch(&d, M0_ID_SOCK);
  }
  if (rc == 0 && in[52] != ref[52]) {
    if (in[52] > M0_HTPTP_POST)
      rc = m0__udp1500_fail(&d, "HTPucFlags");
    d.next.htptp = in[52];
    m0__udp1500_touch(&d, M0_ID_HTPTP);
  }
  if (in[53] != ref[53]) {
    d.next.maxsk = in[53];
    m0__udp1500_touch(&d, M0_ID_MAXSK);
  }
  return m0__udp1500_done(&d, rc, out);
}

/* Heartbeat or registration content: length byte and its bytes. An empty one leaves the
 * stored data alone (the M0 cannot store empty data). */
static int content_field(struct m0__udp1500_decode *d, uint8_t len, uint8_t ref_len,
                         const uint8_t *in, const uint8_t *ref, uint8_t *dst, uint8_t *dst_len,
                         enum m0_param_id id, const char *field) {
  if (len == ref_len && memcmp(in, ref, len) == 0)
    return 0;
  if (len > M0_HEX_BYTES_MAX)
    return m0__udp1500_fail(d, field);
  if (len == 0)
    return 0;
  memset(dst, 0, M0_HEX_BYTES_MAX);
  memcpy(dst, in, len);
  *dst_len = len;
  m0__udp1500_touch(d, id);
  return 0;
}

int m0_udp1500_heart_settings(const uint8_t in[M0_UDP1500_HEART_LEN],
                              const struct m0_config *cur, struct m0_udp1500_settings *out) {
  uint8_t ref[M0_UDP1500_HEART_LEN];
  struct m0__udp1500_decode d = {.next = *cur};
  uint8_t diff;
  int rc = 0;
  m0_udp1500_heart_block(cur, ref);
  diff = in[0] ^ ref[0];
  if (diff & 0x03) {
    switch (in[0] & 0x03) {
    case 0x00:
      d.next.hearten = false;
      m0__udp1500_touch(&d, M0_ID_HEARTEN);
      break;
    case 0x01:
    case 0x02:
      d.next.hearten = true;
      d.next.hearttp = (in[0] & 0x02) ? M0_HEARTTP_COM : M0_HEARTTP_NET;
      m0__udp1500_touch(&d, M0_ID_HEARTEN);
      m0__udp1500_touch(&d, M0_ID_HEARTTP);
      break;
    default:
      /* to the LAN and the serial port at once */
      rc = m0__udp1500_fail(&d, "heartbeat direction");
      break;
    }
  }
  if (diff & 0x0C) {
    if ((in[0] & 0x0C) == 0) {
      d.next.regen = M0_REGEN_OFF;
    } else {
      /* Registration turned on from the block sends its content: REGUSR. */
      d.next.regen = M0_REGEN_USR;
      d.next.regtcp = (in[0] & 0x08) ? M0_REGTCP_EVERY : M0_REGTCP_FIRST;
      m0__udp1500_touch(&d, M0_ID_REGTCP);
    }
    m0__udp1500_touch(&d, M0_ID_REGEN);
  }
  if (diff & 0x10) {
    d.next.htpchd = (in[0] & 0x10) != 0;
    m0__udp1500_touch(&d, M0_ID_HTPCHD);
  }
  if (in[1] != ref[1]) {
    d.next.hearttm = in[1];
    m0__udp1500_touch(&d, M0_ID_HEARTTM);
  }
  if (rc == 0)
    rc = content_field(&d, in[2], ref[2], in + 4, ref + 4, d.next.heartdt, &d.next.heartdt_len,
                       M0_ID_HEARTDT, "heartbeat length");
  if (rc == 0)
    rc = content_field(&d, in[3], ref[3], in + 44, ref + 44, d.next.regusr,
                       &d.next.regusr_len, M0_ID_REGUSR, "registration length");
  return m0__udp1500_done(&d, rc, out);
}

