/* udp1500.c: the codec of the UDP 1500 setup protocols (include/m0/udp1500.h): frames,
 * checksums, and the parameter blocks to and from a configuration.
 *
 * Pure and stateless, shared by the device (udp1500_dev.c) and host tools (m0ctl), so a
 * tool and the emulator cannot disagree on a byte. Multi-byte block fields are
 * little-endian (addresses too: 192.168.0.7 is `07 00 A8 C0`); the FF search reply's
 * address is big-endian. Blocks decode into AT settings through the configuration they
 * change: each field is compared with what encoding the current configuration gives,
 * and only a field that differs becomes part of a setting, so a write of what was read
 * is no change at all, and a block's lossy fields (HEARTTM > 255 in one byte, a SOCK
 * host name in T24's 4-byte address, HTPC in T24's work mode) survive a read-modify-write.
 */
#include "m0/udp1500.h"

#include <string.h>

const uint8_t m0_udp1500_ff_search[4] = {0xFF, 0x01, 0x01, 0x02};

const uint8_t m0_udp1500_t24_search[40] = {
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '1', '2', '3',
    '4', '5', '6', '7', '8', '9', '0', '1', '2', '3', '4', '5', '6', '7',
    '8', '9', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
};

uint8_t m0_udp1500_sum(const uint8_t *data, size_t len) {
  uint8_t s = 0;
  size_t i;
  for (i = 0; i < len; i++)
    s = (uint8_t)(s + data[i]);
  return s;
}

/* Text into a fixed field, NUL-padded; at most n bytes (no terminator when full). */
static void put_text(uint8_t *out, size_t n, const char *s) {
  size_t len = s != NULL ? strlen(s) : 0;
  memset(out, 0, n);
  memcpy(out, s, len < n ? len : n);
}

/* A fixed text field up to its first NUL, as a C string (buf holds n + 1). */
static void get_text(const uint8_t *in, size_t n, char *buf) {
  size_t i;
  for (i = 0; i < n && in[i] != 0; i++)
    buf[i] = (char)in[i];
  buf[i] = '\0';
}

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
  put_text(out + 9, M0_UDP1500_CRED_LEN, user);
  put_text(out + 15, M0_UDP1500_CRED_LEN, pass);
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
  put_text(out + 19, 16, id->name);
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
  get_text(p + 19, 16, id->name);
  id->sum_ok = (uint8_t)(m0_udp1500_sum(p, 35) + p[35]) == 0;
  return 0;
}

/* ---- little helpers ---- */

static void put_le16(uint8_t *out, uint32_t v) {
  out[0] = (uint8_t)v;
  out[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *out, uint32_t v) {
  put_le16(out, v);
  put_le16(out + 2, v >> 16);
}

static uint16_t get_le16(const uint8_t *in) { return (uint16_t)(in[0] | in[1] << 8); }

static uint32_t get_le32(const uint8_t *in) {
  return (uint32_t)get_le16(in) | (uint32_t)get_le16(in + 2) << 16;
}

/* An address in block order (little-endian): 192.168.0.7 is 07 00 A8 C0. */
static void put_ip(uint8_t *out, const uint8_t ip[4]) {
  out[0] = ip[3];
  out[1] = ip[2];
  out[2] = ip[1];
  out[3] = ip[0];
}

static void get_ip(const uint8_t *in, uint8_t ip[4]) {
  ip[0] = in[3];
  ip[1] = in[2];
  ip[2] = in[1];
  ip[3] = in[0];
}

int m0_udp1500_ipv4_parse(const char *s, uint8_t ip[4]) {
  unsigned octet;
  for (octet = 0; octet < 4; octet++) {
    unsigned v = 0, digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 4) {
      v = v * 10 + (unsigned)(*s++ - '0');
      digits++;
    }
    if (digits == 0 || digits > 3 || v > 255)
      return -1;
    ip[octet] = (uint8_t)v;
    if (octet < 3 && *s++ != '.')
      return -1;
  }
  return *s == '\0' ? 0 : -1;
}

