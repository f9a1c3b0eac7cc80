/* test_framer.c: serial framing (spec §2.2) and the network seam's drop accounting.
 *
 * A frame ends after 4 idle character times (347222.2 ns at 115200 8N1: the frame is cut
 * at 347223 ns, not at 347222) or at 400 bytes; in fast timing each read is a frame.
 * A frame with no network to go to (here: UDPC, its socket never bound) is dropped: counted
 * in net_tx_dropped and reported by at most one `drop` event per second carrying the
 * cumulative count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "fake_hal.h"

static struct fake F;
static struct m0_dev D;
static struct m0_dev_options O;

static int setup(void **state) {
  struct m0_config cfg;
  (void)state;
  fake_options(&O);
  m0_config_defaults(&cfg);
  cfg.proto = M0_PROTO_UDPC; /* the fake never reports the socket bound: no network */
  fake_boot(&F, &D, &O, &cfg);
  return 0;
}

static void test_idle_cut_at_four_char_times(void **state) {
  uint64_t t0 = F.now, g = fake_packing_ns(10, 115200);
  (void)state;
  fake_rx(&F, "abc");
  fake_advance(&F, g - 1);
  assert_int_equal(F.nframes, 0);
  fake_advance(&F, 1);
  assert_int_equal(F.nframes, 1);
  fake_assert_frame(&F, 0, "abc");
  assert_int_equal(F.frames[0].at, t0 + g);
}

static void test_idle_cut_at_9600(void **state) {
  struct m0_config cfg;
  uint64_t t0, g = fake_packing_ns(10, 9600);
  (void)state;
  m0_config_defaults(&cfg);
  cfg.baud = 9600;
  fake_boot(&F, &D, &O, &cfg);
  assert_true(g > 4166000 && g < 4167000); /* the spec's "4.2 ms at 9600" */
  t0 = F.now;
  fake_rx(&F, "abc");
  fake_advance(&F, g - 1);
  assert_int_equal(F.nframes, 0);
  fake_advance(&F, 1);
  assert_int_equal(F.nframes, 1);
  assert_int_equal(F.frames[0].at, t0 + g);
}

static void test_bytes_within_the_interval_join(void **state) {
  uint64_t g = fake_packing_ns(10, 115200);
  (void)state;
  fake_rx(&F, "ab");
  fake_advance(&F, g - 1);
  fake_rx(&F, "cd");
  fake_advance(&F, g - 1);
  fake_rx(&F, "ef");
  fake_advance(&F, S);
  assert_int_equal(F.nframes, 1);
  fake_assert_frame(&F, 0, "abcdef");
}

/* A busy machine: the host wrote more, but the board has not read it yet when the idle
 * deadline passes. Those bytes are on the line already: the frame stays open until they
 * are read (each check 4 character times apart), then ends 4 character times after the
 * last of them as usual. */
static void test_bytes_waiting_unread_keep_the_frame_open(void **state) {
  uint64_t g = fake_packing_ns(10, 115200);
  (void)state;
  fake_rx(&F, "ab");
  F.rx_pending = 2;
  fake_advance(&F, 10 * g); /* the board is late: still unread */
  assert_int_equal(F.nframes, 0);
  F.rx_pending = 0;
  fake_rx(&F, "cd");
  fake_advance(&F, g - 1);
  assert_int_equal(F.nframes, 0);
  fake_advance(&F, 1);
  assert_int_equal(F.nframes, 1);
  fake_assert_frame(&F, 0, "abcd");
}

static void test_gap_of_the_interval_splits(void **state) {
  uint64_t g = fake_packing_ns(10, 115200);
  (void)state;
  fake_rx(&F, "ab");
  fake_advance(&F, g);
  fake_rx(&F, "cd");
  fake_advance(&F, S);
  assert_int_equal(F.nframes, 2);
  fake_assert_frame(&F, 0, "ab");
  fake_assert_frame(&F, 1, "cd");
}

