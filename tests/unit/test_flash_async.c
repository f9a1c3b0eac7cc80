/* test_flash_async.c: a flash write that completes later (the board writes on libuv's
 * thread pool): the AT reply waits for its outcome, success commits and failure keeps
 * the old value, command-mode bytes typed meanwhile wait and then run in order, AT+Z and
 * AT+RELD sequence after the write, a restart from outside waits for it, the web page's
 * edit is one write answered through its callback, at most one write is in flight, and
 * the network and the timer go on meanwhile.
 *
 * The fake HAL keeps the save in flight (F.flash_async) until fake_flash_complete(); it
 * fails the test if the device calls flash_save again before that. Time is virtual: a
 * save that "takes" minutes costs nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fake_hal.h"

static struct fake F;
static struct m0_dev D;
static struct m0_dev_options O;

#define MS M0_NS_PER_MS
#define S M0_NS_PER_S
#define OK "\r\n+ok\r\n"
#define ERR5 "\r\n+ERR=-5\r\n"

/* Booted (TCPC dialling link 0, the factory work mode), in command mode, saves kept in
 * flight until the test completes them. */
static int setup(void **state) {
  (void)state;
  fake_options(&O);
  fake_boot(&F, &D, &O, NULL);
  fake_enter_command(&F);
  F.flash_async = true;
  fake_clear(&F);
  return 0;
}

/* Host bytes in one read, then everything the timer has to do (drain at line rate). */
static void type(const char *s) {
  fake_rx(&F, s);
  fake_run(&F, FAKE_DRAIN_NS);
}

static void complete(int rc) {
  fake_flash_complete(&F, rc);
  fake_run(&F, FAKE_DRAIN_NS);
}

static bool flash_holds_line(const char *line) {
  return strstr(F.flash, line) != NULL;
}

/* ---- the reply waits; success commits, failure keeps ---- */

static void test_reply_waits_for_the_write(void **state) {
  (void)state;
  type("AT+MID=bench\r");
  assert_true(F.flash_pending);
  assert_true(m0_dev_saving(&D));
  assert_int_equal(F.flash_attempts, 1);
  assert_true(strstr(F.flash_pending_text, "AT+MID=bench\n") != NULL);
  /* Only the echo: the reply is the write's. Time passes, nothing more comes. */
  assert_string_equal(fake_out(&F), "AT+MID=bench\r");
  fake_advance(&F, 30 * S);
  assert_string_equal(fake_out(&F), "AT+MID=bench\r");
  assert_string_equal(m0_dev_saved(&D)->mid, "USR-M0"); /* not committed yet */

  complete(0);
  assert_string_equal(fake_out(&F), "AT+MID=bench\r" OK);
  assert_false(m0_dev_saving(&D));
  assert_string_equal(m0_dev_saved(&D)->mid, "bench");
  assert_true(flash_holds_line("AT+MID=bench\n"));
  fake_out_clear(&F);
  type("AT+MID?\r");
  assert_string_equal(fake_out(&F), "AT+MID?\r\r\n+ok=bench\r\n");
}

static void test_failure_answers_minus_5_and_keeps_the_old_value(void **state) {
  (void)state;
  type("AT+MID=first\r");
  complete(0);
  fake_out_clear(&F);
  type("AT+MID=second\r");
  assert_string_equal(fake_out(&F), "AT+MID=second\r");
  complete(-EIO);
  assert_string_equal(fake_out(&F), "AT+MID=second\r" ERR5);
  assert_string_equal(m0_dev_saved(&D)->mid, "first");
  assert_true(flash_holds_line("AT+MID=first\n")); /* the file as it was */
  assert_int_equal(F.flash_saves, 1);
  fake_out_clear(&F);
  type("AT+MID\r");
  assert_string_equal(fake_out(&F), "AT+MID\r\r\n+ok=first\r\n");
}

static void test_failure_then_retry_succeeds(void **state) {
  (void)state;
  type("AT+SOCKPORT=2000\r");
  complete(-ENOSPC);
  assert_string_equal(fake_out(&F), "AT+SOCKPORT=2000\r" ERR5);
  assert_int_equal(m0_dev_saved(&D)->sockport, 20108);
  fake_out_clear(&F);
  type("AT+SOCKPORT=2000\r"); /* the host tries again: a new write */
  assert_int_equal(F.flash_attempts, 2);
  complete(0);
  assert_string_equal(fake_out(&F), "AT+SOCKPORT=2000\r" OK);
  assert_int_equal(m0_dev_saved(&D)->sockport, 2000);
  assert_true(flash_holds_line("AT+SOCKPORT=2000\n"));
}

