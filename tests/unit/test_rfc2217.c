/* test_rfc2217.c: the similar-RFC2217 scanner (spec §6.8) on byte streams.
 *
 * Every case turns a stream into a transcript: data bytes as hex, each recognised setting
 * as {baud,data,stop,parity} at the point where it ended. Splitting the same stream
 * differently (every cut, every pair of cuts, byte by byte, a tiny output buffer) must
 * give the same transcript; a naive whole-stream search is the oracle for random streams.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "m0/params.h"
#include "../../src/core/rfc2217.h"

static const uint8_t ex115200[8] = {0x55, 0xAA, 0x55, 0x01, 0xC2, 0x00, 0x83, 0x46};
static const uint8_t ex9600[8] = {0x55, 0xAA, 0x55, 0x00, 0x25, 0x80, 0x83, 0x28};

struct tr {
  char s[16384];
  size_t n;
};

static void tr_data(struct tr *t, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    assert_true(t->n + 4 < sizeof t->s);
    t->n += (size_t)snprintf(t->s + t->n, sizeof t->s - t->n, "%02X ", p[i]);
  }
}

static void tr_set(struct tr *t, const struct m0__rfc2217_setting *st) {
  static const char par[] = "NEOMS";
  assert_true(t->n + 32 < sizeof t->s);
  t->n += (size_t)snprintf(t->s + t->n, sizeof t->s - t->n, "{%u,%u,%u,%c} ",
                           (unsigned)st->baud, st->data_bits, st->stop_bits,
                           par[st->parity]);
}

/* Feed one read (looping as the caller would), appending to the transcript. */
static void feed_read(struct m0__rfc2217 *s, struct tr *t, const uint8_t *in, size_t len,
                      size_t out_cap) {
  uint8_t out[4096];
  assert_true(out_cap <= sizeof out);
  while (len > 0) {
    struct m0__rfc2217_setting st;
    bool changed;
    size_t olen = 99999;
    size_t used = m0__rfc2217_feed(s, in, len, out, out_cap, &olen, &st, &changed);
    assert_true(olen <= out_cap);
    assert_true(used <= len);
    assert_true(used > 0 || olen > 0); /* progress */
    tr_data(t, out, olen);
    if (changed)
      tr_set(t, &st);
    in += used;
    len -= used;
  }
}

static void flush(struct m0__rfc2217 *s, struct tr *t) {
  uint8_t out[8];
  size_t n = m0__rfc2217_flush(s, out, sizeof out);
  tr_data(t, out, n);
  assert_int_equal(m0__rfc2217_pending(s), 0);
}

/* The transcript of stream cut at cuts[0..ncuts) (ascending), flushed at the end. */
static void scan(const uint8_t *p, size_t len, const size_t *cuts, size_t ncuts,
                 size_t out_cap, struct tr *t) {
  struct m0__rfc2217 s;
  size_t at = 0;
  m0__rfc2217_init(&s);
  t->n = 0;
  t->s[0] = 0;
  for (size_t c = 0; c <= ncuts; c++) {
    size_t end = c < ncuts ? cuts[c] : len;
    feed_read(&s, t, p + at, end - at, out_cap);
    at = end;
  }
  flush(&s, t);
}

static void expect(const uint8_t *p, size_t len, const char *want) {
  struct tr t;
  scan(p, len, NULL, 0, 4096, &t);
  assert_string_equal(t.s, want);
}

static void test_published_examples(void **state) {
  (void)state;
  expect(ex115200, 8, "{115200,8,1,N} ");
  expect(ex9600, 8, "{9600,8,1,N} ");
}

/* Bits 7:6 are ignored: 0x03, 0x43, 0x83, 0xC3 are all 8N1. */
static void test_bits_7_6_ignored(void **state) {
  (void)state;
  for (unsigned hi = 0; hi < 4; hi++) {
    uint8_t p[8];
    memcpy(p, ex115200, 8);
    p[6] = (uint8_t)(hi << 6 | 0x03);
    p[7] = (uint8_t)(p[3] + p[4] + p[5] + p[6]);
    expect(p, 8, "{115200,8,1,N} ");
  }
}

static void test_bad_checksum_is_data(void **state) {
  uint8_t p[8];
  (void)state;
  memcpy(p, ex115200, 8);
  p[7] = 0x47;
  expect(p, 8, "55 AA 55 01 C2 00 83 47 ");
  memcpy(p, ex9600, 8);
  p[7] = 0x00;
  expect(p, 8, "55 AA 55 00 25 80 83 00 ");
}

