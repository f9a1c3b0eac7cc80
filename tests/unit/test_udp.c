/* test_udp.c: the UDP work modes (spec §2.2, §6.4) on the fake HAL.
 *
 * One socket, link 0, bound to SOCKPORT; each serial frame one datagram (cut at 4 idle
 * character times or 400 bytes). UDPC sends to SOCK and takes datagrams only from SOCK's
 * address and port; UDPS answers the last sender. Datagrams reach the host unchanged, or
 * not at all when they do not fit the 64 KiB UART queue.
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

static int setup_udpc(void **state) {
  (void)state;
  fake_options(&O);
  m0_config_defaults(&C);
  fake_config_udpc(&C);
  C.sockport = 7001;
  return 0;
}

static int setup_udps(void **state) {
  setup_udpc(state);
  C.proto = M0_PROTO_UDPS;
  return 0;
}

static void assert_datagram(unsigned i, const char *text, const char *to) {
  char where[64] = "";
  fake_assert_send(&F, i, 0, text);
  if (F.sends[i].has_to)
    snprintf(where, sizeof where, "%s:%u", F.sends[i].to.host, F.sends[i].to.port);
  assert_string_equal(where, to);
}

/* ---- UDPC ---- */

static void test_udpc_binds_sockport_with_sock_as_peer(void **state) {
  (void)state;
  fake_start(&F, &D, &O, &C, 10 * S);
  fake_advance(&F, 200 * MS);
  assert_int_equal(F.nops, 1);
  assert_string_equal(fake_op(&F, 0), "open 0 udp 10.0.0.7:7000 from 7001");
}

static void test_udpc_each_frame_one_datagram(void **state) {
  static uint8_t data[900];
  uint64_t g = fake_packing_ns(10, 115200);
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  fake_rx(&F, "ab");
  fake_advance(&F, g - 1);
  fake_rx(&F, "cd");
  fake_advance(&F, g);
  fake_rx(&F, "ef");
  fake_advance(&F, g);
  assert_int_equal(F.nsends, 2);
  assert_datagram(0, "abcd", ""); /* to the link's peer */
  assert_datagram(1, "ef", "");
  memset(data, 'z', sizeof data);
  fake_rx_bytes(&F, data, sizeof data);
  fake_advance(&F, g);
  assert_int_equal(F.nsends, 5);
  assert_int_equal(F.sends[2].len, 400);
  assert_int_equal(F.sends[3].len, 400);
  assert_int_equal(F.sends[4].len, 100);
  assert_int_equal(D.net.link[0].tx_bytes, 4 + 2 + 900);
}

static void test_udpc_frames_at_9600(void **state) {
  uint64_t g = fake_packing_ns(10, 9600);
  (void)state;
  C.baud = 9600;
  fake_boot_link_up(&F, &D, &O, &C);
  fake_rx(&F, "a");
  fake_advance(&F, g - 1);
  fake_rx(&F, "b");
  fake_advance(&F, g);
  fake_rx(&F, "c");
  fake_advance(&F, g);
  assert_int_equal(F.nsends, 2);
  assert_datagram(0, "ab", "");
  assert_datagram(1, "c", "");
}

static void test_udpc_accepts_only_its_peer(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  fake_link_datagram(&F, 0, "peer ", "10.0.0.7", 7000);
  fake_link_datagram(&F, 0, "other-port", "10.0.0.7", 7002);
  fake_link_datagram(&F, 0, "other-host", "10.0.0.8", 7000);
  fake_link_datagram(&F, 0, "again", "10.0.0.7", 7000);
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), "peer again");
  assert_int_equal(m0_dev_counters(&D)->net_rx_dropped, 20);
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"from_net\",\"reason\":\"stranger\",\"bytes\":10}") >= 0);
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"from_net\",\"reason\":\"stranger\",\"bytes\":20}") >= 0);
}

static void test_udpc_peer_by_name(void **state) {
  (void)state;
  snprintf(C.sock_addr, sizeof C.sock_addr, "%s", "Sensor.Example");
  fake_boot_link_up(&F, &D, &O, &C);
  fake_link_datagram(&F, 0, "ok", "sensor.example", 7000);
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), "ok");
}

static void test_udpc_frames_before_bound_are_dropped(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C); /* not bound yet */
  fake_rx_frame(&F, "early");
  assert_int_equal(F.nsends, 0);
  assert_int_equal(m0_dev_counters(&D)->net_tx_dropped, 5);
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"to_net\",\"reason\":\"no-network\",\"bytes\":5}") >= 0);
  assert_false(m0__dev_socket_connected(&D));
  fake_link_up(&F, 0);
  assert_true(m0__dev_socket_connected(&D));
  fake_rx_frame(&F, "late");
  assert_datagram(0, "late", "");
}

static void test_udp_bind_failure_is_retried(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_link_down(&F, 0, M0_DOWN_BIND);
  fake_advance(&F, S - 1);
  assert_int_equal(F.nops, 0);
  fake_advance(&F, 1);
  assert_int_equal(fake_count_ops(&F, "open 0 udp"), 1);
}

static void test_udp_send_error_is_counted(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  F.links[0].open = false; /* the board lost the socket: sends fail */
  fake_rx_frame(&F, "gone");
  assert_int_equal(m0_dev_counters(&D)->net_tx_dropped, 4);
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"to_net\",\"reason\":\"send-error\",\"bytes\":4}") >= 0);
}

/* ---- UDPS ---- */

