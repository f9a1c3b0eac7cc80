/* test_pace.c: UART pacing (spec §2.1) on the virtual clock.
 *
 * Checks the long-run rate both ways at 600, 9600, 115200 and 460800 baud with 8N1
 * (10 bits a character) and 7E2 (11 bits) to within 0.2 % (the spec allows 0.5 %), that
 * the line never runs ahead of its rate by more than ~1 ms worth of bytes (no burst
 * after idle), short writes to a full pty, fast timing, and the budget arithmetic over
 * days at 460800 baud against a 128-bit reference. The queue toward the host is filled
 * through the engine's internal m0__host_send (core.h): there is no network yet to
 * produce host-bound data in bulk.
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

static struct fake F;
static struct m0_dev D;
static struct m0_dev_options O;

struct line {
  uint32_t baud;
  uint8_t data, stop, parity;
  unsigned bits;
};

static const struct line lines[] = {
  {600, 8, 1, M0_PARITY_NONE, 10},    {600, 7, 2, M0_PARITY_EVEN, 11},
  {9600, 8, 1, M0_PARITY_NONE, 10},   {9600, 7, 2, M0_PARITY_EVEN, 11},
  {115200, 8, 1, M0_PARITY_NONE, 10}, {115200, 7, 2, M0_PARITY_EVEN, 11},
  {460800, 8, 1, M0_PARITY_NONE, 10}, {460800, 7, 2, M0_PARITY_EVEN, 11},
};

/* ~1 ms worth of bytes, at least one: the most the line may be ahead of its rate. */
static uint64_t ms_worth(const struct line *l) {
  uint64_t n = (uint64_t)l->baud / (l->bits * 1000ull);
  return n > 0 ? n : 1;
}

static int setup(void **state) {
  (void)state;
  fake_options(&O);
  fake_boot(&F, &D, &O, NULL);
  return 0;
}

static void boot_line(const struct line *l) {
  struct m0_config cfg;
  m0_config_defaults(&cfg);
  cfg.baud = l->baud;
  cfg.data_bits = l->data;
  cfg.stop_bits = l->stop;
  cfg.parity = l->parity;
  fake_boot(&F, &D, &O, &cfg);
}

/* Bytes for the host, as the network will queue them, then settle like any input. */
static void to_host(const void *data, size_t len) {
  m0__host_send(&D, F.now, data, len);
  m0__dev_settle(&D, F.now);
}

static void fill(uint8_t *buf, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    buf[i] = (uint8_t)(i * 7 + 1);
}

static void tx_rate(uint64_t quantum, uint64_t late) {
  static uint8_t data[M0_UART_TXQ_SIZE];
  unsigned k;
  for (k = 0; k < sizeof lines / sizeof lines[0]; k++) {
    const struct line *l = &lines[k];
    uint64_t burst = ms_worth(l), n = 2000 * burst, t0, sent = 0, expect_ns, took;
    unsigned i;
    double err;
    if (n > sizeof data)
      n = sizeof data;
    boot_line(l);
    F.timer_quantum = quantum;
    F.timer_late = late;
    fill(data, (size_t)n);
    t0 = F.now;
    to_host(data, (size_t)n);
    fake_run(&F, 3600 * S);
    assert_int_equal(F.out_len, n);
    assert_memory_equal(F.out, data, (size_t)n);
    /* Never ahead of the line by more than one chunk. */
    for (i = 0; i < F.nwrites; i++) {
      long double line_bytes =
          (long double)(F.writes[i].at - t0) * l->baud / ((long double)l->bits * S);
      sent += F.writes[i].len;
      assert_true((long double)sent <= line_bytes + (long double)burst + 1e-9L);
    }
    assert_true(F.nwrites < FAKE_WRITES_MAX);
    /* The last byte leaves when the line has carried n bytes (less the first chunk). */
    expect_ns = n * l->bits * S / l->baud;
    took = F.writes[F.nwrites - 1].at - t0;
    err = ((double)took - (double)expect_ns) / (double)expect_ns;
    if (err < 0)
      err = -err;
    if (err > 0.002)
      fail_msg("%u baud %u bits, timer late by up to %llu ns: %llu bytes took %llu ns, "
               "line time %llu ns (%.4f %%)",
               l->baud, l->bits, (unsigned long long)(quantum + late), (unsigned long long)n,
               (unsigned long long)took, (unsigned long long)expect_ns, err * 100);
  }
}