/* ---- bytes typed meanwhile ---- */

static void test_bytes_typed_meanwhile_wait_and_run_in_order(void **state) {
  (void)state;
  /* The rest of the read that started the save, then later reads, a byte at a time. */
  type("AT+MID=one\rAT+MID?\r");
  fake_type(&F, "AT+VER\r", MS);
  fake_run(&F, FAKE_DRAIN_NS);
  assert_string_equal(fake_out(&F), "AT+MID=one\r"); /* nothing echoed, nothing run */
  assert_false(F.rx_enabled);                       /* the board stops reading */
  assert_int_equal(m0_dev_uart_rx_budget(&D, F.now), 0);
  assert_int_equal(D.save.held_len, strlen("AT+MID?\rAT+VER\r"));

  complete(0);
  assert_string_equal(fake_out(&F), "AT+MID=one\r" OK "AT+MID?\r\r\n+ok=one\r\n"
                                    "AT+VER\r\r\n+ok=V4017\r\n");
  assert_true(F.rx_enabled);
  assert_int_equal(D.save.held_len, 0);
  assert_true(m0_dev_uart_rx_budget(&D, F.now) > 0);
}

static void test_two_sets_in_one_read_write_one_after_the_other(void **state) {
  (void)state;
  type("AT+MID=a\rAT+SOCKPORT=3000\rAT+MID\r");
  assert_int_equal(F.flash_attempts, 1);
  complete(0); /* the first: its reply, then the second set starts its own write */
  assert_int_equal(F.flash_attempts, 2);
  assert_true(F.flash_pending);
  assert_string_equal(fake_out(&F), "AT+MID=a\r" OK "AT+SOCKPORT=3000\r");
  assert_true(strstr(F.flash_pending_text, "AT+MID=a\n") != NULL); /* on top of the first */
  complete(0);
  assert_string_equal(fake_out(&F),
                      "AT+MID=a\r" OK "AT+SOCKPORT=3000\r" OK "AT+MID\r\r\n+ok=a\r\n");
  assert_int_equal(m0_dev_saved(&D)->sockport, 3000);
}

static void test_echo_off_applies_when_saved(void **state) {
  (void)state;
  type("AT+E=off\rAT\r");
  assert_true(m0_dev_running(&D)->echo); /* not before the write */
  complete(0);
  assert_false(m0_dev_running(&D)->echo);
  /* The held "AT" runs after the commit: no echo any more. */
  assert_string_equal(fake_out(&F), "AT+E=off\r" OK OK);
}

static void test_echo_stays_on_when_the_write_fails(void **state) {
  (void)state;
  type("AT+E=off\rAT\r");
  complete(-EIO);
  assert_true(m0_dev_running(&D)->echo);
  assert_true(m0_dev_saved(&D)->echo);
  assert_string_equal(fake_out(&F), "AT+E=off\r" ERR5 "AT\r" OK);
}

static void test_more_than_the_hold_is_dropped_and_counted(void **state) {
  static char big[M0__HELD_MAX + 101];
  (void)state;
  type("AT+MID=x\r");
  memset(big, 'A', sizeof big - 1);
  fake_rx(&F, big); /* a caller that ignores the budget */
  assert_int_equal(D.save.held_len, M0__HELD_MAX);
  assert_int_equal(m0_dev_counters(&D)->uart_rx_dropped, 100);
  assert_int_equal(fake_count_events(&F, "drop {\"dir\":\"from_host\",\"reason\":\"flash-busy\""), 1);
  complete(0);
}

/* ---- restarts ---- */

static void test_z_after_a_set_waits_for_the_write(void **state) {
  (void)state;
  type("AT+MID=z\rAT+Z\r");
  fake_advance(&F, 10 * S);
  assert_int_equal(fake_count_events(&F, "restart "), 0);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_COMMAND);
  complete(0);
  assert_string_equal(fake_out(&F), "AT+MID=z\r" OK "AT+Z\r" OK);
  assert_true(fake_find_event(&F, "restart {\"cause\":\"at\"}") >= 0);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT); /* booted again */
  assert_string_equal(m0_dev_running(&D)->mid, "z");      /* from the new flash */
}