static void test_cut_at_400_bytes(void **state) {
  uint8_t data[1000];
  size_t i;
  (void)state;
  for (i = 0; i < sizeof data; i++)
    data[i] = (uint8_t)('a' + i % 26);
  fake_rx_bytes(&F, data, sizeof data);
  assert_int_equal(F.nframes, 2); /* two full frames at once, the rest waits */
  assert_int_equal(F.frames[0].len, 400);
  assert_int_equal(F.frames[1].len, 400);
  fake_advance(&F, S);
  assert_int_equal(F.nframes, 3);
  assert_int_equal(F.frames[2].len, 200);
  assert_memory_equal(F.frames[0].data, data, 400);
  assert_memory_equal(F.frames[1].data, data + 400, 400);
  assert_memory_equal(F.frames[2].data, data + 800, 200);
}

static void test_exactly_400_then_more(void **state) {
  uint8_t data[401];
  (void)state;
  memset(data, 'z', sizeof data);
  fake_rx_bytes(&F, data, 399);
  assert_int_equal(F.nframes, 0);
  fake_rx_bytes(&F, data, 1);
  assert_int_equal(F.nframes, 1);
  assert_int_equal(F.frames[0].len, 400);
  fake_rx_bytes(&F, data, 1);
  fake_advance(&F, S);
  assert_int_equal(F.nframes, 2);
  assert_int_equal(F.frames[1].len, 1);
}

static void test_fast_each_read_is_a_frame(void **state) {
  uint8_t data[1000];
  (void)state;
  O.timing = M0_TIMING_FAST;
  fake_boot(&F, &D, &O, NULL);
  fake_rx(&F, "abc");
  fake_rx(&F, "def");
  assert_int_equal(F.nframes, 2);
  fake_assert_frame(&F, 0, "abc");
  fake_assert_frame(&F, 1, "def");
  memset(data, 'q', sizeof data);
  fake_rx_bytes(&F, data, sizeof data);
  assert_int_equal(F.nframes, 5);
  assert_int_equal(F.frames[2].len, 400);
  assert_int_equal(F.frames[3].len, 400);
  assert_int_equal(F.frames[4].len, 200);
}

static void test_no_frames_in_command_mode(void **state) {
  (void)state;
  fake_enter_command(&F);
  fake_rx(&F, "hello");
  fake_advance(&F, S);
  assert_int_equal(F.nframes, 0);
  assert_int_equal(m0_dev_counters(&D)->net_tx_dropped, 0);
}

static void test_frames_are_dropped_and_counted(void **state) {
  uint64_t t0 = F.now;
  (void)state;
  fake_rx(&F, "abc");
  fake_advance(&F, 100 * MS);
  assert_int_equal(m0_dev_counters(&D)->net_tx_dropped, 3);
  assert_int_equal(F.nevents, 1);
  assert_string_equal(fake_event(&F, 0),
                      "drop {\"dir\":\"to_net\",\"reason\":\"no-network\",\"bytes\":3}");
  /* Within the second: counted, not reported yet. */
  fake_rx(&F, "defg");
  fake_advance(&F, 100 * MS);
  fake_rx(&F, "h");
  fake_advance(&F, 100 * MS);
  assert_int_equal(m0_dev_counters(&D)->net_tx_dropped, 8);
  assert_int_equal(F.nevents, 1);
  /* One second after the first event, a trailing one carries the total. */
  fake_advance_to(&F, t0 + fake_packing_ns(10, 115200) + S - 1);
  assert_int_equal(F.nevents, 1);
  fake_advance(&F, 1);
  assert_int_equal(F.nevents, 2);
  assert_string_equal(fake_event(&F, 1),
                      "drop {\"dir\":\"to_net\",\"reason\":\"no-network\",\"bytes\":8}");
  /* Much later: reported at once again. */
  fake_advance(&F, 10 * S);
  fake_rx(&F, "ij");
  fake_advance(&F, MS);
  assert_int_equal(F.nevents, 3);
  assert_string_equal(fake_event(&F, 2),
                      "drop {\"dir\":\"to_net\",\"reason\":\"no-network\",\"bytes\":10}");
  fake_advance(&F, 10 * S);
  assert_int_equal(F.nevents, 3); /* nothing was suppressed, nothing trails */
}

