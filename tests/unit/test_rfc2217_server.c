/* test_rfc2217_server.c: the UART's RFC 2217 server protocol (src/board/rfc2217_server.c):
 * the opening negotiation, RFC 1143 answers (no loops, refusals), every COM-PORT
 * subnegotiation and its answer, IAC escaping both ways, NVT line ends for a host that
 * refuses BINARY, back-pressure on both output buffers, and a whole session giving the
 * same result split at any byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "m0/params.h"
#include "rfc2217_server.h"

#define IAC "\xff"
#define SB IAC "\xfa"
#define SE IAC "\xf0"
#define WILL IAC "\xfb"
#define WONT IAC "\xfc"
#define DO IAC "\xfd"
#define DONT IAC "\xfe"
#define CPO "\x2c" /* COM-PORT-OPTION, 44 */

static struct m0__rfc2217_server S;
static uint8_t data[4096], reply[4096];
static struct m0__rfc2217_io io;

static const struct m0__rfc2217_line LINE_115200_8N1 = {115200, 8, M0_PARITY_NONE, 1};

static void io_reset(void) {
  io = (struct m0__rfc2217_io){.data = data, .data_cap = sizeof data, .reply = reply,
                               .reply_cap = sizeof reply};
}

static int setup(void **state) {
  (void)state;
  m0__rfc2217_server_init(&S, &LINE_115200_8N1,
                          M0__R2S_MODEM_CD | M0__R2S_MODEM_DSR | M0__R2S_MODEM_CTS, "m0emu");
  io_reset();
  m0__rfc2217_server_start(&S, &io);
  io_reset();
  return 0;
}

/* The host's COM-PORT option is on (its WILL answered our DO): subnegotiations below
 * are answered without the modem lines' first notification. */
static int setup_comport(void **state) {
  setup(state);
  assert_int_equal(m0__rfc2217_server_input(&S, (const uint8_t *)"\xff\xfb\x2c", 3, &io), 3);
  io_reset();
  return 0;
}

/* Feed a literal (sizeof - 1: literals may hold NUL), expecting every byte taken. */
#define FEED(lit) feed((const uint8_t *)(lit), sizeof(lit) - 1)
static void feed(const uint8_t *in, size_t len) {
  assert_int_equal(m0__rfc2217_server_input(&S, in, len, &io), len);
}

#define REPLY_IS(lit) reply_is((const uint8_t *)(lit), sizeof(lit) - 1)
static void reply_is(const uint8_t *want, size_t len) {
  if (io.reply_len != len || memcmp(io.reply, want, len) != 0) {
    fprintf(stderr, "reply (%zu):", io.reply_len);
    for (size_t i = 0; i < io.reply_len; i++)
      fprintf(stderr, " %u", io.reply[i]);
    fprintf(stderr, "\nwant  (%zu):", len);
    for (size_t i = 0; i < len; i++)
      fprintf(stderr, " %u", want[i]);
    fprintf(stderr, "\n");
  }
  assert_int_equal(io.reply_len, len);
  assert_memory_equal(io.reply, want, len);
  io.reply_len = 0;
}

#define DATA_IS(lit) data_is((const uint8_t *)(lit), sizeof(lit) - 1)
static void data_is(const uint8_t *want, size_t len) {
  assert_int_equal(io.data_len, len);
  assert_memory_equal(io.data, want, len);
  io.data_len = 0;
}

/* ---- negotiation ---- */

static void test_start_offers_binary_sga_and_asks_comport(void **state) {
  (void)state;
  m0__rfc2217_server_init(&S, &LINE_115200_8N1, 0, "x");
  io_reset();
  m0__rfc2217_server_start(&S, &io);
  REPLY_IS(WILL "\x00" DO "\x00" WILL "\x03" DO "\x03" DO CPO);
  assert_int_equal(sizeof(WILL "\x00" DO "\x00" WILL "\x03" DO "\x03" DO CPO) - 1,
                   M0__R2S_START_LEN);
}