static void test_reld_restarts_after_the_write(void **state) {
  struct m0_config defaults;
  (void)state;
  m0_config_defaults(&defaults);
  type("AT+MID=old\r");
  complete(0);
  fake_clear(&F);
  type("AT+RELD\r");
  fake_advance(&F, 10 * S);
  assert_string_equal(fake_out(&F), "AT+RELD\r");
  assert_int_equal(fake_count_events(&F, "restart "), 0);
  complete(0);
  assert_string_equal(fake_out(&F), "AT+RELD\r\r\n+ok=rebooting...\r\n");
  assert_true(fake_find_event(&F, "restart {\"cause\":\"reld\"}") >= 0);
  assert_memory_equal(m0_dev_saved(&D), &defaults, sizeof defaults);
  assert_memory_equal(m0_dev_running(&D), &defaults, sizeof defaults);
}

static void test_reld_failure_keeps_everything(void **state) {
  (void)state;
  type("AT+MID=old\r");
  complete(0);
  fake_clear(&F);
  type("AT+RELD\rAT+MID\r");
  complete(-EIO);
  assert_string_equal(fake_out(&F), "AT+RELD\r" ERR5 "AT+MID\r\r\n+ok=old\r\n");
  assert_int_equal(fake_count_events(&F, "restart "), 0);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_COMMAND);
}

static void test_restart_from_outside_waits_for_the_outcome(void **state) {
  (void)state;
  type("AT+MID=hup\r");
  m0_dev_restart(&D, F.now, "sighup");
  fake_advance(&F, 5 * S);
  assert_int_equal(fake_count_events(&F, "restart "), 0);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_COMMAND);
  complete(0);
  /* The outcome lands (committed, flash.saved is the board's), then the restart. */
  assert_true(fake_find_event(&F, "restart {\"cause\":\"sighup\"}") >= 0);
  assert_string_equal(m0_dev_saved(&D)->mid, "hup");
  assert_string_equal(m0_dev_running(&D)->mid, "hup");
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
}

static void test_restart_from_outside_after_a_failed_write(void **state) {
  (void)state;
  type("AT+MID=nope\r");
  m0_dev_restart(&D, F.now, "web");
  complete(-EIO);
  assert_int_equal(fake_count_events(&F, "restart {\"cause\":\"web\"}"), 1);
  assert_string_equal(m0_dev_running(&D)->mid, "USR-M0");
}

static void test_bytes_held_at_a_restart_are_dropped_as_booting(void **state) {
  (void)state;
  type("AT+MID=r\rAT+VER\r");
  m0_dev_restart(&D, F.now, "test");
  complete(0);
  assert_int_equal(D.save.held_len, 0);
  assert_true(fake_find_event(&F, "drop {\"dir\":\"from_host\",\"reason\":\"booting\","
                                  "\"bytes\":7}") >= 0);
}

/* ---- the web page's edit ---- */

static int web_rc;
static unsigned web_calls;

static void web_done(void *arg, int rc) {
  assert_ptr_equal(arg, &web_calls);
  web_calls++;
  web_rc = rc;
}

static void test_edit_is_one_write_answered_by_callback(void **state) {
  (void)state;
  web_calls = 0;
  web_rc = 99;
  m0_dev_edit_begin(&D);
  assert_int_equal(m0_dev_edit_set(&D, "MID", "web"), 0);
  assert_int_equal(m0_dev_edit_set(&D, "SOCKPORT", "70000"), M0_E_INVAL);
  assert_int_equal(m0_dev_edit_set(&D, "sockport", "4000"), 0);
  assert_int_equal(m0_dev_edit_set(&D, "VER", "1"), M0_E_NOTCONFIG);
  assert_int_equal(m0_dev_edit_set(&D, "NOSUCH", "1"), M0_E_NOTFOUND);
  assert_int_equal(m0_dev_edit_save(&D, F.now, web_done, &web_calls), M0_PENDING);
  assert_int_equal(F.flash_attempts, 1);
  assert_true(strstr(F.flash_pending_text, "AT+MID=web\n") != NULL);
  assert_true(strstr(F.flash_pending_text, "AT+SOCKPORT=4000\n") != NULL);
  assert_int_equal(web_calls, 0);
  assert_string_equal(m0_dev_saved(&D)->mid, "USR-M0");
  complete(0);
  assert_int_equal(web_calls, 1);
  assert_int_equal(web_rc, 0);
  assert_string_equal(m0_dev_saved(&D)->mid, "web");
  assert_int_equal(m0_dev_saved(&D)->sockport, 4000);
}

