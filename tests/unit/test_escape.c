/* test_escape.c: the +++ / a handshake (spec §3.1), end to end through the UART input.
 *
 * Edges are tested to the nanosecond on the virtual clock: the idle guard (4 character
 * times: 347222.2 ns at 115200 8N1, so 347222 ns is short and 347223 ns is enough), the
 * 300 ms between '+' bytes and the 3 s for the host's 'a' (both inclusive). On failure
 * every held byte must reach the network seam, in order, with the byte that broke it.
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
  (void)state;
  fake_options(&O);
  fake_boot(&F, &D, &O, NULL);
  return 0;
}

static const char *frames(void) {
  static char buf[8192];
  fake_frames_concat(&F, buf, sizeof buf);
  return buf;
}

static void test_handshake_enters_command_mode(void **state) {
  (void)state;
  fake_rx(&F, "+");
  fake_advance(&F, 10 * MS);
  fake_rx(&F, "+");
  fake_advance(&F, 10 * MS);
  assert_string_equal(fake_out(&F), "");
  fake_rx(&F, "+");
  fake_advance(&F, 10 * MS);
  assert_string_equal(fake_out(&F), "a"); /* right after the third '+', nothing else */
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  fake_rx(&F, "a");
  fake_advance(&F, 10 * MS);
  assert_string_equal(fake_out(&F), "a+ok"); /* no echo of +++ or a, no CR LF */
  assert_int_equal(m0_dev_mode(&D), M0_MODE_COMMAND);
  assert_true(fake_find_event(&F, "mode.command {\"cause\":\"escape\"}") >= 0);
  assert_int_equal(F.nframes, 0);
  assert_int_equal(m0_dev_counters(&D)->net_tx_dropped, 0);
}

static void test_handshake_reply_lower_case_in_field_dialect(void **state) {
  (void)state;
  O.dialect = M0_DIALECT_FIELD;
  fake_boot(&F, &D, &O, NULL);
  fake_type(&F, "+++a", 5 * MS);
  fake_advance(&F, 10 * MS);
  assert_string_equal(fake_out(&F), "a+ok");
  assert_int_equal(m0_dev_mode(&D), M0_MODE_COMMAND);
}

static void test_handshake_in_one_read(void **state) {
  (void)state;
  fake_rx(&F, "+++");
  fake_advance(&F, 100 * MS);
  fake_rx(&F, "a");
  fake_advance(&F, 10 * MS);
  assert_string_equal(fake_out(&F), "a+ok");
  assert_int_equal(m0_dev_mode(&D), M0_MODE_COMMAND);
}

static void test_guard_just_short_is_data(void **state) {
  uint64_t g = fake_packing_ns(10, 115200);
  (void)state;
  assert_int_equal(g, 347223);
  fake_rx(&F, "x");
  fake_advance(&F, g - 1);
  fake_rx(&F, "+++");
  fake_advance(&F, 100 * MS);
  fake_rx(&F, "a");
  fake_advance(&F, 100 * MS);
  assert_string_equal(fake_out(&F), "");
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  assert_string_equal(frames(), "x+++a");
  fake_assert_frame(&F, 0, "x+++");
  fake_assert_frame(&F, 1, "a");
}

static void test_guard_just_long_enough(void **state) {
  uint64_t g = fake_packing_ns(10, 115200);
  (void)state;
  fake_rx(&F, "x");
  fake_advance(&F, g);
  fake_rx(&F, "+++");
  fake_advance(&F, 100 * MS);
  fake_rx(&F, "a");
  fake_advance(&F, 100 * MS);
  assert_string_equal(fake_out(&F), "a+ok");
  assert_int_equal(m0_dev_mode(&D), M0_MODE_COMMAND);
  assert_int_equal(F.nframes, 1);
  fake_assert_frame(&F, 0, "x"); /* what came before the guard is its own frame */
}