/* What pyserial's rfc2217:// client sends on open, and its answers to our offers. */
static void test_pyserial_opening(void **state) {
  (void)state;
  FEED(DO "\x01" WILL "\x03" DO "\x03" DO CPO WILL CPO);
  /* ECHO refused (the module echoes itself); SGA was offered both ways (no answer);
   * DO COM-PORT agreed; WILL COM-PORT answers our DO: the modem lines follow. */
  REPLY_IS(WONT "\x01" WILL CPO SB CPO "\x6b\xb0" SE);
  FEED(DO "\x00" WILL "\x00"); /* the answers to our BINARY offers */
  REPLY_IS("");
  assert_int_equal(S.us[M0__R2S_OPT_BINARY], M0__R2S_YES);
  assert_int_equal(S.him[M0__R2S_OPT_BINARY], M0__R2S_YES);
  assert_int_equal(S.him[M0__R2S_OPT_COMPORT], M0__R2S_YES);
  assert_int_equal(S.us[M0__R2S_OPT_COMPORT], M0__R2S_YES);
  DATA_IS("");
}

/* pyserial checks its options before sending each: when our DO COM-PORT arrived first,
 * it never says WILL, and just sends commands. The first one is taken as its WILL. */
static void test_comport_without_will(void **state) {
  (void)state;
  FEED(DO "\x01" WILL "\x03" DO "\x03" DO "\x00" WILL "\x00" DO CPO);
  REPLY_IS(WONT "\x01" WILL CPO);
  FEED(SB CPO "\x02\x08" SE SB CPO "\x03\x01" SE);
  REPLY_IS(SB CPO "\x6b\xb0" SE SB CPO "\x66\x08" SE SB CPO "\x67\x01" SE);
  assert_int_equal(S.him[M0__R2S_OPT_COMPORT], M0__R2S_YES);
}

static void test_no_answer_loops(void **state) {
  (void)state;
  FEED(WILL CPO);
  REPLY_IS(SB CPO "\x6b\xb0" SE);
  FEED(WILL CPO DO "\x03" DO "\x03" WILL "\x00"); /* already agreed: silence */
  REPLY_IS("");
  /* Turning an agreed option off is answered once, and again only after it is on. */
  FEED(DONT "\x03");
  REPLY_IS(WONT "\x03");
  FEED(DONT "\x03");
  REPLY_IS("");
  FEED(DO "\x03");
  REPLY_IS(WILL "\x03");
  FEED(WONT CPO);
  REPLY_IS(DONT CPO);
  FEED(WONT CPO);
  REPLY_IS("");
  FEED(WILL CPO); /* on again: agreed, and the modem lines once more */
  REPLY_IS(DO CPO SB CPO "\x6b\xb0" SE);
}

static void test_unknown_options_refused(void **state) {
  (void)state;
  FEED(WILL "\x18" DO "\x18" WONT "\x18" DONT "\x18" DO "\x01" WILL "\x01");
  REPLY_IS(DONT "\x18" WONT "\x18" WONT "\x01" DONT "\x01");
}

/* ---- COM-PORT subnegotiations ---- */

static void test_set_baudrate(void **state) {
  (void)state;
  FEED(SB CPO "\x01\x00\x00\x25\x80" SE);
  REPLY_IS(SB CPO "\x65\x00\x00\x25\x80" SE);
  assert_int_equal(S.line.baud, 9600);
  assert_true(S.changes & M0__R2S_CH_LINE);
  S.changes = 0;
  FEED(SB CPO "\x01\x00\x00\x00\x00" SE); /* 0: a query */
  REPLY_IS(SB CPO "\x65\x00\x00\x25\x80" SE);
  assert_int_equal(S.changes, 0);
  /* 255 in a value is escaped both ways: 65535 = 00 00 FF FF. */
  FEED(SB CPO "\x01\x00\x00" IAC IAC IAC IAC SE);
  REPLY_IS(SB CPO "\x65\x00\x00" IAC IAC IAC IAC SE);
  assert_int_equal(S.line.baud, 65535);
  FEED(SB CPO "\x01\x00\x01" SE); /* too short: answered as a query */
  REPLY_IS(SB CPO "\x65\x00\x00" IAC IAC IAC IAC SE);
  assert_int_equal(S.line.baud, 65535);
}

