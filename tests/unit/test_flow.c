/* test_flow.c: back-pressure both ways (flow.c) and command mode's hold (spec §3.1).
 *
 * Toward the host: with inbox + UART queue at 48 KiB (49152 bytes) every TCP link is
 * paused, at 16 KiB (16384) or less reading resumes, and one more read of up to 64 KiB
 * after the pause is still kept: every byte reaches the host, in order. Toward the
 * network: when the board reports 256 KiB (262144 bytes) queued on a TCP link the UART is
 * no longer read, until a drain; this hold and the receive pacing share uart_rx_enable
 * without undoing each other. Most tests run in fast timing, where the pty takes exactly
 * what the fake's `room` allows, so the backlog moves by exact amounts.
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

#define KIB 1024u
#define HIGH (48 * KIB)
#define LOW (16 * KIB)
#define NET_HIGH (256 * KIB)

/* Everything the network sent toward the host, in order, to compare with the output. */
static uint8_t sent[512 * KIB];
static size_t nsent;

static int setup(void **state) {
  (void)state;
  fake_options(&O);
  O.timing = M0_TIMING_FAST;
  m0_config_defaults(&C);
  nsent = 0;
  return 0;
}

static void boot_connected(void) { fake_boot_link_up(&F, &D, &O, &C); }

/* n bytes of a pattern that shows reordering or loss, from link id. */
static void net_bytes(unsigned id, size_t n) {
  static uint8_t chunk[64 * KIB];
  size_t i;
  if (n > sizeof chunk || nsent + n > sizeof sent)
    fail_msg("net_bytes: %zu too many", n);
  for (i = 0; i < n; i++)
    chunk[i] = (uint8_t)((nsent + i) * 131 + (nsent + i) / 251);
  memcpy(sent + nsent, chunk, n);
  nsent += n;
  fake_link_rx(&F, id, chunk, n);
}

static void assert_all_delivered(void) {
  assert_int_equal(F.out_len, nsent);
  assert_memory_equal(F.out, sent, nsent);
  assert_int_equal(m0_dev_counters(&D)->uart_tx_dropped, 0);
}

/* ---- toward the host ---- */

static void test_pause_at_high_water_resume_at_low_water(void **state) {
  unsigned i;
  (void)state;
  boot_connected();
  F.room = 0; /* the host reads nothing for now */
  for (i = 0; i < 11; i++)
    net_bytes(0, 4 * KIB); /* 44 KiB */
  net_bytes(0, 4 * KIB - 1); /* one byte short of 48 KiB */
  assert_int_equal(m0__flow_backlog(&D), HIGH - 1);
  assert_int_equal(fake_count_ops(&F, "pause"), 0);
  assert_false(F.links[0].paused);
  net_bytes(0, 1);
  assert_int_equal(m0__flow_backlog(&D), HIGH);
  assert_int_equal(F.nops, 1);
  assert_string_equal(fake_op(&F, 0), "pause 0 on");
  assert_true(F.links[0].paused);
  /* The host reads: still paused above 16 KiB... */
  fake_host_reads(&F, HIGH - LOW - 1);
  assert_int_equal(m0__flow_backlog(&D), LOW + 1);
  assert_true(F.links[0].paused);
  assert_int_equal(F.nops, 1);
  /* ...and reading again at 16 KiB. */
  fake_host_reads(&F, 1);
  assert_int_equal(m0__flow_backlog(&D), LOW);
  assert_int_equal(F.nops, 2);
  assert_string_equal(fake_op(&F, 1), "pause 0 off");
  assert_false(F.links[0].paused);
  fake_host_reads(&F, LOW);
  assert_all_delivered();
}

static void test_one_more_read_after_the_pause_is_kept(void **state) {
  (void)state;
  boot_connected();
  F.room = 0;
  net_bytes(0, HIGH - 1);
  net_bytes(0, 64 * KIB); /* the largest read the board delivers: pauses, kept whole */
  assert_true(F.links[0].paused);
  assert_int_equal(m0__flow_backlog(&D), HIGH - 1 + 64 * KIB);
  /* A board that still delivered while paused (a contract slip): kept while it fits. */
  net_bytes(0, 16 * KIB);
  assert_int_equal(m0__flow_backlog(&D), HIGH - 1 + 80 * KIB);
  assert_int_equal(fake_count_ops(&F, "pause 0 on"), 2); /* asked again */
  fake_host_reads(&F, SIZE_MAX / 2);
  assert_all_delivered();
  assert_false(F.links[0].paused);
}