static void test_guard_uses_running_uart(void **state) {
  struct m0_config cfg;
  const char *uart = "9600,7,2,EVEN,NFC";
  uint64_t g = fake_packing_ns(1 + 7 + 1 + 2, 9600);
  (void)state;
  m0_config_defaults(&cfg);
  assert_int_equal(m0_param_set(&m0_params[M0_ID_UART], &cfg, uart, strlen(uart)), 0);
  fake_boot(&F, &D, &O, &cfg);
  assert_int_equal(g, 4583334); /* 4 x 11 bits at 9600 = 4.583333 ms */
  fake_rx(&F, "x");
  fake_advance(&F, g - 1);
  fake_rx(&F, "+++");
  fake_advance(&F, 100 * MS);
  assert_string_equal(fake_out(&F), "");
  fake_advance(&F, S);
  fake_rx(&F, "x");
  fake_advance(&F, g);
  fake_rx(&F, "+++");
  fake_advance(&F, 100 * MS);
  assert_string_equal(fake_out(&F), "a");
}

static void test_burst_without_guard_is_data(void **state) {
  (void)state;
  fake_rx(&F, "abc+++");
  fake_advance(&F, 100 * MS);
  fake_rx(&F, "a");
  fake_advance(&F, 100 * MS);
  assert_string_equal(fake_out(&F), "");
  assert_string_equal(frames(), "abc+++a");
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
}

static void test_plus_at_299_ms_is_in_time(void **state) {
  (void)state;
  fake_type(&F, "+++", 299 * MS);
  fake_advance(&F, MS);
  assert_string_equal(fake_out(&F), "a");
  fake_rx(&F, "a");
  fake_advance(&F, MS);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_COMMAND);
  assert_int_equal(F.nframes, 0);
}

static void test_plus_at_300_ms_is_in_time(void **state) {
  (void)state;
  fake_type(&F, "+++", 300 * MS);
  fake_advance(&F, MS);
  assert_string_equal(fake_out(&F), "a");
  assert_int_equal(F.nframes, 0);
}

static void test_plus_at_301_ms_is_late(void **state) {
  uint64_t t0 = F.now;
  (void)state;
  fake_rx(&F, "+");
  fake_advance(&F, 301 * MS);
  /* The first '+' left at the end of its window, without waiting for more input. */
  assert_int_equal(F.nframes, 1);
  fake_assert_frame(&F, 0, "+");
  assert_true(F.frames[0].at > t0 + 300 * MS);
  assert_true(F.frames[0].at <= t0 + 300 * MS + 1);
  fake_rx(&F, "+");
  fake_advance(&F, 301 * MS);
  fake_rx(&F, "+");
  fake_advance(&F, S);
  assert_string_equal(fake_out(&F), "");
  assert_string_equal(frames(), "+++");
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
}

static void test_third_plus_late(void **state) {
  (void)state;
  fake_type(&F, "++", 100 * MS);
  fake_advance(&F, 301 * MS);
  assert_int_equal(F.nframes, 1);
  fake_assert_frame(&F, 0, "++");
  fake_rx(&F, "+");
  fake_advance(&F, 10 * MS);
  assert_string_equal(fake_out(&F), "");
  fake_advance(&F, S);
  assert_string_equal(frames(), "+++");
}

static void test_a_at_2900_ms(void **state) {
  (void)state;
  fake_rx(&F, "+++");
  fake_advance(&F, 2900 * MS);
  fake_rx(&F, "a");
  fake_advance(&F, MS);
  assert_string_equal(fake_out(&F), "a+ok");
  assert_int_equal(m0_dev_mode(&D), M0_MODE_COMMAND);
}

static void test_a_at_3000_ms(void **state) {
  (void)state;
  fake_rx(&F, "+++");
  fake_advance(&F, 3000 * MS);
  fake_rx(&F, "a");
  fake_advance(&F, MS);
  assert_string_equal(fake_out(&F), "a+ok");
  assert_int_equal(m0_dev_mode(&D), M0_MODE_COMMAND);
}

