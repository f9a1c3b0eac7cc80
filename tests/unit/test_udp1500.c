/* test_udp1500.c: the UDP 1500 setup protocols (reference UDP1500.md) on the fake HAL.
 *
 * First the codec against the byte examples of the manuals and captures, the ones whose
 * checksums are wrong in print included (the checksum rules decide: a request with a
 * wrong sum is refused, a reply's sum is recomputed); then the device's answer to every
 * command and to every malformed datagram. Every refused datagram is checked to leave the
 * saved and running configuration and flash exactly as they were.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../src/core/core.h"
#include "fake_hal.h"
#include "m0/udp1500.h"

static struct fake F;
static struct m0_dev D;
static struct m0_dev_options O;
static struct m0_config C;

/* ---- helpers ---- */

/* Hex text ("FF 13 02", "d8-b0", "A8C0") to bytes; anything but hex digits separates. */
static size_t unhex(const char *s, uint8_t *out, size_t cap) {
  size_t n = 0;
  int hi = -1;
  for (; *s != '\0'; s++) {
    int v;
    char c = *s;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    else
      continue;
    if (hi < 0) {
      hi = v;
      continue;
    }
    if (n == cap)
      fail_msg("unhex: more than %zu bytes", cap);
    out[n++] = (uint8_t)(hi << 4 | v);
    hi = -1;
  }
  if (hi >= 0)
    fail_msg("unhex: odd number of digits in %s", s);
  return n;
}

static void assert_bytes(const uint8_t *got, size_t got_len, const char *want_hex) {
  uint8_t want[512];
  size_t n = unhex(want_hex, want, sizeof want), i;
  if (got_len != n || memcmp(got, want, n) != 0) {
    char line[1600];
    size_t pos = 0;
    for (i = 0; i < got_len && pos + 4 < sizeof line; i++)
      pos += (size_t)snprintf(line + pos, sizeof line - pos, "%02X ", got[i]);
    fail_msg("bytes differ: got %zu bytes %s, want %zu", got_len, line, n);
  }
}

struct sent {
  size_t len;
  uint8_t data[512];
  struct m0_net_addr to;
};
static struct sent Sent[16];
static unsigned NSent;

static void cap_send(void *ctx, const uint8_t *data, size_t len, const struct m0_net_addr *to) {
  (void)ctx;
  if (NSent == sizeof Sent / sizeof Sent[0] || len > sizeof Sent[0].data)
    fail_msg("udp1500_send: too many or too large (%zu bytes)", len);
  Sent[NSent].len = len;
  memcpy(Sent[NSent].data, data, len);
  Sent[NSent].to = *to;
  NSent++;
}

static const struct m0_net_addr FROM = {"127.0.0.1", 40000};
static const struct m0_net_addr HERE = {"127.0.0.1", 1500};
static const uint8_t MAC[6] = {0xD8, 0xB0, 0x4C, 0x00, 0x00, 0x01}; /* fake_options' MAC */

static int setup(void **state) {
  (void)state;
  fake_options(&O);
  m0_config_defaults(&C);
  NSent = 0;
  return 0;
}

static void boot(void) {
  fake_boot(&F, &D, &O, &C);
  F.hal.udp1500_send = cap_send;
  NSent = 0;
}

static void dgram(const uint8_t *p, size_t n) {
  m0_dev_on_udp1500(&D, F.now, p, n, &FROM, &HERE);
}

static void dgram_hex(const char *hex) {
  uint8_t buf[512];
  dgram(buf, unhex(hex, buf, sizeof buf));
}

/* An FF command from FROM with our MAC and the factory credentials. */
static void command(uint8_t cmd, const uint8_t *params, size_t plen) {
  uint8_t buf[M0_UDP1500_REQUEST_MAX];
  size_t n = m0_udp1500_request(buf, sizeof buf, cmd, MAC, "admin", "admin", params, plen);
  assert_true(n > 0);
  dgram(buf, n);
}

static void assert_event(const char *text) {
  if (fake_find_event(&F, text) < 0) {
    unsigned i;
    for (i = 0; i < F.nevents; i++)
      fprintf(stderr, "  event %u: %s\n", i, fake_event(&F, i));
    fail_msg("no event %s", text);
  }
}

static void assert_sent(unsigned i, const char *hex) {
  assert_true(i < NSent);
  assert_bytes(Sent[i].data, Sent[i].len, hex);
  assert_string_equal(Sent[i].to.host, FROM.host);
  assert_int_equal(Sent[i].to.port, FROM.port);
}

/* What must hold after a refused datagram: nothing saved, nothing running changed. */
struct snapshot {
  struct m0_config saved, running;
  unsigned flash_attempts;
  uint64_t restarts;
};

static struct snapshot snap(void) {
  struct snapshot s = {D.saved, D.running, F.flash_attempts, D.counters.restarts};
  return s;
}

static void assert_unchanged(const struct snapshot *s) {
  assert_memory_equal(&D.saved, &s->saved, sizeof D.saved);
  assert_memory_equal(&D.running, &s->running, sizeof D.running);
  assert_int_equal(F.flash_attempts, s->flash_attempts);
  assert_int_equal(D.counters.restarts, s->restarts);
}

static const char *value_of(const struct m0_udp1500_settings *s, enum m0_param_id id) {
  unsigned i;
  for (i = 0; i < s->n; i++) {
    if (s->s[i].id == id)
      return s->s[i].value;
  }
  return NULL;
}

static const char *saved_value(enum m0_param_id id) {
  static char buf[M0_VALUE_MAX];
  m0_param_format(&m0_params[id], &D.saved, M0_DIALECT_DOC, buf, sizeof buf);
  return buf;
}

static const char *running_value(enum m0_param_id id) {
  static char buf[M0_VALUE_MAX];
  m0_param_format(&m0_params[id], &D.running, M0_DIALECT_DOC, buf, sizeof buf);
  return buf;
}

/* ---- checksums and requests: the manuals' examples ---- */

static void test_request_examples_verify_and_are_rebuilt(void **state) {
  static const struct {
    const char *hex;
    uint8_t cmd;
    const char *mac, *user, *pass;
  } ex[] = {
      /* 302 p.26 restart and read; 410S p.30 reset, read, save; LIB's E2 capture. */
      {"FF 13 02 00 71 77 7C 42 2F 61 64 6D 69 6E 00 61 64 6D 69 6E 00 FC", 0x02,
       "0071777C422F", "admin", "admin"},
      {"FF 13 03 00 71 77 7C 42 2F 61 64 6D 69 6E 00 61 64 6D 69 6E 00 FD", 0x03,
       "0071777C422F", "admin", "admin"},
      {"FF 13 02 d8 b0 4c 00 04 c9 61 64 6d 69 6e 00 61 64 6d 69 6e 00 c8", 0x02,
       "D8B04C0004C9", "admin", "admin"},
      {"FF 13 03 AC CF 23 66 66 67 61 64 6D 69 6E 00 61 64 6D 69 6E 00 F9", 0x03,
       "ACCF23666667", "admin", "admin"},
      {"FF 13 04 AC CF 23 66 66 67 61 64 6D 69 6E 00 61 64 6D 69 6E 00 FA", 0x04,
       "ACCF23666667", "admin", "admin"},
      {"FF-13-03-D8-B0-4C-F6-9D-57-61-64-6D-69-6E-00-6A-73-6D-32-30-00-89", 0x03,
       "D8B04CF69D57", "admin", "jsm20"},
  };
  unsigned i;
  (void)state;
  assert_int_equal(m0_udp1500_sum(m0_udp1500_ff_search + 1, 2), m0_udp1500_ff_search[3]);
  for (i = 0; i < sizeof ex / sizeof ex[0]; i++) {
    uint8_t want[64], got[64], mac[6];
    size_t n = unhex(ex[i].hex, want, sizeof want);
    assert_int_equal(n, 22);
    assert_int_equal(want[1], n - 3);
    assert_int_equal(m0_udp1500_sum(want + 1, n - 2), want[n - 1]);
    assert_int_equal(m0_udp1500_mac_parse(ex[i].mac, mac), 0);
    assert_int_equal(m0_udp1500_request(got, sizeof got, ex[i].cmd, mac, ex[i].user,
                                        ex[i].pass, NULL, 0),
                     n);
    assert_memory_equal(got, want, n);
  }
}