static void test_tx_rate(void **state) {
  (void)state;
  tx_rate(0, 0);
}

/* A libuv board: millisecond timers that fire up to 1.5 ms late. Late chunks are caught
 * up, so the long-run rate holds. */
static void test_tx_rate_with_a_late_timer(void **state) {
  (void)state;
  tx_rate(MS, MS / 2);
}

/* A host with endless data, read the way the board does: ask the budget, read that much,
 * and when it is 0 wait for the device timer (which re-enables reading). */
static uint64_t host_floods(uint64_t duration) {
  static uint8_t data[4096];
  uint64_t end = F.now + duration, taken = 0;
  memset(data, 'x', sizeof data);
  while (F.now < end) {
    size_t b = m0_dev_uart_rx_budget(&D, F.now);
    if (b > 0) {
      assert_true(F.rx_enabled);
      if (b > sizeof data)
        b = sizeof data;
      fake_rx_bytes(&F, data, b);
      taken += b;
      if (F.nframes > FAKE_FRAMES_MAX / 2)
        fake_frames_clear(&F);
      if (F.nevents > FAKE_EVENTS_MAX / 2)
        fake_events_clear(&F);
      continue;
    }
    assert_false(F.rx_enabled); /* budget 0: the device stopped reading */
    assert_true(F.timer != M0_TIME_NEVER);
    assert_true(F.timer > F.now);
    fake_advance_to(&F, fake_next_fire(&F) < end ? fake_next_fire(&F) : end);
  }
  return taken;
}

static void rx_rate(uint64_t quantum, uint64_t late) {
  unsigned k;
  for (k = 0; k < sizeof lines / sizeof lines[0]; k++) {
    const struct line *l = &lines[k];
    uint64_t duration = l->baud < 9600 ? 60 * S : 5 * S, taken, expect;
    double err;
    boot_line(l);
    F.timer_quantum = quantum;
    F.timer_late = late;
    taken = host_floods(duration);
    expect = duration * l->baud / (l->bits * S);
    err = ((double)taken - (double)expect) / (double)expect;
    if (err < 0)
      err = -err;
    if (err > 0.002)
      fail_msg("%u baud %u bits: took %llu bytes in %llu ns, line carries %llu (%.4f %%)",
               l->baud, l->bits, (unsigned long long)taken, (unsigned long long)duration,
               (unsigned long long)expect, err * 100);
    assert_int_equal(m0_dev_counters(&D)->uart_rx, taken);
  }
}

static void test_rx_rate(void **state) {
  (void)state;
  rx_rate(0, 0);
}

static void test_rx_rate_with_a_late_timer(void **state) {
  (void)state;
  rx_rate(MS, MS / 2);
}

static void test_rx_resumes_with_a_chunk(void **state) {
  const struct line *l = &lines[4]; /* 115200 8N1: 11 bytes a ms */
  size_t b;
  uint64_t t0;
  (void)state;
  boot_line(l);
  b = m0_dev_uart_rx_budget(&D, F.now);
  assert_true(b >= 1 && b <= 12);
  fake_rx_bytes(&F, "xxxxxxxxxxxxxxxxxxxxxxxx", b);
  assert_false(F.rx_enabled);
  assert_int_equal(F.rx_disable_calls, 1);
  assert_int_equal(m0_dev_uart_rx_budget(&D, F.now), 0);
  /* Re-enabled once about a millisecond's worth is there (11 bytes: 954.9 us), not a
   * byte at a time. */
  t0 = F.now;
  while (!F.rx_enabled && F.timer != M0_TIME_NEVER)
    fake_advance_to(&F, fake_next_fire(&F));
  assert_true(F.rx_enabled);
  assert_int_equal(F.rx_enable_calls, 1);
  assert_true(F.now - t0 >= 954861 && F.now - t0 <= 954862 + 86806);
  b = m0_dev_uart_rx_budget(&D, F.now);
  assert_true(b >= 11 && b <= 12);
}

