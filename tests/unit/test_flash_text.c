/* test_flash_text.c: the flash file format (spec §5): round trip of every parameter,
 * and what the loader does with files that are damaged, truncated or hand-edited; and
 * profiles (the user's factory settings): strict, with the line and the reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "m0/flash_text.h"

struct reports {
  unsigned count;
  unsigned lines[16];
  char last[160];
};

static void on_report(void *ctx, unsigned line, const char *message) {
  struct reports *r = ctx;
  if (r->count < 16)
    r->lines[r->count] = line;
  r->count++;
  snprintf(r->last, sizeof r->last, "%s", message);
}

static int set(struct m0_config *cfg, const char *name, const char *value) {
  return m0_param_set(m0_param_find(name, strlen(name)), cfg, value, strlen(value));
}

/* A value other than the factory default for every stored parameter. */
static void non_default_config(struct m0_config *cfg) {
  static const char *const values[][2] = {
    {"E", "off"}, {"WEBU", "root,s3cr3t pass"}, {"WANN", "DHCP,10.0.0.9,255.255.0.0,10.0.0.1"},
    {"DNS", "9.9.9.9"}, {"WEBPORT", "8081"}, {"UART", "9600,7,2,EVEN,NFC"},
    {"SOCK", "UDPS,device.local,4001"}, {"TCPSE", "kick"}, {"SOCKPORT", "0"},
    {"RFCEN", "off"}, {"REGEN", "usr"}, {"REGTCP", "every"},
    {"REGCLOUD", "01234567890123456789,pw"}, {"REGUSR", "00FF10"}, {"HTPTP", "POST"},
    {"HTPURL", "/api/in?x="}, {"HTPHEAD", "A: 1, 2<<CRLF>>B: =3"}, {"HTPCHD", "on"},
    {"HEARTEN", "on"}, {"HEARTTP", "COM"}, {"HEARTTM", "65535"}, {"HEARTDT", "CAFE"},
    {"SCSLINK", "on"}, {"CLIENTRST", "on"}, {"INDEXEN", "on"}, {"SOCKSL", "on"},
    {"SHORTO", "255"}, {"UARTCLBUF", "on"}, {"RSTIM", "60"}, {"MAXSK", "8"},
    {"MID", "bench #3"},
  };
  size_t i;
  m0_config_defaults(cfg);
  for (i = 0; i < sizeof values / sizeof values[0]; i++)
    assert_int_equal(set(cfg, values[i][0], values[i][1]), 0);
}

static void test_round_trip_every_parameter(void **state) {
  struct m0_config cfg, loaded, defaults;
  struct reports r = {0};
  char text[M0_FLASH_MAX];
  size_t len, i;
  (void)state;
  non_default_config(&cfg);
  m0_config_defaults(&defaults);
  /* Every stored parameter really differs from its default, so the round trip proves
   * each one is written and read. */
  for (i = 0; i < M0_ID_COUNT; i++) {
    char a[M0_VALUE_MAX], b[M0_VALUE_MAX];
    if (!m0_param_is_config(&m0_params[i]))
      continue;
    m0_param_format(&m0_params[i], &cfg, M0_DIALECT_DOC, a, sizeof a);
    m0_param_format(&m0_params[i], &defaults, M0_DIALECT_DOC, b, sizeof b);
    if (strcmp(a, b) == 0)
      fail_msg("%s is still at its default", m0_params[i].name);
  }
  len = m0_flash_format(&cfg, text, sizeof text);
  assert_true(len > 0);
  assert_int_equal(m0_flash_parse(text, len, &loaded, on_report, &r), M0_FLASH_OK);
  assert_int_equal(r.count, 0);
  assert_memory_equal(&loaded, &cfg, sizeof cfg);
}

static void test_format_is_readable_text(void **state) {
  struct m0_config cfg;
  char text[M0_FLASH_MAX];
  size_t len;
  (void)state;
  m0_config_defaults(&cfg);
  len = m0_flash_format(&cfg, text, sizeof text);
  assert_true(len > 0);
  assert_int_equal(strncmp(text, M0_FLASH_HEADER "\n", strlen(M0_FLASH_HEADER) + 1), 0);
  assert_non_null(strstr(text, "\nAT+UART=115200,8,1,NONE,NFC\n"));
  assert_non_null(strstr(text, "\nAT+SOCK=TCPC,192.168.0.201,8234\n"));
  /* An unset REGCLOUD has no valid AT form: it is left out, and loads as unset. */
  assert_null(strstr(text, "REGCLOUD"));
  assert_int_equal(text[len - 1], '\n');
  /* Too small a buffer is refused, not truncated. */
  assert_int_equal(m0_flash_format(&cfg, text, 100), 0);
}

