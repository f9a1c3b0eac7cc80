/* test_at.c: command mode end to end (spec §3.2-§4): bytes in through the UART, reply
 * bytes out, flash saves and the saved/running configurations observed on the fake HAL.
 *
 * Every command of the §4 table (and the NETP alias) is queried in both dialects and set
 * with valid, boundary and invalid values, checking the exact reply bytes and error code,
 * what reached flash, and that a failed set changes nothing. The expected values are the
 * spec's, written out here, not read back from the parameter table (only AT+H, whose
 * lines are defined as "the table's help lines in table order", is built from it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "fake_hal.h"

static struct fake F;
static struct m0_dev D;
static struct m0_dev_options O;

static int boot_command(enum m0_dialect dialect) {
  fake_options(&O);
  O.dialect = dialect;
  fake_boot(&F, &D, &O, NULL);
  fake_enter_command(&F);
  return 0;
}

static int setup(void **state) {
  (void)state;
  return boot_command(M0_DIALECT_DOC);
}

static int setup_field(void **state) {
  (void)state;
  return boot_command(M0_DIALECT_FIELD);
}

/* Send `line` CR with echo on; check the echo and return what followed it. */
static const char *reply(const char *line) {
  const char *out = fake_at(&F, line);
  size_t n = strlen(line);
  if (strncmp(out, line, n) != 0 || out[n] != '\r')
    fail_msg("echo of \"%s\" missing in \"%s\"", line, out);
  return out + n + 1;
}

static void expect_reply(const char *line, const char *want) {
  const char *got = reply(line);
  if (strcmp(got, want) != 0)
    fail_msg("%s: got \"%s\", want \"%s\"", line, got, want);
}

static void want_value(const char *line, const char *value) {
  char want[600];
  snprintf(want, sizeof want, "\r\n%s=%s\r\n",
           O.dialect == M0_DIALECT_FIELD ? "+OK" : "+ok", value);
  expect_reply(line, want);
}

static void want_err(const char *line, int code) {
  char want[32];
  snprintf(want, sizeof want, "\r\n+ERR=%d\r\n", code);
  expect_reply(line, want);
}

static const char *OK_DOC = "\r\n+ok\r\n";
static const char *OK_FIELD = "\r\n+OK\r\n";

/* ---- syntax ---- */

static void test_at_alone(void **state) {
  (void)state;
  expect_reply("AT", OK_DOC);
  expect_reply("at", OK_DOC);
  expect_reply("aT", OK_DOC);
}

static void test_format_errors(void **state) {
  (void)state;
  want_err("A", M0_ERR_FORMAT);
  want_err("XYZ", M0_ERR_FORMAT);
  want_err(" AT", M0_ERR_FORMAT);
  want_err("ATE", M0_ERR_FORMAT);
  want_err("AT+", M0_ERR_FORMAT);
  want_err("AT+?", M0_ERR_FORMAT);
  want_err("AT+=1", M0_ERR_FORMAT);
  want_err("AT+VER?x", M0_ERR_FORMAT);
  want_err("AT+VER??", M0_ERR_FORMAT);
  want_err("AT+VER x", M0_ERR_FORMAT);
  want_err("AT+E!", M0_ERR_FORMAT);
}

static void test_unknown_commands(void **state) {
  (void)state;
  want_err("AT+FOO", M0_ERR_COMMAND);
  want_err("AT+FOO?", M0_ERR_COMMAND);
  want_err("AT+FOO=1", M0_ERR_COMMAND);
  want_err("AT+UARTSET=ON", M0_ERR_COMMAND);
  want_err("AT+VERS", M0_ERR_COMMAND);
  want_err("AT+NET", M0_ERR_COMMAND);
}

static void test_operator_errors(void **state) {
  static const char *const lines[] = {"AT+VER=1",     "AT+MAC=D8B04C000002", "AT+PDTIME=x",
                                      "AT+SOCKLK=1",  "AT+H=1",              "AT+Z=1",
                                      "AT+ENTM=1",    "AT+RELD=1",           "AT+Z?",
                                      "AT+ENTM?",     "AT+RELD?",            "AT+Z=",
                                      NULL};
  unsigned i;
  (void)state;
  for (i = 0; lines[i] != NULL; i++)
    want_err(lines[i], M0_ERR_OPERATOR);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_COMMAND);
  assert_int_equal(F.flash_attempts, 0);
  assert_int_equal(fake_count_events(&F, "restart "), 0);
}

static void test_terminators(void **state) {
  (void)state;
  fake_out_clear(&F);
  fake_rx(&F, "AT\r\n");
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), "AT\r\r\n+ok\r\n\n"); /* one reply; the LF echoed */
  fake_out_clear(&F);
  fake_rx(&F, "AT\n");
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), "AT\n\r\n+ok\r\n");
  fake_out_clear(&F);
  fake_rx(&F, "AT\r\r");
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), "AT\r\r\n+ok\r\n\r");
  fake_out_clear(&F);
  fake_rx(&F, "AT\n\n");
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), "AT\n\r\n+ok\r\n\n");
  /* CR and LF in separate reads still make one terminator. */
  fake_out_clear(&F);
  fake_rx(&F, "AT\r");
  fake_advance(&F, 5 * MS);
  fake_rx(&F, "\n");
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), "AT\r\r\n+ok\r\n\n");
}

