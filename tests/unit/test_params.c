/* test_params.c: the parameter table against the spec's §4, value by value.
 *
 * Each case is (command, value typed after '=', expected result, canonical value read
 * back). Cases come from the spec's ranges: both boundaries, one past each, wrong field
 * counts, wrong types; the read-back checks canonical spelling in both dialects.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "m0/params.h"

static const char *fmt(const char *name, const struct m0_config *cfg, enum m0_dialect d) {
  static char buf[M0_VALUE_MAX];
  const struct m0_param *p = m0_param_find(name, strlen(name));
  assert_non_null(p);
  assert_true(m0_param_format(p, cfg, d, buf, sizeof buf) >= 0);
  return buf;
}

static int set(struct m0_config *cfg, const char *name, const char *value) {
  const struct m0_param *p = m0_param_find(name, strlen(name));
  assert_non_null(p);
  return m0_param_set(p, cfg, value, strlen(value));
}

/* Spec §4 "default" column, doc dialect. */
static void test_factory_defaults(void **state) {
  static const char *const expect[][2] = {
    {"E", "on"}, {"WEBU", "admin,admin"}, {"WANN", "STATIC,0.0.0.0,0.0.0.0,0.0.0.0"},
    {"DNS", "192.168.0.1"}, {"WEBPORT", "80"}, {"UART", "115200,8,1,NONE,NFC"},
    {"SOCK", "TCPC,192.168.0.201,8234"}, {"TCPSE", "keep"}, {"SOCKPORT", "20108"},
    {"RFCEN", "on"}, {"REGEN", "off"}, {"REGTCP", "first"}, {"REGCLOUD", ","},
    {"REGUSR", "7777772E7573722E636E"}, {"HTPTP", "GET"}, {"HTPURL", "/2.php?"},
    {"HTPHEAD", "User_Agent: Mozilla/4.0<<CRLF>>Connection: close"}, {"HTPCHD", "off"},
    {"HEARTEN", "off"}, {"HEARTTP", "NET"}, {"HEARTTM", "30"},
    {"HEARTDT", "7777772E7573722E636E"}, {"SCSLINK", "off"}, {"CLIENTRST", "off"},
    {"INDEXEN", "off"}, {"SOCKSL", "off"}, {"SHORTO", "3"}, {"UARTCLBUF", "off"},
    {"RSTIM", "0"}, {"MAXSK", "4"}, {"MID", "USR-M0"},
  };
  struct m0_config cfg;
  size_t i, stored = 0;
  (void)state;
  m0_config_defaults(&cfg);
  for (i = 0; i < sizeof expect / sizeof expect[0]; i++)
    assert_string_equal(fmt(expect[i][0], &cfg, M0_DIALECT_DOC), expect[i][1]);
  for (i = 0; i < M0_ID_COUNT; i++)
    stored += m0_param_is_config(&m0_params[i]);
  assert_int_equal(stored, sizeof expect / sizeof expect[0]);
  /* Typed values the rest of the core reads. */
  assert_true(cfg.echo);
  assert_int_equal(cfg.baud, 115200);
  assert_int_equal(cfg.sock_port, 8234);
  assert_int_equal(cfg.regusr_len, 10);
  assert_memory_equal(cfg.regusr, "www.usr.cn", 10);
}

/* Field dialect upper-cases on/off and keep/kick only. */
static void test_field_dialect(void **state) {
  struct m0_config cfg;
  (void)state;
  m0_config_defaults(&cfg);
  assert_string_equal(fmt("E", &cfg, M0_DIALECT_FIELD), "ON");
  assert_string_equal(fmt("HTPCHD", &cfg, M0_DIALECT_FIELD), "OFF");
  assert_string_equal(fmt("TCPSE", &cfg, M0_DIALECT_FIELD), "KEEP");
  assert_int_equal(set(&cfg, "TCPSE", "kick"), 0);
  assert_string_equal(fmt("TCPSE", &cfg, M0_DIALECT_FIELD), "KICK");
  assert_string_equal(fmt("TCPSE", &cfg, M0_DIALECT_DOC), "kick");
  assert_string_equal(fmt("REGEN", &cfg, M0_DIALECT_FIELD), "off");
  assert_string_equal(fmt("UART", &cfg, M0_DIALECT_FIELD), "115200,8,1,NONE,NFC");
  assert_string_equal(fmt("MID", &cfg, M0_DIALECT_FIELD), "USR-M0");
}