static void test_a_at_3100_ms_is_late(void **state) {
  uint64_t t0 = F.now;
  (void)state;
  fake_rx(&F, "+++");
  fake_advance(&F, 3100 * MS);
  assert_int_equal(F.nframes, 1);
  fake_assert_frame(&F, 0, "+++");
  assert_true(F.frames[0].at > t0 + 3 * S && F.frames[0].at <= t0 + 3 * S + 1);
  fake_rx(&F, "a");
  fake_advance(&F, S);
  assert_string_equal(fake_out(&F), "a"); /* the device's 'a' only, no +ok */
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  assert_string_equal(frames(), "+++a");
  assert_int_equal(fake_find_event(&F, "mode.command {\"cause\":\"escape\"}"), -1);
}

static void test_wrong_byte_after_three(void **state) {
  (void)state;
  fake_type(&F, "+++x", 10 * MS);
  fake_advance(&F, S);
  assert_string_equal(fake_out(&F), "a");
  assert_int_equal(F.nframes, 1);
  fake_assert_frame(&F, 0, "+++x");
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
}

static void test_wrong_byte_after_one_and_two(void **state) {
  (void)state;
  fake_type(&F, "+x", 10 * MS);
  fake_advance(&F, S);
  fake_type(&F, "++y", 10 * MS);
  fake_advance(&F, S);
  assert_string_equal(fake_out(&F), "");
  assert_int_equal(F.nframes, 2);
  fake_assert_frame(&F, 0, "+x");
  fake_assert_frame(&F, 1, "++y");
}

static void test_upper_case_a_fails(void **state) {
  (void)state;
  fake_type(&F, "+++A", 10 * MS);
  fake_advance(&F, S);
  assert_string_equal(fake_out(&F), "a");
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  assert_string_equal(frames(), "+++A");
}

static void test_fourth_plus_fails(void **state) {
  (void)state;
  fake_type(&F, "++++", 10 * MS);
  fake_advance(&F, 100 * MS);
  fake_rx(&F, "a");
  fake_advance(&F, S);
  assert_string_equal(fake_out(&F), "a");
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  assert_string_equal(frames(), "++++a");
}

static void test_plus_plus_plus_crlf_stays_transparent(void **state) {
  (void)state;
  fake_rx(&F, "+++\r\n");
  fake_advance(&F, 5 * S);
  assert_string_equal(fake_out(&F), "a");
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  assert_int_equal(F.nframes, 1);
  fake_assert_frame(&F, 0, "+++\r\n");
  /* Kept for the TCP connection that is not up yet (UARTCLBUF=off), nothing lost. */
  assert_int_equal(m0_dev_counters(&D)->net_tx_dropped, 0);
  assert_int_equal(D.net.pending_len, 5);
}

static void test_forwarding_after_failure_is_exact(void **state) {
  static const uint8_t bin[] = {0x00, '+', 0xff, '+', '+', 0x7f};
  (void)state;
  fake_rx(&F, "hello");
  fake_advance(&F, S);
  fake_rx(&F, "++");
  fake_advance(&F, 5 * MS);
  fake_rx(&F, "world");
  fake_advance(&F, S);
  assert_int_equal(F.nframes, 2);
  fake_assert_frame(&F, 0, "hello");
  fake_assert_frame(&F, 1, "++world");
  fake_frames_clear(&F);
  fake_rx_bytes(&F, bin, sizeof bin);
  fake_advance(&F, S);
  assert_int_equal(F.nframes, 1);
  assert_int_equal(F.frames[0].len, sizeof bin);
  assert_memory_equal(F.frames[0].data, bin, sizeof bin);
}

static void test_bytes_after_a_in_same_read_are_commands(void **state) {
  (void)state;
  fake_rx(&F, "+++");
  fake_advance(&F, 10 * MS);
  fake_rx(&F, "aAT\r");
  fake_advance(&F, 100 * MS);
  assert_string_equal(fake_out(&F), "a+okAT\r\r\n+ok\r\n");
  assert_int_equal(F.nframes, 0);
}

static void test_not_active_in_command_mode(void **state) {
  (void)state;
  fake_enter_command(&F);
  fake_rx(&F, "+++");
  fake_advance(&F, 4 * S);
  assert_string_equal(fake_out(&F), "+++"); /* the echo of a command line */
  fake_rx(&F, "\r");
  fake_advance(&F, S);
  assert_string_equal(fake_out(&F), "+++\r\r\n+ERR=-1\r\n");
  assert_int_equal(m0_dev_mode(&D), M0_MODE_COMMAND);
}

