/* udp1500.c: what the UDP 1500 codecs of both protocols share (include/m0/udp1500.h;
 * the FF frames are udp1500_ff.c's, the T24 frames udp1500_t24.c's, the shared names
 * udp1500_codec.h): the FF checksum, text fields, the work mode and ID flag codes, the
 * host-side parsers (dotted quad, MAC, version) and the end of every block decode.
 *
 * Pure and stateless, shared by the device (udp1500_dev.c) and host tools (m0ctl), so a
 * tool and the emulator cannot disagree on a byte. Blocks decode into AT settings through
 * the configuration they change: each field is compared with what encoding the current
 * configuration gives, and only a field that differs becomes part of a setting, so a
 * write of what was read is no change at all, and a block's lossy fields (HEARTTM > 255
 * in one byte, a SOCK host name in T24's 4-byte address, HTPC in T24's work mode) survive
 * a read-modify-write. The settings come out in parameter table order, at most 12
 * (M0_UDP1500_SETTINGS_MAX), each formatted by the table itself.
 */
#include "udp1500_codec.h"

#include <string.h>

uint8_t m0_udp1500_sum(const uint8_t *data, size_t len) {
  uint8_t s = 0;
  size_t i;
  for (i = 0; i < len; i++)
    s = (uint8_t)(s + data[i]);
  return s;
}

void m0__udp1500_put_text(uint8_t *out, size_t n, const char *s) {
  size_t len = s != NULL ? strlen(s) : 0;
  memset(out, 0, n);
  memcpy(out, s, len < n ? len : n);
}

void m0__udp1500_get_text(const uint8_t *in, size_t n, char *buf) {
  size_t i;
  for (i = 0; i < n && in[i] != 0; i++)
    buf[i] = (char)in[i];
  buf[i] = '\0';
}

/* ---- parsers for tools ---- */

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

/* Indexed by enum m0_proto. */
static const uint8_t mode_codes[] = {
    [M0_PROTO_UDPC] = 0, [M0_PROTO_TCPC] = 1, [M0_PROTO_UDPS] = 2,
    [M0_PROTO_TCPS] = 3, [M0_PROTO_HTPC] = 4,
};

uint8_t m0__udp1500_mode_code(uint8_t proto) {
  return mode_codes[proto < sizeof mode_codes ? proto : 0];
}

int m0__udp1500_proto_from_code(uint8_t code, uint8_t *proto) {
  uint8_t p;
  for (p = 0; p < sizeof mode_codes; p++) {
    if (mode_codes[p] == code) {
      *proto = p;
      return 0;
    }
  }
  return -1;
}

uint8_t m0__udp1500_id_flags(const struct m0_config *c) {
  return (uint8_t)((c->clientrst ? 0x10 : 0) | (c->scslink ? 0x20 : 0) |
                   (c->indexen ? 0x40 : 0) | (c->rfcen ? 0x80 : 0));
}

static void set_id_flags(struct m0_config *c, uint8_t flags) {
  c->clientrst = (flags & 0x10) != 0;
  c->scslink = (flags & 0x20) != 0;
  c->indexen = (flags & 0x40) != 0;
  c->rfcen = (flags & 0x80) != 0;
}

/* ---- decoding into settings ---- */

int m0__udp1500_fail(struct m0__udp1500_decode *d, const char *field) {
  d->bad = field;
  return M0_ERR_PARAM;
}

/* The touched parameters as text through the table's own formatter, in table order. */
static int finish(struct m0__udp1500_decode *d, struct m0_udp1500_settings *out) {
  unsigned i;
  out->n = 0;
  out->bad = NULL;
  for (i = 0; i < M0_ID_COUNT; i++) {
    int n;
    if (!((d->touched >> i) & 1))
      continue;
    if (out->n == M0_UDP1500_SETTINGS_MAX)
      return m0__udp1500_fail(d, "settings");
    n = m0_param_format(&m0_params[i], &d->next, M0_DIALECT_DOC, out->s[out->n].value,
                        sizeof out->s[out->n].value);
    if (n < 0 || (size_t)n >= sizeof out->s[out->n].value)
      return m0__udp1500_fail(d, m0_params[i].name);
    out->s[out->n].id = (enum m0_param_id)i;
    out->n++;
  }
  return 0;
}

int m0__udp1500_done(struct m0__udp1500_decode *d, int rc, struct m0_udp1500_settings *out) {
  if (rc == 0)
    rc = finish(d, out);
  if (rc != 0) {
    out->n = 0;
    out->bad = d->bad;
  }
  return rc;
}

void m0__udp1500_wann_field(struct m0__udp1500_decode *d, const uint8_t *in,
                            const uint8_t *ref, uint8_t dst[4]) {
  if (m0__udp1500_differs(in, ref, 4)) {
    m0__udp1500_get_ip(in, dst);
    m0__udp1500_touch(d, M0_ID_WANN);
  }
}

void m0__udp1500_flag_fields(struct m0__udp1500_decode *d, uint8_t in, uint8_t ref) {
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
      m0__udp1500_touch(d, bits[i].id);
  }
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