static void test_defaults_round_trip(void **state) {
  struct m0_config cfg, loaded;
  char text[M0_FLASH_MAX];
  size_t len;
  (void)state;
  m0_config_defaults(&cfg);
  len = m0_flash_format(&cfg, text, sizeof text);
  assert_int_equal(m0_flash_parse(text, len, &loaded, NULL, NULL), M0_FLASH_OK);
  assert_memory_equal(&loaded, &cfg, sizeof cfg);
}

static void test_unknown_and_bad_lines_skipped(void **state) {
  static const char text[] = M0_FLASH_HEADER "\n"
                             "AT+UART=9600,8,1,NONE,NFC\n"
                             "AT+FOO=1\n"              /* 3: unknown */
                             "garbage line\n"          /* 4: not AT+ */
                             "AT+MAXSK=9\n"            /* 5: out of range */
                             "# a comment\n"
                             "\n"
                             "AT+VER=V1\n"             /* 8: not stored */
                             "AT+MID=kept\r\n"         /* CRLF accepted */
                             "AT+NETP=TCPS,1.2.3.4,99\n"; /* alias */
  struct m0_config cfg;
  struct reports r = {0};
  (void)state;
  assert_int_equal(m0_flash_parse(text, strlen(text), &cfg, on_report, &r), M0_FLASH_OK);
  assert_int_equal(r.count, 4);
  assert_int_equal(r.lines[0], 3);
  assert_int_equal(r.lines[1], 4);
  assert_int_equal(r.lines[2], 5);
  assert_int_equal(r.lines[3], 8);
  assert_int_equal(cfg.baud, 9600);
  assert_int_equal(cfg.maxsk, 4); /* bad value: factory default kept */
  assert_string_equal(cfg.mid, "kept");
  assert_int_equal(cfg.proto, M0_PROTO_TCPS);
  assert_int_equal(cfg.sock_port, 99);
}

static void test_missing_header_unparseable(void **state) {
  static const char text[] = "AT+UART=9600,8,1,NONE,NFC\n";
  struct m0_config cfg, defaults;
  struct reports r = {0};
  (void)state;
  m0_config_defaults(&defaults);
  assert_int_equal(m0_flash_parse(text, strlen(text), &cfg, on_report, &r),
                   M0_FLASH_UNPARSEABLE);
  assert_int_equal(r.count, 1);
  assert_non_null(strstr(r.last, "header"));
  assert_memory_equal(&cfg, &defaults, sizeof cfg);
}

static void test_wrong_version_unparseable(void **state) {
  static const char text[] = "# m0emu flash v9\nAT+MAXSK=2\n";
  struct m0_config cfg;
  (void)state;
  assert_int_equal(m0_flash_parse(text, strlen(text), &cfg, NULL, NULL),
                   M0_FLASH_UNPARSEABLE);
  assert_int_equal(cfg.maxsk, 4);
}

static void test_binary_and_oversized_unparseable(void **state) {
  static char big[M0_FLASH_MAX + 2];
  static const char binary[] = M0_FLASH_HEADER "\nAT+MAXSK=2\n\0\x01\x02";
  struct m0_config cfg;
  struct reports r = {0};
  (void)state;
  assert_int_equal(m0_flash_parse(binary, sizeof binary - 1, &cfg, on_report, &r),
                   M0_FLASH_UNPARSEABLE);
  assert_int_equal(cfg.maxsk, 4);
  assert_non_null(strstr(r.last, "NUL"));
  memset(big, '#', sizeof big);
  memcpy(big, M0_FLASH_HEADER "\n", strlen(M0_FLASH_HEADER) + 1);
  assert_int_equal(m0_flash_parse(big, sizeof big, &cfg, on_report, &r), M0_FLASH_UNPARSEABLE);
  assert_int_equal(m0_flash_parse("", 0, &cfg, on_report, &r), M0_FLASH_UNPARSEABLE);
}

/* A file cut anywhere (a copy interrupted, a disk full) loads what is whole, never
 * more, and never crashes: the first cut line is reported if it no longer parses. */
