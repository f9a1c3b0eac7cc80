/* test_fault.c: faults on demand (src/core/fault.c) on the fake HAL and the virtual clock.
 *
 * Power: a cut keeps TCP connections open but silent (paused, forgotten, never closed),
 * closes listeners and UDP sockets, silences the UART both ways, keeps flash (a save in
 * flight still commits; its reply is lost); power on resets the silent connections
 * (abort) and boots; a power cycle comes back on by itself at the exact instant.
 *
 * Cable: while out, the link pin is down, TCP links are paused and never closed, serial
 * data for TCP is held (in order, up to 16 KiB, the rest lost and counted), datagrams
 * both ways are lost, a dial is not given to the board and times out after 10 s (or goes
 * when the cable is back first); at re-plug the held bytes go, or after reset_after the
 * connections are reset and the client dials again.
 *
 * Hang: nothing of the firmware runs (no timer but its end, no byte to the host, host
 * bytes dropped, the network cut), then the watchdog resets the connections and
 * restarts; a restart from outside ends it.
 *
 * Noise: certain bit errors invert bytes and certain loss removes them, both ways; a
 * rate hits about that share (binomial bounds, 6 sigma) and the same seed hits the same
 * bytes; lost bytes still take their line time; a window ends exactly. Impairment: a
 * delay holds sends and arrivals exactly that long, jitter keeps order, a rate spreads
 * bytes over time, UDP loss drops about that share; a reset now resets every TCP
 * connection. Flash: the next N saves answer +ERR=-5, a full flash every one.
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

#define OPEN_TCPC "open 0 tcp 192.168.0.201:8234 from 20108 keepalive"

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
  assert_int_equal(m0_dev_power(&D, F.now, true, 0), M0_E_STATE);
  assert_int_equal(m0_dev_power(&D, F.now, false, 0), 0);
  assert_int_equal(m0_dev_power(&D, F.now, false, 0), M0_E_STATE);
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


/* ---- cable ---- */

static void test_unplug_holds_tcp_and_replug_sends_in_order(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  struct m0_status st;
  assert_int_equal(m0_dev_fault_cable(&D, F.now, false, 0, 0), 0);
  assert_int_not_equal(fake_find_event(&F, "cable {\"state\":\"unplugged\",\"reset_after_ms\":60000}"), -1);
  assert_int_not_equal(fake_find_event(&F, "net.socket {\"connected\":true,\"link_pin\":false}"), -1);
  assert_int_not_equal(fake_find_op(&F, "pause 0 on"), -1);
  m0_dev_status(&D, &st);
  assert_false(st.link_pin);
  assert_true(st.socket_connected); /* the connection lives on in the device */
  fake_rx_frame(&F, "one");
  fake_rx_frame(&F, "two");
  fake_advance(&F, 5 * S);
  assert_int_equal(F.nsends, 0);
  assert_int_equal(fake_count_ops(&F, "close"), 0);
  struct m0_fault_status fs;
  m0_dev_fault_status(&D, &fs);
  assert_int_equal(fs.held_bytes, 6);
  fake_clear(&F);
  assert_int_equal(m0_dev_fault_cable(&D, F.now, true, 0, 0), 0);
  assert_int_not_equal(fake_find_event(&F, "cable {\"state\":\"plugged\",\"down_ms\":5002,\"reset\":false}"), -1);
  assert_int_not_equal(fake_find_op(&F, "pause 0 off"), -1);
  assert_string_equal(fake_link_sent(&F, 0), "onetwo");
  assert_int_equal(F.nsends, 1); /* one stream, one send */
  fake_rx_frame(&F, "three"); /* and what follows goes at once */
  assert_string_equal(fake_link_sent(&F, 0), "onetwothree");
  m0_dev_status(&D, &st);
  assert_true(st.link_pin);
  assert_int_equal(m0_dev_fault_cable(&D, F.now, true, 0, 0), M0_E_STATE);
}