struct set_case {
  const char *name, *value;
  int rc;
  const char *readback; /* doc dialect; NULL when rc != 0 */
};

static const struct set_case cases[] = {
  /* E */
  {"E", "off", 0, "off"}, {"E", "ON", 0, "on"}, {"E", "Off", 0, "off"},
  {"E", "1", M0_E_INVAL, NULL}, {"E", "", M0_E_INVAL, NULL},
  {"E", "on,off", M0_E_INVAL, NULL}, {"E", "onn", M0_E_INVAL, NULL},
  /* WEBU: 1-15 printable, no comma, exactly two fields */
  {"WEBU", "a,b", 0, "a,b"}, {"WEBU", "user_15_bytes__,pass_15_bytes__", 0,
                               "user_15_bytes__,pass_15_bytes__"},
  {"WEBU", "user_16_bytes___,p", M0_E_INVAL, NULL}, {"WEBU", "u,", M0_E_INVAL, NULL},
  {"WEBU", ",p", M0_E_INVAL, NULL}, {"WEBU", "admin", M0_E_INVAL, NULL},
  {"WEBU", "a,b,c", M0_E_INVAL, NULL}, {"WEBU", "a b,p w", 0, "a b,p w"},
  {"WEBU", "a\tb,p", M0_E_INVAL, NULL},
  /* WANN */
  {"WANN", "STATIC,10.0.0.7,255.255.255.0,10.0.0.1", 0,
   "STATIC,10.0.0.7,255.255.255.0,10.0.0.1"},
  {"WANN", "dhcp", 0, "DHCP,0.0.0.0,0.0.0.0,0.0.0.0"},
  {"WANN", "DHCP,1.2.3.4,255.0.0.0,1.2.3.1", 0, "DHCP,1.2.3.4,255.0.0.0,1.2.3.1"},
  {"WANN", "STATIC", M0_E_INVAL, NULL},
  {"WANN", "STATIC,1.2.3.4,255.0.0.0", M0_E_INVAL, NULL},
  {"WANN", "STATIC,1.2.3.256,255.0.0.0,1.2.3.1", M0_E_INVAL, NULL},
  {"WANN", "AUTO,1.2.3.4,255.0.0.0,1.2.3.1", M0_E_INVAL, NULL},
  {"WANN", "DHCP,1.2.3.4", M0_E_INVAL, NULL},
  /* DNS */
  {"DNS", "8.8.4.4", 0, "8.8.4.4"}, {"DNS", "255.255.255.255", 0, "255.255.255.255"},
  {"DNS", "008.8.4.4", 0, "8.8.4.4"}, {"DNS", "1.2.3", M0_E_INVAL, NULL},
  {"DNS", "1.2.3.4.5", M0_E_INVAL, NULL}, {"DNS", "1..3.4", M0_E_INVAL, NULL},
  {"DNS", "1.2.3.4.", M0_E_INVAL, NULL}, {"DNS", "a.b.c.d", M0_E_INVAL, NULL},
  {"DNS", "1.2.3.0004", M0_E_INVAL, NULL}, {"DNS", "-1.2.3.4", M0_E_INVAL, NULL},
  /* WEBPORT */
  {"WEBPORT", "1", 0, "1"}, {"WEBPORT", "65535", 0, "65535"}, {"WEBPORT", "8080", 0, "8080"},
  {"WEBPORT", "0", M0_E_INVAL, NULL}, {"WEBPORT", "65536", M0_E_INVAL, NULL},
  {"WEBPORT", "+80", M0_E_INVAL, NULL}, {"WEBPORT", "80a", M0_E_INVAL, NULL},
  {"WEBPORT", "99999999999", M0_E_INVAL, NULL},
  /* UART */
  {"UART", "9600,8,1,NONE,NFC", 0, "9600,8,1,NONE,NFC"},
  {"UART", "600,5,2,even,nfc", 0, "600,5,2,EVEN,NFC"},
  {"UART", "460800,7,1,ODD,NFC", 0, "460800,7,1,ODD,NFC"},
  {"UART", "115200,8,1,MARK,NFC", 0, "115200,8,1,MASK,NFC"},
  {"UART", "115200,8,1,mask,NFC", 0, "115200,8,1,MASK,NFC"},
  {"UART", "115200,8,1,SPACE,NFC", 0, "115200,8,1,SPACE,NFC"},
  {"UART", "599,8,1,NONE,NFC", M0_E_INVAL, NULL},
  {"UART", "460801,8,1,NONE,NFC", M0_E_INVAL, NULL},
  {"UART", "9600,4,1,NONE,NFC", M0_E_INVAL, NULL},
  {"UART", "9600,9,1,NONE,NFC", M0_E_INVAL, NULL},
  {"UART", "9600,8,0,NONE,NFC", M0_E_INVAL, NULL},
  {"UART", "9600,8,3,NONE,NFC", M0_E_INVAL, NULL},
  {"UART", "9600,8,1,PAR,NFC", M0_E_INVAL, NULL},
  {"UART", "9600,8,1,NONE,FC", M0_E_INVAL, NULL},
  {"UART", "9600,8,1,NONE", M0_E_INVAL, NULL},
  {"UART", "9600,8,1,NONE,NFC,1", M0_E_INVAL, NULL},
  {"UART", "9600,8,1,NONE,NFC,", M0_E_INVAL, NULL},
  /* SOCK */
  {"SOCK", "TCPS,0.0.0.0,23", 0, "TCPS,0.0.0.0,23"},
  {"SOCK", "udpc,127.0.0.1,65535", 0, "UDPC,127.0.0.1,65535"},
  {"SOCK", "UDPS,10.1.1.1,1", 0, "UDPS,10.1.1.1,1"},
  {"SOCK", "HTPC,example.com,80", 0, "HTPC,example.com,80"},
  {"SOCK", "TCPC,abcdefghijklmnopqrstuvwxyz.com,80", 0, "TCPC,abcdefghijklmnopqrstuvwxyz.com,80"},
  {"SOCK", "TCPC,abcdefghijklmnopqrstuvwxyz.comx,80", M0_E_INVAL, NULL},
  {"SOCK", "TCPC,1.2.3.4,0", M0_E_INVAL, NULL},
  {"SOCK", "TCPC,1.2.3.4,65536", M0_E_INVAL, NULL},
  {"SOCK", "TCP,1.2.3.4,80", M0_E_INVAL, NULL},
  {"SOCK", "TCPC,,80", M0_E_INVAL, NULL},
  {"SOCK", "TCPC,bad host,80", M0_E_INVAL, NULL},
  {"SOCK", "TCPC,1.2.3.999,80", M0_E_INVAL, NULL},
  {"SOCK", "TCPC,1.2.3.4", M0_E_INVAL, NULL},
  {"NETP", "TCPS,1.2.3.4,99", 0, "TCPS,1.2.3.4,99"},
  /* TCPSE */
  {"TCPSE", "kick", 0, "kick"}, {"TCPSE", "KEEP", 0, "keep"},
  {"TCPSE", "kill", M0_E_INVAL, NULL},
  /* SOCKPORT */
  {"SOCKPORT", "0", 0, "0"}, {"SOCKPORT", "65535", 0, "65535"},
  {"SOCKPORT", "65536", M0_E_INVAL, NULL}, {"SOCKPORT", "", M0_E_INVAL, NULL},
  /* RFCEN */
  {"RFCEN", "off", 0, "off"}, {"RFCEN", "yes", M0_E_INVAL, NULL},
  /* REGEN, REGTCP */
  {"REGEN", "mac", 0, "mac"}, {"REGEN", "USR", 0, "usr"}, {"REGEN", "on", M0_E_INVAL, NULL},
  {"REGTCP", "every", 0, "every"}, {"REGTCP", "FIRST", 0, "first"},
  {"REGTCP", "all", M0_E_INVAL, NULL},
  /* REGCLOUD: id exactly 20, password 1-7 */
  {"REGCLOUD", "00000000000000000001,abc1234", 0, "00000000000000000001,abc1234"},
  {"REGCLOUD", "0000000000000000001,abc", M0_E_INVAL, NULL},
  {"REGCLOUD", "000000000000000000012,abc", M0_E_INVAL, NULL},
  {"REGCLOUD", "00000000000000000001,abc12345", M0_E_INVAL, NULL},
  {"REGCLOUD", "00000000000000000001,", M0_E_INVAL, NULL},
  {"REGCLOUD", ",", M0_E_INVAL, NULL},
  /* REGUSR, HEARTDT: even-length hex, 1-40 bytes, whole rest of line */
  {"REGUSR", "ab", 0, "AB"}, {"REGUSR", "00FF", 0, "00FF"},
  {"REGUSR", "001122334455667788990011223344556677889900112233445566778899001122334455667788", 0,
   "001122334455667788990011223344556677889900112233445566778899001122334455667788"}, /* 39 bytes */
  {"REGUSR", "00112233445566778899001122334455667788990011223344556677889900112233445566778899", 0,
   "00112233445566778899001122334455667788990011223344556677889900112233445566778899"}, /* 40 bytes */
  {"REGUSR", "00112233445566778899001122334455667788990011223344556677889900112233445566778899AB",
   M0_E_INVAL, NULL}, /* 41 bytes */
  {"REGUSR", "", M0_E_INVAL, NULL}, {"REGUSR", "abc", M0_E_INVAL, NULL},
  {"REGUSR", "zz", M0_E_INVAL, NULL}, {"REGUSR", "41,42", M0_E_INVAL, NULL},
  {"HEARTDT", "FE01", 0, "FE01"}, {"HEARTDT", "F", M0_E_INVAL, NULL},
  {"HEARTDT", "0g", M0_E_INVAL, NULL},
  /* HTPTP, HTPURL, HTPHEAD, HTPCHD */
  {"HTPTP", "post", 0, "POST"}, {"HTPTP", "PUT", M0_E_INVAL, NULL},
  {"HTPURL", "/", 0, "/"}, {"HTPURL", "/a,b?c=1", 0, "/a,b?c=1"},
  {"HTPURL", "/2345678901234567890123456789", 0, "/2345678901234567890123456789"},
  {"HTPURL", "/23456789012345678901234567890", M0_E_INVAL, NULL},
  {"HTPURL", "2.php", M0_E_INVAL, NULL}, {"HTPURL", "", M0_E_INVAL, NULL},
  {"HTPHEAD", "", 0, ""}, {"HTPHEAD", "Accept: a, b<<CRLF>>X: 1", 0, "Accept: a, b<<CRLF>>X: 1"},
  {"HTPCHD", "on", 0, "on"},
  /* HEARTEN, HEARTTP, HEARTTM */
  {"HEARTEN", "on", 0, "on"}, {"HEARTTP", "com", 0, "COM"}, {"HEARTTP", "UART", M0_E_INVAL, NULL},
  {"HEARTTM", "1", 0, "1"}, {"HEARTTM", "65535", 0, "65535"},
  {"HEARTTM", "0", M0_E_INVAL, NULL}, {"HEARTTM", "65536", M0_E_INVAL, NULL},
  /* SCSLINK, CLIENTRST, INDEXEN, SOCKSL, UARTCLBUF */
  {"SCSLINK", "on", 0, "on"}, {"CLIENTRST", "on", 0, "on"}, {"INDEXEN", "on", 0, "on"},
  {"SOCKSL", "on", 0, "on"}, {"UARTCLBUF", "on", 0, "on"},
  {"SCSLINK", "2", M0_E_INVAL, NULL},
  /* SHORTO 2-255 */
  {"SHORTO", "2", 0, "2"}, {"SHORTO", "255", 0, "255"}, {"SHORTO", "1", M0_E_INVAL, NULL},
  {"SHORTO", "256", M0_E_INVAL, NULL},
  /* RSTIM 0 or 60-65535 */
  {"RSTIM", "0", 0, "0"}, {"RSTIM", "60", 0, "60"}, {"RSTIM", "65535", 0, "65535"},
  {"RSTIM", "59", M0_E_INVAL, NULL}, {"RSTIM", "1", M0_E_INVAL, NULL},
  {"RSTIM", "65536", M0_E_INVAL, NULL},
  /* MAXSK 1-8 */
  {"MAXSK", "1", 0, "1"}, {"MAXSK", "8", 0, "8"}, {"MAXSK", "0", M0_E_INVAL, NULL},
  {"MAXSK", "9", M0_E_INVAL, NULL},
  /* MID 1-14 printable, no comma */
  {"MID", "M", 0, "M"}, {"MID", "14_bytes_name_", 0, "14_bytes_name_"},
  {"MID", "15_bytes_name__", M0_E_INVAL, NULL}, {"MID", "", M0_E_INVAL, NULL},
  {"MID", "a,b", M0_E_INVAL, NULL}, {"MID", "caf\xc3\xa9", M0_E_INVAL, NULL},
};