/* Every value of bits 0-5 (and each of bits 7:6) decodes as the spec's bit table says. */
static void test_every_parameter(void **state) {
  (void)state;
  for (unsigned v = 0; v < 256; v++) {
    static const uint8_t parity[4] = {M0_PARITY_ODD, M0_PARITY_EVEN, M0_PARITY_MASK,
                                      M0_PARITY_SPACE};
    uint8_t p[8] = {0x55, 0xAA, 0x55, 0x00, 0x4B, 0x00, (uint8_t)v, 0}; /* 19200 */
    struct m0__rfc2217_setting st, want;
    struct m0__rfc2217 s;
    uint8_t out[16];
    size_t olen;
    bool changed;
    p[7] = (uint8_t)(p[3] + p[4] + p[5] + p[6]);
    want.baud = 19200;
    want.data_bits = (uint8_t)(5 + (v & 3));
    want.stop_bits = (v & 4) ? 2 : 1;
    want.parity = (v & 8) ? parity[(v >> 4) & 3] : M0_PARITY_NONE;
    m0__rfc2217_init(&s);
    assert_int_equal(m0__rfc2217_feed(&s, p, 8, out, sizeof out, &olen, &st, &changed), 8);
    assert_true(changed);
    assert_int_equal(olen, 0);
    assert_int_equal(st.baud, want.baud);
    assert_int_equal(st.data_bits, want.data_bits);
    assert_int_equal(st.stop_bits, want.stop_bits);
    assert_int_equal(st.parity, want.parity);
    /* encode() gives back a packet for the same setting. */
    uint8_t q[8];
    assert_int_equal(m0__rfc2217_encode(&st, q), 0);
    assert_memory_equal(q, p, 6);
    assert_int_equal(q[6], 0x80 | (v & (v & 8 ? 0x3F : 0x07)));
    assert_int_equal(m0__rfc2217_decode(q + 3, &want), 0);
    assert_int_equal(want.baud, st.baud);
    assert_int_equal(want.data_bits, st.data_bits);
    assert_int_equal(want.stop_bits, st.stop_bits);
    assert_int_equal(want.parity, st.parity);
  }
  /* The named mark value is MASK. */
  uint8_t p[8] = {0x55, 0xAA, 0x55, 0x00, 0x25, 0x80, 0xAB, 0};
  p[7] = (uint8_t)(p[3] + p[4] + p[5] + p[6]);
  expect(p, 8, "{9600,8,1,M} ");
}

static void test_baud_range(void **state) {
  static const struct { uint32_t baud; bool ok; } cases[] = {
    {0, false}, {599, false}, {600, true}, {300, false}, {1200, true}, {460800, true},
    {460801, false}, {921600, false}, {0xFFFFFF, false},
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint8_t p[8] = {0x55, 0xAA, 0x55, (uint8_t)(cases[i].baud >> 16),
                    (uint8_t)(cases[i].baud >> 8), (uint8_t)cases[i].baud, 0x83, 0};
    struct tr t;
    char want[64];
    p[7] = (uint8_t)(p[3] + p[4] + p[5] + p[6]);
    scan(p, 8, NULL, 0, 4096, &t);
    if (cases[i].ok)
      snprintf(want, sizeof want, "{%u,8,1,N} ", (unsigned)cases[i].baud);
    else
      snprintf(want, sizeof want, "55 AA 55 %02X %02X %02X 83 %02X ", p[3], p[4], p[5], p[7]);
    assert_string_equal(t.s, want);
  }
  /* encode refuses what decode would refuse. */
  struct m0__rfc2217_setting st = {599, 8, 1, M0_PARITY_NONE};
  uint8_t q[8];
  assert_int_equal(m0__rfc2217_encode(&st, q), -1);
  st.baud = 9600;
  st.data_bits = 9;
  assert_int_equal(m0__rfc2217_encode(&st, q), -1);
  st.data_bits = 8;
  st.stop_bits = 3;
  assert_int_equal(m0__rfc2217_encode(&st, q), -1);
  st.stop_bits = 1;
  assert_int_equal(m0__rfc2217_encode(&st, q), 0);
  assert_memory_equal(q, ex9600, 8);
}

/* data, packet, data, packet: one stream, every single cut and every pair of cuts. */
static const uint8_t mixed[] = {'h', 'i', 0x55, 0xAA, 0x55, 0x01, 0xC2, 0x00, 0x83, 0x46,
                                'o', 'k', 0x55, 0xAA, 0x55, 0x00, 0x25, 0x80, 0x83, 0x28,
                                0x55, '!'};
static const char mixed_want[] =
  "68 69 {115200,8,1,N} 6F 6B {9600,8,1,N} 55 21 ";