static void test_empty_lines_are_silent(void **state) {
  (void)state;
  fake_out_clear(&F);
  fake_rx(&F, "\r\n\r\n\n\r");
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), "\r\n\r\n\n\r"); /* the echo, and nothing else */
}

static void test_commands_in_one_read_run_in_order(void **state) {
  (void)state;
  fake_out_clear(&F);
  fake_rx(&F, "AT+VER\rAT+MAC\r\nAT+FOO\n");
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), "AT+VER\r\r\n+ok=V4017\r\n"
                                    "AT+MAC\r\r\n+ok=D8B04C000001\r\n\n"
                                    "AT+FOO\n\r\n+ERR=-2\r\n");
}

static void test_command_typed_slowly(void **state) {
  (void)state;
  fake_out_clear(&F);
  fake_type(&F, "AT+VER\r", 2 * S); /* no timeout inside a command line */
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), "AT+VER\r\r\n+ok=V4017\r\n");
}

static void test_echo_off_and_on(void **state) {
  (void)state;
  fake_out_clear(&F);
  fake_rx(&F, "AT+E=off\r\n");
  fake_run(&F, S);
  /* The line was echoed while echo was on; its LF came after, with echo off. */
  assert_string_equal(fake_out(&F), "AT+E=off\r\r\n+ok\r\n");
  assert_false(m0_dev_running(&D)->echo);
  assert_string_equal(fake_at(&F, "AT"), OK_DOC);
  assert_string_equal(fake_at(&F, "AT+E"), "\r\n+ok=off\r\n");
  assert_string_equal(fake_at(&F, "AT+E=on"), OK_DOC);
  assert_true(m0_dev_running(&D)->echo);
  expect_reply("AT", OK_DOC);
}

static void test_backspace(void **state) {
  (void)state;
  assert_string_equal(fake_at(&F, "ATX\b"), "ATX\b \b\r\r\n+ok\r\n");
  fake_out_clear(&F);
  fake_rx(&F, "ATX\bY\x7f\r");
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), "ATX\b \bY\b \b\r\r\n+ok\r\n");
  /* On an empty line there is nothing to erase and nothing is echoed. */
  fake_out_clear(&F);
  fake_rx(&F, "\b\x7f" "AT\r");
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), "AT\r\r\n+ok\r\n");
  /* Erase into the name. */
  fake_out_clear(&F);
  fake_rx(&F, "AT+VEX\bR\r");
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), "AT+VEX\b \bR\r\r\n+ok=V4017\r\n");
  /* Echo off: edits still apply, silently. */
  assert_string_equal(fake_at(&F, "AT+E=off"), "AT+E=off\r\r\n+ok\r\n");
  fake_out_clear(&F);
  fake_rx(&F, "ATZ\x7f\r");
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), OK_DOC);
}

static void test_line_limit(void **state) {
  static char line[400], want[800];
  (void)state;
  /* 256 bytes: parsed (HTPHEAD takes at most 200, so the value is refused). */
  memset(line, 0, sizeof line);
  strcpy(line, "AT+HTPHEAD=");
  memset(line + strlen(line), 'x', 256 - strlen(line));
  assert_int_equal(strlen(line), 256);
  want_err(line, M0_ERR_PARAM);
  /* 257 bytes: too long, -1, every byte still echoed. */
  strcat(line, "x");
  snprintf(want, sizeof want, "%s\r\r\n+ERR=-1\r\n", line);
  assert_string_equal(fake_at(&F, line), want);
  /* Editing cannot save a discarded line. */
  fake_out_clear(&F);
  fake_rx(&F, line);
  fake_rx(&F, "\b\b\r");
  fake_run(&F, S);
  assert_non_null(strstr(fake_out(&F), "\r\n+ERR=-1\r\n"));
  /* The next line is fine again. */
  expect_reply("AT", OK_DOC);
  /* A long line of garbage, then a command in the same read. */
  memset(line, 'z', 300);
  line[300] = '\0';
  strcat(line, "\rAT+VER\r");
  fake_out_clear(&F);
  fake_rx(&F, line);
  fake_run(&F, S);
  assert_non_null(strstr(fake_out(&F), "\r\n+ERR=-1\r\nAT+VER\r\r\n+ok=V4017\r\n"));
  assert_int_equal(F.flash_attempts, 0);
}

/* ---- queries ---- */

struct query {
  const char *name;
  const char *doc;
  const char *field; /* NULL: the spec does not say (REGEN's "off" is not an on/off) */
};