uint16_t m0_udp1500_version(const char *ver) {
  uint32_t v = 0;
  bool any = false;
  for (; *ver != '\0' && !(*ver >= '0' && *ver <= '9'); ver++)
    ;
  for (; *ver >= '0' && *ver <= '9' && v <= 0xFFFF; ver++, any = true)
    v = v * 10 + (uint32_t)(*ver - '0');
  return any && v <= 0xFFFF ? (uint16_t)v : 0;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int m0_udp1500_mac_parse(const char *s, uint8_t mac[6]) {
  unsigned i;
  for (i = 0; i < 6; i++) {
    int hi = hexval((unsigned char)s[2 * i]), lo;
    if (hi < 0)
      return -1;
    lo = hexval((unsigned char)s[2 * i + 1]);
    if (lo < 0)
      return -1;
    mac[i] = (uint8_t)(hi << 4 | lo);
  }
  return s[12] == '\0' ? 0 : -1;
}

/* ---- codes of the blocks ---- */

/* FF port block: 1 none, 2 odd, 3 even, 4 mark, 5 space (indexed by enum m0_parity). */
static const uint8_t ff_parity[] = {
    [M0_PARITY_NONE] = 1, [M0_PARITY_ODD] = 2, [M0_PARITY_EVEN] = 3,
    [M0_PARITY_MASK] = 4, [M0_PARITY_SPACE] = 5,
};
/* Work modes of both protocols: 0 UDPC, 1 TCPC, 2 UDPS, 3 TCPS, 4 HTPC (FF only). */
static const uint8_t mode_code[] = {
    [M0_PROTO_UDPC] = 0, [M0_PROTO_TCPC] = 1, [M0_PROTO_UDPS] = 2,
    [M0_PROTO_TCPS] = 3, [M0_PROTO_HTPC] = 4,
};
/* T24 serial byte bits 5:4 when parity is on (bit 3): 00 odd, 01 even, 10 mark, 11 space. */
static const uint8_t t24_parity[] = {
    [M0_PARITY_ODD] = 0, [M0_PARITY_EVEN] = 1, [M0_PARITY_MASK] = 2, [M0_PARITY_SPACE] = 3,
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

static int proto_from_code(uint8_t code, uint8_t *proto) {
  uint8_t p;
  for (p = 0; p < sizeof mode_code; p++) {
    if (mode_code[p] == code) {
      *proto = p;
      return 0;
    }
  }
  return -1;
}

/* The ID type / flags bits the M0 has parameters for (both protocols). */
static uint8_t id_flags(const struct m0_config *c) {
  return (uint8_t)((c->clientrst ? 0x10 : 0) | (c->scslink ? 0x20 : 0) |
                   (c->indexen ? 0x40 : 0) | (c->rfcen ? 0x80 : 0));
}

static void set_id_flags(struct m0_config *c, uint8_t flags) {
  c->clientrst = (flags & 0x10) != 0;
  c->scslink = (flags & 0x20) != 0;
  c->indexen = (flags & 0x40) != 0;
  c->rfcen = (flags & 0x80) != 0;
}

/* No M0 parameter holds the device ID: the real M0s captured report 1. */
#define DEVICE_ID 1

/* ---- encoding ---- */

void m0_udp1500_basic_block(const struct m0_config *c, const uint8_t mac[6],
                            uint8_t out[M0_UDP1500_BASIC_LEN]) {
  memset(out, 0, M0_UDP1500_BASIC_LEN);
  out[3] = c->wann_mode == M0_WANN_STATIC ? 0x80 : 0x00;
  put_le16(out + 6, c->webport);
  put_ip(out + 9, c->wann_ip);
  put_ip(out + 13, c->wann_gateway);
  put_ip(out + 17, c->wann_mask);
  put_text(out + 21, 14, c->mid);
  put_text(out + 37, M0_UDP1500_CRED_LEN, c->webu_user);
  put_text(out + 43, M0_UDP1500_CRED_LEN, c->webu_pass);
  put_le16(out + 50, DEVICE_ID);
  out[52] = id_flags(c);
  memcpy(out + 53, mac, 6);
  put_ip(out + 59, c->dns);
}

void m0_udp1500_port_block(const struct m0_config *c, uint8_t out[M0_UDP1500_PORT_BLOCK_LEN]) {
  uint8_t quad[4];
  memset(out, 0, M0_UDP1500_PORT_BLOCK_LEN);
  put_le32(out, c->baud);
  out[4] = c->data_bits;
  out[5] = ff_parity[c->parity < sizeof ff_parity ? c->parity : 0];
  out[6] = c->stop_bits;
  out[7] = 1; /* flow control: none, the M0's only choice (NFC) */
  put_le16(out + 12, c->sockport);
  put_le16(out + 14, c->sock_port);
  put_text(out + 16, 30, c->sock_addr);
  if (m0_udp1500_ipv4_parse(c->sock_addr, quad) == 0)
    put_ip(out + 46, quad); /* "invalid byte": mirrors the URL when it is an address */
  out[51] = mode_code[c->proto < sizeof mode_code ? c->proto : 0];
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

void m0_udp1500_t24_block(const struct m0_config *c, uint8_t out[M0_UDP1500_T24_BLOCK_LEN]) {
  uint8_t quad[4] = {0, 0, 0, 0};
  uint8_t serial;
  memset(out, 0, M0_UDP1500_T24_BLOCK_LEN);
  (void)m0_udp1500_ipv4_parse(c->sock_addr, quad); /* a host name: 0.0.0.0 */
  put_ip(out, quad);
  put_le16(out + 4, c->sock_port);
  put_ip(out + 6, c->wann_ip);
  put_le16(out + 10, c->sockport);
  put_ip(out + 12, c->wann_gateway);
  out[16] = c->proto == M0_PROTO_HTPC ? 1 : mode_code[c->proto < sizeof mode_code ? c->proto : 0];
  out[17] = (uint8_t)c->baud;
  out[18] = (uint8_t)(c->baud >> 8);
  out[19] = (uint8_t)(c->baud >> 16);
  serial = (uint8_t)(((c->data_bits - 5) & 3) | ((c->stop_bits == 2) ? 0x04 : 0));
  if (c->parity != M0_PARITY_NONE && c->parity < sizeof t24_parity)
    serial |= (uint8_t)(0x08 | t24_parity[c->parity] << 4);
  out[20] = serial;
  out[21] = (uint8_t)(DEVICE_ID >> 8);
  out[22] = (uint8_t)DEVICE_ID;
  out[23] = id_flags(c);
  put_ip(out + 24, c->wann_mask);
}

void m0_udp1500_t24_reply(uint8_t out[M0_UDP1500_T24_REPLY_LEN], const uint8_t mac[6],
                          uint8_t version, const uint8_t block[M0_UDP1500_T24_BLOCK_LEN]) {
  memcpy(out, mac, 6);
  out[6] = version;
  memcpy(out + 7, block, M0_UDP1500_T24_BLOCK_LEN);
}

void m0_udp1500_t24_set(uint8_t out[M0_UDP1500_T24_REQUEST_LEN], const uint8_t mac[6],
                        const char *password, const uint8_t block[M0_UDP1500_T24_BLOCK_LEN]) {
  memcpy(out, mac, 6);
  put_text(out + 6, 6, password);
  memcpy(out + 12, block, M0_UDP1500_T24_BLOCK_LEN);
}

int m0_udp1500_t24_parse(const uint8_t *p, size_t len, struct m0_udp1500_t24 *out) {
  const uint8_t *b = p + 7;
  if (len != M0_UDP1500_T24_REPLY_LEN || (b[20] & 0xC0) != 0)
    return -1;
  memset(out, 0, sizeof *out);
  memcpy(out->mac, p, 6);
  out->version = p[6];
  get_ip(b, out->dest_ip);
  out->dest_port = get_le16(b + 4);
  get_ip(b + 6, out->ip);
  out->port = get_le16(b + 10);
  get_ip(b + 12, out->gateway);
  out->mode = b[16];
  out->baud = (uint32_t)b[17] | (uint32_t)b[18] << 8 | (uint32_t)b[19] << 16;
  out->serial = b[20];
  out->id = (uint16_t)(b[21] << 8 | b[22]);
  out->flags = b[23];
  get_ip(b + 24, out->mask);
  return 0;
}

/* ---- decoding into settings ---- */

/* One decode: the configuration as the block asks (next), which parameters it touched,
 * and the field that made it fail. */
struct decode {
  struct m0_config next;
  uint64_t touched; /* bit per enum m0_param_id */
  const char *bad;
};

static void touch(struct decode *d, enum m0_param_id id) { d->touched |= 1ull << id; }

static bool differs(const uint8_t *in, const uint8_t *ref, size_t n) {
  return memcmp(in, ref, n) != 0;
}

/* A text field that differs from the reference (compared up to each one's NUL). */
static bool text_differs(const uint8_t *in, const uint8_t *ref, size_t n, char *buf) {
  char was[M0_SOCK_ADDR_MAX + 1];
  get_text(in, n, buf);
  get_text(ref, n, was);
  return strcmp(buf, was) != 0;
}

static int fail(struct decode *d, const char *field) {
  d->bad = field;
  return M0_ERR_PARAM;
}

/* The touched parameters as text through the table's own formatter, in table order. */
static int finish(struct decode *d, struct m0_udp1500_settings *out) {
  unsigned i;
  out->n = 0;
  out->bad = NULL;
  for (i = 0; i < M0_ID_COUNT; i++) {
    int n;
    if (!((d->touched >> i) & 1))
      continue;
    if (out->n == M0_UDP1500_SETTINGS_MAX)
      return fail(d, "settings");
    n = m0_param_format(&m0_params[i], &d->next, M0_DIALECT_DOC, out->s[out->n].value,
                        sizeof out->s[out->n].value);
    if (n < 0 || (size_t)n >= sizeof out->s[out->n].value)
      return fail(d, m0_params[i].name);
    out->s[out->n].id = (enum m0_param_id)i;
    out->n++;
  }
  return 0;
}

static int done(struct decode *d, int rc, struct m0_udp1500_settings *out) {
  if (rc == 0)
    rc = finish(d, out);
  if (rc != 0) {
    out->n = 0;
    out->bad = d->bad;
  }
  return rc;
}

/* The four address fields of WANN, as ip/mask/gateway in block order. */
static void wann_field(struct decode *d, const uint8_t *in, const uint8_t *ref, uint8_t dst[4]) {
  if (differs(in, ref, 4)) {
    get_ip(in, dst);
    touch(d, M0_ID_WANN);
  }
}

static void flag_fields(struct decode *d, uint8_t in, uint8_t ref) {
  static const struct {
    uint8_t bit;
    enum m0_param_id id;
  } bits[] = {{0x10, M0_ID_CLIENTRST}, {0x20, M0_ID_SCSLINK}, {0x40, M0_ID_INDEXEN},
              {0x80, M0_ID_RFCEN}};
  unsigned i;
  if (((in ^ ref) & 0xF0) == 0)
    return;
  set_id_flags(&d->next, in);
  for (i = 0; i < sizeof bits / sizeof bits[0]; i++) {
    if ((in ^ ref) & bits[i].bit)
      touch(d, bits[i].id);
  }
}

int m0_udp1500_basic_settings(const uint8_t in[M0_UDP1500_BASIC_LEN],
                              const struct m0_config *cur, struct m0_udp1500_settings *out) {
  static const uint8_t no_mac[6] = {0};
  uint8_t ref[M0_UDP1500_BASIC_LEN];
  struct decode d = {.next = *cur};
  char text[M0_SOCK_ADDR_MAX + 1];
  m0_udp1500_basic_block(cur, no_mac, ref);
  if ((in[3] ^ ref[3]) & 0x80) {
    d.next.wann_mode = (in[3] & 0x80) ? M0_WANN_STATIC : M0_WANN_DHCP;
    touch(&d, M0_ID_WANN);
  }
  wann_field(&d, in + 9, ref + 9, d.next.wann_ip);
  wann_field(&d, in + 13, ref + 13, d.next.wann_gateway);
  wann_field(&d, in + 17, ref + 17, d.next.wann_mask);
  if (differs(in + 6, ref + 6, 2)) {
    d.next.webport = get_le16(in + 6);
    touch(&d, M0_ID_WEBPORT);
  }
  if (text_differs(in + 21, ref + 21, 14, text)) {
    memcpy(d.next.mid, text, strlen(text) + 1);
    touch(&d, M0_ID_MID);
  }
  if (text_differs(in + 37, ref + 37, M0_UDP1500_CRED_LEN, text)) {
    memset(d.next.webu_user, 0, sizeof d.next.webu_user);
    memcpy(d.next.webu_user, text, strlen(text));
    touch(&d, M0_ID_WEBU);
  }
  if (text_differs(in + 43, ref + 43, M0_UDP1500_CRED_LEN, text)) {
    memset(d.next.webu_pass, 0, sizeof d.next.webu_pass);
    memcpy(d.next.webu_pass, text, strlen(text));
    touch(&d, M0_ID_WEBU);
  }
  flag_fields(&d, in[52], ref[52]);
  /* The MAC (53) and the DNS server (59) are "only support query" (302 manual). */
  return done(&d, 0, out);
}

int m0_udp1500_port_settings(const uint8_t in[M0_UDP1500_PORT_BLOCK_LEN],
                             const struct m0_config *cur, struct m0_udp1500_settings *out) {
  uint8_t ref[M0_UDP1500_PORT_BLOCK_LEN];
  struct decode d = {.next = *cur};
  char text[M0_SOCK_ADDR_MAX + 1];
  int rc = 0;
  m0_udp1500_port_block(cur, ref);
  if (differs(in, ref, 4)) {
    d.next.baud = get_le32(in);
    touch(&d, M0_ID_UART);
  }
  if (in[4] != ref[4]) {
    d.next.data_bits = in[4];
    touch(&d, M0_ID_UART);
  }
  if (in[5] != ref[5]) {
    if (parity_from_ff(in[5], &d.next.parity) != 0)
      rc = fail(&d, "ucParity");
    touch(&d, M0_ID_UART);
  }
  if (in[6] != ref[6]) {
    d.next.stop_bits = in[6];
    touch(&d, M0_ID_UART);
  }
  if (rc == 0 && in[7] != ref[7])
    rc = fail(&d, "ucFlowControl"); /* the M0 has no flow control: only "none" (1) */
  if (differs(in + 12, ref + 12, 2)) {
    d.next.sockport = get_le16(in + 12);
    touch(&d, M0_ID_SOCKPORT);
  }
  if (differs(in + 14, ref + 14, 2)) {
    d.next.sock_port = get_le16(in + 14);
    touch(&d, M0_ID_SOCK);
  }
  if (text_differs(in + 16, ref + 16, 30, text)) {
    memset(d.next.sock_addr, 0, sizeof d.next.sock_addr);
    memcpy(d.next.sock_addr, text, strlen(text));
    touch(&d, M0_ID_SOCK);
  }
  if (rc == 0 && in[51] != ref[51]) {
    if (proto_from_code(in[51], &d.next.proto) != 0)
      rc = fail(&d, "ucWorkMode");
    touch(&d, M0_ID_SOCK);
  }
  if (rc == 0 && in[52] != ref[52]) {
    if (in[52] > M0_HTPTP_POST)
      rc = fail(&d, "HTPucFlags");
    d.next.htptp = in[52];
    touch(&d, M0_ID_HTPTP);
  }
  if (in[53] != ref[53]) {
    d.next.maxsk = in[53];
    touch(&d, M0_ID_MAXSK);
  }
  return done(&d, rc, out);
}

/* Heartbeat or registration content: length byte and its bytes. An empty one leaves the
 * stored data alone (the M0 cannot store empty data). */
static int content_field(struct decode *d, uint8_t len, uint8_t ref_len, const uint8_t *in,
                         const uint8_t *ref, uint8_t *dst, uint8_t *dst_len,
                         enum m0_param_id id, const char *field) {
  if (len == ref_len && memcmp(in, ref, len) == 0)
    return 0;
  if (len > M0_HEX_BYTES_MAX)
    return fail(d, field);
  if (len == 0)
    return 0;
  memset(dst, 0, M0_HEX_BYTES_MAX);
  memcpy(dst, in, len);
  *dst_len = len;
  touch(d, id);
  return 0;
}

int m0_udp1500_heart_settings(const uint8_t in[M0_UDP1500_HEART_LEN],
                              const struct m0_config *cur, struct m0_udp1500_settings *out) {
  uint8_t ref[M0_UDP1500_HEART_LEN];
  struct decode d = {.next = *cur};
  uint8_t diff;
  int rc = 0;
  m0_udp1500_heart_block(cur, ref);
  diff = in[0] ^ ref[0];
  if (diff & 0x03) {
    switch (in[0] & 0x03) {
    case 0x00:
      d.next.hearten = false;
      touch(&d, M0_ID_HEARTEN);
      break;
    case 0x01:
    case 0x02:
      d.next.hearten = true;
      d.next.hearttp = (in[0] & 0x02) ? M0_HEARTTP_COM : M0_HEARTTP_NET;
      touch(&d, M0_ID_HEARTEN);
      touch(&d, M0_ID_HEARTTP);
      break;
    default:
      rc = fail(&d, "heartbeat direction"); /* to the LAN and the serial port at once */
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
      touch(&d, M0_ID_REGTCP);
    }
    touch(&d, M0_ID_REGEN);
  }
  if (diff & 0x10) {
    d.next.htpchd = (in[0] & 0x10) != 0;
    touch(&d, M0_ID_HTPCHD);
  }
  if (in[1] != ref[1]) {
    d.next.hearttm = in[1];
    touch(&d, M0_ID_HEARTTM);
  }
  if (rc == 0)
    rc = content_field(&d, in[2], ref[2], in + 4, ref + 4, d.next.heartdt, &d.next.heartdt_len,
                       M0_ID_HEARTDT, "heartbeat length");
  if (rc == 0)
    rc = content_field(&d, in[3], ref[3], in + 44, ref + 44, d.next.regusr,
                       &d.next.regusr_len, M0_ID_REGUSR, "registration length");
  return done(&d, rc, out);
}

int m0_udp1500_t24_settings(const uint8_t in[M0_UDP1500_T24_BLOCK_LEN],
                            const struct m0_config *cur, struct m0_udp1500_settings *out) {
  static const uint8_t parity_of[4] = {M0_PARITY_ODD, M0_PARITY_EVEN, M0_PARITY_MASK,
                                       M0_PARITY_SPACE};
  uint8_t ref[M0_UDP1500_T24_BLOCK_LEN];
  struct decode d = {.next = *cur};
  int rc = 0;
  m0_udp1500_t24_block(cur, ref);
  if (differs(in, ref, 4)) {
    uint8_t ip[4];
    get_ip(in, ip);
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
    touch(&d, M0_ID_SOCK);
  }
  if (differs(in + 4, ref + 4, 2)) {
    d.next.sock_port = get_le16(in + 4);
    touch(&d, M0_ID_SOCK);
  }
  wann_field(&d, in + 6, ref + 6, d.next.wann_ip);
  if (differs(in + 10, ref + 10, 2)) {
    d.next.sockport = get_le16(in + 10);
    touch(&d, M0_ID_SOCKPORT);
  }
  wann_field(&d, in + 12, ref + 12, d.next.wann_gateway);
  if (in[16] != ref[16]) {
    if (in[16] > 3 || proto_from_code(in[16], &d.next.proto) != 0)
      rc = fail(&d, "work mode");
    touch(&d, M0_ID_SOCK);
  }
  if (differs(in + 17, ref + 17, 3)) {
    d.next.baud = (uint32_t)in[17] | (uint32_t)in[18] << 8 | (uint32_t)in[19] << 16;
    touch(&d, M0_ID_UART);
  }
  if (rc == 0 && in[20] != ref[20]) {
    uint8_t s = in[20];
    if (s & 0xC0)
      rc = fail(&d, "serial parameter");
    d.next.data_bits = (uint8_t)((s & 3) + 5);
    d.next.stop_bits = (s & 0x04) ? 2 : 1;
    d.next.parity = (s & 0x08) ? parity_of[(s >> 4) & 3] : M0_PARITY_NONE;
    touch(&d, M0_ID_UART);
  }
  flag_fields(&d, in[23], ref[23]);
  wann_field(&d, in + 24, ref + 24, d.next.wann_mask);
  return done(&d, rc, out);
}

int m0_udp1500_settings_apply(const struct m0_udp1500_settings *s, struct m0_config *cfg,
                              unsigned *failed) {
  struct m0_config next = *cfg;
  unsigned i;
  for (i = 0; i < s->n; i++) {
    const char *v = s->s[i].value;
    int rc = m0_param_set(&m0_params[s->s[i].id], &next, v, strlen(v));
    if (rc != 0) {
      if (failed != NULL)
        *failed = i;
      return rc;
    }
  }
  *cfg = next;
  return 0;
}