static void test_split_every_boundary(void **state) {
  struct tr t;
  size_t len = sizeof mixed;
  (void)state;
  scan(mixed, len, NULL, 0, 4096, &t);
  assert_string_equal(t.s, mixed_want);
  for (size_t a = 0; a <= len; a++) {
    size_t cut1[1] = {a};
    scan(mixed, len, cut1, 1, 4096, &t);
    assert_string_equal(t.s, mixed_want);
    for (size_t b = a; b <= len; b++) {
      size_t cut2[2] = {a, b};
      scan(mixed, len, cut2, 2, 4096, &t);
      assert_string_equal(t.s, mixed_want);
    }
  }
  /* Byte by byte, and through the smallest output buffer. */
  size_t each[sizeof mixed];
  for (size_t i = 0; i < len; i++)
    each[i] = i;
  scan(mixed, len, each, len, 4096, &t);
  assert_string_equal(t.s, mixed_want);
  scan(mixed, len, NULL, 0, M0__RFC2217_OUT_MIN, &t);
  assert_string_equal(t.s, mixed_want);
  scan(mixed, len, each, len, M0__RFC2217_OUT_MIN, &t);
  assert_string_equal(t.s, mixed_want);
}

/* feed() stops right after the packet so the setting applies at that exact point. */
static void test_stops_after_packet(void **state) {
  uint8_t in[12] = {'a', 'b'};
  uint8_t out[64];
  size_t olen;
  bool changed;
  struct m0__rfc2217_setting st;
  struct m0__rfc2217 s;
  (void)state;
  memcpy(in + 2, ex9600, 8);
  in[10] = 'c';
  in[11] = 'd';
  m0__rfc2217_init(&s);
  assert_int_equal(m0__rfc2217_feed(&s, in, 12, out, sizeof out, &olen, &st, &changed), 10);
  assert_true(changed);
  assert_int_equal(olen, 2);
  assert_memory_equal(out, "ab", 2);
  assert_int_equal(st.baud, 9600);
  assert_int_equal(m0__rfc2217_feed(&s, in + 10, 2, out, sizeof out, &olen, &st, &changed),
                   2);
  assert_false(changed);
  assert_int_equal(olen, 2);
  assert_memory_equal(out, "cd", 2);
  /* Without a packet, the whole read is data and nothing is held. */
  assert_int_equal(m0__rfc2217_feed(&s, (const uint8_t *)"plain", 5, out, sizeof out, &olen,
                                    NULL, &changed), 5);
  assert_false(changed);
  assert_int_equal(olen, 5);
  assert_int_equal(m0__rfc2217_pending(&s), 0);
}

static void test_back_to_back(void **state) {
  uint8_t p[24];
  (void)state;
  memcpy(p, ex9600, 8);
  memcpy(p + 8, ex115200, 8);
  memcpy(p + 16, ex9600, 8);
  expect(p, 24, "{9600,8,1,N} {115200,8,1,N} {9600,8,1,N} ");
}

/* A failed candidate releases only its first byte; the search resumes right after it. */
static void test_near_miss_then_packet(void **state) {
  uint8_t p[32];
  (void)state;
  /* Bad checksum, then the real packet. */
  memcpy(p, ex115200, 8);
  p[7] = 0x47;
  memcpy(p + 8, ex115200, 8);
  expect(p, 16, "55 AA 55 01 C2 00 83 47 {115200,8,1,N} ");
  /* An extra 0x55 in front: 55 55 AA 55 ... */
  p[0] = 0x55;
  memcpy(p + 1, ex115200, 8);
  expect(p, 9, "55 {115200,8,1,N} ");
  /* The magic twice: the first candidate's baud would be 0x55AA55, the second is real. */
  memcpy(p, "\x55\xAA\x55", 3);
  memcpy(p + 3, ex9600, 8);
  expect(p, 11, "55 AA 55 {9600,8,1,N} ");
  /* A candidate broken at byte 2, then byte 1, then a packet. */
  memcpy(p, "\x55\xAA\x00\x55\x00", 5);
  memcpy(p + 5, ex9600, 8);
  expect(p, 13, "55 AA 00 55 00 {9600,8,1,N} ");
  /* A baud high byte above 0x07 rules the candidate out before its end. */
  memcpy(p, "\x55\xAA\x55\x08", 4);
  expect(p, 4, "55 AA 55 08 ");
  struct m0__rfc2217 s;
  uint8_t out[8];
  size_t olen;
  bool changed;
  m0__rfc2217_init(&s);
  m0__rfc2217_feed(&s, p, 4, out, sizeof out, &olen, NULL, &changed);
  assert_int_equal(olen, 4);
  assert_int_equal(m0__rfc2217_pending(&s), 0);
}