/* 302 p.26's basic-setting example prints 04; the +sum rule gives 2F. */
#define EX302_BASIC                                                                        \
  "FF 56 05 00 71 77 7c 42 2F 61 64 6d 69 6e 00 61 64 6d 69 6e 00 95 63 03 00 00 00 50 00 " \
  "00 07 00 a8 c0 c9 00 a8 c0 00 FF FF FF 55 6c 6c 2d 66 32 00 00 00 00 00 00 00 00 00 00 " \
  "61 64 6d 69 6e 00 61 64 6d 69 6e 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "    \
  "00 00 04"
/* 302 p.28's factory default prints 07; the rule gives 05. */
#define EX302_DEFAULT "FF 13 0B 00 71 77 7C 42 2F 61 64 6D 69 6E 00 61 64 6D 69 6E 00 07"
/* 302 p.27's port example: LEN 52 (63 parameters) but 64 printed; the sum (F0) is right. */
#define EX302_PORT                                                                         \
  "FF 52 06 00 71 77 7C 42 2F 61 64 6D 69 6E 00 61 64 6D 69 6E 00 00 C2 01 00 "             \
  "08 01 01 01 00 00 00 00 8C 4E 2A 20 31 39 32 2E 31 36 38 2E 30 2E 32 30 31 00 00 00 00 " \
  "00 00 00 00 00 00 00 00 00 00 00 00 00 c9 00 A8C0 00 01 00 00 00 00 00 00 00 05 00 00 " \
  "00 00 F0"

static void test_documented_bad_checksums(void **state) {
  uint8_t b[128];
  size_t n;
  (void)state;
  n = unhex(EX302_BASIC, b, sizeof b);
  assert_int_equal(n, 3 + 18 + 67 + 1);
  assert_int_equal(b[1], n - 3);
  assert_int_equal(b[n - 1], 0x04);
  assert_int_equal(m0_udp1500_sum(b + 1, n - 2), 0x2F);
  n = unhex(EX302_DEFAULT, b, sizeof b);
  assert_int_equal(m0_udp1500_sum(b + 1, n - 2), 0x05);
  n = unhex(EX302_PORT, b, sizeof b);
  assert_int_equal(n, 3 + 18 + 64 + 1); /* one byte more than LEN says */
  assert_int_equal(b[1], 0x52);
  assert_int_equal(m0_udp1500_sum(b + 1, n - 2), 0xF0);
}

/* ---- the FF search reply ---- */

static void test_search_reply_410s_example_round_trips(void **state) {
  /* 410S p.33 (checksum EF verifies) */
  static const char *ex = "FF 24 01 00 4B C0 A8 00 4D D8 B0 4C 00 04 C9 DD 07 01 00 55 53 52 2D "
                          "54 43 50 32 33 32 2D 34 30 31 00 00 EF";
  uint8_t p[64], again[M0_UDP1500_SEARCH_REPLY_LEN];
  struct m0_udp1500_ident id;
  size_t n = unhex(ex, p, sizeof p);
  (void)state;
  assert_int_equal(m0_udp1500_search_reply_parse(p, n, &id), 0);
  assert_true(id.sum_ok);
  assert_int_equal(id.board_type, 0x00);
  assert_int_equal(id.board_id, 0x4B);
  assert_memory_equal(id.ip, ((uint8_t[]){192, 168, 0, 77}), 4);
  assert_memory_equal(id.mac, ((uint8_t[]){0xD8, 0xB0, 0x4C, 0x00, 0x04, 0xC9}), 6);
  assert_int_equal(id.version, 2013);
  assert_string_equal(id.name, "USR-TCP232-401");
  m0_udp1500_search_reply(again, &id);
  assert_memory_equal(again, p, n);
}

static void test_search_reply_usrwin_sample(void **state) {
  /* USRWin SampleResponse.txt: the first verifies; the second has another address but the
   * same checksum byte, so it cannot. */
  static const char *one = "FF 24 01 0D 44 C0 A8 00 8E D8 B0 4C E0 7E A3 01 00 01 00 55 53 52 "
                           "2D 57 53 61 00 00 00 00 00 00 00 00 00 8C";
  static const char *two = "FF 24 01 0D 44 0A 21 ED B4 D8 B0 4C E0 7E A3 01 00 01 00 55 53 52 "
                           "2D 57 53 61 00 00 00 00 00 00 00 00 00 8C";
  uint8_t p[64];
  struct m0_udp1500_ident id;
  size_t n;
  (void)state;
  n = unhex(one, p, sizeof p);
  assert_int_equal(m0_udp1500_search_reply_parse(p, n, &id), 0);
  assert_true(id.sum_ok);
  assert_string_equal(id.name, "USR-WSa");
  n = unhex(two, p, sizeof p);
  assert_int_equal(m0_udp1500_search_reply_parse(p, n, &id), 0);
  assert_false(id.sum_ok);
  assert_memory_equal(id.ip, ((uint8_t[]){10, 33, 237, 180}), 4);
}

static void test_search_reply_302_example_sum_corrected(void **state) {
  /* 302 p.29: printed F2; the -sum rule gives E7. Parsed (clients ignore the sum), and
   * our encoder writes E7 for the same fields. */
  static const char *ex = "FF 24 01 00 00 c0 a8 00 07 00 71 77 7c 42 2F 01 0c 00 00 55 53 52 2d "
                          "4b 32 00 00 00 00 00 00 00 00 00 00 F2";
  uint8_t p[64], again[M0_UDP1500_SEARCH_REPLY_LEN];
  struct m0_udp1500_ident id;
  size_t n = unhex(ex, p, sizeof p);
  (void)state;
  assert_int_equal(n, M0_UDP1500_SEARCH_REPLY_LEN);
  assert_int_equal(m0_udp1500_search_reply_parse(p, n, &id), 0);
  assert_false(id.sum_ok);
  assert_string_equal(id.name, "USR-K2");
  assert_int_equal(id.version, 0x0C01);
  m0_udp1500_search_reply(again, &id);
  assert_memory_equal(again, p, 35);
  assert_int_equal(again[35], 0xE7);
}

static void test_search_reply_parse_refuses_other_datagrams(void **state) {
  uint8_t p[40];
  struct m0_udp1500_ident id;
  struct m0_udp1500_ident good = {.name = "x"};
  (void)state;
  m0_udp1500_search_reply(p, &good);
  assert_int_equal(m0_udp1500_search_reply_parse(p, 35, &id), -1);
  assert_int_equal(m0_udp1500_search_reply_parse(p, 37, &id), -1);
  p[1] = 0x21;
  assert_int_equal(m0_udp1500_search_reply_parse(p, 36, &id), -1);
  p[1] = 0x24;
  p[2] = 0x02;
  assert_int_equal(m0_udp1500_search_reply_parse(p, 36, &id), -1);
  p[2] = 0x01;
  p[0] = 0xFE; /* TI's original tag */
  assert_int_equal(m0_udp1500_search_reply_parse(p, 36, &id), -1);
}

/* ---- blocks ---- */

/* 302 p.30's read reply, first datagram (130 bytes: basic + port). */
#define EX302_READ_130                                                                      \
  "95 63 03 00 00 00 50 00 00 07 00 A8 C0 01 00 A8 C0 00 FF FF FF 55 53 52 2D 54 43 50 32 "  \
  "33 32 2D 33 31 30 00 00 61 64 6D 69 6E 00 61 64 6D 69 6E 00 00 01 00 A4 AC CF 23 20 FE " \
  "10 00 00 00 00 00 00 00 00 80 25 00 00 08 01 01 01 00 00 00 00 8C 4E 2A 20 31 39 32 2E "  \
  "31 36 38 2E 31 2E 31 33 33 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 85 01 A8 " \
  "C0 00 01 00 00 00 00 00 00 00 00 00 00 00"