static void test_long_unplug_resets_and_the_client_dials_again(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  m0_dev_fault_cable(&D, F.now, false, 0, 2 * S);
  fake_rx_frame(&F, "lost");
  fake_advance(&F, 2 * S);
  fake_clear(&F);
  m0_dev_fault_cable(&D, F.now, true, 0, 0);
  assert_string_equal(fake_op(&F, 0), "abort 0");
  assert_int_not_equal(fake_find_event(&F, "net.reset {\"links\":1,\"cause\":\"cable\"}"), -1);
  assert_int_not_equal(
      fake_find_event(&F, "drop {\"dir\":\"to_net\",\"reason\":\"restart\",\"bytes\":4}"), -1);
  assert_int_equal(F.nsends, 0);
  fake_advance(&F, 1 * S); /* TCPC's retry */
  assert_int_not_equal(fake_find_op(&F, OPEN_TCPC), -1);
}

static void test_dial_into_a_pulled_cable_times_out(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C); /* dialling, not connected */
  fake_link_down(&F, 0, M0_DOWN_REFUSED);
  m0_dev_fault_cable(&D, F.now, false, 0, 0);
  fake_clear(&F);
  fake_advance(&F, 1 * S); /* the retry: not given to the board */
  assert_int_equal(fake_count_ops(&F, "open"), 0);
  assert_int_not_equal(fake_find_event(&F, "net.connecting {\"link\":0,\"peer\":\"192.168.0.201:8234\",\"cable\":\"unplugged\"}"), -1);
  fake_advance(&F, 10 * S - 1);
  assert_int_equal(fake_count_events(&F, "net.refused"), 0);
  fake_advance(&F, 1);
  assert_int_not_equal(fake_find_event(&F, "net.refused {\"link\":0,\"peer\":\"192.168.0.201:8234\",\"error\":\"connection timed out\",\"cable\":\"unplugged\"}"), -1);
  /* Retried a second later, into the void again; the cable comes back meanwhile: the
   * board dials at once. */
  fake_advance(&F, 1 * S + 3 * S);
  assert_int_equal(fake_count_ops(&F, "open"), 0);
  m0_dev_fault_cable(&D, F.now, true, 0, 0);
  assert_int_equal(fake_count_ops(&F, "open"), 1);
  assert_int_not_equal(fake_find_op(&F, OPEN_TCPC), -1);
  fake_link_up(&F, 0);
  fake_rx_frame(&F, "hi");
  assert_string_equal(fake_link_sent(&F, 0), "hi");
}

/* Found by fuzz_link: a dial into the void was closed at the board, which never had it. */
static void test_a_dial_into_the_void_is_not_closed_at_the_board(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_link_down(&F, 0, M0_DOWN_REFUSED);
  m0_dev_fault_cable(&D, F.now, false, 0, 0);
  fake_advance(&F, 1 * S); /* the retry: into the void */
  fake_clear(&F);
  m0_dev_restart(&D, F.now, "sighup"); /* the fake fails a close of a link it lacks */
  m0_dev_power(&D, F.now + 1 * S, false, 0);
  assert_int_equal(fake_count_ops(&F, "close"), 0);
}

static void test_datagrams_are_lost_both_ways_while_unplugged(void **state) {
  (void)state;
  fake_config_udpc(&C);
  fake_boot_link_up(&F, &D, &O, &C);
  m0_dev_fault_cable(&D, F.now, false, 3 * S, 0);
  fake_rx_frame(&F, "up");
  fake_link_datagram(&F, 0, "down", "10.0.0.7", 7000);
  fake_advance(&F, 1 * S);
  assert_int_equal(F.nsends, 0);
  assert_string_equal(fake_out(&F), "");
  assert_int_not_equal(fake_find_event(&F, "drop {\"dir\":\"to_net\",\"reason\":\"cable\",\"bytes\":2}"), -1);
  assert_int_not_equal(fake_find_event(&F, "drop {\"dir\":\"from_net\",\"reason\":\"cable\",\"bytes\":4}"), -1);
  assert_int_equal(fake_count_ops(&F, "pause"), 0); /* UDP is not paused: it is read and lost */
  fake_advance(&F, 2 * S); /* plugged back by itself */
  assert_int_not_equal(fake_find_event(&F, "cable {\"state\":\"plugged\",\"down_ms\":3000,\"reset\":false}"), -1);
  fake_rx_frame(&F, "up");
  fake_link_datagram(&F, 0, "down", "10.0.0.7", 7000);
  assert_int_equal(F.nsends, 1); /* the one after, not the one before */
  assert_string_equal(fake_out_drained(&F), "down");
}

