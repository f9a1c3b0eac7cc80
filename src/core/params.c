/* params.c: the AT parameter table, and the one place that parses parameter values.
 *
 * Each command is one declarative entry: name, forms, fields with their type and range,
 * factory default, when it applies, help line. The generic field parser below serves
 * the serial port, the flash loader and the web page; a command with a rule that spans
 * fields (WANN's lone DHCP, HTPURL's leading '/') adds a small check function. A set is
 * all-or-nothing: values are parsed into a scratch copy and committed only when every
 * field is valid, so bad input never loses what was stored.
 */
#include "m0/params.h"

#include <string.h>

#define OFF(member) offsetof(struct m0_config, member)
#define SZ(member) sizeof(((struct m0_config *)0)->member)

static const char *const wann_choices[] = {"STATIC", "DHCP", NULL};
static const char *const parity_choices[] = {"NONE", "EVEN", "ODD", "MASK", "SPACE", NULL};
static const char *const parity_aliases[] = {"MARK=MASK", NULL};
static const char *const flow_choices[] = {"NFC", NULL};
static const char *const proto_choices[] = {"TCPC", "TCPS", "UDPC", "UDPS", "HTPC", NULL};
static const char *const tcpse_choices[] = {"keep", "kick", NULL};
static const char *const regen_choices[] = {"off", "mac", "usr", NULL};
static const char *const regtcp_choices[] = {"first", "every", NULL};
static const char *const htptp_choices[] = {"GET", "POST", NULL};
static const char *const hearttp_choices[] = {"NET", "COM", NULL};

/* Field constructors keep the table one line per field. */
#define F_ONOFF(n, m) \
  {.name = n, .type = M0_FIELD_ONOFF, .upper_in_field = true, .offset = OFF(m), .size = SZ(m)}
#define F_UINT(n, m, lo, hi) \
  {.name = n, .type = M0_FIELD_UINT, .min = lo, .max = hi, .offset = OFF(m), .size = SZ(m)}
#define F_ENUM(n, m, c) \
  {.name = n, .type = M0_FIELD_ENUM, .choices = c, .offset = OFF(m), .size = SZ(m)}
#define F_IPV4(n, m) {.name = n, .type = M0_FIELD_IPV4, .offset = OFF(m), .size = SZ(m)}
#define F_TEXT(n, m, lo, hi) \
  {.name = n, .type = M0_FIELD_TEXT, .min = lo, .max = hi, .offset = OFF(m), .size = SZ(m)}