static void test_302_read_example_decodes(void **state) {
  uint8_t p[160];
  struct m0_udp1500_settings s;
  struct m0_config cfg;
  unsigned failed = 99;
  size_t n = unhex(EX302_READ_130, p, sizeof p);
  (void)state;
  assert_int_equal(n, M0_UDP1500_BASIC_LEN + M0_UDP1500_PORT_BLOCK_LEN);
  m0_config_defaults(&cfg);
  assert_int_equal(m0_udp1500_basic_settings(p, &cfg, &s), 0);
  assert_string_equal(value_of(&s, M0_ID_WANN), "DHCP,192.168.0.7,255.255.255.0,192.168.0.1");
  assert_string_equal(value_of(&s, M0_ID_MID), "USR-TCP232-310");
  assert_string_equal(value_of(&s, M0_ID_SCSLINK), "on"); /* ucIdType A4: bit 5 */
  assert_null(value_of(&s, M0_ID_DNS));     /* 0.0.0.0, but read-only in the block */
  assert_null(value_of(&s, M0_ID_WEBPORT)); /* 80: the factory value, unchanged */
  assert_null(value_of(&s, M0_ID_WEBU));    /* admin,admin */
  assert_null(value_of(&s, M0_ID_RFCEN));   /* bit 7 set, and on by default */
  assert_int_equal(m0_udp1500_settings_apply(&s, &cfg, &failed), 0);
  assert_string_equal(cfg.mid, "USR-TCP232-310");

  assert_int_equal(m0_udp1500_port_settings(p + M0_UDP1500_BASIC_LEN, &cfg, &s), 0);
  assert_string_equal(value_of(&s, M0_ID_UART), "9600,8,1,NONE,NFC");
  assert_string_equal(value_of(&s, M0_ID_SOCK), "TCPC,192.168.1.133,8234");
  assert_null(value_of(&s, M0_ID_SOCKPORT)); /* 20108 */
  /* tc_number is 0 in this example (the table beside it says 04): MAXSK refuses it. */
  assert_string_equal(value_of(&s, M0_ID_MAXSK), "0");
  assert_int_equal(m0_udp1500_settings_apply(&s, &cfg, &failed), M0_ERR_PARAM);
  assert_int_equal(s.s[failed].id, M0_ID_MAXSK);
}

static void test_e2_capture_basic_block_decodes(void **state) {
  /* LIB USRTools.cs: a real E2's read reply, its first 67 bytes. */
  static const char *ex = "1E-3C-03-80-20-19-50-00-02-C9-01-01-0A-01-01-01-0A-00-FF-FF-FF-4A-53-"
                          "4D-5F-30-31-30-31-30-31-00-00-00-00-00-00-61-64-6D-69-6E-00-6A-73-6D-"
                          "32-30-00-02-01-00-00-D8-B0-4C-F6-9D-57-10-0E-00-00-0B-00-00-00";
  uint8_t p[80];
  struct m0_udp1500_settings s;
  struct m0_config cfg;
  size_t n = unhex(ex, p, sizeof p);
  (void)state;
  assert_int_equal(n, M0_UDP1500_BASIC_LEN);
  m0_config_defaults(&cfg);
  assert_int_equal(m0_udp1500_basic_settings(p, &cfg, &s), 0);
  assert_string_equal(value_of(&s, M0_ID_WANN), "STATIC,10.1.1.201,255.255.255.0,10.1.1.1");
  assert_string_equal(value_of(&s, M0_ID_MID), "JSM_010101");
  assert_string_equal(value_of(&s, M0_ID_WEBU), "admin,jsm20");
  assert_string_equal(value_of(&s, M0_ID_RFCEN), "off");
  assert_null(value_of(&s, M0_ID_DNS)); /* 0.0.14.16 in the block: read-only */
  assert_int_equal(m0_udp1500_settings_apply(&s, &cfg, NULL), 0);
  assert_string_equal(cfg.webu_pass, "jsm20");
}

static void test_blocks_of_defaults(void **state) {
  uint8_t b[M0_UDP1500_BASIC_LEN], p[M0_UDP1500_PORT_BLOCK_LEN], h[M0_UDP1500_HEART_LEN];
  struct m0_config cfg;
  (void)state;
  m0_config_defaults(&cfg);
  m0_udp1500_basic_block(&cfg, MAC, b);
  assert_bytes(b, sizeof b,
               "00 00 00 80 00 00 50 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
               "55 53 52 2D 4D 30 00 00 00 00 00 00 00 00 00 00 61 64 6D 69 6E 00 "
               "61 64 6D 69 6E 00 00 01 00 80 D8 B0 4C 00 00 01 01 00 A8 C0 00 00 00 00");
  m0_udp1500_port_block(&cfg, p);
  assert_bytes(p, sizeof p,
               "00 C2 01 00 08 01 01 01 00 00 00 00 8C 4E 2A 20 "
               "31 39 32 2E 31 36 38 2E 30 2E 32 30 31 00 00 00 00 00 00 00 00 00 00 00 00 00 "
               "00 00 00 00 C9 00 A8 C0 00 01 00 04 00 00 00 00 00 00 00 00 00");
  m0_udp1500_heart_block(&cfg, h);
  assert_int_equal(h[0], 0xC0); /* heartbeat off, no registration, hex content */
  assert_int_equal(h[1], 30);
  assert_int_equal(h[2], 10);
  assert_int_equal(h[3], 10);
  assert_memory_equal(h + 4, "www.usr.cn", 10);
  assert_memory_equal(h + 44, "www.usr.cn", 10);
}

static void test_every_block_of_its_own_config_decodes_to_nothing(void **state) {
  uint8_t b[M0_UDP1500_BASIC_LEN], p[M0_UDP1500_PORT_BLOCK_LEN], h[M0_UDP1500_HEART_LEN],
      t[M0_UDP1500_T24_BLOCK_LEN];
  struct m0_udp1500_settings s;
  struct m0_config cfg;
  (void)state;
  m0_config_defaults(&cfg);
  /* Lossy values: a host name, HTPC, HEARTTM > 255, a 15-byte user, REGEN=mac. */
  snprintf(cfg.sock_addr, sizeof cfg.sock_addr, "example.com");
  cfg.proto = M0_PROTO_HTPC;
  cfg.hearttm = 300;
  snprintf(cfg.webu_user, sizeof cfg.webu_user, "administrator15");
  cfg.regen = M0_REGEN_MAC;
  m0_udp1500_basic_block(&cfg, MAC, b);
  m0_udp1500_port_block(&cfg, p);
  m0_udp1500_heart_block(&cfg, h);
  m0_udp1500_t24_block(&cfg, t);
  assert_int_equal(m0_udp1500_basic_settings(b, &cfg, &s), 0);
  assert_int_equal(s.n, 0);
  assert_int_equal(m0_udp1500_port_settings(p, &cfg, &s), 0);
  assert_int_equal(s.n, 0);
  assert_int_equal(m0_udp1500_heart_settings(h, &cfg, &s), 0);
  assert_int_equal(s.n, 0);
  assert_int_equal(m0_udp1500_t24_settings(t, &cfg, &s), 0);
  assert_int_equal(s.n, 0);
  assert_int_equal(h[1], 255);
  assert_int_equal(t[16], 1); /* HTPC reported as TCP client */
  assert_memory_equal(t, "\0\0\0\0", 4);
}