static void test_held_data_is_bounded(void **state) {
  (void)state;
  char frame[401];
  memset(frame, 'x', 400);
  frame[400] = '\0';
  fake_boot_link_up(&F, &D, &O, &C);
  m0_dev_fault_cable(&D, F.now, false, 0, 0);
  for (int i = 0; i < 50; i++)
    fake_rx_frame(&F, frame);
  struct m0_fault_status fs;
  m0_dev_fault_status(&D, &fs);
  assert_int_equal(fs.held_bytes, 40 * 400); /* 41 frames do not fit 16 KiB */
  fake_advance(&F, 2 * S);
  assert_int_not_equal(fake_find_event(&F, "drop {\"dir\":\"to_net\",\"reason\":\"buffer-full\",\"bytes\":4000}"), -1);
  m0_dev_fault_cable(&D, F.now, true, 0, 0);
  assert_int_equal(F.links[0].stream_total, 16000);
}

/* ---- hang ---- */

static void test_hang_freezes_then_the_watchdog_restarts(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  uint64_t start = F.now;
  assert_int_equal(m0_dev_fault_hang(&D, F.now, 5 * S), 0);
  assert_int_not_equal(fake_find_event(&F, "hang {\"for_ms\":5000}"), -1);
  assert_int_not_equal(fake_find_op(&F, "pause 0 on"), -1);
  assert_int_equal(fake_next_fire(&F), start + 5 * S); /* nothing else is armed */
  assert_int_equal(m0_dev_fault_hang(&D, F.now, 5 * S), M0_E_STATE);
  fake_advance(&F, 1 * S);
  fake_type(&F, "+++", 10 * MS); /* no 'a' */
  fake_advance(&F, 1 * S);
  fake_link_rx_str(&F, 0, "late"); /* a read that was under way: it waits, unwritten */
  fake_rx_frame(&F, "held");
  fake_advance(&F, 2 * S - 100 * MS);
  assert_string_equal(fake_out(&F), "");
  assert_int_equal(F.nsends, 0);
  assert_int_not_equal(fake_find_event(&F, "drop {\"dir\":\"from_host\",\"reason\":\"hang\",\"bytes\":3}"), -1);
  fake_clear(&F);
  fake_advance_to(&F, start + 5 * S);
  assert_string_equal(fake_op(&F, 0), "abort 0");
  assert_int_not_equal(fake_find_event(&F, "net.reset {\"links\":1,\"cause\":\"watchdog\"}"), -1);
  assert_int_not_equal(fake_find_event(&F, "restart {\"cause\":\"watchdog\"}"), -1);
  assert_string_equal(fake_out(&F), ""); /* what waited for the host died with it */
  fake_advance(&F, 200 * MS);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  assert_int_not_equal(fake_find_op(&F, OPEN_TCPC), -1);
  struct m0_fault_status fs;
  m0_dev_fault_status(&D, &fs);
  assert_false(fs.hung);
}

static void test_a_restart_from_outside_ends_a_hang(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  assert_int_equal(m0_dev_fault_hang(&D, F.now, 0), M0_E_INVAL);
  m0_dev_fault_hang(&D, F.now, 60 * S);
  m0_dev_restart(&D, F.now + 1 * S, "sighup");
  fake_advance(&F, 2 * S);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  fake_advance(&F, 60 * S);
  assert_int_equal(fake_count_events(&F, "restart {\"cause\":\"watchdog\"}"), 0);
  assert_int_equal(fake_count_events(&F, "restart"), 1);
}

static void test_hang_keeps_command_mode_silent(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_enter_command(&F);
  m0_dev_fault_hang(&D, F.now, 3 * S);
  fake_rx(&F, "AT+VER\r");
  fake_advance(&F, 2 * S);
  assert_string_equal(fake_out(&F), "");
  fake_advance(&F, 1 * S + 200 * MS);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT); /* rebooted */
  fake_out_clear(&F);
  fake_enter_command(&F);
  assert_string_equal(fake_at(&F, "AT+VER"), "AT+VER\r\r\n+ok=V4017\r\n");
}


/* ---- noise on the serial line ---- */

static struct m0_uart_noise noise(uint32_t ber, uint32_t loss) {
  struct m0_uart_noise n = {ber, loss};
  return n;
}