static void test_udps_answers_the_last_sender(void **state) {
  struct m0_status st;
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  fake_rx_frame(&F, "first");
  assert_datagram(0, "first", "10.0.0.7:7000"); /* SOCK until someone speaks */
  fake_link_datagram(&F, 0, "from a", "127.0.0.1", 40000);
  fake_rx_frame(&F, "to a");
  assert_datagram(1, "to a", "127.0.0.1:40000");
  fake_link_datagram(&F, 0, "from b", "10.1.1.1", 41000);
  fake_rx_frame(&F, "to b");
  fake_rx_frame(&F, "b again");
  assert_datagram(2, "to b", "10.1.1.1:41000");
  assert_datagram(3, "b again", "10.1.1.1:41000");
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), "from afrom b"); /* anyone may speak to a server */
  m0_dev_status(&D, &st);
  assert_int_equal(st.nlinks, 1);
  assert_int_equal(st.links[0].kind, M0_LINK_UDP);
  assert_string_equal(st.links[0].peer.host, "10.1.1.1");
  assert_int_equal(st.links[0].peer.port, 41000);
}

static void test_udps_destination_resets_at_restart(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  fake_link_datagram(&F, 0, "x", "127.0.0.1", 40000);
  m0_dev_restart(&D, F.now, "test");
  fake_advance(&F, 200 * MS);
  fake_link_up(&F, 0);
  fake_clear(&F);
  fake_rx_frame(&F, "y");
  assert_datagram(0, "y", "10.0.0.7:7000");
}

/* ---- toward the host ---- */

static void test_datagram_payload_unchanged(void **state) {
  static const uint8_t bin[] = {0, 0xff, '\r', '\n', 0x55, 0xaa, 0x55, 1};
  struct m0_net_addr from = {"10.0.0.7", 7000};
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  m0_dev_on_link_rx(&D, F.now, 0, bin, sizeof bin, &from);
  fake_run(&F, S);
  assert_int_equal(F.out_len, sizeof bin);
  assert_memory_equal(F.out, bin, sizeof bin);
}

static void test_datagrams_dropped_whole_when_the_queue_is_full(void **state) {
  static char big[1001];
  unsigned i, taken = 0, dropped = 0;
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  F.room = 0; /* the host does not read: everything stays queued */
  memset(big, 'd', 1000);
  for (i = 0; i < 70; i++) {
    size_t before = m0__flow_backlog(&D);
    fake_link_datagram(&F, 0, big, "10.0.0.7", 7000);
    if (m0__flow_backlog(&D) == before + 1000)
      taken++;
    else if (m0__flow_backlog(&D) == before)
      dropped++;
    else
      fail_msg("datagram %u partly queued", i);
  }
  assert_int_equal(taken, 65); /* 65 * 1000 <= 65536 < 66 * 1000 */
  assert_int_equal(dropped, 5);
  assert_int_equal(m0_dev_counters(&D)->uart_tx_dropped, 5000);
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"to_host\",\"reason\":\"queue-full\",\"bytes\":1000}") >= 0);
  /* The host reads: datagrams are taken again; everything queued arrives whole. */
  fake_host_reads(&F, 100000);
  fake_run(&F, 10 * S);
  assert_int_equal(F.out_len, 65000);
  fake_link_datagram(&F, 0, "tail", "10.0.0.7", 7000);
  fake_run(&F, S);
  assert_int_equal(F.out_len, 65004);
  assert_int_equal(fake_count_ops(&F, "pause"), 0); /* UDP is never paused */
}

static void test_rstim_ignores_strangers(void **state) {
  uint64_t t0;
  (void)state;
  C.rstim = 60;
  fake_boot_link_up(&F, &D, &O, &C);
  t0 = F.now - S;
  fake_advance_to(&F, t0 + 30 * S);
  fake_link_datagram(&F, 0, "peer", "10.0.0.7", 7000);
  fake_advance_to(&F, t0 + 50 * S);
  fake_link_datagram(&F, 0, "stranger", "10.0.0.9", 7000);
  fake_advance_to(&F, t0 + 90 * S - 1);
  assert_int_equal(m0_dev_counters(&D)->restarts, 0);
  fake_advance(&F, 1);
  assert_int_equal(m0_dev_counters(&D)->restarts, 1);
  assert_true(fake_find_event(&F, "restart {\"cause\":\"rstim\"}") >= 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_udpc_binds_sockport_with_sock_as_peer, setup_udpc),
    cmocka_unit_test_setup(test_udpc_each_frame_one_datagram, setup_udpc),
    cmocka_unit_test_setup(test_udpc_frames_at_9600, setup_udpc),
    cmocka_unit_test_setup(test_udpc_accepts_only_its_peer, setup_udpc),
    cmocka_unit_test_setup(test_udpc_peer_by_name, setup_udpc),
    cmocka_unit_test_setup(test_udpc_frames_before_bound_are_dropped, setup_udpc),
    cmocka_unit_test_setup(test_udp_bind_failure_is_retried, setup_udpc),
    cmocka_unit_test_setup(test_udp_send_error_is_counted, setup_udpc),
    cmocka_unit_test_setup(test_udps_answers_the_last_sender, setup_udps),
    cmocka_unit_test_setup(test_udps_destination_resets_at_restart, setup_udps),
    cmocka_unit_test_setup(test_datagram_payload_unchanged, setup_udpc),
    cmocka_unit_test_setup(test_datagrams_dropped_whole_when_the_queue_is_full, setup_udpc),
    cmocka_unit_test_setup(test_rstim_ignores_strangers, setup_udpc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