static void test_set_datasize(void **state) {
  (void)state;
  FEED(SB CPO "\x02\x07" SE);
  REPLY_IS(SB CPO "\x66\x07" SE);
  assert_int_equal(S.line.data_bits, 7);
  S.changes = 0;
  FEED(SB CPO "\x02\x09" SE SB CPO "\x02\x04" SE SB CPO "\x02\x00" SE SB CPO "\x02" SE);
  REPLY_IS(SB CPO "\x66\x07" SE SB CPO "\x66\x07" SE SB CPO "\x66\x07" SE SB CPO "\x66\x07" SE);
  assert_int_equal(S.changes, 0);
  FEED(SB CPO "\x02\x05" SE);
  REPLY_IS(SB CPO "\x66\x05" SE);
  assert_int_equal(S.line.data_bits, 5);
}

static void test_set_parity(void **state) {
  static const struct {
    uint8_t code, parity;
  } map[] = {{1, M0_PARITY_NONE}, {2, M0_PARITY_ODD}, {3, M0_PARITY_EVEN},
             {4, M0_PARITY_MASK}, {5, M0_PARITY_SPACE}};
  (void)state;
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    uint8_t in[] = {255, 250, 44, 3, map[i].code, 255, 240};
    uint8_t want[] = {255, 250, 44, 103, map[i].code, 255, 240};
    feed(in, sizeof in);
    reply_is(want, sizeof want);
    assert_int_equal(S.line.parity, map[i].parity);
  }
  S.changes = 0;
  FEED(SB CPO "\x03\x06" SE SB CPO "\x03\x00" SE);
  REPLY_IS(SB CPO "\x67\x05" SE SB CPO "\x67\x05" SE);
  assert_int_equal(S.changes, 0);
}

static void test_set_stopsize(void **state) {
  (void)state;
  FEED(SB CPO "\x04\x02" SE);
  REPLY_IS(SB CPO "\x68\x02" SE);
  assert_int_equal(S.line.stop_bits, 2);
  S.changes = 0;
  FEED(SB CPO "\x04\x03" SE); /* 1.5: refused with the value in force */
  REPLY_IS(SB CPO "\x68\x02" SE);
  assert_int_equal(S.changes, 0);
  FEED(SB CPO "\x04\x01" SE);
  REPLY_IS(SB CPO "\x68\x01" SE);
  assert_int_equal(S.line.stop_bits, 1);
}

static void test_set_control(void **state) {
  static const struct {
    uint8_t in, out;
    bool change;
  } cases[] = {
      {0, 1, false},  {3, 3, true},   {0, 3, false},  {2, 2, true},   {17, 17, true},
      {1, 1, true},   {4, 6, false},  {5, 5, true},   {4, 5, false},  {6, 6, true},
      {7, 8, false},  {9, 9, true},   {7, 9, false},  {8, 8, true},   {10, 11, false},
      {12, 12, true}, {10, 12, false}, {11, 11, true}, {13, 14, false}, {16, 16, true},
      {13, 16, false}, {14, 14, true},
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint8_t in[] = {255, 250, 44, 5, cases[i].in, 255, 240};
    uint8_t want[] = {255, 250, 44, 105, cases[i].out, 255, 240};
    S.changes = 0;
    feed(in, sizeof in);
    reply_is(want, sizeof want);
    assert_int_equal(S.changes != 0, cases[i].change);
  }
  FEED(SB CPO "\x05\x63" SE); /* not a SET-CONTROL value: no answer */
  REPLY_IS("");
}

static void test_line_and_modem_state(void **state) {
  (void)state;
  FEED(SB CPO "\x06" SE); /* pyserial's poll; the line-state mask starts at 0 */
  REPLY_IS(SB CPO "\x6a\x00" SE);
  FEED(SB CPO "\x0a" IAC IAC SE);
  REPLY_IS(SB CPO "\x6e" IAC IAC SE);
  FEED(SB CPO "\x06" SE);
  REPLY_IS(SB CPO "\x6a\x60" SE); /* an idle line */
  FEED(SB CPO "\x07" SE);
  REPLY_IS(SB CPO "\x6b\xb0" SE); /* CD, DSR, CTS */
  FEED(SB CPO "\x0b\x30" SE);     /* DSR and CTS only: answered, then the state under it */
  REPLY_IS(SB CPO "\x6f\x30" SE SB CPO "\x6b\x30" SE);
  FEED(SB CPO "\x07" SE);
  REPLY_IS(SB CPO "\x6b\x30" SE);
}