static void test_real_timing_nothing_lost(void **state) {
  unsigned i;
  (void)state;
  O.timing = M0_TIMING_REAL;
  C.baud = 460800;
  boot_connected();
  /* 200 KiB at ~46 KiB/s: the peer is paused and resumed several times. */
  for (i = 0; i < 50; i++) {
    while (F.links[0].paused)
      fake_advance(&F, 10 * MS);
    net_bytes(0, 4 * KIB);
  }
  fake_run(&F, 60 * S);
  assert_all_delivered();
  assert_true(F.links[0].pauses >= 3);
  assert_int_equal(F.links[0].pauses, F.links[0].resumes);
}

static void test_every_tcp_client_is_paused(void **state) {
  (void)state;
  C.proto = M0_PROTO_TCPS;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  assert_int_equal(fake_link_accept(&F, 0, "127.0.0.1", 5001), 1);
  assert_int_equal(fake_link_accept(&F, 0, "127.0.0.1", 5002), 2);
  fake_clear(&F);
  F.room = 0;
  net_bytes(1, 30 * KIB);
  net_bytes(2, 30 * KIB);
  assert_true(F.links[1].paused);
  assert_true(F.links[2].paused);
  assert_false(F.links[0].paused); /* the listener is not read anyway */
  assert_int_equal(fake_count_ops(&F, "pause 0"), 0);
  /* A client accepted meanwhile is paused at its first read (the board does not know
   * its id before the accept returns, so a pause then would be lost). */
  assert_int_equal(fake_link_accept(&F, 0, "127.0.0.1", 5003), 3);
  assert_false(F.links[3].paused);
  net_bytes(3, 10);
  assert_true(F.links[3].paused);
  fake_host_reads(&F, SIZE_MAX / 2);
  assert_false(F.links[1].paused || F.links[2].paused || F.links[3].paused);
  assert_all_delivered();
}

static void test_link_dialled_while_paused_is_paused(void **state) {
  (void)state;
  boot_connected();
  F.room = 0;
  net_bytes(0, HIGH);
  assert_true(F.links[0].paused);
  fake_host_reads(&F, 16 * KIB); /* 32 KiB left: between the marks, still paused */
  assert_int_equal(m0__flow_backlog(&D), 32 * KIB);
  fake_link_down(&F, 0, M0_DOWN_RESET); /* lost with data still waiting for the host */
  fake_ops_clear(&F);
  fake_advance(&F, S);
  assert_int_equal(F.nops, 2);
  assert_string_equal(fake_op(&F, 0), "open 0 tcp 192.168.0.201:8234 from 20108 keepalive");
  assert_string_equal(fake_op(&F, 1), "pause 0 on");
  fake_link_up(&F, 0);
  fake_host_reads(&F, SIZE_MAX / 2);
  assert_false(F.links[0].paused);
  assert_all_delivered();
}

static void test_udp_is_never_paused(void **state) {
  struct m0_net_addr from = {"192.168.0.201", 8234};
  static uint8_t d[1000];
  unsigned i;
  (void)state;
  C.proto = M0_PROTO_UDPC;
  boot_connected();
  F.room = 0;
  for (i = 0; i < 60; i++)
    m0_dev_on_link_rx(&D, F.now, 0, d, sizeof d, &from);
  assert_int_equal(fake_count_ops(&F, "pause"), 0);
}

static void test_no_host_drops_network_data(void **state) {
  (void)state;
  boot_connected();
  m0_dev_on_host_attach(&D, F.now, false);
  fake_link_rx_str(&F, 0, "nobody listens");
  assert_int_equal(m0_dev_counters(&D)->uart_tx_dropped, 14);
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"to_host\",\"reason\":\"no-host\",\"bytes\":14}") >= 0);
  m0_dev_on_host_attach(&D, F.now, true);
  fake_link_rx_str(&F, 0, "fresh");
  assert_string_equal(fake_out(&F), "fresh"); /* nothing stale */
}

static void test_detach_drops_held_data(void **state) {
  (void)state;
  boot_connected();
  fake_enter_command(&F);
  fake_link_rx_str(&F, 0, "held");
  m0_dev_on_host_attach(&D, F.now, false);
  assert_int_equal(D.net.inbox.len, 0);
  m0_dev_on_host_attach(&D, F.now, true);
  assert_string_equal(fake_at(&F, "AT+ENTM"), "AT+ENTM\r\r\n+ok\r\n");
  assert_string_equal(fake_out(&F), "AT+ENTM\r\r\n+ok\r\n");
}

static void test_restart_drops_what_waits_for_the_host(void **state) {
  (void)state;
  boot_connected();
  F.room = 0;
  net_bytes(0, 20 * KIB);
  m0_dev_restart(&D, F.now, "test");
  assert_int_equal(m0__flow_backlog(&D), 0);
  assert_int_equal(m0_dev_counters(&D)->uart_tx_dropped, 20 * KIB);
  fake_advance(&F, 2 * S);
  assert_true(fake_find_event(&F, "drop {\"dir\":\"to_host\",\"reason\":\"restart\",\"bytes\":20480}") >=
              0);
}