static void test_truncated_everywhere(void **state) {
  struct m0_config cfg, loaded, defaults;
  char text[M0_FLASH_MAX];
  size_t len, cut, header = strlen(M0_FLASH_HEADER);
  (void)state;
  non_default_config(&cfg);
  m0_config_defaults(&defaults);
  len = m0_flash_format(&cfg, text, sizeof text);
  for (cut = 0; cut <= len; cut++) {
    int rc = m0_flash_parse(text, cut, &loaded, NULL, NULL);
    if (cut < header) {
      assert_int_equal(rc, M0_FLASH_UNPARSEABLE);
      assert_memory_equal(&loaded, &defaults, sizeof loaded);
    } else {
      assert_int_equal(rc, M0_FLASH_OK);
    }
  }
  /* Cut inside the last value: MID keeps a valid prefix (the loader cannot know), but
   * cut inside UART's field list the parameter keeps its default. */
  {
    const char *uart = strstr(text, "AT+UART=");
    size_t at = (size_t)(uart - text) + strlen("AT+UART=9600,7");
    struct reports r = {0};
    assert_int_equal(m0_flash_parse(text, at, &loaded, on_report, &r), M0_FLASH_OK);
    assert_int_equal(r.count, 1);
    assert_int_equal(loaded.baud, 115200);
    assert_int_equal(loaded.echo, false); /* lines before the cut did load */
  }
}

/* ---- profiles ---- */

static void test_profile_applies_in_order(void **state) {
  static const char text[] = "# my bench module\r\n"
                             "\n"
                             "AT+E=off\n"
                             "AT+SOCK=TCPS,0.0.0.0,9000\n"
                             "# later lines win\n"
                             "AT+MID=first\n"
                             "AT+mid=second"; /* names are case-insensitive */
  struct m0_config cfg, want;
  char reason[M0_PROFILE_REASON_MAX] = "";
  (void)state;
  m0_config_defaults(&cfg);
  want = cfg;
  assert_int_equal(set(&want, "E", "off"), 0);
  assert_int_equal(set(&want, "SOCK", "TCPS,0.0.0.0,9000"), 0);
  assert_int_equal(set(&want, "MID", "second"), 0);
  assert_int_equal(m0_profile_parse(text, strlen(text), &cfg, reason, sizeof reason), 0);
  assert_string_equal(reason, "");
  assert_memory_equal(&cfg, &want, sizeof cfg);
}

/* A saved flash.conf is a profile as it is: the module's settings become another's
 * factory settings. */
static void test_flash_file_is_a_profile(void **state) {
  struct m0_config saved, cfg;
  char text[M0_FLASH_MAX], reason[M0_PROFILE_REASON_MAX];
  size_t len;
  (void)state;
  non_default_config(&saved);
  len = m0_flash_format(&saved, text, sizeof text);
  m0_config_defaults(&cfg);
  assert_int_equal(m0_profile_parse(text, len, &cfg, reason, sizeof reason), 0);
  assert_memory_equal(&cfg, &saved, sizeof cfg);
}

struct bad_profile {
  const char *text;
  unsigned line;
  const char *reason;
  size_t len; /* 0: strlen(text) */
};

static void test_profile_first_bad_line_refuses_it_whole(void **state) {
  static const struct bad_profile cases[] = {
    {"AT+E=off\nAT+UART=9600,8,1\n", 2,
     "invalid value '9600,8,1' for AT+UART: expected baud,data,stop,parity,flow (baud ", 0},
    {"AT+E=off\nE=on\n", 2, "expected an AT+NAME=value line, got 'E=on'", 0},
    {"\n\nAT+NOPE=1\n", 3, "unknown parameter 'NOPE'", 0},
    {"AT+Z=1\n", 1, "AT+Z is a command, not a setting", 0},
    {"AT+MAC=D8B04C000001\n", 1, "AT+MAC is a command, not a setting", 0},
    {"AT+E\n", 1, "expected NAME=VALUE", 0},
    {"AT+E=maybe\n", 1, "invalid value 'maybe' for AT+E: expected on|off (on, off)", 0},
    {"AT+RSTIM=30\n", 1, "invalid value '30' for AT+RSTIM", 0},
    {"AT+E=off\nAT+MID=a\0b\n", 2, "binary data (NUL byte)", sizeof "AT+E=off\nAT+MID=a\0b\n" - 1},
    {"AT+E=off\n  AT+MID=x\n", 2, "expected an AT+NAME=value line", 0},
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct m0_config cfg, before;
    char reason[M0_PROFILE_REASON_MAX] = "";
    size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
    m0_config_defaults(&cfg);
    assert_int_equal(set(&cfg, "MID", "kept"), 0);
    before = cfg;
    assert_int_equal(m0_profile_parse(cases[i].text, len, &cfg, reason, sizeof reason),
                     cases[i].line);
    if (strstr(reason, cases[i].reason) != reason) {
      print_error("case %zu: reason '%s', want it to start with '%s'\n", i, reason,
                  cases[i].reason);
      fail();
    }
    /* Nothing half-applied: the lines before the bad one are not kept either. */
    assert_memory_equal(&cfg, &before, sizeof cfg);
  }
}