static void test_set_cases(void **state) {
  size_t i;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const struct set_case *c = &cases[i];
    struct m0_config cfg, before;
    int rc;
    m0_config_defaults(&cfg);
    before = cfg;
    rc = set(&cfg, c->name, c->value);
    if (rc != c->rc)
      fail_msg("AT+%s=%s: got %d, expected %d", c->name, c->value, rc, c->rc);
    if (c->rc == 0) {
      const char *got = fmt(c->name, &cfg, M0_DIALECT_DOC);
      if (strcmp(got, c->readback) != 0)
        fail_msg("AT+%s=%s: reads back '%s', expected '%s'", c->name, c->value, got,
                 c->readback);
    } else {
      /* Bad input loses nothing: the whole configuration is untouched. */
      if (memcmp(&cfg, &before, sizeof cfg) != 0)
        fail_msg("AT+%s=%s changed the configuration on error", c->name, c->value);
    }
  }
}

/* A failed multi-field set must not keep the fields that parsed before the bad one. */
static void test_set_is_all_or_nothing(void **state) {
  struct m0_config cfg;
  (void)state;
  m0_config_defaults(&cfg);
  assert_int_equal(set(&cfg, "UART", "9600,7,2,BAD,NFC"), M0_E_INVAL);
  assert_int_equal(cfg.baud, 115200);
  assert_int_equal(cfg.data_bits, 8);
  assert_int_equal(cfg.stop_bits, 1);
  assert_int_equal(set(&cfg, "WANN", "DHCP,1.2.3.4,255.0.0.0,1.2.3.1"), 0);
  assert_int_equal(set(&cfg, "WANN", "STATIC,9.9.9.9,255.0.0.0"), M0_E_INVAL);
  assert_string_equal(fmt("WANN", &cfg, M0_DIALECT_DOC), "DHCP,1.2.3.4,255.0.0.0,1.2.3.1");
  /* DHCP alone keeps the addresses already stored. */
  assert_int_equal(set(&cfg, "WANN", "STATIC,9.9.9.9,255.0.0.0,9.9.9.1"), 0);
  assert_int_equal(set(&cfg, "WANN", "DHCP"), 0);
  assert_string_equal(fmt("WANN", &cfg, M0_DIALECT_DOC), "DHCP,9.9.9.9,255.0.0.0,9.9.9.1");
}