static const struct query defaults_q[] = {
  {"E", "on", "ON"},
  {"VER", "V4017", "V4017"},
  {"MAC", "D8B04C000001", "D8B04C000001"},
  {"WEBU", "admin,admin", "admin,admin"},
  {"WANN", "STATIC,0.0.0.0,0.0.0.0,0.0.0.0", "STATIC,0.0.0.0,0.0.0.0,0.0.0.0"},
  {"DNS", "192.168.0.1", "192.168.0.1"},
  {"WEBPORT", "80", "80"},
  {"UART", "115200,8,1,NONE,NFC", "115200,8,1,NONE,NFC"},
  {"SOCK", "TCPC,192.168.0.201,8234", "TCPC,192.168.0.201,8234"},
  {"NETP", "TCPC,192.168.0.201,8234", "TCPC,192.168.0.201,8234"},
  {"TCPSE", "keep", "KEEP"},
  {"SOCKLK", "disconnect", "disconnect"},
  {"SOCKPORT", "20108", "20108"},
  {"RFCEN", "on", "ON"},
  {"PDTIME", "2026-11-23", "2026-11-23"},
  {"REGEN", "off", NULL},
  {"REGTCP", "first", "first"},
  {"REGCLOUD", ",", ","},
  {"REGUSR", "7777772E7573722E636E", "7777772E7573722E636E"},
  {"HTPTP", "GET", "GET"},
  {"HTPURL", "/2.php?", "/2.php?"},
  {"HTPHEAD", "User_Agent: Mozilla/4.0<<CRLF>>Connection: close",
   "User_Agent: Mozilla/4.0<<CRLF>>Connection: close"},
  {"HTPCHD", "off", "OFF"},
  {"HEARTEN", "off", "OFF"},
  {"HEARTTP", "NET", "NET"},
  {"HEARTTM", "30", "30"},
  {"HEARTDT", "7777772E7573722E636E", "7777772E7573722E636E"},
  {"SCSLINK", "off", "OFF"},
  {"CLIENTRST", "off", "OFF"},
  {"INDEXEN", "off", "OFF"},
  {"SOCKSL", "off", "OFF"},
  {"SHORTO", "3", "3"},
  {"UARTCLBUF", "off", "OFF"},
  {"RSTIM", "0", "0"},
  {"MAXSK", "4", "4"},
  {"MID", "USR-M0", "USR-M0"},
  {NULL, NULL, NULL},
};

static void lower(char *s) {
  for (; *s != '\0'; s++) {
    if (*s >= 'A' && *s <= 'Z')
      *s = (char)(*s - 'A' + 'a');
  }
}

static void check_queries(bool field) {
  const struct query *q;
  unsigned n = 0;
  for (q = defaults_q; q->name != NULL; q++) {
    const char *v = field ? q->field : q->doc;
    char line[64];
    if (v == NULL)
      continue;
    snprintf(line, sizeof line, "AT+%s", q->name);
    want_value(line, v);
    snprintf(line, sizeof line, "AT+%s?", q->name);
    want_value(line, v);
    snprintf(line, sizeof line, "at+%s", q->name);
    lower(line);
    want_value(line, v);
    n++;
  }
  assert_true(n >= 35);
  assert_int_equal(F.flash_attempts, 0);
}

static void test_queries_doc(void **state) {
  (void)state;
  check_queries(false);
}

static void test_queries_field(void **state) {
  (void)state;
  check_queries(true);
}

static void test_ok_and_error_spelling_field(void **state) {
  (void)state;
  expect_reply("AT", OK_FIELD);
  expect_reply("AT+SOCKPORT=1", OK_FIELD);
  want_err("AT+FOO", M0_ERR_COMMAND);
  want_err("AT+SOCKPORT=x", M0_ERR_PARAM);
  expect_reply("AT+TCPSE=kick", OK_FIELD);
  want_value("AT+TCPSE", "KICK");
}

/* ---- sets ---- */

struct set {
  const char *name;
  const char *value;
  int rc;
  const char *shows; /* the query afterwards (doc dialect); NULL: the value as sent */
};

#define BAD(n, v, rc) {n, v, rc, NULL}