static void test_certain_bit_errors_invert_every_byte(void **state) {
  (void)state;
  O.timing = M0_TIMING_FAST;
  fake_config_udpc(&C);
  fake_boot_link_up(&F, &D, &O, &C);
  struct m0_uart_noise n = noise(M0_PPB, 0);
  assert_int_equal(m0_dev_fault_uart(&D, F.now, M0_UART_FROM_HOST, &n, 0), 0);
  assert_int_not_equal(fake_find_event(&F, "fault.set {\"fault\":\"uart\",\"dir\":\"from_host\",\"bit_error_ppb\":1000000000,\"loss_ppb\":0}"), -1);
  fake_rx_frame(&F, "AB");
  assert_int_equal(F.nsends, 1);
  assert_int_equal(F.sends[0].data[0], (uint8_t)~'A');
  assert_int_equal(F.sends[0].data[1], (uint8_t)~'B');
  m0_dev_fault_uart(&D, F.now, M0_UART_TO_HOST, &n, 0);
  fake_link_datagram(&F, 0, "xy", "10.0.0.7", 7000);
  fake_run(&F, S);
  assert_int_equal(F.out_len, 2);
  assert_int_equal(F.out[0], (uint8_t)~'x');
  struct m0_fault_status fs;
  m0_dev_fault_status(&D, &fs);
  assert_int_equal(fs.uart[M0_UART_FROM_HOST].corrupted, 2);
  assert_int_equal(fs.uart[M0_UART_TO_HOST].corrupted, 2);
  assert_int_equal(m0_dev_fault_uart(&D, F.now, M0_UART_TO_HOST, &(struct m0_uart_noise){M0_PPB + 1, 0}, 0),
                   M0_E_INVAL);
}

static void test_certain_loss_loses_every_byte_but_not_its_time(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C); /* real timing, 115200 */
  struct m0_uart_noise n = noise(0, M0_PPB);
  m0_dev_fault_uart(&D, F.now, M0_UART_TO_HOST, &n, 0);
  fake_enter_command(&F); /* "a+ok" is lost too: the handshake still works inside */
  fake_rx(&F, "AT+VER\r");
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), "");
  assert_int_not_equal(fake_count_events(&F, "drop {\"dir\":\"to_host\",\"reason\":\"line-loss\""), 0);
  /* The host's side: every byte lost, nothing reaches the command line. */
  n = noise(0, 0);
  m0_dev_fault_uart(&D, F.now, M0_UART_TO_HOST, &n, 0);
  n = noise(0, M0_PPB);
  m0_dev_fault_uart(&D, F.now, M0_UART_FROM_HOST, &n, 0);
  fake_out_clear(&F);
  fake_rx(&F, "AT+VER\r");
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), "");
  assert_int_not_equal(fake_count_events(&F, "drop {\"dir\":\"from_host\",\"reason\":\"line-loss\""), 0);
}

/* Bytes to the host through a line with bit error rate ber; returns how many of the
 * 20000 came through changed. */
static unsigned noisy_run(uint64_t seed, uint32_t ber, uint8_t *out_copy) {
  static char block[1001];
  memset(block, 'U', 1000);
  O.timing = M0_TIMING_FAST;
  fake_config_udpc(&C);
  fake_boot_link_up(&F, &D, &O, &C);
  m0_dev_fault_seed(&D, seed);
  struct m0_uart_noise n = noise(ber, 0);
  m0_dev_fault_uart(&D, F.now, M0_UART_TO_HOST, &n, 0);
  for (int i = 0; i < 20; i++)
    fake_link_datagram(&F, 0, block, "10.0.0.7", 7000);
  fake_run(&F, S);
  assert_int_equal(F.out_len, 20000);
  unsigned changed = 0;
  for (size_t i = 0; i < F.out_len; i++)
    changed += F.out[i] != 'U';
  if (out_copy != NULL)
    memcpy(out_copy, F.out, F.out_len);
  return changed;
}

static void test_bit_error_rate_hits_about_that_share_and_is_seeded(void **state) {
  (void)state;
  static uint8_t first[20000], again[20000];
  /* p = 1e-2 per bit: a byte changes with 1 - 0.99^8 = 7.73%; of 20000, 1546 +- 6 sigma
   * (sigma = 37.8). */
  unsigned a = noisy_run(42, 10000000, first);
  assert_in_range(a, 1546 - 227, 1546 + 227);
  unsigned b = noisy_run(42, 10000000, again);
  assert_int_equal(a, b);
  assert_memory_equal(first, again, sizeof first); /* same seed, same bytes hit */
  unsigned c = noisy_run(43, 10000000, again);
  assert_true(c != a || memcmp(first, again, sizeof first) != 0);
}