static void test_no_burst_after_idle(void **state) {
  static uint8_t data[4000];
  unsigned k;
  (void)state;
  for (k = 0; k < sizeof lines / sizeof lines[0]; k++) {
    const struct line *l = &lines[k];
    uint64_t burst = ms_worth(l);
    size_t b;
    boot_line(l);
    /* Busy, then idle for 10 s, both ways. */
    fill(data, sizeof data);
    to_host(data, 100);
    host_floods(100 * MS);
    fake_run(&F, 3600 * S);
    fake_advance(&F, 10 * S);
    fake_out_clear(&F);
    F.nwrites = 0;
    b = m0_dev_uart_rx_budget(&D, F.now);
    assert_true(b >= 1 && b <= burst);
    to_host(data, sizeof data);
    assert_int_equal(F.nwrites, 1);
    assert_true(F.writes[0].len >= 1 && F.writes[0].len <= burst);
  }
}

static void test_short_writes_wait_for_writable(void **state) {
  static uint8_t data[3000];
  uint64_t t;
  unsigned calls;
  (void)state;
  fake_link_up(&F, 0); /* the dial answered: the network waits for nothing */
  fill(data, sizeof data);
  F.room = 5;
  to_host(data, sizeof data);
  assert_int_equal(F.out_len, 5);
  calls = F.write_calls;
  fake_advance(&F, S); /* time alone does not retry a full pty */
  assert_int_equal(F.write_calls, calls);
  assert_int_equal(F.timer, M0_TIME_NEVER);
  /* The host reads: writing resumes, without a burst for the second it stood still. */
  F.room = SIZE_MAX;
  t = F.now;
  fake_host_reads(&F, 0);
  assert_true(F.out_len - 5 >= 1 && F.out_len - 5 <= 12);
  fake_run(&F, 60 * S);
  assert_int_equal(F.out_len, sizeof data);
  assert_memory_equal(F.out, data, sizeof data); /* nothing lost, nothing twice */
  assert_int_equal(m0_dev_counters(&D)->uart_tx, sizeof data);
  /* The remaining 2995 bytes took their line time. */
  assert_true(F.writes[F.nwrites - 1].at - t >= (2995 - 12) * 10 * S / 115200);
}

static void test_short_writes_in_fast_timing(void **state) {
  static uint8_t data[3000];
  (void)state;
  O.timing = M0_TIMING_FAST;
  fake_boot(&F, &D, &O, NULL);
  fill(data, sizeof data);
  F.room = 1000;
  to_host(data, sizeof data);
  assert_int_equal(F.out_len, 1000);
  fake_host_reads(&F, 1500);
  assert_int_equal(F.out_len, 2500);
  fake_host_reads(&F, 1500);
  assert_int_equal(F.out_len, 3000);
  assert_memory_equal(F.out, data, sizeof data);
}

static void test_fast_timing_is_unpaced(void **state) {
  static uint8_t data[M0_UART_TXQ_SIZE];
  unsigned i;
  (void)state;
  O.timing = M0_TIMING_FAST;
  fake_boot(&F, &D, &O, NULL);
  fill(data, sizeof data);
  to_host(data, sizeof data);
  assert_int_equal(F.out_len, sizeof data); /* at once */
  for (i = 0; i < 10; i++) {
    assert_int_equal(m0_dev_uart_rx_budget(&D, F.now), SIZE_MAX);
    fake_rx_bytes(&F, data, sizeof data);
    fake_frames_clear(&F);
  }
  assert_int_equal(F.rx_disable_calls, 0);
  assert_int_equal(m0_dev_counters(&D)->uart_rx, 10 * sizeof data);
}