/* Equal values are equal bytes (the core compares configurations with memcmp): a
 * shorter text or hex value leaves nothing of the longer one behind. */
static void test_values_are_canonical_bytes(void **state) {
  struct m0_config a, b;
  (void)state;
  m0_config_defaults(&a);
  m0_config_defaults(&b);
  assert_int_equal(set(&a, "MID", "a-long-name-14"), 0);
  assert_int_equal(set(&a, "MID", "short"), 0);
  assert_int_equal(set(&a, "REGUSR", "0102030405060708"), 0);
  assert_int_equal(set(&a, "REGUSR", "0A"), 0);
  assert_int_equal(set(&b, "MID", "short"), 0);
  assert_int_equal(set(&b, "REGUSR", "0a"), 0);
  assert_memory_equal(&a, &b, sizeof a);
}

static void test_find(void **state) {
  size_t i;
  (void)state;
  assert_int_equal(M0_ID_COUNT, 39);
  for (i = 0; i < M0_ID_COUNT; i++) {
    assert_int_equal(m0_params[i].id, i); /* ids index the table */
    assert_ptr_equal(m0_param_find(m0_params[i].name, strlen(m0_params[i].name)),
                     &m0_params[i]);
    assert_non_null(m0_params[i].help);
    /* Stored configuration answers from the table, every other command by its handler. */
    assert_true((m0_params[i].exec == NULL) == m0_param_is_config(&m0_params[i]));
  }
  assert_ptr_equal(m0_param_find("uart", 4), &m0_params[M0_ID_UART]);
  assert_ptr_equal(m0_param_find("Ver", 3), &m0_params[M0_ID_VER]);
  assert_ptr_equal(m0_param_find("netp", 4), &m0_params[M0_ID_SOCK]);
  assert_null(m0_param_find("FOO", 3));
  assert_null(m0_param_find("UARTSET", 7));
  assert_null(m0_param_find("UAR", 3));
  assert_null(m0_param_find("", 0));
}

