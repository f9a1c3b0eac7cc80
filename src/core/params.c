/* params.c: the AT parameter table, the factory defaults it holds, and the checks of
 * rules that span fields. param_text.c is the one place that parses and formats the
 * values the table describes.
 *
 * Each command is one declarative entry: name, forms, fields with their type and range,
 * factory default, when it applies, help line, and for a command that is not stored
 * configuration (Z, VER, H, ...) the AT engine's handler that answers it, so nothing
 * dispatches on ids. The `range` text is written for people; test_params checks it
 * against the typed limits. A command with a rule that spans fields (WANN's lone DHCP,
 * HTPURL's leading '/') adds a small check function, which m0_param_set() runs on the
 * scratch copy once every field parsed.
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