static void test_queue_full_drops_and_counts(void **state) {
  static uint8_t data[M0_UART_TXQ_SIZE];
  (void)state;
  F.room = 0;
  to_host(data, sizeof data);
  to_host(data, 100);
  assert_int_equal(m0_dev_counters(&D)->uart_tx_dropped, 100);
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"to_host\",\"reason\":\"queue-full\",\"bytes\":100}") >= 0);
}

/* The budget against a 128-bit reference, days into a run at 460800 baud. */
static void test_budget_arithmetic_over_days(void **state) {
  struct m0__pace p;
  static const uint64_t offsets[] = {0, 1, 999, 86400 * S, 5 * 86400 * S + 123456789,
                                     400 * 86400 * S + 7};
  static const uint32_t bauds[] = {600, 9600, 115200, 460800};
  unsigned i, j;
  (void)state;
  for (j = 0; j < 4; j++) {
    for (i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
      const uint64_t epoch = 1000 * S;
      unsigned __int128 ref;
      uint64_t avail, due;
      m0__pace_init(&p, epoch, bauds[j], 11);
      ref = (unsigned __int128)offsets[i] * bauds[j] / ((unsigned __int128)11 * S);
      avail = m0__pace_avail(&p, epoch + offsets[i]);
      assert_true((unsigned __int128)avail == ref);
      if (avail == 0)
        continue;
      /* due(n) is the first instant with n bytes available. */
      m0__pace_take(&p, avail / 2);
      due = m0__pace_due(&p, avail - avail / 2);
      assert_true(m0__pace_avail(&p, due) >= avail - avail / 2);
      assert_true(m0__pace_avail(&p, due - 1) < avail - avail / 2);
    }
  }
}

static void test_burst_size(void **state) {
  struct m0__pace p;
  (void)state;
  m0__pace_init(&p, 0, 460800, 10);
  assert_int_equal(p.burst, 46);
  m0__pace_init(&p, 0, 115200, 10);
  assert_int_equal(p.burst, 11);
  m0__pace_init(&p, 0, 9600, 10);
  assert_int_equal(p.burst, 1);
  m0__pace_init(&p, 0, 600, 11);
  assert_int_equal(p.burst, 1);
  /* Idle credit is cut to the burst, and only then. */
  m0__pace_init(&p, 0, 115200, 10);
  m0__pace_cap(&p, 10 * S);
  assert_int_equal(m0__pace_avail(&p, 10 * S), 11);
  m0__pace_take(&p, 11);
  m0__pace_cap(&p, 10 * S + 500000);
  assert_int_equal(m0__pace_avail(&p, 10 * S + 500000), 5);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_tx_rate, setup),
    cmocka_unit_test_setup(test_rx_rate, setup),
    cmocka_unit_test_setup(test_tx_rate_with_a_late_timer, setup),
    cmocka_unit_test_setup(test_rx_rate_with_a_late_timer, setup),
    cmocka_unit_test_setup(test_rx_resumes_with_a_chunk, setup),
    cmocka_unit_test_setup(test_no_burst_after_idle, setup),
    cmocka_unit_test_setup(test_short_writes_wait_for_writable, setup),
    cmocka_unit_test_setup(test_short_writes_in_fast_timing, setup),
    cmocka_unit_test_setup(test_fast_timing_is_unpaced, setup),
    cmocka_unit_test_setup(test_queue_full_drops_and_counts, setup),
    cmocka_unit_test_setup(test_budget_arithmetic_over_days, setup),
    cmocka_unit_test_setup(test_burst_size, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