static void test_drop_events_at_most_one_per_second(void **state) {
  unsigned i;
  uint64_t t0 = F.now;
  (void)state;
  for (i = 0; i < 200; i++) { /* 200 frames over 2 s */
    fake_rx(&F, "x");
    fake_advance(&F, 10 * MS);
  }
  fake_advance(&F, 5 * S);
  assert_int_equal(m0_dev_counters(&D)->net_tx_dropped, 200);
  /* t0, t0+1s, t0+2s (the trailing one carries the last frames). */
  assert_int_equal(fake_count_events(&F, "drop "), 3);
  assert_string_equal(fake_event(&F, F.nevents - 1),
                      "drop {\"dir\":\"to_net\",\"reason\":\"no-network\",\"bytes\":200}");
  (void)t0;
}

static void test_restart_discards_partial_frame(void **state) {
  (void)state;
  fake_rx(&F, "abcd");
  m0_dev_restart(&D, F.now, "test");
  fake_advance(&F, S);
  assert_int_equal(F.nframes, 0);
  assert_int_equal(m0_dev_counters(&D)->net_tx_dropped, 4);
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"to_net\",\"reason\":\"restart\",\"bytes\":4}") >= 0);
}

/* The board reads the pty in paced chunks of about 1 ms (11 bytes at 115200), so a
 * busy line looks idle for longer than 4 character times between two chunks. A frame
 * ends only when the line really is idle: here a host writes 100 bytes at once, the
 * "board" reads exactly what the budget allows whenever it allows something, and the
 * network gets one frame, not one per chunk. */
static void test_paced_chunks_do_not_cut_a_frame(void **state) {
  uint8_t line[100];
  size_t sent = 0, i;
  int turns;
  (void)state;
  setup(state);
  for (i = 0; i < sizeof line; i++)
    line[i] = (uint8_t)('a' + i % 26);
  for (turns = 0; sent < sizeof line && turns < 100000; turns++) {
    size_t budget = m0_dev_uart_rx_budget(&D, F.now);
    if (budget == 0) {
      fake_advance(&F, 50 * 1000);
      continue;
    }
    if (budget > sizeof line - sent)
      budget = sizeof line - sent;
    fake_rx_bytes(&F, line + sent, budget);
    sent += budget;
  }
  assert_int_equal(sent, sizeof line);
  assert_true(turns > 5); /* the bytes really came in several paced chunks */
  assert_int_equal(F.nframes, 0);
  fake_advance(&F, 10 * MS); /* the host is done: the line goes idle */
  assert_int_equal(F.nframes, 1);
  assert_int_equal(F.frames[0].len, sizeof line);
  assert_memory_equal(F.frames[0].data, line, sizeof line);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_paced_chunks_do_not_cut_a_frame),
    cmocka_unit_test_setup(test_idle_cut_at_four_char_times, setup),
    cmocka_unit_test_setup(test_idle_cut_at_9600, setup),
    cmocka_unit_test_setup(test_bytes_within_the_interval_join, setup),
    cmocka_unit_test_setup(test_gap_of_the_interval_splits, setup),
    cmocka_unit_test_setup(test_bytes_waiting_unread_keep_the_frame_open, setup),
    cmocka_unit_test_setup(test_cut_at_400_bytes, setup),
    cmocka_unit_test_setup(test_exactly_400_then_more, setup),
    cmocka_unit_test_setup(test_fast_each_read_is_a_frame, setup),
    cmocka_unit_test_setup(test_no_frames_in_command_mode, setup),
    cmocka_unit_test_setup(test_frames_are_dropped_and_counted, setup),
    cmocka_unit_test_setup(test_drop_events_at_most_one_per_second, setup),
    cmocka_unit_test_setup(test_restart_discards_partial_frame, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