static void test_block_fields_that_mean_nothing(void **state) {
  uint8_t p[M0_UDP1500_PORT_BLOCK_LEN], h[M0_UDP1500_HEART_LEN], t[M0_UDP1500_T24_BLOCK_LEN];
  struct m0_udp1500_settings s;
  struct m0_config cfg;
  (void)state;
  m0_config_defaults(&cfg);
  m0_udp1500_port_block(&cfg, p);
  p[51] = 7;
  assert_int_equal(m0_udp1500_port_settings(p, &cfg, &s), M0_ERR_PARAM);
  assert_string_equal(s.bad, "ucWorkMode");
  assert_int_equal(s.n, 0);
  m0_udp1500_port_block(&cfg, p);
  p[5] = 9;
  assert_int_equal(m0_udp1500_port_settings(p, &cfg, &s), M0_ERR_PARAM);
  assert_string_equal(s.bad, "ucParity");
  m0_udp1500_port_block(&cfg, p);
  p[7] = 3; /* hardware flow control: the M0 has none */
  assert_int_equal(m0_udp1500_port_settings(p, &cfg, &s), M0_ERR_PARAM);
  assert_string_equal(s.bad, "ucFlowControl");
  m0_udp1500_port_block(&cfg, p);
  p[52] = 2;
  assert_int_equal(m0_udp1500_port_settings(p, &cfg, &s), M0_ERR_PARAM);
  assert_string_equal(s.bad, "HTPucFlags");
  m0_udp1500_heart_block(&cfg, h);
  h[0] |= 0x03;
  assert_int_equal(m0_udp1500_heart_settings(h, &cfg, &s), M0_ERR_PARAM);
  assert_string_equal(s.bad, "heartbeat direction");
  m0_udp1500_heart_block(&cfg, h);
  h[2] = 41;
  assert_int_equal(m0_udp1500_heart_settings(h, &cfg, &s), M0_ERR_PARAM);
  m0_udp1500_t24_block(&cfg, t);
  t[16] = 4; /* HTPC has no T24 code */
  assert_int_equal(m0_udp1500_t24_settings(t, &cfg, &s), M0_ERR_PARAM);
  assert_string_equal(s.bad, "work mode");
  m0_udp1500_t24_block(&cfg, t);
  t[20] |= 0x40;
  assert_int_equal(m0_udp1500_t24_settings(t, &cfg, &s), M0_ERR_PARAM);
  assert_string_equal(s.bad, "serial parameter");
}

/* ---- T24 frames ---- */

static void test_t24_302_set_example_decodes(void **state) {
  /* 302 p.36 Chart 3.7-10. */
  static const char *ex = "00 CE 83 25 4D 60 31 31 30 34 31 35 C9 00 A8 C0 2A 20 07 00 A8 C0 "
                          "8C 4E C9 00 A8 C0 01 00 C2 01 03 00 00 00 00 FF FF FF";
  uint8_t p[64], again[M0_UDP1500_T24_REQUEST_LEN], mac[6];
  struct m0_udp1500_settings s;
  struct m0_config cfg;
  size_t n = unhex(ex, p, sizeof p);
  (void)state;
  assert_int_equal(n, M0_UDP1500_T24_REQUEST_LEN);
  assert_memory_equal(p + 6, M0_UDP1500_T24_PASSWORD, 6);
  m0_config_defaults(&cfg);
  assert_int_equal(m0_udp1500_t24_settings(p + 12, &cfg, &s), 0);
  assert_string_equal(value_of(&s, M0_ID_WANN), "STATIC,192.168.0.7,255.255.255.0,192.168.0.201");
  assert_string_equal(value_of(&s, M0_ID_RFCEN), "off"); /* ID type 00 */
  assert_null(value_of(&s, M0_ID_SOCK));     /* TCPC,192.168.0.201,8234: the factory's */
  assert_null(value_of(&s, M0_ID_UART));     /* 115200 8N1 */
  assert_null(value_of(&s, M0_ID_SOCKPORT)); /* 20108 */
  unhex("00 CE 83 25 4D 60", mac, 6);
  m0_udp1500_t24_set(again, mac, "110415", p + 12);
  assert_memory_equal(again, p, n);
}

static void test_t24_capture_reply_parses(void **state) {
  /* The captures' l.65 reply, laid out by the reference's table. */
  static const char *ex = "9C A5 25 86 21 00 B1 0B 3D 6C 27 12 27 07 00 A8 C0 8C 4E 01 00 A8 C0 "
                          "00 00 C2 01 03 00 01 84 00 FF FF FF";
  uint8_t p[40];
  struct m0_udp1500_t24 t;
  size_t n = unhex(ex, p, sizeof p);
  (void)state;
  assert_int_equal(m0_udp1500_t24_parse(p, n, &t), 0);
  assert_int_equal(t.version, 0xB1);
  assert_memory_equal(t.dest_ip, ((uint8_t[]){39, 108, 61, 11}), 4);
  assert_int_equal(t.dest_port, 10002);
  assert_memory_equal(t.ip, ((uint8_t[]){192, 168, 0, 7}), 4);
  assert_int_equal(t.port, 20108);
  assert_memory_equal(t.gateway, ((uint8_t[]){192, 168, 0, 1}), 4);
  assert_int_equal(t.mode, 0);
  assert_int_equal(t.baud, 115200);
  assert_int_equal(t.serial, 0x03);
  assert_int_equal(t.id, 1);
  assert_int_equal(t.flags, 0x84);
  assert_memory_equal(t.mask, ((uint8_t[]){255, 255, 255, 0}), 4);
  assert_int_equal(m0_udp1500_t24_parse(p, 34, &t), -1);
  p[7 + 20] = 0x43; /* bits 7:6 set: no module sends that */
  assert_int_equal(m0_udp1500_t24_parse(p, n, &t), -1);
}

static void test_t24_serial_byte_all_forms(void **state) {
  static const struct {
    uint8_t data, stop, parity, byte;
  } ex[] = {
      {8, 1, M0_PARITY_NONE, 0x03}, {7, 2, M0_PARITY_EVEN, 0x1E}, {5, 1, M0_PARITY_ODD, 0x08},
      {6, 1, M0_PARITY_MASK, 0x29}, {8, 2, M0_PARITY_SPACE, 0x3F},
  };
  unsigned i;
  (void)state;
  for (i = 0; i < sizeof ex / sizeof ex[0]; i++) {
    struct m0_config cfg, back;
    uint8_t t[M0_UDP1500_T24_BLOCK_LEN];
    struct m0_udp1500_settings s;
    m0_config_defaults(&cfg);
    cfg.data_bits = ex[i].data;
    cfg.stop_bits = ex[i].stop;
    cfg.parity = ex[i].parity;
    m0_udp1500_t24_block(&cfg, t);
    assert_int_equal(t[20], ex[i].byte);
    /* and back, from the factory configuration */
    m0_config_defaults(&back);
    assert_int_equal(m0_udp1500_t24_settings(t, &back, &s), 0);
    if (i > 0) {
      assert_int_equal(m0_udp1500_settings_apply(&s, &back, NULL), 0);
      assert_int_equal(back.data_bits, ex[i].data);
      assert_int_equal(back.stop_bits, ex[i].stop);
      assert_int_equal(back.parity, ex[i].parity);
    }
  }
}

/* ---- the device: searches ---- */

static void test_ff_search_reply_exact(void **state) {
  (void)state;
  boot();
  dgram(m0_udp1500_ff_search, sizeof m0_udp1500_ff_search);
  assert_int_equal(NSent, 1);
  /* 127.0.0.1, MAC, V4017 = 0x0FB1 LE, USR-M0; -sum 23 */
  assert_sent(0, "FF 24 01 00 00 7F 00 00 01 D8 B0 4C 00 00 01 B1 0F 00 00 "
                 "55 53 52 2D 4D 30 00 00 00 00 00 00 00 00 00 00 23");
  assert_int_equal(m0_udp1500_sum(Sent[0].data, 36), 0);
  assert_event("udp1500.accepted {\"from\":\"127.0.0.1:40000\",\"proto\":\"ff\",\"cmd\":\"search\","
               "\"bytes\":4,\"reply\":36}");
}

static void test_ff_search_reports_running_name_and_wann_ip_when_here_is_any(void **state) {
  static const struct m0_net_addr any = {"0.0.0.0", 1500};
  struct m0_udp1500_ident id;
  (void)state;
  snprintf(C.mid, sizeof C.mid, "bench-7");
  C.wann_ip[0] = 192, C.wann_ip[1] = 168, C.wann_ip[2] = 0, C.wann_ip[3] = 7;
  boot();
  snprintf(D.saved.mid, sizeof D.saved.mid, "saved-only"); /* as after AT+MID=, no restart */
  m0_dev_on_udp1500(&D, F.now, m0_udp1500_ff_search, 4, &FROM, &any);
  assert_int_equal(NSent, 1);
  assert_int_equal(m0_udp1500_search_reply_parse(Sent[0].data, Sent[0].len, &id), 0);
  assert_true(id.sum_ok);
  assert_string_equal(id.name, "bench-7");
  assert_memory_equal(id.ip, ((uint8_t[]){192, 168, 0, 7}), 4);
}