static void test_edit_failure_changes_nothing(void **state) {
  struct m0_config before;
  (void)state;
  web_calls = 0;
  before = *m0_dev_saved(&D);
  m0_dev_edit_begin(&D);
  assert_int_equal(m0_dev_edit_set(&D, "E", "off"), 0);
  assert_int_equal(m0_dev_edit_set(&D, "MID", "x"), 0);
  assert_int_equal(m0_dev_edit_save(&D, F.now, web_done, &web_calls), M0_PENDING);
  complete(-EROFS);
  assert_int_equal(web_calls, 1);
  assert_int_equal(web_rc, M0_E_FLASH);
  assert_memory_equal(m0_dev_saved(&D), &before, sizeof before);
  assert_true(m0_dev_running(&D)->echo);
}

static void test_edit_with_nothing_taken_writes_nothing(void **state) {
  (void)state;
  m0_dev_edit_begin(&D);
  assert_int_equal(m0_dev_edit_set(&D, "MID", "much-too-long-for-mid"), M0_E_INVAL);
  assert_int_equal(m0_dev_edit_save(&D, F.now, web_done, &web_calls), 0);
  assert_int_equal(F.flash_attempts, 0);
}

static void test_one_write_at_a_time(void **state) {
  (void)state;
  type("AT+MID=at\r");
  /* The web page meanwhile: refused, nothing written (the fake fails on a second call). */
  m0_dev_edit_begin(&D);
  assert_int_equal(m0_dev_edit_set(&D, "SOCKPORT", "5000"), 0);
  assert_int_equal(m0_dev_edit_save(&D, F.now, web_done, &web_calls), M0_E_BUSY);
  assert_int_equal(m0_dev_set_param(&D, F.now, "MID", "web"), M0_E_BUSY);
  m0_dev_factory_reset(&D, F.now);
  assert_int_equal(F.flash_attempts, 1);
  assert_true(F.nlogs >= 1);
  assert_int_equal(fake_count_events(&F, "restart "), 0);
  complete(0);
  assert_string_equal(m0_dev_saved(&D)->mid, "at");
  assert_int_equal(m0_dev_saved(&D)->sockport, 20108);
}

static void test_factory_reset_restarts_after_the_write(void **state) {
  (void)state;
  type("AT+MID=x\r");
  complete(0);
  fake_clear(&F);
  m0_dev_factory_reset(&D, F.now);
  assert_true(F.flash_pending);
  fake_advance(&F, S);
  assert_int_equal(fake_count_events(&F, "restart "), 0);
  complete(0);
  assert_int_equal(fake_count_events(&F, "restart {\"cause\":\"reld\"}"), 1);
  assert_string_equal(m0_dev_running(&D)->mid, "USR-M0");
}

/* The edit's callback may act on the device at once (the web page's next request). */
static void chained_done(void *arg, int rc) {
  (void)arg;
  web_rc = rc;
  web_calls++;
  m0_dev_edit_begin(&D);
  assert_int_equal(m0_dev_edit_set(&D, "MID", "second"), 0);
  assert_int_equal(m0_dev_edit_save(&D, F.now, web_done, &web_calls), M0_PENDING);
}

static void test_edit_callback_may_start_the_next_write(void **state) {
  (void)state;
  web_calls = 0;
  m0_dev_edit_begin(&D);
  assert_int_equal(m0_dev_edit_set(&D, "MID", "first"), 0);
  assert_int_equal(m0_dev_edit_save(&D, F.now, chained_done, NULL), M0_PENDING);
  complete(0);
  assert_int_equal(web_calls, 1);
  assert_true(F.flash_pending);
  complete(0);
  assert_int_equal(web_calls, 2);
  assert_int_equal(web_rc, 0);
  assert_string_equal(m0_dev_saved(&D)->mid, "second");
}

/* ---- the rest of the device goes on ---- */