/* A held partial packet comes out at flush, in order, and cannot complete afterwards. */
static void test_flush_partial(void **state) {
  struct m0__rfc2217 s;
  struct tr t = {.n = 0};
  uint8_t out[8];
  (void)state;
  m0__rfc2217_init(&s);
  feed_read(&s, &t, (const uint8_t *)"x\x55\xAA\x55\x01", 5, 4096);
  assert_string_equal(t.s, "78 ");
  assert_int_equal(m0__rfc2217_pending(&s), 4);
  /* Too small a buffer releases nothing rather than splitting the run. */
  assert_int_equal(m0__rfc2217_flush(&s, out, 3), 0);
  assert_int_equal(m0__rfc2217_pending(&s), 4);
  flush(&s, &t);
  assert_string_equal(t.s, "78 55 AA 55 01 ");
  feed_read(&s, &t, ex115200 + 4, 4, 4096);
  assert_string_equal(t.s, "78 55 AA 55 01 C2 00 83 46 ");
  /* Flushing with nothing held is harmless. */
  assert_int_equal(m0__rfc2217_flush(&s, out, sizeof out), 0);
  /* A complete packet after a flush is found again. */
  feed_read(&s, &t, ex9600, 8, 4096);
  assert_string_equal(t.s, "78 55 AA 55 01 C2 00 83 46 {9600,8,1,N} ");
}

/* The oracle: leftmost 8-byte window that checks out, then continue after it. */
static void oracle(const uint8_t *p, size_t len, struct tr *t) {
  size_t i = 0;
  t->n = 0;
  t->s[0] = 0;
  while (i < len) {
    struct m0__rfc2217_setting st;
    if (len - i >= 8 && p[i] == 0x55 && p[i + 1] == 0xAA && p[i + 2] == 0x55 &&
        m0__rfc2217_decode(p + i + 3, &st) == 0) {
      tr_set(t, &st);
      i += 8;
    } else {
      tr_data(t, p + i, 1);
      i++;
    }
  }
}

static uint32_t rnd(uint32_t *x) {
  *x = *x * 1103515245u + 12345u;
  return *x >> 16;
}

/* Random streams dense in packet bytes, random splits, random output room. */
static void test_random_against_oracle(void **state) {
  static const uint8_t alphabet[] = {0x55, 0xAA, 0x55, 0x00, 0x01, 0xC2, 0x83, 0x46, 'z'};
  uint32_t x = 12345;
  (void)state;
  for (int round = 0; round < 3000; round++) {
    uint8_t p[160];
    size_t len = rnd(&x) % sizeof p, cuts[16], ncuts = rnd(&x) % 16;
    struct tr want, got;
    for (size_t i = 0; i < len;) {
      unsigned r = rnd(&x) % 12;
      if (r == 0 && len - i >= 8) { /* a real packet */
        memcpy(p + i, (rnd(&x) & 1) ? ex9600 : ex115200, 8);
        i += 8;
      } else if (r == 1 && len - i >= 8) { /* a packet with one byte changed */
        memcpy(p + i, ex115200, 8);
        p[i + rnd(&x) % 8] ^= (uint8_t)(1 + rnd(&x) % 255);
        i += 8;
      } else {
        p[i++] = alphabet[rnd(&x) % sizeof alphabet];
      }
    }
    for (size_t c = 0; c < ncuts; c++)
      cuts[c] = len ? rnd(&x) % (len + 1) : 0;
    for (size_t a = 1; a < ncuts; a++) /* sort */
      for (size_t b = a; b > 0 && cuts[b - 1] > cuts[b]; b--) {
        size_t tmp = cuts[b];
        cuts[b] = cuts[b - 1];
        cuts[b - 1] = tmp;
      }
    oracle(p, len, &want);
    scan(p, len, cuts, ncuts, M0__RFC2217_OUT_MIN + rnd(&x) % 8, &got);
    assert_string_equal(got.s, want.s);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_published_examples),
    cmocka_unit_test(test_bits_7_6_ignored),
    cmocka_unit_test(test_bad_checksum_is_data),
    cmocka_unit_test(test_every_parameter),
    cmocka_unit_test(test_baud_range),
    cmocka_unit_test(test_split_every_boundary),
    cmocka_unit_test(test_stops_after_packet),
    cmocka_unit_test(test_back_to_back),
    cmocka_unit_test(test_near_miss_then_packet),
    cmocka_unit_test(test_flush_partial),
    cmocka_unit_test(test_random_against_oracle),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