static void test_flowcontrol_suspend_resume(void **state) {
  (void)state;
  FEED(SB CPO "\x08" SE);
  REPLY_IS("");
  assert_true(S.suspended);
  assert_true(S.changes & M0__R2S_CH_FLOW);
  S.changes = 0;
  FEED(SB CPO "\x09" SE);
  assert_false(S.suspended);
  assert_true(S.changes & M0__R2S_CH_FLOW);
  REPLY_IS("");
}

static void test_purge(void **state) {
  (void)state;
  FEED(SB CPO "\x0c\x01" SE);
  REPLY_IS(SB CPO "\x70\x01" SE);
  assert_true(S.changes & M0__R2S_CH_PURGE_RX);
  S.changes = 0;
  /* The transmit buffer: host bytes not yet given to the module (this call's). */
  FEED("dropped" SB CPO "\x0c\x02" SE "kept");
  REPLY_IS(SB CPO "\x70\x02" SE);
  DATA_IS("kept");
  assert_int_equal(S.changes, 0);
  FEED("x" SB CPO "\x0c\x03" SE);
  REPLY_IS(SB CPO "\x70\x03" SE);
  DATA_IS("");
  assert_true(S.changes & M0__R2S_CH_PURGE_RX);
  FEED("y" SB CPO "\x0c\x04" SE); /* not a purge: nothing dropped, no answer */
  REPLY_IS("");
  DATA_IS("y");
}

static void test_signature(void **state) {
  (void)state;
  FEED(SB CPO "\x00" SE);
  REPLY_IS(SB CPO "\x64" "m0emu" SE);
  FEED(SB CPO "\x00" "pyserial" SE); /* the host's own: no answer */
  REPLY_IS("");
  /* Longer than the buffer: cut, ignored, and the parser is back in data. */
  FEED(SB CPO "\x00" "0123456789012345678901234567890123456789012345678901234567890123" SE
       "ok");
  REPLY_IS("");
  DATA_IS("ok");
  assert_true(S.sb_len <= M0__R2S_SB_MAX);
  /* A long signature of ours is cut to the limit, and a 255 in it escaped (a new
   * server: its first COM-PORT command is the host's WILL, the modem lines come first). */
  m0__rfc2217_server_init(&S, &LINE_115200_8N1, 0, "\xff" "23456789012345678901234567890");
  FEED(SB CPO "\x00" SE);
  REPLY_IS(SB CPO "\x6b\x00" SE SB CPO "\x64" IAC IAC "23456789012345678901234" SE);
  assert_true(sizeof(SB CPO "\x6b\x00" SE SB CPO "\x64" IAC IAC "23456789012345678901234" SE) - 1 <=
              M0__R2S_REPLY_MAX);
}

static void test_other_subnegotiations_ignored(void **state) {
  (void)state;
  FEED(SB "\x18\x01" SE SB CPO "\x65\x00\x00\x00\x01" SE SB CPO SE SB SE "d");
  REPLY_IS("");
  DATA_IS("d");
  assert_int_equal(S.line.baud, 115200);
  /* A subnegotiation cut short by a command: dropped, the command taken. */
  FEED(SB CPO "\x01\x00\x00\x25" WILL "\x18" "e");
  REPLY_IS(DONT "\x18");
  DATA_IS("e");
  assert_int_equal(S.line.baud, 115200);
  /* Other Telnet commands: nothing to do. */
  FEED(IAC "\xf1" IAC "\xf6" IAC "\xf3" SE "f");
  REPLY_IS("");
  DATA_IS("f");
}

/* ---- data ---- */

static void test_iac_escaping_both_ways(void **state) {
  uint8_t out[16];
  size_t n;
  (void)state;
  FEED("a" IAC IAC "b" IAC IAC IAC IAC "\r\x00\n");
  DATA_IS("a\xff" "b\xff\xff\r\x00\n"); /* binary: NUL after CR is data */
  const uint8_t in[] = {'a', 255, 'b', '\r', 0};
  assert_int_equal(m0__rfc2217_server_encode(&S, in, sizeof in, out, sizeof out, &n), 5);
  assert_int_equal(n, 6);
  assert_memory_equal(out, "a\xff\xff" "b\r\x00", 6);
  /* An escape that does not fit waits whole. */
  assert_int_equal(m0__rfc2217_server_encode(&S, in, sizeof in, out, 2, &n), 1);
  assert_int_equal(n, 1);
  assert_int_equal(m0__rfc2217_server_encode(&S, in, sizeof in, out, 3, &n), 2);
  assert_int_equal(n, 3);
  assert_int_equal(m0__rfc2217_server_encode(&S, in, sizeof in, out, 4, &n), 3);
  assert_int_equal(n, 4);
}