/* Action and query-only commands are not settable through the table. */
static void test_not_settable(void **state) {
  static const enum m0_param_id ids[] = {M0_ID_Z, M0_ID_VER, M0_ID_ENTM, M0_ID_RELD,
                                         M0_ID_MAC, M0_ID_SOCKLK, M0_ID_PDTIME, M0_ID_H};
  struct m0_config cfg;
  char buf[16];
  size_t i;
  (void)state;
  m0_config_defaults(&cfg);
  for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
    assert_int_equal(m0_param_set(&m0_params[ids[i]], &cfg, "1", 1), M0_E_NOTCONFIG);
    assert_int_equal(m0_param_format(&m0_params[ids[i]], &cfg, M0_DIALECT_DOC, buf,
                                     sizeof buf), M0_E_NOTCONFIG);
  }
}

/* True when term stands in text as a whole (a plural 's' allowed): not glued to a letter
 * or digit on either side, so "0-65535" is not found inside "60-65535". */
static bool has_term(const char *text, const char *term) {
  size_t n = strlen(term);
  const char *at;
  for (at = strstr(text, term); at != NULL; at = strstr(at + 1, term)) {
    bool left = at == text || !isalnum((unsigned char)at[-1]);
    bool right = !isalnum((unsigned char)at[n]) ||
                 (at[n] == 's' && !isalnum((unsigned char)at[n + 1]));
    if (left && right)
      return true;
  }
  return false;
}