static void test_noise_window_ends_exactly(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  uint64_t t0 = F.now;
  struct m0_uart_noise n = noise(1000, 0);
  m0_dev_fault_uart(&D, F.now, M0_UART_FROM_HOST, &n, 2 * S);
  assert_int_not_equal(fake_find_event(&F, "fault.set {\"fault\":\"uart\",\"dir\":\"from_host\",\"bit_error_ppb\":1000,\"loss_ppb\":0,\"for_ms\":2000}"), -1);
  fake_advance_to(&F, t0 + 2 * S - 1);
  assert_true(m0__fault_line_active(&D, M0_UART_FROM_HOST));
  fake_advance(&F, 1);
  assert_false(m0__fault_line_active(&D, M0_UART_FROM_HOST));
  assert_int_not_equal(fake_find_event(&F, "fault.cleared {\"fault\":\"uart\",\"dir\":\"from_host\",\"cause\":\"timeout\"}"), -1);
}

/* ---- network impairment ---- */

static struct m0_net_impair impair(uint64_t delay, uint64_t jitter, uint32_t loss, uint32_t rate) {
  struct m0_net_impair i = {delay, jitter, loss, rate};
  return i;
}

static void test_delay_to_net_holds_each_send_exactly(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  struct m0_net_impair i = impair(100 * MS, 0, 0, 0);
  assert_int_equal(m0_dev_fault_net(&D, F.now, M0_NET_TO_NET, &i, 0), 0);
  fake_rx(&F, "one");
  uint64_t cut = F.now + fake_packing_ns(10, 115200); /* the frame ends after the gap */
  fake_advance(&F, 1 * MS);
  fake_rx_frame(&F, "two");
  fake_advance_to(&F, cut + 100 * MS - 1);
  assert_int_equal(F.nsends, 0);
  fake_advance(&F, 1);
  assert_int_equal(F.nsends, 1);
  fake_assert_send(&F, 0, 0, "one");
  fake_advance(&F, 2 * MS);
  fake_assert_send(&F, 1, 0, "two");
}

static void test_jitter_keeps_order(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  struct m0_net_impair i = impair(50 * MS, 40 * MS, 0, 0);
  m0_dev_fault_net(&D, F.now, M0_NET_TO_NET, &i, 0);
  char frame[8];
  for (int k = 0; k < 30; k++) {
    snprintf(frame, sizeof frame, "%02d", k);
    fake_rx_frame(&F, frame);
  }
  fake_run(&F, 5 * S);
  char want[64] = "";
  for (int k = 0; k < 30; k++)
    snprintf(want + strlen(want), sizeof want - strlen(want), "%02d", k);
  assert_string_equal(fake_link_sent(&F, 0), want);
  for (unsigned k = 1; k < F.nsends; k++)
    assert_true(F.sends[k].at >= F.sends[k - 1].at);
}

static void test_rate_to_net_spreads_bytes(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  struct m0_net_impair i = impair(0, 0, 0, 1000);
  m0_dev_fault_net(&D, F.now, M0_NET_TO_NET, &i, 0);
  uint64_t t0 = F.now;
  static char frame[401];
  memset(frame, 'r', 400);
  for (int k = 0; k < 10; k++)
    fake_rx_frame(&F, frame); /* 4000 bytes */
  /* A byte a millisecond: the log of link calls is cleared as it goes. */
  for (uint64_t t = 100 * MS; t <= 1 * S; t += 100 * MS) {
    fake_advance_to(&F, t0 + t);
    fake_ops_clear(&F);
    F.nsends = 0;
  }
  assert_in_range(F.links[0].stream_total, 900, 1100);
  for (uint64_t t = 1100 * MS; t <= 4100 * MS; t += 100 * MS) {
    fake_advance_to(&F, t0 + t);
    fake_ops_clear(&F);
    F.nsends = 0;
  }
  assert_int_equal(F.links[0].stream_total, 4000);
}