static void test_network_and_timer_go_on_during_a_save(void **state) {
  (void)state;
  fake_out_clear(&F);
  type("AT+ENTM\r");
  fake_link_up(&F, 0);
  fake_clear(&F);
  /* A web save in transparent mode: serial data and network data keep moving. */
  assert_int_equal(m0_dev_set_param(&D, F.now, "MID", "busy"), M0_PENDING);
  type("hello");
  assert_string_equal(fake_link_sent(&F, 0), "hello");
  fake_link_rx_str(&F, 0, "world");
  fake_run(&F, FAKE_DRAIN_NS);
  assert_string_equal(fake_out(&F), "world");
  /* The link drops: the retry one second later is the timer's, and it runs too. */
  fake_link_down(&F, 0, M0_DOWN_RESET);
  fake_ops_clear(&F);
  fake_advance(&F, 2 * S);
  assert_true(fake_find_op(&F, "open 0 tcp 192.168.0.201:8234 from 20108 keepalive") >= 0);
  assert_true(F.flash_pending);
  complete(0);
  assert_string_equal(m0_dev_saved(&D)->mid, "busy");
}

static void test_command_mode_timer_goes_on_during_a_save(void **state) {
  (void)state;
  type("AT+MID=t\r"); /* in flight, command mode: input waits, the network does not */
  fake_link_down(&F, 0, M0_DOWN_REFUSED);
  fake_ops_clear(&F);
  fake_advance(&F, 2 * S);
  assert_true(fake_find_op(&F, "open 0 tcp 192.168.0.201:8234 from 20108 keepalive") >= 0);
  complete(0);
}

static void test_outcome_with_no_save_is_ignored(void **state) {
  struct m0_config before;
  (void)state;
  before = *m0_dev_saved(&D);
  m0_dev_on_flash_saved(&D, F.now, 0);
  assert_memory_equal(m0_dev_saved(&D), &before, sizeof before);
  assert_string_equal(fake_out(&F), "");
  assert_int_equal(F.nlogs, 1);
}

/* The default fake answers within flash_save (a synchronous board): the reply is at
 * once, as before the write moved off the loop. */
static void test_outcome_within_the_call_replies_at_once(void **state) {
  (void)state;
  F.flash_async = false;
  type("AT+MID=sync\r");
  assert_string_equal(fake_out(&F), "AT+MID=sync\r" OK);
  assert_false(m0_dev_saving(&D));
  assert_int_equal(m0_dev_set_param(&D, F.now, "MID", "sync2"), 0);
  F.flash_result = -EIO;
  assert_int_equal(m0_dev_set_param(&D, F.now, "MID", "sync3"), M0_E_FLASH);
  assert_string_equal(m0_dev_saved(&D)->mid, "sync2");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_reply_waits_for_the_write, setup),
    cmocka_unit_test_setup(test_failure_answers_minus_5_and_keeps_the_old_value, setup),
    cmocka_unit_test_setup(test_failure_then_retry_succeeds, setup),
    cmocka_unit_test_setup(test_bytes_typed_meanwhile_wait_and_run_in_order, setup),
    cmocka_unit_test_setup(test_two_sets_in_one_read_write_one_after_the_other, setup),
    cmocka_unit_test_setup(test_echo_off_applies_when_saved, setup),
    cmocka_unit_test_setup(test_echo_stays_on_when_the_write_fails, setup),
    cmocka_unit_test_setup(test_more_than_the_hold_is_dropped_and_counted, setup),
    cmocka_unit_test_setup(test_z_after_a_set_waits_for_the_write, setup),
    cmocka_unit_test_setup(test_reld_restarts_after_the_write, setup),
    cmocka_unit_test_setup(test_reld_failure_keeps_everything, setup),
    cmocka_unit_test_setup(test_restart_from_outside_waits_for_the_outcome, setup),
    cmocka_unit_test_setup(test_restart_from_outside_after_a_failed_write, setup),
    cmocka_unit_test_setup(test_bytes_held_at_a_restart_are_dropped_as_booting, setup),
    cmocka_unit_test_setup(test_edit_is_one_write_answered_by_callback, setup),
    cmocka_unit_test_setup(test_edit_failure_changes_nothing, setup),
    cmocka_unit_test_setup(test_edit_with_nothing_taken_writes_nothing, setup),
    cmocka_unit_test_setup(test_one_write_at_a_time, setup),
    cmocka_unit_test_setup(test_factory_reset_restarts_after_the_write, setup),
    cmocka_unit_test_setup(test_edit_callback_may_start_the_next_write, setup),
    cmocka_unit_test_setup(test_network_and_timer_go_on_during_a_save, setup),
    cmocka_unit_test_setup(test_command_mode_timer_goes_on_during_a_save, setup),
    cmocka_unit_test_setup(test_outcome_with_no_save_is_ignored, setup),
    cmocka_unit_test_setup(test_outcome_within_the_call_replies_at_once, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
