/* test_fault.c: faults on demand (src/core/fault.c) on the fake HAL and the virtual clock.
 *
 * Power: a cut keeps TCP connections open but silent (paused, forgotten, never closed),
 * closes listeners and UDP sockets, silences the UART both ways, keeps flash (a save in
 * flight still commits; its reply is lost); power on resets the silent connections
 * (abort) and boots; a power cycle comes back on by itself at the exact instant.
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
static struct m0_config C;

static int setup(void **state) {
  (void)state;
  fake_options(&O);
  m0_config_defaults(&C);
  return 0;
}

static int setup_tcps(void **state) {
  setup(state);
  C.proto = M0_PROTO_TCPS;
  C.sockport = 8234;
  return 0;
}

/* ---- power ---- */

static void test_power_off_keeps_tcp_silent_and_resets_it_at_power_on(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C); /* TCPC connected on link 0 */
  assert_true(m0_dev_powered(&D));
  assert_int_equal(m0_dev_power(&D, F.now, false, 0), 0);
  assert_false(m0_dev_powered(&D));
  assert_int_equal(m0_dev_mode(&D), M0_MODE_BOOTING);
  assert_int_not_equal(fake_find_event(&F, "power {\"state\":\"off\"}"), -1);
  /* No FIN: the connection is paused, never closed. */
  assert_int_not_equal(fake_find_op(&F, "pause 0 on"), -1);
  assert_int_equal(fake_count_ops(&F, "close"), 0);
  assert_int_equal(fake_count_ops(&F, "abort"), 0);
  assert_true(F.links[0].open);
  /* Nothing moves: host bytes are dropped, nothing is written, nothing is dialled. */
  fake_rx(&F, "hello");
  fake_advance(&F, 10 * S);
  assert_string_equal(fake_out(&F), "");
  assert_int_equal(F.nsends, 0);
  assert_int_equal(fake_count_ops(&F, "open"), 0);
  assert_int_not_equal(
      fake_find_event(&F, "drop {\"dir\":\"from_host\",\"reason\":\"off\",\"bytes\":5}"), -1);
  assert_int_equal(fake_next_fire(&F), M0_TIME_NEVER); /* nothing armed while off */
  fake_clear(&F);
  assert_int_equal(m0_dev_power(&D, F.now, true, 0), 0);
  /* The old connection is reset before anything else, then a boot, then a new dial. */
  assert_string_equal(fake_op(&F, 0), "abort 0");
  assert_int_equal(F.links[0].aborts, 1);
  assert_int_not_equal(fake_find_event(&F, "power {\"state\":\"on\",\"off_ms\":10000}"), -1);
  fake_advance(&F, 199 * MS);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_BOOTING);
  fake_advance(&F, 1 * MS);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  assert_int_not_equal(fake_find_op(&F, "open 0 tcp 192.168.0.201:8234 from 20108 keepalive"), -1);
}

static void test_power_off_closes_listener_and_orphans_clients(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  assert_int_equal(fake_link_accept(&F, 0, "127.0.0.1", 5001), 1);
  assert_int_equal(fake_link_accept(&F, 0, "127.0.0.1", 5002), 2);
  fake_clear(&F);
  m0_dev_power(&D, F.now, false, 0);
  assert_int_not_equal(fake_find_op(&F, "close 0"), -1); /* the listener */
  assert_int_not_equal(fake_find_op(&F, "pause 1 on"), -1);
  assert_int_not_equal(fake_find_op(&F, "pause 2 on"), -1);
  assert_int_equal(fake_find_op(&F, "close 1"), -1);
  assert_int_equal(fake_find_op(&F, "close 2"), -1);
  /* A late read on a forgotten connection is ignored. */
  fake_link_rx_str(&F, 1, "late");
  assert_string_equal(fake_out(&F), "");
  fake_clear(&F);
  m0_dev_power(&D, F.now + 1 * S, true, 0);
  assert_int_equal(fake_count_ops(&F, "abort"), 2);
  assert_int_not_equal(fake_find_op(&F, "abort 1"), -1);
  assert_int_not_equal(fake_find_op(&F, "abort 2"), -1);
}

