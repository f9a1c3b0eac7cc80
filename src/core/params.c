/* params.c: the AT parameter table, and the one place that parses parameter values.
 *
 * Each command is one declarative entry: name, forms, fields with their type and range,
 * factory default, when it applies, help line, and for a command that is not stored
 * configuration (Z, VER, H, ...) the AT engine's handler that answers it, so nothing
 * dispatches on ids. The `range` text is written for people; test_params checks it
 * against the typed limits. The generic field parser below serves the serial port, the
 * flash loader and the web page; a command with a rule that spans fields (WANN's lone
 * DHCP, HTPURL's leading '/') adds a small check function. A set is all-or-nothing:
 * values are parsed into a scratch copy and committed only when every field is valid,
 * so bad input never loses what was stored.
 */
#include "m0/params.h"

#include <string.h>

#include "core.h" /* the AT engine's handlers (m0__at_*) */

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

/* Indexed by id, in the spec's §4 table order: AT+H lists commands in this order. A
 * command that is not stored configuration has no fields and no default; its `exec`
 * (src/core/at.c) answers it. */
const struct m0_param m0_params[M0_ID_COUNT] = {
  [M0_ID_E] = {.id = M0_ID_E, .name = "E", .forms = Q | S, .applies = NOW,
    .help = "Enable/disable echo", .syntax = "on|off", .range = "on, off", .defval = "on",
    .nfields = 1, .min_fields = 1, .fields = {F_ONOFF("echo", echo)}},
  [M0_ID_Z] = {.id = M0_ID_Z, .name = "Z", .forms = A, .applies = NEVER,
    .help = "Restart module", .syntax = "", .range = "", .exec = m0__at_z},
  [M0_ID_VER] = {.id = M0_ID_VER, .name = "VER", .forms = Q, .applies = NEVER,
    .help = "Query firmware version", .syntax = "version", .range = "factory block",
    .exec = m0__at_ver},
  [M0_ID_ENTM] = {.id = M0_ID_ENTM, .name = "ENTM", .forms = A, .applies = NEVER,
    .help = "Exit command mode", .syntax = "", .range = "", .exec = m0__at_entm},
  [M0_ID_RELD] = {.id = M0_ID_RELD, .name = "RELD", .forms = A, .applies = NEVER,
    .help = "Restore factory settings and restart", .syntax = "", .range = "",
    .exec = m0__at_reld},
  [M0_ID_MAC] = {.id = M0_ID_MAC, .name = "MAC", .forms = Q, .applies = NEVER,
    .help = "Query MAC address", .syntax = "mac", .range = "12 upper-case hex digits",
    .exec = m0__at_mac},
  [M0_ID_WEBU] = {.id = M0_ID_WEBU, .name = "WEBU", .forms = Q | S, .applies = RESTART,
    .help = "Set/query web user name and password", .syntax = "user,password",
    .range = "each 1-15 printable ASCII bytes, no comma", .defval = "admin,admin",
    .nfields = 2, .min_fields = 2,
    .fields = {F_TEXT("user", webu_user, 1, M0_WEBU_MAX),
               F_TEXT("password", webu_pass, 1, M0_WEBU_MAX)}},
  [M0_ID_WANN] = {.id = M0_ID_WANN, .name = "WANN", .forms = Q | S, .applies = RESTART,
    .help = "Set/query WAN address mode", .syntax = "mode,address,mask,gateway",
    .range = "STATIC or DHCP; DHCP may stand alone; dotted quads",
    .defval = "STATIC,0.0.0.0,0.0.0.0,0.0.0.0", .nfields = 4, .min_fields = 1,
    .fields = {F_ENUM("mode", wann_mode, wann_choices), F_IPV4("address", wann_ip),
               F_IPV4("mask", wann_mask), F_IPV4("gateway", wann_gateway)},
    .check = check_wann},
  [M0_ID_DNS] = {.id = M0_ID_DNS, .name = "DNS", .forms = Q | S, .applies = RESTART,
    .help = "Set/query DNS server address", .syntax = "address", .range = "dotted quad",
    .defval = "192.168.0.1", .nfields = 1, .min_fields = 1,
    .fields = {F_IPV4("address", dns)}},
  [M0_ID_WEBPORT] = {.id = M0_ID_WEBPORT, .name = "WEBPORT", .forms = Q | S,
    .applies = RESTART, .help = "Set/query web server port", .syntax = "port",
    .range = "1-65535", .defval = "80", .nfields = 1, .min_fields = 1,
    .fields = {F_UINT("port", webport, 1, 65535)}},
  [M0_ID_UART] = {.id = M0_ID_UART, .name = "UART", .forms = Q | S, .applies = RESTART,
    .help = "Set/query serial port parameters", .syntax = "baud,data,stop,parity,flow",
    .range = "baud 600-460800, data 5-8, stop 1-2, parity NONE EVEN ODD MASK SPACE "
             "(MARK = MASK), flow NFC",
    .defval = "115200,8,1,NONE,NFC", .nfields = 5, .min_fields = 5,
    .fields = {F_UINT("baud", baud, 600, 460800), F_UINT("data", data_bits, 5, 8),
               F_UINT("stop", stop_bits, 1, 2),
               {.name = "parity", .type = M0_FIELD_ENUM, .choices = parity_choices,
                .aliases = parity_aliases, .offset = OFF(parity), .size = SZ(parity)},
               F_ENUM("flow", flow, flow_choices)}},
  [M0_ID_SOCK] = {.id = M0_ID_SOCK, .name = "SOCK", .forms = Q | S, .applies = RESTART,
    .help = "Set/query work mode and peer", .syntax = "proto,address,port",
    .range = "proto TCPC TCPS UDPC UDPS HTPC; dotted quad or host name (at most 30 bytes); "
             "port 1-65535",
    .defval = "TCPC,192.168.0.201,8234", .nfields = 3, .min_fields = 3,
    .fields = {F_ENUM("proto", proto, proto_choices),
               {.name = "address", .type = M0_FIELD_HOST, .min = 1, .max = M0_SOCK_ADDR_MAX,
                .offset = OFF(sock_addr), .size = SZ(sock_addr)},
               F_UINT("port", sock_port, 1, 65535)}},
  [M0_ID_TCPSE] = {.id = M0_ID_TCPSE, .name = "TCPSE", .forms = Q | S, .applies = RESTART,
    .help = "Set/query kicking old connections", .syntax = "keep|kick", .range = "keep, kick",
    .defval = "keep", .nfields = 1, .min_fields = 1,
    .fields = {{.name = "policy", .type = M0_FIELD_ENUM, .choices = tcpse_choices,
                .upper_in_field = true, .offset = OFF(tcpse), .size = SZ(tcpse)}}},
  [M0_ID_SOCKLK] = {.id = M0_ID_SOCKLK, .name = "SOCKLK", .forms = Q, .applies = NEVER,
    .help = "Query TCP connection state", .syntax = "connect|disconnect",
    .range = "connect, disconnect", .exec = m0__at_socklk},
  [M0_ID_SOCKPORT] = {.id = M0_ID_SOCKPORT, .name = "SOCKPORT", .forms = Q | S,
    .applies = RESTART, .help = "Set/query local port", .syntax = "port",
    .range = "0-65535 (0 = random)", .defval = "20108", .nfields = 1, .min_fields = 1,
    .fields = {F_UINT("port", sockport, 0, 65535)}},
  [M0_ID_RFCEN] = {.id = M0_ID_RFCEN, .name = "RFCEN", .forms = Q | S, .applies = RESTART,
    .help = "Set/query similar-RFC2217", .syntax = "on|off", .range = "on, off",
    .defval = "on", .nfields = 1, .min_fields = 1, .fields = {F_ONOFF("enable", rfcen)}},
  [M0_ID_PDTIME] = {.id = M0_ID_PDTIME, .name = "PDTIME", .forms = Q, .applies = NEVER,
    .help = "Query production time", .syntax = "time", .range = "factory block",
    .exec = m0__at_pdtime},
  [M0_ID_REGEN] = {.id = M0_ID_REGEN, .name = "REGEN", .forms = Q | S, .applies = RESTART,
    .help = "Set/query registration packet", .syntax = "off|mac|usr",
    .range = "off, mac, usr", .defval = "off", .nfields = 1, .min_fields = 1,
    .fields = {F_ENUM("type", regen, regen_choices)}},
  [M0_ID_REGTCP] = {.id = M0_ID_REGTCP, .name = "REGTCP", .forms = Q | S, .applies = RESTART,
    .help = "Set/query when registration is sent", .syntax = "first|every",
    .range = "first, every", .defval = "first", .nfields = 1, .min_fields = 1,
    .fields = {F_ENUM("when", regtcp, regtcp_choices)}},
  [M0_ID_REGCLOUD] = {.id = M0_ID_REGCLOUD, .name = "REGCLOUD", .forms = Q | S,
    .applies = RESTART, .help = "Set/query USR Cloud id and password",
    .syntax = "id,password", .range = "id exactly 20 printable bytes, password 1-7, no comma",
    .defval = "", .nfields = 2, .min_fields = 2,
    .fields = {F_TEXT("id", regcloud_id, M0_REGCLOUD_ID_LEN, M0_REGCLOUD_ID_LEN),
               F_TEXT("password", regcloud_pass, 1, M0_REGCLOUD_PASS_MAX)}},
  [M0_ID_REGUSR] = {.id = M0_ID_REGUSR, .name = "REGUSR", .forms = Q | S, .applies = RESTART,
    .help = "Set/query custom registration data", .syntax = "hex",
    .range = "even-length hex, 1-40 bytes", .defval = "7777772E7573722E636E",
    .rest_of_line = true, .nfields = 1, .min_fields = 1,
    .fields = {F_HEX("data", regusr, 1, M0_HEX_BYTES_MAX)}},
  [M0_ID_HTPTP] = {.id = M0_ID_HTPTP, .name = "HTPTP", .forms = Q | S, .applies = RESTART,
    .help = "Set/query HTTP request method", .syntax = "GET|POST", .range = "GET, POST",
    .defval = "GET", .nfields = 1, .min_fields = 1,
    .fields = {F_ENUM("method", htptp, htptp_choices)}},
  [M0_ID_HTPURL] = {.id = M0_ID_HTPURL, .name = "HTPURL", .forms = Q | S, .applies = RESTART,
    .help = "Set/query HTTP URL", .syntax = "url",
    .range = "starts with /, 1-29 printable bytes", .defval = "/2.php?",
    .rest_of_line = true, .nfields = 1, .min_fields = 1,
    .fields = {F_TEXT("url", htpurl, 1, M0_HTPURL_MAX)}, .check = check_htpurl},
  [M0_ID_HTPHEAD] = {.id = M0_ID_HTPHEAD, .name = "HTPHEAD", .forms = Q | S,
    .applies = RESTART, .help = "Set/query HTTP header lines", .syntax = "header",
    .range = "0-200 printable bytes, <<CRLF>> separates lines",
    .defval = "User_Agent: Mozilla/4.0<<CRLF>>Connection: close", .rest_of_line = true,
    .nfields = 1, .min_fields = 1, .fields = {F_TEXT("header", htphead, 0, M0_HTPHEAD_MAX)}},
  [M0_ID_HTPCHD] = {.id = M0_ID_HTPCHD, .name = "HTPCHD", .forms = Q | S, .applies = RESTART,
    .help = "Set/query HTTP response header removal", .syntax = "on|off",
    .range = "on, off", .defval = "off", .nfields = 1, .min_fields = 1,
    .fields = {F_ONOFF("strip", htpchd)}},
  [M0_ID_HEARTEN] = {.id = M0_ID_HEARTEN, .name = "HEARTEN", .forms = Q | S,
    .applies = RESTART, .help = "Set/query heartbeat packet", .syntax = "on|off",
    .range = "on, off", .defval = "off", .nfields = 1, .min_fields = 1,
    .fields = {F_ONOFF("enable", hearten)}},
  [M0_ID_HEARTTP] = {.id = M0_ID_HEARTTP, .name = "HEARTTP", .forms = Q | S,
    .applies = RESTART, .help = "Set/query heartbeat direction", .syntax = "NET|COM",
    .range = "NET, COM", .defval = "NET", .nfields = 1, .min_fields = 1,
    .fields = {F_ENUM("direction", hearttp, hearttp_choices)}},
  [M0_ID_HEARTTM] = {.id = M0_ID_HEARTTM, .name = "HEARTTM", .forms = Q | S,
    .applies = RESTART, .help = "Set/query heartbeat interval", .syntax = "seconds",
    .range = "1-65535", .defval = "30", .nfields = 1, .min_fields = 1,
    .fields = {F_UINT("seconds", hearttm, 1, 65535)}},
  [M0_ID_HEARTDT] = {.id = M0_ID_HEARTDT, .name = "HEARTDT", .forms = Q | S,
    .applies = RESTART, .help = "Set/query heartbeat data", .syntax = "hex",
    .range = "even-length hex, 1-40 bytes", .defval = "7777772E7573722E636E",
    .rest_of_line = true, .nfields = 1, .min_fields = 1,
    .fields = {F_HEX("data", heartdt, 1, M0_HEX_BYTES_MAX)}},
  [M0_ID_SCSLINK] = {.id = M0_ID_SCSLINK, .name = "SCSLINK", .forms = Q | S,
    .applies = RESTART, .help = "Set/query link pin function", .syntax = "on|off",
    .range = "on, off", .defval = "off", .nfields = 1, .min_fields = 1,
    .fields = {F_ONOFF("socket", scslink)}},
  [M0_ID_CLIENTRST] = {.id = M0_ID_CLIENTRST, .name = "CLIENTRST", .forms = Q | S,
    .applies = RESTART, .help = "Set/query restart after 30 failed connects",
    .syntax = "on|off", .range = "on, off", .defval = "off", .nfields = 1, .min_fields = 1,
    .fields = {F_ONOFF("enable", clientrst)}},
  [M0_ID_INDEXEN] = {.id = M0_ID_INDEXEN, .name = "INDEXEN", .forms = Q | S,
    .applies = RESTART, .help = "Set/query client index function", .syntax = "on|off",
    .range = "on, off", .defval = "off", .nfields = 1, .min_fields = 1,
    .fields = {F_ONOFF("enable", indexen)}},
  [M0_ID_SOCKSL] = {.id = M0_ID_SOCKSL, .name = "SOCKSL", .forms = Q | S, .applies = RESTART,
    .help = "Set/query short connection", .syntax = "on|off", .range = "on, off",
    .defval = "off", .nfields = 1, .min_fields = 1, .fields = {F_ONOFF("enable", socksl)}},
  [M0_ID_SHORTO] = {.id = M0_ID_SHORTO, .name = "SHORTO", .forms = Q | S, .applies = RESTART,
    .help = "Set/query short connection time", .syntax = "seconds", .range = "2-255",
    .defval = "3", .nfields = 1, .min_fields = 1,
    .fields = {F_UINT("seconds", shorto, 2, 255)}},
  [M0_ID_UARTCLBUF] = {.id = M0_ID_UARTCLBUF, .name = "UARTCLBUF", .forms = Q | S,
    .applies = RESTART, .help = "Set/query discarding serial data before connecting",
    .syntax = "on|off", .range = "on, off", .defval = "off", .nfields = 1, .min_fields = 1,
    .fields = {F_ONOFF("enable", uartclbuf)}},
  [M0_ID_RSTIM] = {.id = M0_ID_RSTIM, .name = "RSTIM", .forms = Q | S, .applies = RESTART,
    .help = "Set/query restart after network silence", .syntax = "seconds",
    .range = "0 (off) or 60-65535", .defval = "0", .nfields = 1, .min_fields = 1,
    .fields = {F_UINT("seconds", rstim, 0, 65535)}, .check = check_rstim},
  [M0_ID_MAXSK] = {.id = M0_ID_MAXSK, .name = "MAXSK", .forms = Q | S, .applies = RESTART,
    .help = "Set/query TCP server client limit", .syntax = "count", .range = "1-8",
    .defval = "4", .nfields = 1, .min_fields = 1, .fields = {F_UINT("count", maxsk, 1, 8)}},
  [M0_ID_MID] = {.id = M0_ID_MID, .name = "MID", .forms = Q | S, .applies = RESTART,
    .help = "Set/query module name", .syntax = "name",
    .range = "1-14 printable ASCII bytes, no comma", .defval = "USR-M0",
    .rest_of_line = true, .nfields = 1, .min_fields = 1,
    .fields = {F_TEXT("name", mid, 1, M0_MID_MAX)}, .check = check_mid},
  [M0_ID_H] = {.id = M0_ID_H, .name = "H", .forms = Q, .applies = NEVER, .help = "Help",
    .syntax = "", .range = "", .exec = m0__at_help},
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

int m0_hex_digit(int c) {
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
    return M0_E_INVAL;
  for (i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return M0_E_INVAL;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (v < min || v > max)
    return M0_E_INVAL;
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
      return M0_E_INVAL;
    out[octet] = (uint8_t)v;
    if (octet < 3) {
      if (i >= len)
        return M0_E_INVAL;
      i++; /* the dot */
    }
  }
  return i == len ? 0 : M0_E_INVAL;
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
  return M0_E_INVAL;
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
      return M0_E_INVAL;
    return 0;
  case M0_FIELD_UINT: {
    uint32_t v;
    if (parse_uint(s, len, f->min, f->max, &v) != 0)
      return M0_E_INVAL;
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
      return M0_E_INVAL;
    for (i = 0; i < len; i++) {
      if (!is_printable((unsigned char)s[i]) || (split && s[i] == ','))
        return M0_E_INVAL;
    }
    if (f->type == M0_FIELD_HOST) {
      uint8_t quad[4];
      if (parse_ipv4(s, len, quad) != 0 && !is_host_name(s, len))
        return M0_E_INVAL;
    }
    /* Clear the whole buffer, not just one terminator: equal values are then equal
     * bytes, so configurations compare with memcmp. */
    memset(dst, 0, f->size);
    memcpy(dst, s, len);
    return 0;
  case M0_FIELD_HEX: {
    size_t n = len / 2;
    if (len % 2 != 0 || n < f->min || n > f->max || n > f->size)
      return M0_E_INVAL;
    for (i = 0; i < len; i++) {
      if (m0_hex_digit((unsigned char)s[i]) < 0)
        return M0_E_INVAL;
    }
    memset(dst, 0, f->size);
    for (i = 0; i < n; i++) {
      int hi = m0_hex_digit((unsigned char)s[2 * i]);
      int lo = m0_hex_digit((unsigned char)s[2 * i + 1]);
      dst[i] = (uint8_t)(hi << 4 | lo);
    }
    *((uint8_t *)cfg + f->len_offset) = (uint8_t)n;
    return 0;
  }
  }
  return M0_E_INVAL;
}

int m0_param_set(const struct m0_param *p, struct m0_config *cfg, const char *value,
                 size_t len) {
  struct m0_config scratch = *cfg;
  unsigned n = 0;
  size_t pos = 0;
  int rc;

  if (!m0_param_is_config(p))
    return M0_E_NOTCONFIG;
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
        return M0_E_INVAL; /* more fields than the command has */
      rc = parse_field(&p->fields[n], &scratch, value + pos, end - pos, true);
      if (rc != 0)
        return rc;
      n++;
      if (end == len)
        break;
      pos = end + 1;
    }
    if (n < p->min_fields || (n != p->nfields && n != p->min_fields))
      return M0_E_INVAL;
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
    return M0_E_NOTCONFIG;
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
    return M0_E_INVAL;
  return 0;
}

static int check_htpurl(const struct m0_config *cfg, unsigned nfields_given) {
  (void)nfields_given;
  return cfg->htpurl[0] == '/' ? 0 : M0_E_INVAL;
}

/* 1-59 would restart a device faster than its peers can reconnect: the vendor allows
 * only 0 (off) or at least a minute. */
static int check_rstim(const struct m0_config *cfg, unsigned nfields_given) {
  (void)nfields_given;
  return (cfg->rstim == 0 || cfg->rstim >= 60) ? 0 : M0_E_INVAL;
}

/* MID takes the whole line like the other free-text values, so that a comma is
 * reported as a bad value rather than as a wrong field count; but the vendor forbids it. */
static int check_mid(const struct m0_config *cfg, unsigned nfields_given) {
  (void)nfields_given;
  return strchr(cfg->mid, ',') == NULL ? 0 : M0_E_INVAL;
}