static void test_profile_set_one_assignment(void **state) {
  struct m0_config cfg, before;
  char reason[M0_PROFILE_REASON_MAX];
  (void)state;
  m0_config_defaults(&cfg);
  assert_int_equal(m0_profile_set(&cfg, "E=off", 5, reason, sizeof reason), 0);
  assert_false(cfg.echo);
  assert_int_equal(m0_profile_set(&cfg, "AT+sock=UDPC,10.0.0.1,7000", 26, reason,
                                  sizeof reason), 0);
  assert_int_equal(cfg.proto, M0_PROTO_UDPC);
  assert_int_equal(cfg.sock_port, 7000);
  /* MID takes the whole rest of the line, '=' included, as on the serial port. */
  assert_int_equal(m0_profile_set(&cfg, "MID=a=b", 7, reason, sizeof reason), 0);
  assert_string_equal(cfg.mid, "a=b");
  before = cfg;
  assert_int_equal(m0_profile_set(&cfg, "UART=1,8,1,NONE,NFC", 19, reason, sizeof reason),
                   M0_ERR_PARAM);
  assert_non_null(strstr(reason, "invalid value '1,8,1,NONE,NFC' for AT+UART"));
  assert_non_null(strstr(reason, "baud 600-460800"));
  assert_int_equal(m0_profile_set(&cfg, "VER=1", 5, reason, sizeof reason), M0_ERR_OPERATOR);
  assert_int_equal(m0_profile_set(&cfg, "=on", 3, reason, sizeof reason), M0_ERR_FORMAT);
  assert_int_equal(m0_profile_set(&cfg, "ECHO=on", 7, reason, sizeof reason), M0_ERR_COMMAND);
  assert_string_equal(reason, "unknown parameter 'ECHO'");
  assert_memory_equal(&cfg, &before, sizeof cfg);
}

/* Flash over a profile: a missing or refused line keeps the profile's value, not the
 * built-in one (the profile is the factory); a valid line is what was saved. */
static void test_flash_over_a_profile(void **state) {
  static const char text[] = M0_FLASH_HEADER "\nAT+MID=saved\nAT+MAXSK=99\n";
  struct m0_config factory, cfg;
  struct reports r = {0};
  (void)state;
  m0_config_defaults(&factory);
  assert_int_equal(set(&factory, "E", "off"), 0);
  assert_int_equal(set(&factory, "MAXSK", "2"), 0);
  assert_int_equal(m0_flash_parse_over(text, strlen(text), &factory, &cfg, on_report, &r),
                   M0_FLASH_OK);
  assert_string_equal(cfg.mid, "saved");
  assert_false(cfg.echo);         /* no line: the profile's */
  assert_int_equal(cfg.maxsk, 2); /* refused line: the profile's */
  assert_int_equal(r.count, 1);
  assert_int_equal(m0_flash_parse_over("junk", 4, &factory, &cfg, NULL, NULL),
                   M0_FLASH_UNPARSEABLE);
  assert_memory_equal(&cfg, &factory, sizeof cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_round_trip_every_parameter),
    cmocka_unit_test(test_format_is_readable_text),
    cmocka_unit_test(test_defaults_round_trip),
    cmocka_unit_test(test_unknown_and_bad_lines_skipped),
    cmocka_unit_test(test_missing_header_unparseable),
    cmocka_unit_test(test_wrong_version_unparseable),
    cmocka_unit_test(test_binary_and_oversized_unparseable),
    cmocka_unit_test(test_truncated_everywhere),
    cmocka_unit_test(test_profile_applies_in_order),
    cmocka_unit_test(test_flash_file_is_a_profile),
    cmocka_unit_test(test_profile_first_bad_line_refuses_it_whole),
    cmocka_unit_test(test_profile_set_one_assignment),
    cmocka_unit_test(test_flash_over_a_profile),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