static const struct set sets[] = {
  {"E", "off", 0, NULL},
  {"E", "ON", 0, "on"},
  BAD("E", "of", M0_ERR_PARAM),
  BAD("E", "", M0_ERR_PARAM),
  BAD("E", "1", M0_ERR_PARAM),
  BAD("E", "on,off", M0_ERR_PARAM),

  {"WEBU", "bob,secret", 0, NULL},
  {"WEBU", "abcdefghijklmno,p", 0, NULL},
  {"WEBU", "u,abcdefghijklmno", 0, NULL},
  BAD("WEBU", "abcdefghijklmnop,p", M0_ERR_PARAM),
  BAD("WEBU", "u,abcdefghijklmnop", M0_ERR_PARAM),
  BAD("WEBU", "bob", M0_ERR_PARAM),
  BAD("WEBU", "a,b,c", M0_ERR_PARAM),
  BAD("WEBU", ",x", M0_ERR_PARAM),
  BAD("WEBU", "x,", M0_ERR_PARAM),

  {"WANN", "DHCP", 0, "DHCP,0.0.0.0,0.0.0.0,0.0.0.0"},
  {"WANN", "STATIC,192.168.1.10,255.255.255.0,192.168.1.1", 0, NULL},
  {"WANN", "static,10.0.0.2,255.0.0.0,10.0.0.1", 0, "STATIC,10.0.0.2,255.0.0.0,10.0.0.1"},
  {"WANN", "dhcp", 0, "DHCP,10.0.0.2,255.0.0.0,10.0.0.1"},
  {"WANN", "DHCP,1.2.3.4,255.255.0.0,1.2.0.1", 0, NULL},
  BAD("WANN", "STATIC", M0_ERR_PARAM),
  BAD("WANN", "STATIC,1.2.3.4", M0_ERR_PARAM),
  BAD("WANN", "STATIC,1.2.3.4,255.0.0.0", M0_ERR_PARAM),
  BAD("WANN", "STATIC,256.1.1.1,255.0.0.0,1.1.1.1", M0_ERR_PARAM),
  BAD("WANN", "AUTO", M0_ERR_PARAM),
  BAD("WANN", "STATIC,1.2.3.4,255.0.0.0,1.2.3.1,9", M0_ERR_PARAM),

  {"DNS", "8.8.8.8", 0, NULL},
  {"DNS", "0.0.0.0", 0, NULL},
  {"DNS", "255.255.255.255", 0, NULL},
  BAD("DNS", "8.8.8", M0_ERR_PARAM),
  BAD("DNS", "8.8.8.8.8", M0_ERR_PARAM),
  BAD("DNS", "1.2.3.256", M0_ERR_PARAM),
  BAD("DNS", "a.b.c.d", M0_ERR_PARAM),
  BAD("DNS", "", M0_ERR_PARAM),

  {"WEBPORT", "1", 0, NULL},
  {"WEBPORT", "65535", 0, NULL},
  {"WEBPORT", "8080", 0, NULL},
  BAD("WEBPORT", "0", M0_ERR_PARAM),
  BAD("WEBPORT", "65536", M0_ERR_PARAM),
  BAD("WEBPORT", "-1", M0_ERR_PARAM),
  BAD("WEBPORT", "8o", M0_ERR_PARAM),
  BAD("WEBPORT", "", M0_ERR_PARAM),

  {"UART", "9600,8,1,NONE,NFC", 0, NULL},
  {"UART", "600,5,2,ODD,NFC", 0, NULL},
  {"UART", "460800,8,1,even,nfc", 0, "460800,8,1,EVEN,NFC"},
  {"UART", "115200,7,1,MARK,NFC", 0, "115200,7,1,MASK,NFC"},
  {"UART", "115200,8,1,SPACE,NFC", 0, NULL},
  {"UART", "57600,6,1,MASK,NFC", 0, NULL},
  BAD("UART", "599,8,1,NONE,NFC", M0_ERR_PARAM),
  BAD("UART", "460801,8,1,NONE,NFC", M0_ERR_PARAM),
  BAD("UART", "9600,4,1,NONE,NFC", M0_ERR_PARAM),
  BAD("UART", "9600,9,1,NONE,NFC", M0_ERR_PARAM),
  BAD("UART", "9600,8,0,NONE,NFC", M0_ERR_PARAM),
  BAD("UART", "9600,8,3,NONE,NFC", M0_ERR_PARAM),
  BAD("UART", "9600,8,1,FOO,NFC", M0_ERR_PARAM),
  BAD("UART", "9600,8,1,NONE,FC", M0_ERR_PARAM),
  BAD("UART", "9600,8,1,NONE", M0_ERR_PARAM),
  BAD("UART", "9600,8,1,NONE,NFC,1", M0_ERR_PARAM),

  {"SOCK", "UDPS,10.0.0.1,9000", 0, NULL},
  {"SOCK", "tcps,example.com,80", 0, "TCPS,example.com,80"},
  {"SOCK", "HTPC,a23456789012345678901234567890,65535", 0, NULL},
  {"SOCK", "UDPC,1.2.3.4,1", 0, NULL},
  BAD("SOCK", "TCPC,a234567890123456789012345678901,1", M0_ERR_PARAM),
  BAD("SOCK", "TCPC,1.2.3.4,0", M0_ERR_PARAM),
  BAD("SOCK", "TCPC,1.2.3.4,65536", M0_ERR_PARAM),
  BAD("SOCK", "FOO,1.2.3.4,1", M0_ERR_PARAM),
  BAD("SOCK", "TCPC,1.2.3.4", M0_ERR_PARAM),
  BAD("SOCK", "TCPC,,1", M0_ERR_PARAM),
  {"NETP", "TCPC,192.168.0.7,502", 0, NULL},
  BAD("NETP", "TCPC,192.168.0.7", M0_ERR_PARAM),

  {"TCPSE", "kick", 0, NULL},
  {"TCPSE", "KEEP", 0, "keep"},
  BAD("TCPSE", "drop", M0_ERR_PARAM),

  {"SOCKPORT", "0", 0, NULL},
  {"SOCKPORT", "65535", 0, NULL},
  BAD("SOCKPORT", "65536", M0_ERR_PARAM),
  BAD("SOCKPORT", "-1", M0_ERR_PARAM),

  {"RFCEN", "off", 0, NULL},
  {"RFCEN", "on", 0, NULL},
  BAD("RFCEN", "1", M0_ERR_PARAM),

  {"REGEN", "mac", 0, NULL},
  {"REGEN", "USR", 0, "usr"},
  {"REGEN", "off", 0, NULL},
  BAD("REGEN", "on", M0_ERR_PARAM),

  {"REGTCP", "every", 0, NULL},
  {"REGTCP", "FIRST", 0, "first"},
  BAD("REGTCP", "all", M0_ERR_PARAM),

  {"REGCLOUD", "abcdefghijklmnopqrst,1234567", 0, NULL},
  {"REGCLOUD", "ABCDEFGHIJKLMNOPQRST,1", 0, NULL},
  BAD("REGCLOUD", "abcdefghijklmnopqrs,1234567", M0_ERR_PARAM),
  BAD("REGCLOUD", "abcdefghijklmnopqrstu,1234567", M0_ERR_PARAM),
  BAD("REGCLOUD", "abcdefghijklmnopqrst,12345678", M0_ERR_PARAM),
  BAD("REGCLOUD", "abcdefghijklmnopqrst,", M0_ERR_PARAM),
  BAD("REGCLOUD", "abcdefghijklmnopqrst", M0_ERR_PARAM),

  {"REGUSR", "41", 0, NULL},
  {"REGUSR", "ab0c", 0, "AB0C"},
  {"REGUSR",
   "00112233445566778899AABBCCDDEEFF0011223344556677889900112233445566778899AABBCCDD", 0,
   NULL},
  BAD("REGUSR",
      "00112233445566778899AABBCCDDEEFF0011223344556677889900112233445566778899AABBCCDDEE",
      M0_ERR_PARAM),
  BAD("REGUSR", "414", M0_ERR_PARAM),
  BAD("REGUSR", "ZZ", M0_ERR_PARAM),
  BAD("REGUSR", "", M0_ERR_PARAM),

  {"HTPTP", "POST", 0, NULL},
  {"HTPTP", "get", 0, "GET"},
  BAD("HTPTP", "PUT", M0_ERR_PARAM),

  {"HTPURL", "/a", 0, NULL},
  {"HTPURL", "/", 0, NULL},
  {"HTPURL", "/234567890123456789012345678x", 0, NULL},
  {"HTPURL", "/a,b?c=1", 0, NULL},
  BAD("HTPURL", "/234567890123456789012345678xy", M0_ERR_PARAM),
  BAD("HTPURL", "a", M0_ERR_PARAM),
  BAD("HTPURL", "", M0_ERR_PARAM),

  {"HTPHEAD", "", 0, NULL},
  {"HTPHEAD", "A: b, c<<CRLF>>D: e", 0, NULL},
  {"HTPHEAD", "x", 0, NULL},

  {"HTPCHD", "on", 0, NULL},
  {"HTPCHD", "OFF", 0, "off"},
  BAD("HTPCHD", "yes", M0_ERR_PARAM),
  {"HEARTEN", "on", 0, NULL},
  {"HEARTEN", "OFF", 0, "off"},
  BAD("HEARTEN", "yes", M0_ERR_PARAM),

  {"HEARTTP", "COM", 0, NULL},
  {"HEARTTP", "net", 0, "NET"},
  BAD("HEARTTP", "TCP", M0_ERR_PARAM),

  {"HEARTTM", "1", 0, NULL},
  {"HEARTTM", "65535", 0, NULL},
  BAD("HEARTTM", "0", M0_ERR_PARAM),
  BAD("HEARTTM", "65536", M0_ERR_PARAM),

  {"HEARTDT", "00FF", 0, NULL},
  {"HEARTDT", "7777772E7573722E636E7777772E7573722E636E7777772E7573722E636E7777772E7573722E636E",
   0, NULL},
  BAD("HEARTDT",
      "7777772E7573722E636E7777772E7573722E636E7777772E7573722E636E7777772E7573722E636E77",
      M0_ERR_PARAM),
  BAD("HEARTDT", "0", M0_ERR_PARAM),
  BAD("HEARTDT", "GG", M0_ERR_PARAM),

  {"SCSLINK", "on", 0, NULL},
  {"SCSLINK", "OFF", 0, "off"},
  BAD("SCSLINK", "yes", M0_ERR_PARAM),
  {"CLIENTRST", "on", 0, NULL},
  {"CLIENTRST", "OFF", 0, "off"},
  BAD("CLIENTRST", "yes", M0_ERR_PARAM),
  {"INDEXEN", "on", 0, NULL},
  {"INDEXEN", "OFF", 0, "off"},
  BAD("INDEXEN", "yes", M0_ERR_PARAM),
  {"SOCKSL", "on", 0, NULL},
  {"SOCKSL", "OFF", 0, "off"},
  BAD("SOCKSL", "yes", M0_ERR_PARAM),
  {"UARTCLBUF", "on", 0, NULL},
  {"UARTCLBUF", "OFF", 0, "off"},
  BAD("UARTCLBUF", "yes", M0_ERR_PARAM),

  {"SHORTO", "2", 0, NULL},
  {"SHORTO", "255", 0, NULL},
  BAD("SHORTO", "1", M0_ERR_PARAM),
  BAD("SHORTO", "256", M0_ERR_PARAM),

  {"RSTIM", "0", 0, NULL},
  {"RSTIM", "60", 0, NULL},
  {"RSTIM", "65535", 0, NULL},
  BAD("RSTIM", "59", M0_ERR_PARAM),
  BAD("RSTIM", "1", M0_ERR_PARAM),
  BAD("RSTIM", "65536", M0_ERR_PARAM),

  {"MAXSK", "1", 0, NULL},
  {"MAXSK", "8", 0, NULL},
  BAD("MAXSK", "0", M0_ERR_PARAM),
  BAD("MAXSK", "9", M0_ERR_PARAM),

  {"MID", "A", 0, NULL},
  {"MID", "abcdefghijklmn", 0, NULL},
  BAD("MID", "abcdefghijklmno", M0_ERR_PARAM),
  BAD("MID", "", M0_ERR_PARAM),
  BAD("MID", "a,b", M0_ERR_PARAM),

  {NULL, NULL, 0, NULL},
};