/* ---- command mode ---- */

static void test_command_mode_holds_network_data(void **state) {
  (void)state;
  O.timing = M0_TIMING_REAL;
  boot_connected();
  fake_enter_command(&F);
  fake_link_rx_str(&F, 0, "from the net");
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), "");
  assert_string_equal(fake_at(&F, "AT+E?"), "AT+E?\r\r\n+ok=on\r\n"); /* replies go first */
  assert_string_equal(fake_at(&F, "AT+ENTM"), "AT+ENTM\r\r\n+ok\r\nfrom the net");
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
}

static void test_command_mode_back_pressure_then_delivery(void **state) {
  unsigned i;
  (void)state;
  boot_connected();
  fake_enter_command(&F);
  fake_out_clear(&F);
  for (i = 0; i < 15; i++)
    net_bytes(0, 4 * KIB); /* 60 KiB while the host types commands */
  assert_true(F.links[0].paused);
  assert_string_equal(fake_out(&F), "");
  fake_at(&F, "AT+ENTM");
  assert_int_equal(F.out_len, strlen("AT+ENTM\r\r\n+ok\r\n") + nsent);
  assert_memory_equal(F.out + strlen("AT+ENTM\r\r\n+ok\r\n"), sent, nsent);
  assert_false(F.links[0].paused);
  assert_int_equal(m0_dev_counters(&D)->uart_tx_dropped, 0);
}

static void test_command_mode_holds_datagrams(void **state) {
  (void)state;
  C.proto = M0_PROTO_UDPC;
  boot_connected();
  fake_enter_command(&F);
  fake_link_datagram(&F, 0, "one ", "192.168.0.201", 8234);
  fake_link_datagram(&F, 0, "two", "192.168.0.201", 8234);
  assert_string_equal(fake_at(&F, "AT"), "AT\r\r\n+ok\r\n");
  assert_string_equal(fake_at(&F, "AT+ENTM"), "AT+ENTM\r\r\n+ok\r\none two");
}

static void test_network_data_is_not_held_by_a_failed_handshake(void **state) {
  (void)state;
  boot_connected();
  fake_rx(&F, "+");
  fake_link_rx_str(&F, 0, "x");
  assert_string_equal(fake_out(&F), "x");
}

/* ---- toward the network ---- */

static void send_frames_until_held(size_t frame_len) {
  static uint8_t frame[400];
  unsigned guard = 0;
  memset(frame, 'n', sizeof frame);
  while (F.rx_enabled) {
    fake_rx_bytes(&F, frame, frame_len);
    if (++guard > 100000)
      fail_msg("never held");
  }
}

static void test_slow_peer_stops_uart_reading(void **state) {
  (void)state;
  boot_connected();
  F.links[0].backlog_mode = true;
  F.links[0].backlog = NET_HIGH - 401;
  fake_rx(&F, "x"); /* 256 KiB - 400 queued: still reading */
  assert_true(F.rx_enabled);
  assert_int_equal(F.rx_disable_calls, 0);
  send_frames_until_held(400);
  assert_int_equal(F.links[0].backlog, NET_HIGH - 400 + 400);
  assert_int_equal(F.rx_disable_calls, 1);
  assert_int_equal(m0_dev_uart_rx_budget(&D, F.now), 0);
  /* Bytes the board had already read still go out: nothing is dropped. */
  fake_rx(&F, "late");
  assert_int_equal(F.links[0].stream_total, 1 + 400 + 4);
  assert_int_equal(m0_dev_counters(&D)->net_tx_dropped, 0);
  fake_link_drain(&F, 0);
  assert_true(F.rx_enabled);
  assert_int_equal(F.rx_enable_calls, 1);
  assert_true(m0_dev_uart_rx_budget(&D, F.now) > 0);
}

static void test_hold_ends_when_the_link_goes(void **state) {
  (void)state;
  boot_connected();
  F.links[0].backlog_mode = true;
  F.links[0].backlog = NET_HIGH;
  fake_rx(&F, "x");
  assert_false(F.rx_enabled);
  fake_link_down(&F, 0, M0_DOWN_RESET);
  assert_true(F.rx_enabled); /* nothing queued for a link that is gone */
}

static void test_hold_ends_at_restart(void **state) {
  (void)state;
  boot_connected();
  F.links[0].backlog_mode = true;
  F.links[0].backlog = NET_HIGH;
  fake_rx(&F, "x");
  assert_false(F.rx_enabled);
  m0_dev_restart(&D, F.now, "test");
  assert_true(F.rx_enabled);
}