static void test_power_cycle_comes_back_by_itself(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  uint64_t cut = F.now;
  m0_dev_power(&D, cut, false, 3 * S);
  assert_int_not_equal(fake_find_event(&F, "power {\"state\":\"off\",\"for_ms\":3000}"), -1);
  struct m0_fault_status st;
  m0_dev_fault_status(&D, &st);
  assert_true(st.off);
  assert_int_equal(st.on_at, cut + 3 * S);
  assert_int_equal(fake_next_fire(&F), cut + 3 * S);
  fake_advance(&F, 3 * S - 1);
  assert_false(m0_dev_powered(&D));
  fake_advance(&F, 1);
  assert_true(m0_dev_powered(&D));
  assert_int_not_equal(fake_find_event(&F, "power {\"state\":\"on\",\"off_ms\":3000}"), -1);
  fake_advance(&F, 200 * MS);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  m0_dev_fault_status(&D, &st);
  assert_false(st.off);
}

static void test_power_twice_is_refused(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  assert_int_equal(m0_dev_power(&D, F.now, true, 0), M0_ERR_STATE);
  assert_int_equal(m0_dev_power(&D, F.now, false, 0), 0);
  assert_int_equal(m0_dev_power(&D, F.now, false, 0), M0_ERR_STATE);
  assert_int_equal(fake_count_events(&F, "power "), 1);
}

static void test_restart_while_off_does_nothing(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  m0_dev_power(&D, F.now, false, 0);
  fake_clear(&F);
  m0_dev_restart(&D, F.now, "sighup");
  m0_dev_factory_reset(&D, F.now);
  fake_advance(&F, 5 * S);
  assert_int_equal(fake_count_events(&F, "restart"), 0);
  assert_int_equal(fake_count_events(&F, "ready"), 0);
  assert_int_equal(F.flash_attempts, 0);
  assert_false(m0_dev_powered(&D));
}

static void test_save_in_flight_commits_but_its_reply_is_lost(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  F.flash_async = true;
  fake_enter_command(&F);
  fake_rx(&F, "AT+MID=cut\r");
  fake_run(&F, 1 * S);
  assert_true(F.flash_pending);
  fake_out_clear(&F);
  m0_dev_power(&D, F.now, false, 0);
  fake_flash_complete(&F, 0);
  fake_run(&F, 1 * S);
  assert_string_equal(fake_out(&F), ""); /* no +ok: the UART has no power */
  assert_string_equal(m0_dev_saved(&D)->mid, "cut");
  m0_dev_power(&D, F.now, true, 0);
  fake_advance(&F, 200 * MS);
  assert_string_equal(m0_dev_running(&D)->mid, "cut"); /* flash kept what was saved */
}

static void test_reld_finishing_after_the_cut_does_not_restart(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  F.flash_async = true;
  fake_enter_command(&F);
  fake_rx(&F, "AT+RELD\r");
  fake_run(&F, 1 * S);
  m0_dev_power(&D, F.now, false, 0);
  fake_flash_complete(&F, 0);
  fake_events_clear(&F);
  fake_run(&F, 5 * S);
  assert_int_equal(fake_count_events(&F, "restart"), 0);
  assert_false(m0_dev_powered(&D));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_power_off_keeps_tcp_silent_and_resets_it_at_power_on, setup),
    cmocka_unit_test_setup(test_power_off_closes_listener_and_orphans_clients, setup_tcps),
    cmocka_unit_test_setup(test_power_cycle_comes_back_by_itself, setup),
    cmocka_unit_test_setup(test_power_twice_is_refused, setup),
    cmocka_unit_test_setup(test_restart_while_off_does_nothing, setup),
    cmocka_unit_test_setup(test_save_in_flight_commits_but_its_reply_is_lost, setup),
    cmocka_unit_test_setup(test_reld_finishing_after_the_cut_does_not_restart, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