static void test_again_after_entm(void **state) {
  (void)state;
  fake_enter_command(&F);
  fake_rx(&F, "AT+ENTM\r\n");
  fake_advance(&F, S);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  fake_out_clear(&F);
  fake_type(&F, "+++a", 20 * MS);
  fake_advance(&F, 10 * MS);
  assert_string_equal(fake_out(&F), "a+ok");
  assert_int_equal(m0_dev_mode(&D), M0_MODE_COMMAND);
  assert_int_equal(F.nframes, 0);
}

static void test_fast_timing(void **state) {
  (void)state;
  O.timing = M0_TIMING_FAST;
  fake_boot(&F, &D, &O, NULL);
  fake_rx(&F, "+++x");
  assert_string_equal(fake_out(&F), "a");
  assert_int_equal(F.nframes, 1); /* fast: the read is the frame */
  fake_assert_frame(&F, 0, "+++x");
  fake_advance(&F, S);
  fake_rx(&F, "++");
  fake_advance(&F, 301 * MS);
  assert_int_equal(F.nframes, 2);
  fake_assert_frame(&F, 1, "++");
  fake_advance(&F, S);
  fake_rx(&F, "+++");
  fake_rx(&F, "a");
  assert_string_equal(fake_out(&F), "aa+ok");
  assert_int_equal(m0_dev_mode(&D), M0_MODE_COMMAND);
}

static void test_timer_is_armed_for_the_window(void **state) {
  uint64_t t0 = F.now;
  (void)state;
  fake_rx(&F, "+");
  assert_int_equal(F.timer, t0 + 300 * MS + 1);
  fake_advance(&F, 100 * MS);
  fake_rx(&F, "+");
  assert_int_equal(F.timer, t0 + 400 * MS + 1);
  fake_advance(&F, 100 * MS);
  fake_rx(&F, "+");
  fake_advance(&F, MS); /* the 'a' drains */
  assert_int_equal(F.timer, t0 + 200 * MS + 3 * S + 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_handshake_enters_command_mode, setup),
    cmocka_unit_test_setup(test_handshake_reply_lower_case_in_field_dialect, setup),
    cmocka_unit_test_setup(test_handshake_in_one_read, setup),
    cmocka_unit_test_setup(test_guard_just_short_is_data, setup),
    cmocka_unit_test_setup(test_guard_just_long_enough, setup),
    cmocka_unit_test_setup(test_guard_uses_running_uart, setup),
    cmocka_unit_test_setup(test_burst_without_guard_is_data, setup),
    cmocka_unit_test_setup(test_plus_at_299_ms_is_in_time, setup),
    cmocka_unit_test_setup(test_plus_at_300_ms_is_in_time, setup),
    cmocka_unit_test_setup(test_plus_at_301_ms_is_late, setup),
    cmocka_unit_test_setup(test_third_plus_late, setup),
    cmocka_unit_test_setup(test_a_at_2900_ms, setup),
    cmocka_unit_test_setup(test_a_at_3000_ms, setup),
    cmocka_unit_test_setup(test_a_at_3100_ms_is_late, setup),
    cmocka_unit_test_setup(test_wrong_byte_after_three, setup),
    cmocka_unit_test_setup(test_wrong_byte_after_one_and_two, setup),
    cmocka_unit_test_setup(test_upper_case_a_fails, setup),
    cmocka_unit_test_setup(test_fourth_plus_fails, setup),
    cmocka_unit_test_setup(test_plus_plus_plus_crlf_stays_transparent, setup),
    cmocka_unit_test_setup(test_forwarding_after_failure_is_exact, setup),
    cmocka_unit_test_setup(test_bytes_after_a_in_same_read_are_commands, setup),
    cmocka_unit_test_setup(test_not_active_in_command_mode, setup),
    cmocka_unit_test_setup(test_again_after_entm, setup),
    cmocka_unit_test_setup(test_fast_timing, setup),
    cmocka_unit_test_setup(test_timer_is_armed_for_the_window, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