static void need(const struct m0_param *p, const char *term) {
  if (!has_term(p->range, term))
    fail_msg("AT+%s: range \"%s\" does not say \"%s\"", p->name, p->range, term);
}

static void need_number(const struct m0_param *p, uint32_t n) {
  char term[16];
  snprintf(term, sizeof term, "%u", (unsigned)n);
  need(p, term);
}

static void need_span(const struct m0_param *p, uint32_t lo, uint32_t hi) {
  char term[32];
  if (lo == hi)
    snprintf(term, sizeof term, "exactly %u", (unsigned)lo);
  else
    snprintf(term, sizeof term, "%u-%u", (unsigned)lo, (unsigned)hi);
  need(p, term);
}

static bool is_limit(const struct m0_param *p, uint32_t n) {
  unsigned i;
  for (i = 0; i < p->nfields; i++) {
    const struct m0_field *f = &p->fields[i];
    if (f->type != M0_FIELD_IPV4 && f->type != M0_FIELD_ENUM && f->type != M0_FIELD_ONOFF &&
        (n == f->min || n == f->max))
      return true;
  }
  return false;
}

static bool accepts(const struct m0_param *p, uint32_t n) {
  struct m0_config cfg;
  char text[16];
  m0_config_defaults(&cfg);
  snprintf(text, sizeof text, "%u", (unsigned)n);
  return m0_param_set(p, &cfg, text, strlen(text)) == 0;
}

/* The human-readable range (the AT reference, the web page's hint) is written by hand;
 * it must say what the typed fields accept: every field's limits and choices stand in
 * it, and every number in it is a field's limit, or, for a lone number narrowed by a
 * check function (RSTIM), a boundary the command really has. */