static void test_nvt_line_ends_without_binary(void **state) {
  uint8_t out[16];
  size_t n;
  (void)state;
  FEED(WONT "\x00" DONT "\x00"); /* the host refuses BINARY both ways */
  REPLY_IS("");
  FEED("at\r\x00" "x\r\n\r\x00");
  DATA_IS("at\rx\r\n\r");
  const uint8_t in[] = {'o', 'k', '\r', '\n'};
  assert_int_equal(m0__rfc2217_server_encode(&S, in, sizeof in, out, sizeof out, &n), 4);
  assert_int_equal(n, 5);
  assert_memory_equal(out, "ok\r\x00\n", 5);
  FEED(WILL "\x00" DO "\x00"); /* binary after all */
  REPLY_IS(DO "\x00" WILL "\x00");
  FEED("\r\x00");
  DATA_IS("\r\x00");
}

/* ---- back-pressure ---- */

static void test_stops_where_output_does_not_fit(void **state) {
  const uint8_t in[] = {'a', 'b', 255, 255, 'c'};
  (void)state;
  io.data_cap = 1;
  assert_int_equal(m0__rfc2217_server_input(&S, in, sizeof in, &io), 1);
  DATA_IS("a");
  io.data_cap = 0;
  assert_int_equal(m0__rfc2217_server_input(&S, in + 1, sizeof in - 1, &io), 0);
  io.data_cap = 1;
  /* b, then the IAC is taken; its second IAC (the data byte 255) waits. */
  assert_int_equal(m0__rfc2217_server_input(&S, in + 1, sizeof in - 1, &io), 2);
  DATA_IS("b");
  io.data_cap = 2;
  assert_int_equal(m0__rfc2217_server_input(&S, in + 3, 2, &io), 2);
  DATA_IS("\xff" "c");
  /* With data full, commands still go through, up to the next data byte. */
  static const uint8_t cmds[] = {255, 250, 44, 7, 255, 240, 'z'};
  io.data_cap = 0;
  assert_int_equal(m0__rfc2217_server_input(&S, cmds, sizeof cmds, &io), 6);
  REPLY_IS(SB CPO "\x6b\xb0" SE);
  /* And a command waits for M0__R2S_REPLY_MAX bytes of room for its answer. */
  io.data_cap = sizeof data;
  io.reply_cap = M0__R2S_REPLY_MAX - 1;
  assert_int_equal(m0__rfc2217_server_input(&S, cmds, sizeof cmds, &io), 0);
  io.reply_cap = M0__R2S_REPLY_MAX;
  assert_int_equal(m0__rfc2217_server_input(&S, cmds, sizeof cmds, &io), sizeof cmds);
  DATA_IS("z");
}

/* ---- split anywhere ---- */

static const uint8_t session[] =
    DO "\x01" WILL "\x03" DO "\x03" DO CPO WILL CPO DO "\x00" WILL "\x00"
    SB CPO "\x01\x00\x01\xc2\x00" SE SB CPO "\x02\x08" SE SB CPO "\x03\x01" SE
    SB CPO "\x04\x01" SE SB CPO "\x05\x01" SE SB CPO "\x05\x08" SE SB CPO "\x05\x0b" SE
    SB CPO "\x0c\x01" SE SB CPO "\x0c\x02" SE "+++" "a" "AT+VER\r" IAC IAC "\x00"
    SB CPO "\x01\x00\x00" IAC IAC IAC IAC SE SB CPO "\x00" SE SB CPO "\x07" SE "\r\n";

struct outcome {
  uint8_t data[512], reply[512];
  size_t data_len, reply_len;
  struct m0__rfc2217_server end;
};