static void check_set(const struct set *s) {
  const struct m0_param *p = m0_param_find(s->name, strlen(s->name));
  struct m0_config saved_before = *m0_dev_saved(&D), running_before = *m0_dev_running(&D);
  char line[400], query[64], flash_line[420];
  const char *shows = s->shows != NULL ? s->shows : s->value;

  assert_non_null(p);
  fake_clear(&F);
  snprintf(line, sizeof line, "AT+%s=%s", s->name, s->value);
  if (s->rc != 0) {
    want_err(line, s->rc);
    if (F.flash_attempts != 0 ||
        memcmp(m0_dev_saved(&D), &saved_before, sizeof saved_before) != 0 ||
        memcmp(m0_dev_running(&D), &running_before, sizeof running_before) != 0)
      fail_msg("%s changed something", line);
    return;
  }
  /* E turns the echo off for the line after it: read the reply raw. */
  if (!m0_dev_running(&D)->echo)
    assert_string_equal(fake_at(&F, line), OK_DOC);
  else if (p->id == M0_ID_E)
    assert_int_equal(strncmp(fake_at(&F, line), line, strlen(line)), 0);
  else
    expect_reply(line, OK_DOC);
  if (F.flash_saves != 1)
    fail_msg("%s: %u flash saves", line, F.flash_saves);
  snprintf(flash_line, sizeof flash_line, "\nAT+%s=%s\n", p->name, shows);
  if (strstr(F.flash, flash_line) == NULL)
    fail_msg("%s: flash lacks \"%s\"", line, flash_line + 1);
  /* Only E applies at once; everything else waits for a restart. */
  if (p->applies != M0_APPLIES_NOW &&
      memcmp(m0_dev_running(&D), &running_before, sizeof running_before) != 0)
    fail_msg("%s changed the running configuration", line);
  snprintf(query, sizeof query, "AT+%s", s->name);
  if (m0_dev_running(&D)->echo) {
    want_value(query, shows);
  } else {
    char want[600];
    snprintf(want, sizeof want, "\r\n+ok=%s\r\n", shows);
    assert_string_equal(fake_at(&F, query), want);
  }
}