static void test_t24_search_reply_exact(void **state) {
  (void)state;
  boot();
  dgram(m0_udp1500_t24_search, sizeof m0_udp1500_t24_search);
  assert_int_equal(NSent, 1);
  assert_sent(0, "D8 B0 4C 00 00 01 B1 C9 00 A8 C0 2A 20 00 00 00 00 8C 4E 00 00 00 00 01 "
                 "00 C2 01 03 00 01 80 00 00 00 00");
  assert_event("udp1500.accepted {\"from\":\"127.0.0.1:40000\",\"proto\":\"t24\",\"cmd\":\"search\","
               "\"bytes\":40,\"reply\":35}");
}

static void test_nothing_answered_while_booting(void **state) {
  struct snapshot s;
  (void)state;
  fake_start(&F, &D, &O, &C, 10 * S);
  F.hal.udp1500_send = cap_send;
  s = snap();
  dgram(m0_udp1500_ff_search, 4);
  dgram(m0_udp1500_t24_search, 40);
  assert_int_equal(NSent, 0);
  assert_int_equal(fake_count_events(&F, "udp1500.rejected {\"from\":\"127.0.0.1:40000\","
                                         "\"bytes\":"),
                   2);
  assert_int_equal(D.udp1500.rejected, 2);
  assert_unchanged(&s);
  fake_advance(&F, 200 * MS); /* booted: answered now */
  dgram(m0_udp1500_ff_search, 4);
  assert_int_equal(NSent, 1);
}

static void test_own_datagrams_and_replies_are_not_requests(void **state) {
  static const struct m0_net_addr self = {"127.0.0.1", 1500};
  uint8_t reply[M0_UDP1500_SEARCH_REPLY_LEN], t24[M0_UDP1500_T24_REPLY_LEN];
  struct m0_udp1500_ident id = {.name = "other"};
  struct snapshot s;
  (void)state;
  boot();
  s = snap();
  m0_dev_on_udp1500(&D, F.now, m0_udp1500_ff_search, 4, &self, &HERE);
  assert_event("udp1500.rejected {\"from\":\"127.0.0.1:1500\",\"bytes\":4,\"reason\":\"self\","
               "\"reply\":0}");
  m0_udp1500_search_reply(reply, &id);
  dgram(reply, sizeof reply);
  assert_event("udp1500.rejected {\"from\":\"127.0.0.1:40000\",\"bytes\":36,\"reason\":\"reply\","
               "\"reply\":0,\"proto\":\"ff\",\"cmd\":\"search\"}");
  dgram_hex("FF 01 05 4B"); /* a status reply */
  dgram_hex("FF 01 02 45");
  dgram_hex("FF 01 0B 50");
  memset(t24, 0x11, sizeof t24);
  dgram(t24, sizeof t24); /* a T24 reply */
  assert_int_equal(NSent, 0);
  assert_int_equal(fake_count_events(&F, "udp1500.rejected"), 6);
  assert_int_equal(fake_count_events(&F, "udp1500.accepted"), 0);
  assert_unchanged(&s);
}

static void test_malformed_datagrams_are_silent(void **state) {
  static const char *const silent[] = {
      "",                                /* empty: unknown */
      "00",                              /* unknown */
      "30 31 32",                        /* unknown */
      "FF",                              /* short */
      "FF 01 01",                        /* short */
      "FF 02 01 02",                     /* LEN says 2 */
      "FF 01 01 03",                     /* search, checksum wrong: names no module */
      "FF 02 01 00 03",                  /* a search with a parameter */
      "FF 05 03 00 00 00 00 08",         /* shorter than MAC + credentials */
      /* a restart for another MAC, right sum */
      "FF 13 02 D8 B0 4C 00 00 02 61 64 6D 69 6E 00 61 64 6D 69 6E 00 E8",
      /* a restart one byte longer than its LEN */
      "FF 13 02 D8 B0 4C 00 00 01 61 64 6D 69 6E 00 61 64 6D 69 6E 00 E7 00",
  };
  unsigned i;
  struct snapshot s;
  (void)state;
  boot();
  s = snap();
  for (i = 0; i < sizeof silent / sizeof silent[0]; i++) {
    dgram_hex(silent[i]);
    assert_int_equal(NSent, 0);
  }
  assert_int_equal(fake_count_events(&F, "udp1500.rejected"), i);
  assert_int_equal(D.udp1500.rejected, i);
  assert_int_not_equal(fake_find_event(&F, "udp1500.rejected {\"from\":\"127.0.0.1:40000\","
                                           "\"bytes\":22,\"reason\":\"mac\",\"reply\":0,"
                                           "\"proto\":\"ff\",\"cmd\":\"restart\"}"),
                       -1);
  assert_int_not_equal(fake_find_event(&F, "udp1500.rejected {\"from\":\"127.0.0.1:40000\","
                                           "\"bytes\":4,\"reason\":\"checksum\",\"reply\":0,"
                                           "\"proto\":\"ff\",\"cmd\":\"search\"}"),
                       -1);
  assert_unchanged(&s);
}

/* ---- the device: FF commands ---- */

static void test_restart(void **state) {
  (void)state;
  boot();
  command(M0_UDP1500_RESTART, NULL, 0);
  assert_int_equal(NSent, 1);
  assert_sent(0, "FF 01 02 4B");
  assert_event("udp1500.accepted {\"from\":\"127.0.0.1:40000\",\"proto\":\"ff\",\"cmd\":\"restart\","
               "\"bytes\":22,\"reply\":4}");
  assert_event("restart {\"cause\":\"udp1500\"}");
  assert_int_equal(m0_dev_mode(&D), M0_MODE_BOOTING);
  fake_advance(&F, 200 * MS);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
}

static void test_wrong_credentials_answer_p(void **state) {
  uint8_t buf[64];
  size_t n;
  struct snapshot s;
  (void)state;
  boot();
  s = snap();
  n = m0_udp1500_request(buf, sizeof buf, M0_UDP1500_RESTART, MAC, "admin", "admim", NULL, 0);
  dgram(buf, n);
  n = m0_udp1500_request(buf, sizeof buf, M0_UDP1500_READ, MAC, "root", "admin", NULL, 0);
  dgram(buf, n);
  n = m0_udp1500_request(buf, sizeof buf, M0_UDP1500_RESTART, MAC, "admin", "admin!", NULL, 0);
  dgram(buf, n); /* 6 bytes, no NUL: "admin!" is not "admin" */
  assert_int_equal(NSent, 3);
  assert_sent(0, "FF 01 02 50");
  assert_sent(1, "FF 01 03 50");
  assert_sent(2, "FF 01 02 50");
  assert_event("udp1500.rejected {\"from\":\"127.0.0.1:40000\",\"bytes\":22,"
               "\"reason\":\"credentials\",\"reply\":4,\"proto\":\"ff\",\"cmd\":\"restart\"}");
  assert_unchanged(&s);
}

static void test_bad_checksum_with_our_mac_answers_e(void **state) {
  uint8_t buf[64];
  size_t n;
  struct snapshot s;
  (void)state;
  boot();
  s = snap();
  n = m0_udp1500_request(buf, sizeof buf, M0_UDP1500_RESTART, MAC, "admin", "admin", NULL, 0);
  buf[n - 1] ^= 0x01;
  dgram(buf, n);
  assert_int_equal(NSent, 1);
  assert_sent(0, "FF 01 02 45");
  assert_event("udp1500.rejected {\"from\":\"127.0.0.1:40000\",\"bytes\":22,"
               "\"reason\":\"checksum\",\"reply\":4,\"proto\":\"ff\",\"cmd\":\"restart\"}");
  assert_unchanged(&s);
}