static void test_slowest_client_holds_the_uart(void **state) {
  (void)state;
  C.proto = M0_PROTO_TCPS;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  fake_link_accept(&F, 0, "127.0.0.1", 5001);
  fake_link_accept(&F, 0, "127.0.0.1", 5002);
  F.links[1].backlog_mode = true;
  F.links[2].backlog_mode = true;
  F.links[2].backlog = NET_HIGH;
  fake_rx(&F, "x");
  assert_false(F.rx_enabled);
  fake_link_drain(&F, 1); /* the fast one drained: the slow one still holds */
  assert_false(F.rx_enabled);
  fake_link_drain(&F, 2);
  assert_true(F.rx_enabled);
}

static void test_hold_and_pacing_share_the_enable_line(void **state) {
  size_t budget;
  uint8_t buf[64];
  unsigned enables;
  int turns;
  (void)state;
  O.timing = M0_TIMING_REAL;
  boot_connected();
  F.links[0].backlog_mode = true;
  F.links[0].backlog = NET_HIGH;
  /* Spend the receive budget; the frame leaves once the line is idle, and its send
   * finds the network slow: held. */
  budget = m0_dev_uart_rx_budget(&D, F.now);
  assert_true(budget > 0 && budget <= sizeof buf);
  memset(buf, 'p', sizeof buf);
  fake_rx_bytes(&F, buf, budget);
  assert_false(F.rx_enabled); /* paced */
  assert_int_equal(F.rx_disable_calls, 1);
  fake_advance(&F, 3 * MS); /* the budget came back, then the frame went out: held */
  assert_true(D.rx_held);
  assert_false(F.rx_enabled);
  enables = F.rx_enable_calls;
  /* While held, the budget coming back does not resume reading. */
  fake_advance(&F, 10 * MS);
  assert_false(F.rx_enabled);
  assert_int_equal(F.rx_enable_calls, enables);
  assert_int_equal(m0_dev_uart_rx_budget(&D, F.now), 0);
  fake_link_drain(&F, 0);
  assert_true(F.rx_enabled);
  assert_int_equal(F.rx_enable_calls, enables + 1);
  /* The other way round: a host that keeps the line busy has its frame cut at 400 bytes
   * inside a read that spent the budget; a drain then does not resume reading before
   * the budget does. */
  fake_advance(&F, 10 * MS);
  F.links[0].backlog = NET_HIGH;
  for (turns = 0; !D.rx_held && turns < 100000; turns++) {
    budget = m0_dev_uart_rx_budget(&D, F.now);
    if (budget == 0) {
      fake_advance(&F, 100 * 1000);
      continue;
    }
    assert_true(budget <= sizeof buf);
    fake_rx_bytes(&F, buf, budget);
  }
  assert_true(D.rx_held);
  assert_true(D.rx_paced);
  enables = F.rx_enable_calls;
  fake_link_drain(&F, 0);
  assert_false(D.rx_held);
  assert_false(F.rx_enabled);
  assert_int_equal(F.rx_enable_calls, enables);
  fake_advance(&F, 10 * MS);
  assert_true(F.rx_enabled);
  assert_int_equal(F.rx_enable_calls, enables + 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_pause_at_high_water_resume_at_low_water, setup),
    cmocka_unit_test_setup(test_one_more_read_after_the_pause_is_kept, setup),
    cmocka_unit_test_setup(test_real_timing_nothing_lost, setup),
    cmocka_unit_test_setup(test_every_tcp_client_is_paused, setup),
    cmocka_unit_test_setup(test_link_dialled_while_paused_is_paused, setup),
    cmocka_unit_test_setup(test_udp_is_never_paused, setup),
    cmocka_unit_test_setup(test_no_host_drops_network_data, setup),
    cmocka_unit_test_setup(test_detach_drops_held_data, setup),
    cmocka_unit_test_setup(test_restart_drops_what_waits_for_the_host, setup),
    cmocka_unit_test_setup(test_command_mode_holds_network_data, setup),
    cmocka_unit_test_setup(test_command_mode_back_pressure_then_delivery, setup),
    cmocka_unit_test_setup(test_command_mode_holds_datagrams, setup),
    cmocka_unit_test_setup(test_network_data_is_not_held_by_a_failed_handshake, setup),
    cmocka_unit_test_setup(test_slow_peer_stops_uart_reading, setup),
    cmocka_unit_test_setup(test_hold_ends_when_the_link_goes, setup),
    cmocka_unit_test_setup(test_hold_ends_at_restart, setup),
    cmocka_unit_test_setup(test_slowest_client_holds_the_uart, setup),
    cmocka_unit_test_setup(test_hold_and_pacing_share_the_enable_line, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