static void test_udp_loss_to_net_is_about_that_share(void **state) {
  (void)state;
  O.timing = M0_TIMING_FAST;
  fake_config_udpc(&C);
  fake_boot_link_up(&F, &D, &O, &C);
  m0_dev_fault_seed(&D, 7);
  struct m0_net_impair i = impair(0, 0, 250000000, 0); /* 25% */
  m0_dev_fault_net(&D, F.now, M0_NET_TO_NET, &i, 0);
  for (int k = 0; k < 2000; k++) {
    fake_rx_frame(&F, "d");
    fake_frames_clear(&F);
    fake_ops_clear(&F);
    F.nsends = 0;
  }
  /* 500 +- 6 sigma (sigma = 19.4) */
  assert_in_range(2000 - F.links[0].sends, 500 - 117, 500 + 117);
  struct m0_fault_status fs;
  m0_dev_fault_status(&D, &fs);
  assert_int_equal(fs.net[M0_NET_TO_NET].lost, 2000 - F.links[0].sends);
}

static void test_delay_from_net_reaches_the_host_that_late(void **state) {
  (void)state;
  O.timing = M0_TIMING_FAST;
  fake_boot_link_up(&F, &D, &O, &C);
  struct m0_net_impair i = impair(200 * MS, 0, 0, 0);
  m0_dev_fault_net(&D, F.now, M0_NET_FROM_NET, &i, 0);
  uint64_t t0 = F.now;
  fake_link_rx_str(&F, 0, "late");
  fake_advance(&F, 50 * MS);
  fake_link_rx_str(&F, 0, "r");
  fake_advance_to(&F, t0 + 200 * MS - 1);
  assert_string_equal(fake_out(&F), "");
  fake_advance(&F, 1);
  assert_string_equal(fake_out(&F), "late");
  fake_advance(&F, 50 * MS);
  assert_string_equal(fake_out(&F), "later");
}

static void test_rate_from_net_paces_the_host(void **state) {
  (void)state;
  O.timing = M0_TIMING_FAST;
  fake_boot_link_up(&F, &D, &O, &C);
  struct m0_net_impair i = impair(0, 0, 0, 2000);
  m0_dev_fault_net(&D, F.now, M0_NET_FROM_NET, &i, 0);
  uint64_t t0 = F.now;
  static char blob[6001];
  memset(blob, 'q', 6000);
  fake_link_rx_str(&F, 0, blob);
  fake_advance_to(&F, t0 + 1 * S);
  assert_in_range(F.out_len, 1800, 2200);
  fake_advance_to(&F, t0 + 3100 * MS);
  assert_int_equal(F.out_len, 6000);
}

static void test_udp_loss_from_net(void **state) {
  (void)state;
  O.timing = M0_TIMING_FAST;
  fake_config_udpc(&C);
  fake_boot_link_up(&F, &D, &O, &C);
  struct m0_net_impair i = impair(0, 0, M0_PPB, 0);
  m0_dev_fault_net(&D, F.now, M0_NET_FROM_NET, &i, 1 * S);
  fake_link_datagram(&F, 0, "gone", "10.0.0.7", 7000);
  assert_int_not_equal(fake_find_event(&F, "drop {\"dir\":\"from_net\",\"reason\":\"net-loss\",\"bytes\":4}"), -1);
  fake_advance(&F, 1 * S);
  assert_int_not_equal(fake_find_event(&F, "fault.cleared {\"fault\":\"net\",\"dir\":\"from_net\",\"cause\":\"timeout\"}"), -1);
  fake_link_datagram(&F, 0, "here", "10.0.0.7", 7000);
  assert_string_equal(fake_out_drained(&F), "here");
}

static void test_reset_now_resets_every_connection(void **state) {
  (void)state;
  C.proto = M0_PROTO_TCPS;
  C.sockport = 8234;
  fake_boot_link_up(&F, &D, &O, &C);
  assert_int_equal(fake_link_accept(&F, 0, "127.0.0.1", 5001), 1);
  assert_int_equal(fake_link_accept(&F, 0, "127.0.0.1", 5002), 2);
  fake_clear(&F);
  assert_int_equal(m0_dev_fault_net_reset(&D, F.now), 2);
  assert_int_not_equal(fake_find_op(&F, "abort 1"), -1);
  assert_int_not_equal(fake_find_op(&F, "abort 2"), -1);
  assert_int_equal(fake_find_op(&F, "abort 0"), -1); /* the listener stays */
  assert_int_not_equal(fake_find_event(&F, "net.reset {\"links\":2,\"cause\":\"fault\"}"), -1);
  struct m0_status st;
  m0_dev_status(&D, &st);
  assert_int_equal(st.nlinks, 1);
}