static void test_302_examples_against_their_mac(void **state) {
  uint8_t b[128];
  size_t n;
  struct snapshot s;
  (void)state;
  snprintf(O.factory.mac, sizeof O.factory.mac, "0071777C422F");
  boot();
  s = snap();
  dgram_hex(EX302_BASIC); /* printed sum 04: refused */
  assert_int_equal(NSent, 1);
  assert_sent(0, "FF 01 05 45");
  dgram_hex(EX302_DEFAULT); /* printed sum 07 */
  assert_sent(1, "FF 01 0B 45");
  dgram_hex(EX302_PORT); /* 64 parameters for LEN 0x52: silence */
  assert_int_equal(NSent, 2);
  assert_event("udp1500.rejected {\"from\":\"127.0.0.1:40000\",\"bytes\":86,\"reason\":\"length\","
               "\"reply\":0,\"proto\":\"ff\",\"cmd\":\"port\"}");
  assert_unchanged(&s);

  /* The basic example with the sum corrected: its values are taken. */
  n = unhex(EX302_BASIC, b, sizeof b);
  b[n - 1] = 0x2F;
  dgram(b, n);
  assert_sent(2, "FF 01 05 4B");
  assert_string_equal(saved_value(M0_ID_MID), "Ull-f2");
  assert_string_equal(saved_value(M0_ID_WANN), "DHCP,192.168.0.7,255.255.255.0,192.168.0.201");
  assert_string_equal(saved_value(M0_ID_DNS), "192.168.0.1"); /* read-only: 0.0.0.0 ignored */
  assert_string_equal(saved_value(M0_ID_RFCEN), "off");
  assert_string_equal(running_value(M0_ID_MID), "USR-M0"); /* until the restart */

  /* The port example without its extra byte: the sum still verifies (F0), but its
   * tc_number 0 is no MAXSK (1-8). */
  n = unhex(EX302_PORT, b, sizeof b);
  memmove(b + n - 2, b + n - 1, 1);
  b[1] = 0x52;
  dgram(b, n - 1);
  assert_sent(3, "FF 01 06 45");
  assert_event("udp1500.rejected {\"from\":\"127.0.0.1:40000\",\"bytes\":85,\"reason\":\"invalid\","
               "\"reply\":4,\"proto\":\"ff\",\"cmd\":\"port\",\"param\":\"MAXSK\"}");
}

static void test_read_three_datagrams(void **state) {
  uint8_t b[M0_UDP1500_BASIC_LEN], p[M0_UDP1500_PORT_BLOCK_LEN], h[M0_UDP1500_HEART_LEN];
  static const uint8_t zeros[M0_UDP1500_READ_GAP_LEN];
  (void)state;
  boot();
  m0_dev_set_param(&D, F.now, "MID", "saved-name"); /* reads show saved values */
  command(M0_UDP1500_READ, NULL, 0);
  assert_int_equal(NSent, 3);
  assert_int_equal(Sent[0].len, 130);
  assert_int_equal(Sent[1].len, 50);
  assert_int_equal(Sent[2].len, 84);
  m0_udp1500_basic_block(&D.saved, MAC, b);
  m0_udp1500_port_block(&D.saved, p);
  m0_udp1500_heart_block(&D.saved, h);
  assert_memory_equal(Sent[0].data, b, sizeof b);
  assert_memory_equal(Sent[0].data + sizeof b, p, sizeof p);
  assert_memory_equal(Sent[1].data, zeros, sizeof zeros);
  assert_memory_equal(Sent[2].data, h, sizeof h);
  assert_memory_equal(Sent[0].data + 21, "saved-name", 10);
  assert_memory_equal(Sent[0].data + 53, MAC, 6);
  assert_event("udp1500.accepted {\"from\":\"127.0.0.1:40000\",\"proto\":\"ff\",\"cmd\":\"read\","
               "\"bytes\":22,\"reply\":264}");
}

static void test_read_back_unchanged_writes_nothing(void **state) {
  uint8_t b[M0_UDP1500_BASIC_LEN], p[M0_UDP1500_PORT_BLOCK_LEN], h[M0_UDP1500_HEART_LEN];
  struct snapshot s;
  (void)state;
  C.hearttm = 300;
  snprintf(C.sock_addr, sizeof C.sock_addr, "example.com");
  boot();
  command(M0_UDP1500_READ, NULL, 0);
  memcpy(b, Sent[0].data, sizeof b);
  memcpy(p, Sent[0].data + sizeof b, sizeof p);
  memcpy(h, Sent[2].data, sizeof h);
  assert_int_equal(h[1], 255);
  NSent = 0;
  s = snap();
  command(M0_UDP1500_BASIC, b, sizeof b);
  command(M0_UDP1500_PORT0, p, sizeof p);
  command(M0_UDP1500_HEART, h, sizeof h);
  assert_int_equal(NSent, 3);
  assert_sent(0, "FF 01 05 4B");
  assert_sent(1, "FF 01 06 4B");
  assert_sent(2, "FF 01 21 4B");
  assert_unchanged(&s); /* no flash write: nothing changed */
  assert_int_equal(D.saved.hearttm, 300);
}

static void test_basic_write_saves_and_applies_at_restart(void **state) {
  uint8_t b[M0_UDP1500_BASIC_LEN];
  (void)state;
  boot();
  m0_udp1500_basic_block(&D.saved, MAC, b);
  memcpy(b + 21, "bench-9\0\0\0\0\0\0\0", 14);
  memcpy(b + 37, "root\0\0", 6);
  memcpy(b + 43, "s3cr\0\0", 6);
  b[6] = 0x90, b[7] = 0x1F; /* WEBPORT 8080 */
  b[9] = 0x08, b[10] = 0x00, b[11] = 0xA8, b[12] = 0xC0; /* 192.168.0.8 */
  b[52] |= 0x10;                                     /* CLIENTRST */
  command(M0_UDP1500_BASIC, b, sizeof b);
  assert_int_equal(NSent, 1);
  assert_sent(0, "FF 01 05 4B");
  assert_int_equal(F.flash_saves, 1); /* one write for every value */
  assert_string_equal(saved_value(M0_ID_MID), "bench-9");
  assert_string_equal(saved_value(M0_ID_WEBU), "root,s3cr");
  assert_string_equal(saved_value(M0_ID_WEBPORT), "8080");
  assert_string_equal(saved_value(M0_ID_WANN), "STATIC,192.168.0.8,0.0.0.0,0.0.0.0");
  assert_string_equal(saved_value(M0_ID_CLIENTRST), "on");
  assert_non_null(strstr(F.flash, "MID=bench-9"));
  /* Running values wait for the restart; the old credentials still authenticate. */
  assert_string_equal(running_value(M0_ID_MID), "USR-M0");
  command(M0_UDP1500_RESTART, NULL, 0);
  assert_sent(1, "FF 01 02 4B");
  fake_advance(&F, 200 * MS);
  assert_string_equal(running_value(M0_ID_MID), "bench-9");
  assert_string_equal(running_value(M0_ID_WEBU), "root,s3cr");
  NSent = 0;
  command(M0_UDP1500_READ, NULL, 0); /* admin/admin no longer */
  assert_sent(0, "FF 01 03 50");
}

static void test_write_answer_waits_for_flash(void **state) {
  uint8_t p[M0_UDP1500_PORT_BLOCK_LEN];
  struct snapshot s;
  (void)state;
  boot();
  F.flash_async = true;
  m0_udp1500_port_block(&D.saved, p);
  p[0] = 0x80, p[1] = 0x25, p[2] = 0x00; /* 9600 */
  p[51] = 3;                             /* TCPS */
  command(M0_UDP1500_PORT0, p, sizeof p);
  assert_int_equal(NSent, 0); /* not before flash has it */
  assert_true(F.flash_pending);
  /* another write meanwhile: busy */
  command(M0_UDP1500_BASIC, (uint8_t[M0_UDP1500_BASIC_LEN]){0}, M0_UDP1500_BASIC_LEN);
  assert_int_equal(NSent, 1);
  assert_sent(0, "FF 01 05 45");
  assert_event("udp1500.rejected {\"from\":\"127.0.0.1:40000\",\"bytes\":89,\"reason\":\"busy\","
               "\"reply\":4,\"proto\":\"ff\",\"cmd\":\"basic\"}");
  fake_flash_complete(&F, 0);
  assert_int_equal(NSent, 2);
  assert_sent(1, "FF 01 06 4B");
  assert_string_equal(saved_value(M0_ID_UART), "9600,8,1,NONE,NFC");
  assert_string_equal(saved_value(M0_ID_SOCK), "TCPS,192.168.0.201,8234");
  assert_event("udp1500.accepted {\"from\":\"127.0.0.1:40000\",\"proto\":\"ff\",\"cmd\":\"port\","
               "\"bytes\":85,\"reply\":4}");

  /* flash refuses the next one: E, nothing changed */
  s = snap();
  p[53] = 2; /* MAXSK */
  command(M0_UDP1500_PORT0, p, sizeof p);
  fake_flash_complete(&F, -5);
  assert_int_equal(NSent, 3);
  assert_sent(2, "FF 01 06 45");
  assert_event("udp1500.rejected {\"from\":\"127.0.0.1:40000\",\"bytes\":85,\"reason\":\"flash\","
               "\"reply\":4,\"proto\":\"ff\",\"cmd\":\"port\"}");
  assert_memory_equal(&D.saved, &s.saved, sizeof D.saved);
  assert_memory_equal(&D.running, &s.running, sizeof D.running);
}