static void test_sets(void **state) {
  const struct set *s;
  bool seen[M0_ID_COUNT] = {false};
  unsigned i;
  (void)state;
  for (s = sets; s->name != NULL; s++) {
    check_set(s);
    seen[m0_param_find(s->name, strlen(s->name))->id] = true;
  }
  /* Every settable command of the table was exercised. */
  for (i = 0; i < M0_ID_COUNT; i++) {
    if (m0_param_is_config(&m0_params[i]) && !seen[i])
      fail_msg("AT+%s has no set test", m0_params[i].name);
  }
}

static void test_set_is_case_insensitive(void **state) {
  (void)state;
  expect_reply("at+sockport=7", OK_DOC);
  want_value("AT+SOCKPORT", "7");
  expect_reply("At+NeTp=UDPS,1.1.1.1,2", OK_DOC);
  want_value("AT+SOCK", "UDPS,1.1.1.1,2");
}

static void test_failed_flash_changes_nothing(void **state) {
  struct m0_config before = *m0_dev_saved(&D);
  (void)state;
  F.flash_result = -1;
  want_err("AT+SOCKPORT=1234", M0_ERR_STATE);
  want_value("AT+SOCKPORT", "20108");
  want_err("AT+E=off", M0_ERR_STATE);
  assert_true(m0_dev_running(&D)->echo);
  want_value("AT+E", "on");
  assert_memory_equal(m0_dev_saved(&D), &before, sizeof before);
  F.flash_result = 0;
  expect_reply("AT+SOCKPORT=1234", OK_DOC);
  want_value("AT+SOCKPORT", "1234");
}

static void test_saved_and_running(void **state) {
  (void)state;
  expect_reply("AT+UART=9600,7,2,EVEN,NFC", OK_DOC);
  want_value("AT+UART", "9600,7,2,EVEN,NFC"); /* the saved value, at once */
  assert_int_equal(m0_dev_running(&D)->baud, 115200);
  assert_int_equal(m0_dev_saved(&D)->baud, 9600);
  expect_reply("AT+Z", OK_DOC);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  assert_int_equal(m0_dev_running(&D)->baud, 9600);
  assert_int_equal(m0_dev_running(&D)->stop_bits, 2);
}

/* ---- actions ---- */