/* ---- flash ---- */

static void test_flash_fails_the_next_saves(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_enter_command(&F);
  assert_int_equal(m0_dev_fault_flash(&D, F.now, 2, false, 0), 0);
  assert_string_equal(fake_at(&F, "AT+MID=one"), "AT+MID=one\r\r\n+ERR=-5\r\n");
  assert_int_not_equal(fake_find_event(&F, "flash.error {\"error\":\"EIO\",\"fault\":\"fail\",\"left\":1}"), -1);
  assert_string_equal(fake_at(&F, "AT+MID=two"), "AT+MID=two\r\r\n+ERR=-5\r\n");
  assert_int_not_equal(fake_find_event(&F, "fault.cleared {\"fault\":\"flash\",\"cause\":\"used\"}"), -1);
  assert_string_equal(m0_dev_saved(&D)->mid, "USR-M0");
  assert_int_equal(F.flash_attempts, 0); /* nothing reached the board */
  assert_string_equal(fake_at(&F, "AT+MID=three"), "AT+MID=three\r\r\n+ok\r\n");
  assert_string_equal(m0_dev_saved(&D)->mid, "three");
}

static void test_full_flash_refuses_every_save(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_enter_command(&F);
  m0_dev_fault_flash(&D, F.now, 0, true, 0);
  for (int k = 0; k < 3; k++)
    assert_string_equal(fake_at(&F, "AT+E=off"), "AT+E=off\r\r\n+ERR=-5\r\n");
  assert_int_equal(fake_count_events(&F, "flash.error {\"error\":\"ENOSPC\",\"fault\":\"full\"}"), 3);
  m0_dev_edit_begin(&D);
  assert_int_equal(m0_dev_edit_set(&D, "MID", "web"), 0);
  assert_int_equal(m0_dev_edit_save(&D, F.now, NULL, NULL), M0_E_FLASH); /* the page */
  m0_dev_fault_flash(&D, F.now, 0, false, 0);
  assert_int_not_equal(fake_find_event(&F, "fault.cleared {\"fault\":\"flash\",\"cause\":\"cleared\"}"), -1);
  assert_string_equal(fake_at(&F, "AT+E=off"), "AT+E=off\r\r\n+ok\r\n");
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
    cmocka_unit_test_setup(test_unplug_holds_tcp_and_replug_sends_in_order, setup),
    cmocka_unit_test_setup(test_long_unplug_resets_and_the_client_dials_again, setup),
    cmocka_unit_test_setup(test_dial_into_a_pulled_cable_times_out, setup),
    cmocka_unit_test_setup(test_a_dial_into_the_void_is_not_closed_at_the_board, setup),
    cmocka_unit_test_setup(test_datagrams_are_lost_both_ways_while_unplugged, setup),
    cmocka_unit_test_setup(test_held_data_is_bounded, setup),
    cmocka_unit_test_setup(test_hang_freezes_then_the_watchdog_restarts, setup),
    cmocka_unit_test_setup(test_a_restart_from_outside_ends_a_hang, setup),
    cmocka_unit_test_setup(test_hang_keeps_command_mode_silent, setup),
    cmocka_unit_test_setup(test_certain_bit_errors_invert_every_byte, setup),
    cmocka_unit_test_setup(test_certain_loss_loses_every_byte_but_not_its_time, setup),
    cmocka_unit_test_setup(test_bit_error_rate_hits_about_that_share_and_is_seeded, setup),
    cmocka_unit_test_setup(test_noise_window_ends_exactly, setup),
    cmocka_unit_test_setup(test_delay_to_net_holds_each_send_exactly, setup),
    cmocka_unit_test_setup(test_jitter_keeps_order, setup),
    cmocka_unit_test_setup(test_rate_to_net_spreads_bytes, setup),
    cmocka_unit_test_setup(test_udp_loss_to_net_is_about_that_share, setup),
    cmocka_unit_test_setup(test_delay_from_net_reaches_the_host_that_late, setup),
    cmocka_unit_test_setup(test_rate_from_net_paces_the_host, setup),
    cmocka_unit_test_setup(test_udp_loss_from_net, setup),
    cmocka_unit_test_setup(test_reset_now_resets_every_connection, setup),
    cmocka_unit_test_setup(test_flash_fails_the_next_saves, setup),
    cmocka_unit_test_setup(test_full_flash_refuses_every_save, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