static void test_invalid_values_change_nothing(void **state) {
  uint8_t b[M0_UDP1500_BASIC_LEN], p[M0_UDP1500_PORT_BLOCK_LEN];
  struct snapshot s;
  (void)state;
  boot();
  s = snap();
  m0_udp1500_basic_block(&D.saved, MAC, b);
  memcpy(b + 21, "a,b\0", 4); /* MID forbids commas */
  b[9] = 0x09;                /* a valid address change in the same block */
  command(M0_UDP1500_BASIC, b, sizeof b);
  assert_sent(0, "FF 01 05 45");
  assert_event("udp1500.rejected {\"from\":\"127.0.0.1:40000\",\"bytes\":89,\"reason\":\"invalid\","
               "\"reply\":4,\"proto\":\"ff\",\"cmd\":\"basic\",\"param\":\"MID\"}");
  m0_udp1500_basic_block(&D.saved, MAC, b);
  memset(b + 37, 0, 6); /* an empty user name */
  command(M0_UDP1500_BASIC, b, sizeof b);
  assert_sent(1, "FF 01 05 45");
  m0_udp1500_port_block(&D.saved, p);
  p[51] = 9;
  command(M0_UDP1500_PORT0, p, sizeof p);
  assert_sent(2, "FF 01 06 45");
  assert_event("udp1500.rejected {\"from\":\"127.0.0.1:40000\",\"bytes\":85,\"reason\":\"invalid\","
               "\"reply\":4,\"proto\":\"ff\",\"cmd\":\"port\",\"param\":\"ucWorkMode\"}");
  m0_udp1500_port_block(&D.saved, p);
  p[0] = p[1] = p[2] = p[3] = 0; /* baud 0 */
  command(M0_UDP1500_PORT0, p, sizeof p);
  assert_sent(3, "FF 01 06 45");
  assert_int_equal(NSent, 4);
  assert_unchanged(&s);
}

static void test_heart_block_write(void **state) {
  uint8_t h[M0_UDP1500_HEART_LEN];
  (void)state;
  boot();
  m0_udp1500_heart_block(&D.saved, h);
  h[0] = 0x01 | 0x08 | 0x10; /* heartbeat to the LAN, registration with every frame, strip */
  h[1] = 60;
  h[2] = 2;
  h[4] = 0xAB, h[5] = 0xCD;
  h[3] = 3;
  memcpy(h + 44, "ID1", 3);
  command(M0_UDP1500_HEART, h, sizeof h);
  assert_sent(0, "FF 01 21 4B");
  assert_string_equal(saved_value(M0_ID_HEARTEN), "on");
  assert_string_equal(saved_value(M0_ID_HEARTTP), "NET");
  assert_string_equal(saved_value(M0_ID_HEARTTM), "60");
  assert_string_equal(saved_value(M0_ID_HEARTDT), "ABCD");
  assert_string_equal(saved_value(M0_ID_REGEN), "usr");
  assert_string_equal(saved_value(M0_ID_REGTCP), "every");
  assert_string_equal(saved_value(M0_ID_REGUSR), "494431");
  assert_string_equal(saved_value(M0_ID_HTPCHD), "on");
  /* and off again, serial heartbeat, an empty content left alone */
  m0_udp1500_heart_block(&D.saved, h);
  h[0] = 0xC2;
  h[2] = 0;
  command(M0_UDP1500_HEART, h, sizeof h);
  assert_sent(1, "FF 01 21 4B");
  assert_string_equal(saved_value(M0_ID_HEARTTP), "COM");
  assert_string_equal(saved_value(M0_ID_REGEN), "off");
  assert_string_equal(saved_value(M0_ID_HTPCHD), "off");
  assert_string_equal(saved_value(M0_ID_HEARTDT), "ABCD");
}

static void test_factory_default(void **state) {
  (void)state;
  snprintf(C.mid, sizeof C.mid, "custom");
  boot();
  command(M0_UDP1500_DEFAULT, NULL, 0);
  assert_sent(0, "FF 01 0B 4B");
  assert_string_equal(saved_value(M0_ID_MID), "USR-M0");
  assert_string_equal(running_value(M0_ID_MID), "custom"); /* at the next restart */
  assert_int_equal(D.counters.restarts, 0);
  assert_event("udp1500.accepted {\"from\":\"127.0.0.1:40000\",\"proto\":\"ff\",\"cmd\":\"default\","
               "\"bytes\":22,\"reply\":4}");
}

static void test_unsupported_commands_and_wrong_parameter_lengths(void **state) {
  static const uint8_t cmds[] = {M0_UDP1500_SAVE, M0_UDP1500_CLOUD, 0x07, 0x22, 0x99};
  uint8_t params[90] = {0};
  unsigned i;
  struct snapshot s;
  (void)state;
  boot();
  s = snap();
  for (i = 0; i < sizeof cmds; i++) {
    char want[16];
    command(cmds[i], NULL, 0);
    snprintf(want, sizeof want, "FF 01 %02X 45", cmds[i]);
    assert_sent(i, want);
  }
  assert_event("udp1500.rejected {\"from\":\"127.0.0.1:40000\",\"bytes\":22,\"reason\":\"command\","
               "\"reply\":4,\"proto\":\"ff\",\"cmd\":\"cloud\"}");
  command(M0_UDP1500_BASIC, params, 66);
  assert_sent(i++, "FF 01 05 45");
  command(M0_UDP1500_PORT0, params, 64);
  assert_sent(i++, "FF 01 06 45");
  command(M0_UDP1500_HEART, params, 0);
  assert_sent(i++, "FF 01 21 45");
  command(M0_UDP1500_RESTART, params, 1);
  assert_sent(i++, "FF 01 02 45");
  command(M0_UDP1500_READ, params, 67);
  assert_sent(i++, "FF 01 03 45");
  assert_event("udp1500.rejected {\"from\":\"127.0.0.1:40000\",\"bytes\":89,\"reason\":\"params\","
               "\"reply\":4,\"proto\":\"ff\",\"cmd\":\"read\"}");
  assert_int_equal(NSent, i);
  assert_unchanged(&s);
}

/* ---- the device: the T24 set ---- */

static void test_t24_set_saves_answers_and_restarts(void **state) {
  uint8_t set[M0_UDP1500_T24_REQUEST_LEN], block[M0_UDP1500_T24_BLOCK_LEN];
  struct m0_udp1500_t24 t;
  (void)state;
  boot();
  m0_udp1500_t24_block(&D.saved, block);
  block[16] = 3;                                  /* TCP server */
  block[17] = 0x80, block[18] = 0x25, block[19] = 0; /* 9600 */
  block[20] = 0x1E;                               /* 7 data, 2 stop, even */
  block[6] = 0x07, block[7] = 0x00, block[8] = 0xA8, block[9] = 0xC0;
  m0_udp1500_t24_set(set, MAC, "110415", block);
  dgram(set, sizeof set);
  assert_int_equal(NSent, 1);
  assert_int_equal(m0_udp1500_t24_parse(Sent[0].data, Sent[0].len, &t), 0);
  assert_int_equal(t.mode, 3);
  assert_int_equal(t.baud, 9600);
  assert_memory_equal(t.ip, ((uint8_t[]){192, 168, 0, 7}), 4);
  assert_event("udp1500.accepted {\"from\":\"127.0.0.1:40000\",\"proto\":\"t24\",\"cmd\":\"set\","
               "\"bytes\":40,\"reply\":35}");
  assert_event("restart {\"cause\":\"udp1500\"}");
  fake_advance(&F, 200 * MS);
  assert_string_equal(running_value(M0_ID_UART), "9600,7,2,EVEN,NFC");
  assert_string_equal(running_value(M0_ID_SOCK), "TCPS,192.168.0.201,8234");
  assert_string_equal(running_value(M0_ID_WANN), "STATIC,192.168.0.7,0.0.0.0,0.0.0.0");
  /* a search now returns what was set (what fairwaves checks) */
  NSent = 0;
  dgram(m0_udp1500_t24_search, 40);
  assert_memory_equal(Sent[0].data + 7, set + 12, M0_UDP1500_T24_BLOCK_LEN);
}