static void test_z_drains_then_restarts(void **state) {
  uint64_t t_reply_end;
  int restart;
  (void)state;
  expect_reply("AT+Z", OK_DOC);
  restart = fake_find_event(&F, "restart {\"cause\":\"at\"}");
  assert_true(restart >= 0);
  t_reply_end = F.writes[F.nwrites - 1].at;
  assert_true(F.event_at[restart] >= t_reply_end); /* the reply left first */
  assert_true(fake_find_event(&F, "ready {\"mode\":\"transparent\",\"proto\":\"TCPC\"}") >
              restart);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  assert_int_equal(m0_dev_counters(&D)->restarts, 1);
}

static void test_bytes_after_z_are_dropped(void **state) {
  struct m0_config cfg;
  (void)state;
  m0_config_defaults(&cfg);
  cfg.baud = 600; /* the reply takes 11 bytes x 16.7 ms */
  fake_options(&O);
  fake_boot(&F, &D, &O, &cfg);
  fake_enter_command(&F);
  fake_rx(&F, "AT+Z\rAT\r");
  fake_advance(&F, 50 * MS);
  assert_int_equal(fake_count_events(&F, "restart "), 0);
  fake_rx(&F, "AT+VER\r");
  fake_run(&F, 10 * S);
  assert_string_equal(fake_out(&F), "AT+Z\r\r\n+ok\r\n");
  assert_int_equal(m0_dev_counters(&D)->uart_rx_dropped, 3 + 7);
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"from_host\",\"reason\":\"restarting\",\"bytes\":10}") >= 0);
  assert_int_equal(fake_count_events(&F, "restart "), 1);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  assert_int_equal(F.nframes, 0);
}

static void test_z_with_a_stuck_host_still_restarts(void **state) {
  (void)state;
  F.room = 2;
  fake_out_clear(&F);
  fake_rx(&F, "AT+Z\r");
  fake_run(&F, 10 * S);
  assert_int_equal(fake_count_events(&F, "restart {\"cause\":\"at\"}"), 1);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
}

static void test_entm(void **state) {
  (void)state;
  expect_reply("AT+ENTM", OK_DOC);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  assert_true(fake_find_event(&F, "mode.transparent {\"cause\":\"entm\"}") >= 0);
  assert_int_equal(fake_count_events(&F, "restart "), 0);
  fake_rx(&F, "data");
  fake_advance(&F, S);
  assert_int_equal(F.nframes, 1);
  assert_memory_equal(F.frames[0].data, "data", 4);
  assert_string_equal(fake_out(&F), "AT+ENTM\r\r\n+ok\r\n"); /* data is not echoed */
}

static void test_entm_crlf_leaves_no_lf_behind(void **state) {
  (void)state;
  fake_rx(&F, "AT+ENTM\r\n");
  fake_advance(&F, S);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  assert_int_equal(F.nframes, 0);
  fake_enter_command(&F);
  fake_rx(&F, "AT+ENTM\r");
  fake_advance(&F, 5 * MS);
  fake_rx(&F, "\nxy");
  fake_advance(&F, S);
  assert_int_equal(F.nframes, 1);
  assert_int_equal(F.frames[0].len, 2);
  assert_memory_equal(F.frames[0].data, "xy", 2);
  /* A LF long after the CR is data. */
  fake_frames_clear(&F);
  fake_enter_command(&F);
  fake_rx(&F, "AT+ENTM\r");
  fake_advance(&F, 500 * MS);
  fake_rx(&F, "\n");
  fake_advance(&F, S);
  assert_int_equal(F.nframes, 1);
  assert_memory_equal(F.frames[0].data, "\n", 1);
}

static void test_reld(void **state) {
  struct m0_config defaults;
  char text[M0_FLASH_MAX];
  size_t n;
  (void)state;
  m0_config_defaults(&defaults);
  expect_reply("AT+MID=bench", OK_DOC);
  expect_reply("AT+E=off", OK_DOC);
  fake_clear(&F);
  assert_string_equal(fake_at(&F, "AT+RELD"), "\r\n+ok=rebooting...\r\n");
  assert_int_equal(F.flash_saves, 1);
  n = m0_flash_format(&defaults, text, sizeof text);
  assert_int_equal(F.flash_len, n);
  assert_memory_equal(F.flash, text, n);
  assert_true(fake_find_event(&F, "restart {\"cause\":\"reld\"}") >= 0);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  assert_memory_equal(m0_dev_saved(&D), &defaults, sizeof defaults);
  assert_memory_equal(m0_dev_running(&D), &defaults, sizeof defaults);
  fake_enter_command(&F);
  want_value("AT+MID", "USR-M0");
}

/* A module with a profile: AT+RELD returns to its factory settings, not the built-in
 * ones, and echo off from the profile holds from the first byte after the restart. */