#define F_HEX(n, m, lo, hi)                                                                 \
  {.name = n, .type = M0_FIELD_HEX, .min = lo, .max = hi, .offset = OFF(m), .size = SZ(m), \
   .len_offset = OFF(m##_len)}

static int check_wann(const struct m0_config *cfg, unsigned nfields_given);
static int check_htpurl(const struct m0_config *cfg, unsigned nfields_given);
static int check_rstim(const struct m0_config *cfg, unsigned nfields_given);
static int check_mid(const struct m0_config *cfg, unsigned nfields_given);

#define Q M0_FORM_QUERY
#define S M0_FORM_SET
#define A M0_FORM_ACTION
#define NOW M0_APPLIES_NOW
#define RESTART M0_APPLIES_RESTART
#define NEVER M0_APPLIES_NEVER

/* Order is the spec's §4 table order: AT+H lists commands in this order. */
const struct m0_param m0_params[M0_ID_COUNT] = {
  {M0_ID_E, "E", Q | S, NOW, "Enable/disable echo", "on|off", "on, off", "on", false, 1, 1,
   {F_ONOFF("echo", echo)}, NULL},
  {M0_ID_Z, "Z", A, NEVER, "Restart module", "", "", NULL, false, 0, 0, {{0}}, NULL},
  {M0_ID_VER, "VER", Q, NEVER, "Query firmware version", "version", "factory block", NULL,
   false, 0, 0, {{0}}, NULL},
  {M0_ID_ENTM, "ENTM", A, NEVER, "Exit command mode", "", "", NULL, false, 0, 0, {{0}}, NULL},
  {M0_ID_RELD, "RELD", A, NEVER, "Restore factory settings and restart", "", "", NULL, false,
   0, 0, {{0}}, NULL},
  {M0_ID_MAC, "MAC", Q, NEVER, "Query MAC address", "mac", "12 upper-case hex digits", NULL,
   false, 0, 0, {{0}}, NULL},
  {M0_ID_WEBU, "WEBU", Q | S, RESTART, "Set/query web user name and password",
   "user,password", "each 1-15 printable ASCII bytes, no comma", "admin,admin", false, 2, 2,
   {F_TEXT("user", webu_user, 1, M0_WEBU_MAX), F_TEXT("password", webu_pass, 1, M0_WEBU_MAX)},
   NULL},
  {M0_ID_WANN, "WANN", Q | S, RESTART, "Set/query WAN address mode",
   "mode,address,mask,gateway", "STATIC or DHCP; DHCP may stand alone; dotted quads",
   "STATIC,0.0.0.0,0.0.0.0,0.0.0.0", false, 4, 1,
   {F_ENUM("mode", wann_mode, wann_choices), F_IPV4("address", wann_ip),
    F_IPV4("mask", wann_mask), F_IPV4("gateway", wann_gateway)},
   check_wann},
  {M0_ID_DNS, "DNS", Q | S, RESTART, "Set/query DNS server address", "address",
   "dotted quad", "192.168.0.1", false, 1, 1, {F_IPV4("address", dns)}, NULL},
  {M0_ID_WEBPORT, "WEBPORT", Q | S, RESTART, "Set/query web server port", "port", "1-65535",
   "80", false, 1, 1, {F_UINT("port", webport, 1, 65535)}, NULL},
  {M0_ID_UART, "UART", Q | S, RESTART, "Set/query serial port parameters",
   "baud,data,stop,parity,flow",
   "baud 600-460800, data 5-8, stop 1-2, parity NONE EVEN ODD MASK SPACE (MARK = MASK), "
   "flow NFC",
   "115200,8,1,NONE,NFC", false, 5, 5,
   {F_UINT("baud", baud, 600, 460800), F_UINT("data", data_bits, 5, 8),
    F_UINT("stop", stop_bits, 1, 2),
    {.name = "parity", .type = M0_FIELD_ENUM, .choices = parity_choices,
     .aliases = parity_aliases, .offset = OFF(parity), .size = SZ(parity)},
    F_ENUM("flow", flow, flow_choices)},
   NULL},
  {M0_ID_SOCK, "SOCK", Q | S, RESTART, "Set/query work mode and peer", "proto,address,port",
   "proto TCPC TCPS UDPC UDPS HTPC; dotted quad or host name (at most 30 bytes); port "
   "1-65535",
   "TCPC,192.168.0.201,8234", false, 3, 3,
   {F_ENUM("proto", proto, proto_choices),
    {.name = "address", .type = M0_FIELD_HOST, .min = 1, .max = M0_SOCK_ADDR_MAX,
     .offset = OFF(sock_addr), .size = SZ(sock_addr)},
    F_UINT("port", sock_port, 1, 65535)},
   NULL},
  {M0_ID_TCPSE, "TCPSE", Q | S, RESTART, "Set/query kicking old connections", "keep|kick",
   "keep, kick", "keep", false, 1, 1,
   {{.name = "policy", .type = M0_FIELD_ENUM, .choices = tcpse_choices, .upper_in_field = true,
     .offset = OFF(tcpse), .size = SZ(tcpse)}},
   NULL},
  {M0_ID_SOCKLK, "SOCKLK", Q, NEVER, "Query TCP connection state", "connect|disconnect",
   "connect, disconnect", NULL, false, 0, 0, {{0}}, NULL},
  {M0_ID_SOCKPORT, "SOCKPORT", Q | S, RESTART, "Set/query local port", "port",
   "0-65535 (0 = random)", "20108", false, 1, 1, {F_UINT("port", sockport, 0, 65535)}, NULL},
  {M0_ID_RFCEN, "RFCEN", Q | S, RESTART, "Set/query similar-RFC2217", "on|off", "on, off",
   "on", false, 1, 1, {F_ONOFF("enable", rfcen)}, NULL},
  {M0_ID_PDTIME, "PDTIME", Q, NEVER, "Query production time", "time", "factory block", NULL,
   false, 0, 0, {{0}}, NULL},
  {M0_ID_REGEN, "REGEN", Q | S, RESTART, "Set/query registration packet", "off|mac|usr",
   "off, mac, usr", "off", false, 1, 1, {F_ENUM("type", regen, regen_choices)}, NULL},
  {M0_ID_REGTCP, "REGTCP", Q | S, RESTART, "Set/query when registration is sent",
   "first|every", "first, every", "first", false, 1, 1,
   {F_ENUM("when", regtcp, regtcp_choices)}, NULL},
  {M0_ID_REGCLOUD, "REGCLOUD", Q | S, RESTART, "Set/query USR Cloud id and password",
   "id,password", "id exactly 20 printable bytes, password 1-7, no comma", "", false, 2, 2,
   {F_TEXT("id", regcloud_id, M0_REGCLOUD_ID_LEN, M0_REGCLOUD_ID_LEN),
    F_TEXT("password", regcloud_pass, 1, M0_REGCLOUD_PASS_MAX)},
   NULL},
  {M0_ID_REGUSR, "REGUSR", Q | S, RESTART, "Set/query custom registration data", "hex",
   "even-length hex, 1-40 bytes", "7777772E7573722E636E", true, 1, 1,
   {F_HEX("data", regusr, 1, M0_HEX_BYTES_MAX)}, NULL},
  {M0_ID_HTPTP, "HTPTP", Q | S, RESTART, "Set/query HTTP request method", "GET|POST",
   "GET, POST", "GET", false, 1, 1, {F_ENUM("method", htptp, htptp_choices)}, NULL},
  {M0_ID_HTPURL, "HTPURL", Q | S, RESTART, "Set/query HTTP URL", "url",
   "starts with /, 1-29 printable bytes", "/2.php?", true, 1, 1,
   {F_TEXT("url", htpurl, 1, M0_HTPURL_MAX)}, check_htpurl},
  {M0_ID_HTPHEAD, "HTPHEAD", Q | S, RESTART, "Set/query HTTP header lines", "header",
   "0-200 printable bytes, <<CRLF>> separates lines",
   "User_Agent: Mozilla/4.0<<CRLF>>Connection: close", true, 1, 1,
   {F_TEXT("header", htphead, 0, M0_HTPHEAD_MAX)}, NULL},
  {M0_ID_HTPCHD, "HTPCHD", Q | S, RESTART, "Set/query HTTP response header removal", "on|off",
   "on, off", "off", false, 1, 1, {F_ONOFF("strip", htpchd)}, NULL},
  {M0_ID_HEARTEN, "HEARTEN", Q | S, RESTART, "Set/query heartbeat packet", "on|off", "on, off",
   "off", false, 1, 1, {F_ONOFF("enable", hearten)}, NULL},
  {M0_ID_HEARTTP, "HEARTTP", Q | S, RESTART, "Set/query heartbeat direction", "NET|COM",
   "NET, COM", "NET", false, 1, 1, {F_ENUM("direction", hearttp, hearttp_choices)}, NULL},
  {M0_ID_HEARTTM, "HEARTTM", Q | S, RESTART, "Set/query heartbeat interval", "seconds",
   "1-65535", "30", false, 1, 1, {F_UINT("seconds", hearttm, 1, 65535)}, NULL},
  {M0_ID_HEARTDT, "HEARTDT", Q | S, RESTART, "Set/query heartbeat data", "hex",
   "even-length hex, 1-40 bytes", "7777772E7573722E636E", true, 1, 1,
   {F_HEX("data", heartdt, 1, M0_HEX_BYTES_MAX)}, NULL},
  {M0_ID_SCSLINK, "SCSLINK", Q | S, RESTART, "Set/query link pin function", "on|off",
   "on, off", "off", false, 1, 1, {F_ONOFF("socket", scslink)}, NULL},
  {M0_ID_CLIENTRST, "CLIENTRST", Q | S, RESTART, "Set/query restart after 30 failed connects",
   "on|off", "on, off", "off", false, 1, 1, {F_ONOFF("enable", clientrst)}, NULL},
  {M0_ID_INDEXEN, "INDEXEN", Q | S, RESTART, "Set/query client index function", "on|off",
   "on, off", "off", false, 1, 1, {F_ONOFF("enable", indexen)}, NULL},
  {M0_ID_SOCKSL, "SOCKSL", Q | S, RESTART, "Set/query short connection", "on|off", "on, off",
   "off", false, 1, 1, {F_ONOFF("enable", socksl)}, NULL},
  {M0_ID_SHORTO, "SHORTO", Q | S, RESTART, "Set/query short connection time", "seconds",
   "2-255", "3", false, 1, 1, {F_UINT("seconds", shorto, 2, 255)}, NULL},
  {M0_ID_UARTCLBUF, "UARTCLBUF", Q | S, RESTART, "Set/query discarding serial data before "
   "connecting", "on|off", "on, off", "off", false, 1, 1, {F_ONOFF("enable", uartclbuf)},
   NULL},
  {M0_ID_RSTIM, "RSTIM", Q | S, RESTART, "Set/query restart after network silence",
   "seconds", "0 (off) or 60-65535", "0", false, 1, 1, {F_UINT("seconds", rstim, 0, 65535)},
   check_rstim},
  {M0_ID_MAXSK, "MAXSK", Q | S, RESTART, "Set/query TCP server client limit", "count", "1-8",
   "4", false, 1, 1, {F_UINT("count", maxsk, 1, 8)}, NULL},
  {M0_ID_MID, "MID", Q | S, RESTART, "Set/query module name", "name",
   "1-14 printable ASCII bytes, no comma", "USR-M0", true, 1, 1,
   {F_TEXT("name", mid, 1, M0_MID_MAX)}, check_mid},
  {M0_ID_H, "H", Q, NEVER, "Help", "", "", NULL, false, 0, 0, {{0}}, NULL},
};

static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }
static int upper(int c) { return (c >= 'a' && c <= 'z') ? c - ('a' - 'A') : c; }

/* Case-insensitive comparison of s[0..len) against a NUL-terminated word. */
static bool word_eq(const char *s, size_t len, const char *word) {
  size_t i;
  for (i = 0; i < len; i++) {
    if (word[i] == '\0' || lower((unsigned char)s[i]) != lower((unsigned char)word[i]))
      return false;
  }
  return word[len] == '\0';
}

const struct m0_param *m0_param_find(const char *name, size_t len) {
  size_t i;
  if (word_eq(name, len, "NETP")) /* the vendor document's own typo for SOCK */
    return &m0_params[M0_ID_SOCK];
  for (i = 0; i < M0_ID_COUNT; i++) {
    if (word_eq(name, len, m0_params[i].name))
      return &m0_params[i];
  }
  return NULL;
}

static bool is_printable(int c) { return c >= 0x20 && c <= 0x7e; }

static int hexval(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* Decimal without sign, at most max; leading zeros are accepted. */
static int parse_uint(const char *s, size_t len, uint32_t min, uint32_t max, uint32_t *out) {
  uint64_t v = 0;
  size_t i;
  if (len == 0 || len > 10)
    return M0_ERR_PARAM;
  for (i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return M0_ERR_PARAM;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (v < min || v > max)
    return M0_ERR_PARAM;
  *out = (uint32_t)v;
  return 0;
}

/* Four decimal octets 0-255 separated by dots, nothing else. */
static int parse_ipv4(const char *s, size_t len, uint8_t out[4]) {
  size_t i = 0;
  int octet;
  for (octet = 0; octet < 4; octet++) {
    size_t start = i;
    uint32_t v;
    while (i < len && s[i] != '.')
      i++;
    if (i - start > 3 || parse_uint(s + start, i - start, 0, 255, &v) != 0)
      return M0_ERR_PARAM;
    out[octet] = (uint8_t)v;
    if (octet < 3) {
      if (i >= len)
        return M0_ERR_PARAM;
      i++; /* the dot */
    }
  }
  return i == len ? 0 : M0_ERR_PARAM;
}

/* A host name: letters, digits, '-' and '.', not starting or ending with '.' or '-'. */
static bool is_host_name(const char *s, size_t len) {
  size_t i;
  bool has_alpha = false;
  if (len == 0 || s[0] == '.' || s[0] == '-' || s[len - 1] == '.' || s[len - 1] == '-')
    return false;
  for (i = 0; i < len; i++) {
    char c = s[i];
    bool alpha = (lower(c) >= 'a' && lower(c) <= 'z');
    if (!(alpha || (c >= '0' && c <= '9') || c == '-' || c == '.'))
      return false;
    if (c == '.' && s[i + 1] == '.')
      return false;
    has_alpha |= alpha;
  }
  /* All digits and dots is a mistyped address, not a name. */
  return has_alpha;
}

static void store_uint(void *dst, size_t size, uint32_t v) {
  if (size == 1) {
    uint8_t x = (uint8_t)v;
    memcpy(dst, &x, 1);
  } else if (size == 2) {
    uint16_t x = (uint16_t)v;
    memcpy(dst, &x, 2);
  } else {
    memcpy(dst, &v, 4);
  }
}

static uint32_t load_uint(const void *src, size_t size) {
  if (size == 1) {
    uint8_t x;
    memcpy(&x, src, 1);
    return x;
  }
  if (size == 2) {
    uint16_t x;
    memcpy(&x, src, 2);
    return x;
  }
  uint32_t x;
  memcpy(&x, src, 4);
  return x;
}

static int parse_enum(const struct m0_field *f, const char *s, size_t len, uint8_t *out) {
  size_t i;
  for (i = 0; f->choices[i] != NULL; i++) {
    if (word_eq(s, len, f->choices[i])) {
      *out = (uint8_t)i;
      return 0;
    }
  }
  for (i = 0; f->aliases != NULL && f->aliases[i] != NULL; i++) {
    const char *eq = strchr(f->aliases[i], '=');
    size_t alias_len = (size_t)(eq - f->aliases[i]);
    size_t j;
    if (alias_len != len)
      continue;
    for (j = 0; j < len; j++) {
      if (lower((unsigned char)s[j]) != lower((unsigned char)f->aliases[i][j]))
        break;
    }
    if (j == len)
      return parse_enum(f, eq + 1, strlen(eq + 1), out);
  }
  return M0_ERR_PARAM;
}

/* Parse one field's text into cfg. split is true when fields are comma-separated, so a
 * text value may not hold a comma. */
static int parse_field(const struct m0_field *f, struct m0_config *cfg, const char *s,
                       size_t len, bool split) {
  uint8_t *dst = (uint8_t *)cfg + f->offset;
  size_t i;
  switch (f->type) {
  case M0_FIELD_ONOFF:
    if (word_eq(s, len, "on"))
      *(bool *)dst = true;
    else if (word_eq(s, len, "off"))
      *(bool *)dst = false;
    else
      return M0_ERR_PARAM;
    return 0;
  case M0_FIELD_UINT: {
    uint32_t v;
    if (parse_uint(s, len, f->min, f->max, &v) != 0)
      return M0_ERR_PARAM;
    store_uint(dst, f->size, v);
    return 0;
  }
  case M0_FIELD_ENUM:
    return parse_enum(f, s, len, dst);
  case M0_FIELD_IPV4:
    return parse_ipv4(s, len, dst);
  case M0_FIELD_TEXT:
  case M0_FIELD_HOST:
    if (len < f->min || len > f->max || len + 1 > f->size)
      return M0_ERR_PARAM;
    for (i = 0; i < len; i++) {
      if (!is_printable((unsigned char)s[i]) || (split && s[i] == ','))
        return M0_ERR_PARAM;
    }
    if (f->type == M0_FIELD_HOST) {
      uint8_t quad[4];
      if (parse_ipv4(s, len, quad) != 0 && !is_host_name(s, len))
        return M0_ERR_PARAM;
    }
    /* Clear the whole buffer, not just one terminator: equal values are then equal
     * bytes, so configurations compare with memcmp. */
    memset(dst, 0, f->size);
    memcpy(dst, s, len);
    return 0;
  case M0_FIELD_HEX: {
    size_t n = len / 2;
    if (len % 2 != 0 || n < f->min || n > f->max || n > f->size)
      return M0_ERR_PARAM;
    for (i = 0; i < len; i++) {
      if (hexval((unsigned char)s[i]) < 0)
        return M0_ERR_PARAM;
    }
    memset(dst, 0, f->size);
    for (i = 0; i < n; i++) {
      int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
      dst[i] = (uint8_t)(hi << 4 | lo);
    }
    *((uint8_t *)cfg + f->len_offset) = (uint8_t)n;
    return 0;
  }
  }
  return M0_ERR_PARAM;
}

int m0_param_set(const struct m0_param *p, struct m0_config *cfg, const char *value,
                 size_t len) {
  struct m0_config scratch = *cfg;
  unsigned n = 0;
  size_t pos = 0;
  int rc;

  if (!m0_param_is_config(p))
    return M0_ERR_OPERATOR;
  if (p->rest_of_line) {
    rc = parse_field(&p->fields[0], &scratch, value, len, false);
    n = 1;
  } else {
    rc = 0;
    for (;;) {
      size_t end = pos;
      while (end < len && value[end] != ',')
        end++;
      if (n == p->nfields)
        return M0_ERR_PARAM; /* more fields than the command has */
      rc = parse_field(&p->fields[n], &scratch, value + pos, end - pos, true);
      if (rc != 0)
        return rc;
      n++;
      if (end == len)
        break;
      pos = end + 1;
    }
    if (n < p->min_fields || (n != p->nfields && n != p->min_fields))
      return M0_ERR_PARAM;
  }
  if (rc != 0)
    return rc;
  if (p->check != NULL && (rc = p->check(&scratch, n)) != 0)
    return rc;
  *cfg = scratch;
  return 0;
}

/* Bounded append that tracks the length it would have needed. */
struct out {
  char *buf;
  size_t cap, len;
};

static void put(struct out *o, const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++, o->len++) {
    if (o->len + 1 < o->cap)
      o->buf[o->len] = s[i];
  }
  if (o->cap > 0)
    o->buf[o->len < o->cap ? o->len : o->cap - 1] = '\0';
}

static void put_str(struct out *o, const char *s) { put(o, s, strlen(s)); }

static void put_uint(struct out *o, uint32_t v) {
  char digits[10];
  size_t n = 0;
  do {
    digits[sizeof digits - 1 - n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  put(o, digits + sizeof digits - n, n);
}

static void put_word(struct out *o, const char *word, bool to_upper) {
  for (; *word != '\0'; word++) {
    char c = (char)(to_upper ? upper((unsigned char)*word) : *word);
    put(o, &c, 1);
  }
}

static void format_field(const struct m0_field *f, const struct m0_config *cfg,
                         enum m0_dialect dialect, struct out *o) {
  const uint8_t *src = (const uint8_t *)cfg + f->offset;
  bool to_upper = f->upper_in_field && dialect == M0_DIALECT_FIELD;
  static const char hex[] = "0123456789ABCDEF";
  size_t i, n;
  switch (f->type) {
  case M0_FIELD_ONOFF:
    put_word(o, *(const bool *)src ? "on" : "off", to_upper);
    break;
  case M0_FIELD_UINT:
    put_uint(o, load_uint(src, f->size));
    break;
  case M0_FIELD_ENUM:
    put_word(o, f->choices[*src], to_upper);
    break;
  case M0_FIELD_IPV4:
    for (i = 0; i < 4; i++) {
      if (i > 0)
        put(o, ".", 1);
      put_uint(o, src[i]);
    }
    break;
  case M0_FIELD_TEXT:
  case M0_FIELD_HOST:
    put_str(o, (const char *)src);
    break;
  case M0_FIELD_HEX:
    n = *((const uint8_t *)cfg + f->len_offset);
    for (i = 0; i < n; i++) {
      put(o, &hex[src[i] >> 4], 1);
      put(o, &hex[src[i] & 15], 1);
    }
    break;
  }
}

int m0_param_format(const struct m0_param *p, const struct m0_config *cfg,
                    enum m0_dialect dialect, char *buf, size_t cap) {
  struct out o = {buf, cap, 0};
  unsigned i;
  if (!m0_param_is_config(p))
    return M0_ERR_OPERATOR;
  if (cap > 0)
    buf[0] = '\0';
  for (i = 0; i < p->nfields; i++) {
    if (i > 0)
      put(&o, ",", 1);
    format_field(&p->fields[i], cfg, dialect, &o);
  }
  return (int)o.len;
}

void m0_config_defaults(struct m0_config *cfg) {
  size_t i;
  memset(cfg, 0, sizeof *cfg);
  for (i = 0; i < M0_ID_COUNT; i++) {
    const struct m0_param *p = &m0_params[i];
    /* An empty default (REGCLOUD) is the zeroed value: its query reads ",". */
    if (p->defval != NULL && p->defval[0] != '\0')
      (void)m0_param_set(p, cfg, p->defval, strlen(p->defval));
  }
}

unsigned m0_uart_bits_per_char(uint8_t data_bits, uint8_t stop_bits, uint8_t parity) {
  return 1u + data_bits + (parity == M0_PARITY_NONE ? 0u : 1u) + stop_bits;
}

/* DHCP may be given alone (the addresses are kept); STATIC needs all three. */
static int check_wann(const struct m0_config *cfg, unsigned nfields_given) {
  if (nfields_given == 1 && cfg->wann_mode != M0_WANN_DHCP)
    return M0_ERR_PARAM;
  return 0;
}

static int check_htpurl(const struct m0_config *cfg, unsigned nfields_given) {
  (void)nfields_given;
  return cfg->htpurl[0] == '/' ? 0 : M0_ERR_PARAM;
}

/* 1-59 would restart a device faster than its peers can reconnect: the vendor allows
 * only 0 (off) or at least a minute. */
static int check_rstim(const struct m0_config *cfg, unsigned nfields_given) {
  (void)nfields_given;
  return (cfg->rstim == 0 || cfg->rstim >= 60) ? 0 : M0_ERR_PARAM;
}

/* MID takes the whole line like the other free-text values, so that a comma is
 * reported as a bad value rather than as a wrong field count; but the vendor forbids it. */
static int check_mid(const struct m0_config *cfg, unsigned nfields_given) {
  (void)nfields_given;
  return strchr(cfg->mid, ',') == NULL ? 0 : M0_ERR_PARAM;
}