static void test_t24_set_refusals_are_silent(void **state) {
  uint8_t set[M0_UDP1500_T24_REQUEST_LEN], block[M0_UDP1500_T24_BLOCK_LEN];
  static const uint8_t other[6] = {0xD8, 0xB0, 0x4C, 0x00, 0x00, 0x02};
  struct snapshot s;
  (void)state;
  boot();
  s = snap();
  m0_udp1500_t24_block(&D.saved, block);
  block[16] = 2;
  m0_udp1500_t24_set(set, other, "110415", block);
  dgram(set, sizeof set);
  m0_udp1500_t24_set(set, MAC, "110416", block);
  dgram(set, sizeof set);
  m0_udp1500_t24_set(set, MAC, "11041", block);
  dgram(set, sizeof set);
  block[16] = 4;
  m0_udp1500_t24_set(set, MAC, "110415", block);
  dgram(set, sizeof set);
  m0_udp1500_t24_block(&D.saved, block);
  block[17] = block[18] = block[19] = 0; /* baud 0: the table refuses it */
  m0_udp1500_t24_set(set, MAC, "110415", block);
  dgram(set, sizeof set);
  assert_int_equal(NSent, 0);
  assert_event("udp1500.rejected {\"from\":\"127.0.0.1:40000\",\"bytes\":40,\"reason\":\"mac\","
               "\"reply\":0,\"proto\":\"t24\",\"cmd\":\"set\"}");
  assert_int_equal(fake_count_events(&F, "udp1500.rejected {\"from\":\"127.0.0.1:40000\","
                                         "\"bytes\":40,\"reason\":\"password\""),
                   2);
  assert_event("udp1500.rejected {\"from\":\"127.0.0.1:40000\",\"bytes\":40,\"reason\":\"invalid\","
               "\"reply\":0,\"proto\":\"t24\",\"cmd\":\"set\",\"param\":\"work mode\"}");
  assert_event("udp1500.rejected {\"from\":\"127.0.0.1:40000\",\"bytes\":40,\"reason\":\"invalid\","
               "\"reply\":0,\"proto\":\"t24\",\"cmd\":\"set\",\"param\":\"UART\"}");
  assert_unchanged(&s);
}

static void test_t24_set_keeps_host_name_and_htpc(void **state) {
  uint8_t set[M0_UDP1500_T24_REQUEST_LEN], block[M0_UDP1500_T24_BLOCK_LEN];
  (void)state;
  snprintf(C.sock_addr, sizeof C.sock_addr, "iot.example.com");
  C.proto = M0_PROTO_HTPC;
  boot();
  m0_udp1500_t24_block(&D.saved, block);
  block[4] = 0x50, block[5] = 0x00; /* only the port: 80 */
  m0_udp1500_t24_set(set, MAC, "110415", block);
  dgram(set, sizeof set);
  assert_int_equal(NSent, 1);
  assert_string_equal(saved_value(M0_ID_SOCK), "HTPC,iot.example.com,80");
}

static void test_t24_set_flash_failure_is_silent_and_keeps_running(void **state) {
  uint8_t set[M0_UDP1500_T24_REQUEST_LEN], block[M0_UDP1500_T24_BLOCK_LEN];
  struct snapshot s;
  (void)state;
  boot();
  s = snap();
  F.flash_result = -5;
  m0_udp1500_t24_block(&D.saved, block);
  block[16] = 0;
  m0_udp1500_t24_set(set, MAC, "110415", block);
  dgram(set, sizeof set);
  assert_int_equal(NSent, 0);
  assert_event("udp1500.rejected {\"from\":\"127.0.0.1:40000\",\"bytes\":40,\"reason\":\"flash\","
               "\"reply\":0,\"proto\":\"t24\",\"cmd\":\"set\"}");
  assert_memory_equal(&D.saved, &s.saved, sizeof D.saved);
  assert_int_equal(D.counters.restarts, s.restarts);
}

static void test_no_hal_send_means_silence(void **state) {
  (void)state;
  boot();
  F.hal.udp1500_send = NULL;
  dgram(m0_udp1500_ff_search, 4);
  assert_event("udp1500.accepted {\"from\":\"127.0.0.1:40000\",\"proto\":\"ff\",\"cmd\":\"search\","
               "\"bytes\":4,\"reply\":0}");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_request_examples_verify_and_are_rebuilt, setup),
      cmocka_unit_test_setup(test_documented_bad_checksums, setup),
      cmocka_unit_test_setup(test_search_reply_410s_example_round_trips, setup),
      cmocka_unit_test_setup(test_search_reply_usrwin_sample, setup),
      cmocka_unit_test_setup(test_search_reply_302_example_sum_corrected, setup),
      cmocka_unit_test_setup(test_search_reply_parse_refuses_other_datagrams, setup),
      cmocka_unit_test_setup(test_302_read_example_decodes, setup),
      cmocka_unit_test_setup(test_e2_capture_basic_block_decodes, setup),
      cmocka_unit_test_setup(test_blocks_of_defaults, setup),
      cmocka_unit_test_setup(test_every_block_of_its_own_config_decodes_to_nothing, setup),
      cmocka_unit_test_setup(test_block_fields_that_mean_nothing, setup),
      cmocka_unit_test_setup(test_t24_302_set_example_decodes, setup),
      cmocka_unit_test_setup(test_t24_capture_reply_parses, setup),
      cmocka_unit_test_setup(test_t24_serial_byte_all_forms, setup),
      cmocka_unit_test_setup(test_ff_search_reply_exact, setup),
      cmocka_unit_test_setup(test_ff_search_reports_running_name_and_wann_ip_when_here_is_any,
                             setup),
      cmocka_unit_test_setup(test_t24_search_reply_exact, setup),
      cmocka_unit_test_setup(test_nothing_answered_while_booting, setup),
      cmocka_unit_test_setup(test_own_datagrams_and_replies_are_not_requests, setup),
      cmocka_unit_test_setup(test_malformed_datagrams_are_silent, setup),
      cmocka_unit_test_setup(test_restart, setup),
      cmocka_unit_test_setup(test_wrong_credentials_answer_p, setup),
      cmocka_unit_test_setup(test_bad_checksum_with_our_mac_answers_e, setup),
      cmocka_unit_test_setup(test_302_examples_against_their_mac, setup),
      cmocka_unit_test_setup(test_read_three_datagrams, setup),
      cmocka_unit_test_setup(test_read_back_unchanged_writes_nothing, setup),
      cmocka_unit_test_setup(test_basic_write_saves_and_applies_at_restart, setup),
      cmocka_unit_test_setup(test_write_answer_waits_for_flash, setup),
      cmocka_unit_test_setup(test_invalid_values_change_nothing, setup),
      cmocka_unit_test_setup(test_heart_block_write, setup),
      cmocka_unit_test_setup(test_factory_default, setup),
      cmocka_unit_test_setup(test_unsupported_commands_and_wrong_parameter_lengths, setup),
      cmocka_unit_test_setup(test_t24_set_saves_answers_and_restarts, setup),
      cmocka_unit_test_setup(test_t24_set_refusals_are_silent, setup),
      cmocka_unit_test_setup(test_t24_set_keeps_host_name_and_htpc, setup),
      cmocka_unit_test_setup(test_t24_set_flash_failure_is_silent_and_keeps_running, setup),
      cmocka_unit_test_setup(test_no_hal_send_means_silence, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