static void test_reld_returns_to_the_profile(void **state) {
  struct m0_config factory, saved;
  char reason[M0_PROFILE_REASON_MAX];
  static const char profile[] = "AT+E=off\nAT+SOCK=TCPS,0.0.0.0,9000\nAT+MID=Bench\n";
  char text[M0_FLASH_MAX];
  size_t n;
  (void)state;
  m0_config_defaults(&factory);
  assert_int_equal(m0_profile_parse(profile, strlen(profile), &factory, reason,
                                    sizeof reason), 0);
  /* Flash holds something else (saved by an earlier run): flash wins until AT+RELD. */
  saved = factory;
  assert_int_equal(m0_profile_set(&saved, "MID=Saved", 9, reason, sizeof reason), 0);
  assert_int_equal(m0_profile_set(&saved, "E=on", 4, reason, sizeof reason), 0);
  fake_options(&O);
  O.factory_settings = &factory;
  fake_boot(&F, &D, &O, &saved);
  memset(&factory, 0, sizeof factory); /* the device keeps its own copy */
  fake_enter_command(&F);
  want_value("AT+MID", "Saved");
  fake_clear(&F);
  fake_rx(&F, "AT+RELD\r");
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), "AT+RELD\r\r\n+ok=rebooting...\r\n"); /* echo: E=on */
  assert_int_equal(fake_count_events(&F, "restart {\"cause\":\"reld\"}"), 1);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  assert_false(m0_dev_saved(&D)->echo);
  assert_string_equal(m0_dev_saved(&D)->mid, "Bench");
  assert_int_equal(m0_dev_running(&D)->proto, M0_PROTO_TCPS);
  assert_int_equal(m0_dev_running(&D)->sock_port, 9000);
  n = m0_flash_format(m0_dev_saved(&D), text, sizeof text);
  assert_int_equal(F.flash_len, n);
  assert_memory_equal(F.flash, text, n);
  assert_non_null(strstr(text, "\nAT+E=off\n"));
  fake_enter_command(&F);
  fake_clear(&F);
  fake_rx(&F, "AT+MID\r");
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), "\r\n+ok=Bench\r\n"); /* no echo */
}

static void test_reld_field(void **state) {
  (void)state;
  expect_reply("AT+RELD", "\r\n+OK=rebooting...\r\n");
}

static void test_reld_flash_failure(void **state) {
  (void)state;
  expect_reply("AT+MID=bench", OK_DOC);
  F.flash_result = -1;
  want_err("AT+RELD", M0_ERR_STATE);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_COMMAND);
  assert_int_equal(fake_count_events(&F, "restart "), 0);
  want_value("AT+MID", "bench");
}

static void check_help(const char *ok) {
  static char want[8192];
  size_t n;
  unsigned i;
  n = (size_t)snprintf(want, sizeof want, "\r\n%s=", ok);
  for (i = 0; i < M0_ID_COUNT; i++)
    n += (size_t)snprintf(want + n, sizeof want - n, "AT+%s-%s\r\n", m0_params[i].name,
                          m0_params[i].help);
  expect_reply("AT+H", want);
  expect_reply("AT+H?", want);
}

static void test_help(void **state) {
  const char *out, *p;
  unsigned lines = 0;
  size_t n;
  (void)state;
  check_help("+ok");
  out = reply("AT+H");
  assert_int_equal(strncmp(out, "\r\n+ok=AT+E-", 11), 0);
  for (p = out; (p = strstr(p, "\r\nAT+")) != NULL; p += 2)
    lines++;
  assert_int_equal(lines + 1, 39); /* the first line follows "+ok=" */
  n = strlen(out);
  assert_true(n > 11);
  assert_string_equal(out + n - 11, "AT+H-Help\r\n");
}

static void test_help_field(void **state) {
  (void)state;
  check_help("+OK");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_at_alone, setup),
    cmocka_unit_test_setup(test_format_errors, setup),
    cmocka_unit_test_setup(test_unknown_commands, setup),
    cmocka_unit_test_setup(test_operator_errors, setup),
    cmocka_unit_test_setup(test_terminators, setup),
    cmocka_unit_test_setup(test_empty_lines_are_silent, setup),
    cmocka_unit_test_setup(test_commands_in_one_read_run_in_order, setup),
    cmocka_unit_test_setup(test_command_typed_slowly, setup),
    cmocka_unit_test_setup(test_echo_off_and_on, setup),
    cmocka_unit_test_setup(test_backspace, setup),
    cmocka_unit_test_setup(test_line_limit, setup),
    cmocka_unit_test_setup(test_queries_doc, setup),
    cmocka_unit_test_setup(test_queries_field, setup_field),
    cmocka_unit_test_setup(test_ok_and_error_spelling_field, setup_field),
    cmocka_unit_test_setup(test_sets, setup),
    cmocka_unit_test_setup(test_set_is_case_insensitive, setup),
    cmocka_unit_test_setup(test_failed_flash_changes_nothing, setup),
    cmocka_unit_test_setup(test_saved_and_running, setup),
    cmocka_unit_test_setup(test_z_drains_then_restarts, setup),
    cmocka_unit_test_setup(test_bytes_after_z_are_dropped, setup),
    cmocka_unit_test_setup(test_z_with_a_stuck_host_still_restarts, setup),
    cmocka_unit_test_setup(test_entm, setup),
    cmocka_unit_test_setup(test_entm_crlf_leaves_no_lf_behind, setup),
    cmocka_unit_test_setup(test_reld, setup),
    cmocka_unit_test_setup(test_reld_field, setup_field),
    cmocka_unit_test(test_reld_returns_to_the_profile),
    cmocka_unit_test_setup(test_reld_flash_failure, setup),
    cmocka_unit_test_setup(test_help, setup),
    cmocka_unit_test_setup(test_help_field, setup_field),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