/* The session cut at the given points (sorted), each piece fed until all taken. */
static void run_cut(const size_t *cuts, size_t ncuts, struct outcome *o) {
  m0__rfc2217_server_init(&S, &LINE_115200_8N1, 0xb0, "m0emu");
  struct m0__rfc2217_io x = {.data = o->data, .data_cap = sizeof o->data,
                             .reply = o->reply, .reply_cap = sizeof o->reply};
  m0__rfc2217_server_start(&S, &x);
  size_t from = 0;
  for (size_t k = 0; k <= ncuts; k++) {
    size_t to = k < ncuts ? cuts[k] : sizeof session - 1;
    assert_int_equal(m0__rfc2217_server_input(&S, session + from, to - from, &x), to - from);
    from = to;
  }
  o->data_len = x.data_len;
  o->reply_len = x.reply_len;
  S.changes = 0;
  o->end = S;
}

static void same(const struct outcome *a, const struct outcome *b) {
  const struct m0__rfc2217_server *x = &a->end, *y = &b->end;
  assert_int_equal(a->data_len, b->data_len);
  assert_memory_equal(a->data, b->data, a->data_len);
  assert_int_equal(a->reply_len, b->reply_len);
  assert_memory_equal(a->reply, b->reply, a->reply_len);
  assert_int_equal(x->state, y->state);
  assert_int_equal(x->after_cr, y->after_cr);
  assert_memory_equal(x->us, y->us, sizeof x->us);
  assert_memory_equal(x->him, y->him, sizeof x->him);
  assert_int_equal(x->line.baud, y->line.baud);
  assert_int_equal(x->line.data_bits, y->line.data_bits);
  assert_int_equal(x->line.parity, y->line.parity);
  assert_int_equal(x->line.stop_bits, y->line.stop_bits);
  assert_int_equal(x->flow_out, y->flow_out);
  assert_int_equal(x->dtr, y->dtr);
  assert_int_equal(x->rts, y->rts);
  assert_int_equal(x->modemstate_mask, y->modemstate_mask);
  assert_int_equal(x->suspended, y->suspended);
}

static void test_split_at_any_byte(void **state) {
  static struct outcome whole, cut;
  size_t n = sizeof session - 1;
  (void)state;
  run_cut(NULL, 0, &whole);
  /* (The session's purges come before any data: a purge of the transmit buffer drops
   * what came before it in the same call, which would depend on the cut.) */
  assert_int_equal(whole.end.line.baud, 65535);
  assert_int_equal(whole.end.dtr, 8);
  assert_int_equal(whole.end.rts, 11);
  assert_memory_equal(whole.data, "+++aAT+VER\r\xff\x00\r\n", whole.data_len);
  for (size_t i = 1; i < n; i++) {
    run_cut(&i, 1, &cut);
    same(&whole, &cut);
  }
  size_t every[sizeof session];
  for (size_t i = 0; i + 1 < n; i++)
    every[i] = i + 1;
  run_cut(every, n - 1, &cut);
  same(&whole, &cut);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_start_offers_binary_sga_and_asks_comport, setup),
      cmocka_unit_test_setup(test_pyserial_opening, setup),
      cmocka_unit_test_setup(test_comport_without_will, setup),
      cmocka_unit_test_setup(test_no_answer_loops, setup),
      cmocka_unit_test_setup(test_unknown_options_refused, setup),
      cmocka_unit_test_setup(test_set_baudrate, setup_comport),
      cmocka_unit_test_setup(test_set_datasize, setup_comport),
      cmocka_unit_test_setup(test_set_parity, setup_comport),
      cmocka_unit_test_setup(test_set_stopsize, setup_comport),
      cmocka_unit_test_setup(test_set_control, setup_comport),
      cmocka_unit_test_setup(test_line_and_modem_state, setup_comport),
      cmocka_unit_test_setup(test_flowcontrol_suspend_resume, setup_comport),
      cmocka_unit_test_setup(test_purge, setup_comport),
      cmocka_unit_test_setup(test_signature, setup_comport),
      cmocka_unit_test_setup(test_other_subnegotiations_ignored, setup_comport),
      cmocka_unit_test_setup(test_iac_escaping_both_ways, setup),
      cmocka_unit_test_setup(test_nvt_line_ends_without_binary, setup),
      cmocka_unit_test_setup(test_stops_where_output_does_not_fit, setup_comport),
      cmocka_unit_test_setup(test_split_at_any_byte, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