static void test_range_text_matches_limits(void **state) {
  size_t i;
  unsigned j;
  (void)state;
  for (i = 0; i < M0_ID_COUNT; i++) {
    const struct m0_param *p = &m0_params[i];
    const char *c;
    if (!m0_param_is_config(p))
      continue; /* VER, MAC, ...: no typed fields to check against */
    assert_true(p->nfields > 0 && p->range[0] != '\0');
    for (j = 0; j < p->nfields; j++) {
      const struct m0_field *f = &p->fields[j];
      const char *const *w;
      switch (f->type) {
      case M0_FIELD_ONOFF:
        need(p, "on");
        need(p, "off");
        break;
      case M0_FIELD_ENUM:
        for (w = f->choices; *w != NULL; w++)
          need(p, *w);
        for (w = f->aliases; w != NULL && *w != NULL; w++) {
          char alias[16];
          snprintf(alias, sizeof alias, "%.*s", (int)(strchr(*w, '=') - *w), *w);
          need(p, alias);
        }
        break;
      case M0_FIELD_UINT:
        if (p->check == NULL) {
          need_span(p, f->min, f->max);
        } else {
          need_number(p, f->min);
          need_number(p, f->max);
        }
        break;
      case M0_FIELD_IPV4:
        need(p, "dotted quad");
        break;
      case M0_FIELD_TEXT:
        need_span(p, f->min, f->max);
        need(p, "printable");
        if (!p->rest_of_line)
          need(p, "no comma");
        break;
      case M0_FIELD_HOST: {
        char term[24];
        snprintf(term, sizeof term, "at most %u", (unsigned)f->max);
        need(p, term);
        need(p, "dotted quad");
        need(p, "host name");
        break;
      }
      case M0_FIELD_HEX:
        need(p, "even-length hex");
        need_span(p, f->min, f->max);
        break;
      }
    }
    /* The converse: no number the fields do not know. */
    for (c = p->range; *c != '\0'; c++) {
      unsigned long n;
      char *end;
      if (!isdigit((unsigned char)*c) || (c > p->range && isalnum((unsigned char)c[-1])))
        continue;
      n = strtoul(c, &end, 10);
      if (!is_limit(p, (uint32_t)n)) {
        bool lone_number = p->nfields == 1 && p->fields[0].type == M0_FIELD_UINT;
        if (!lone_number || !accepts(p, (uint32_t)n) ||
            (accepts(p, (uint32_t)n - 1) && accepts(p, (uint32_t)n + 1)))
          fail_msg("AT+%s: range \"%s\" says %lu, which is no limit of its fields", p->name,
                   p->range, n);
      }
      c = end - 1;
    }
  }
}

/* The formatter reports the length it needed and never overruns. */
static void test_format_truncates_safely(void **state) {
  struct m0_config cfg;
  char buf[8];
  (void)state;
  m0_config_defaults(&cfg);
  memset(buf, 'x', sizeof buf);
  assert_int_equal(m0_param_format(&m0_params[M0_ID_UART], &cfg, M0_DIALECT_DOC, buf,
                                   sizeof buf), (int)strlen("115200,8,1,NONE,NFC"));
  assert_string_equal(buf, "115200,");
}

static void test_bits_per_char(void **state) {
  (void)state;
  assert_int_equal(m0_uart_bits_per_char(8, 1, M0_PARITY_NONE), 10);
  assert_int_equal(m0_uart_bits_per_char(7, 2, M0_PARITY_EVEN), 11);
  assert_int_equal(m0_uart_bits_per_char(5, 1, M0_PARITY_SPACE), 8);
  assert_int_equal(m0_uart_bits_per_char(8, 2, M0_PARITY_MASK), 12);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_factory_defaults),
    cmocka_unit_test(test_field_dialect),
    cmocka_unit_test(test_set_cases),
    cmocka_unit_test(test_set_is_all_or_nothing),
    cmocka_unit_test(test_values_are_canonical_bytes),
    cmocka_unit_test(test_find),
    cmocka_unit_test(test_not_settable),
    cmocka_unit_test(test_range_text_matches_limits),
    cmocka_unit_test(test_format_truncates_safely),
    cmocka_unit_test(test_bits_per_char),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
