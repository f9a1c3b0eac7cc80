/* test_reg.c: the registration packet on the device's links (spec §6.6, tcpc.c, udp.c).
 *
 * REGEN=mac sends the 6 raw bytes of the factory MAC (D8B04C000001 in the fake's
 * options), REGEN=usr the REGUSR bytes. REGTCP=first: the first bytes of every TCP
 * connection (short ones too), ahead of data kept while connecting; in UDPC a datagram of
 * its own before the first datagram after a restart. REGTCP=every: in front of each
 * frame, in the same send (TCP) or datagram (UDP). Only TCPC and UDPC register. Every
 * check reads the exact bytes of each link_send, binary-safe.
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

static const uint8_t MAC[6] = {0xD8, 0xB0, 0x4C, 0x00, 0x00, 0x01};
static const uint8_t USR[3] = {0x01, 0x00, 0xFE}; /* a NUL inside: bytes, not a string */
#define FIRST_MAC "reg.sent {\"link\":0,\"bytes\":6,\"when\":\"first\"}"
#define EVERY_MAC "reg.sent {\"link\":0,\"bytes\":6,\"when\":\"every\"}"

static int setup(void **state) {
  (void)state;
  fake_options(&O);
  m0_config_defaults(&C);
  C.regen = M0_REGEN_MAC;
  C.regtcp = M0_REGTCP_FIRST;
  memcpy(C.regusr, USR, sizeof USR);
  C.regusr_len = sizeof USR;
  return 0;
}

static int setup_udpc(void **state) {
  setup(state);
  fake_config_udpc(&C);
  return 0;
}

/* Send i carried exactly: prefix (may be NULL) then text. */
static void assert_send(unsigned i, const uint8_t *prefix, size_t plen, const char *text) {
  size_t tlen = strlen(text);
  assert_true(i < F.nsends);
  assert_int_equal(F.sends[i].len, plen + tlen);
  if (plen > 0)
    assert_memory_equal(F.sends[i].data, prefix, plen);
  assert_memory_equal(F.sends[i].data + plen, text, tlen);
}

/* ---- TCPC, REGTCP=first ---- */

static void test_tcpc_first_mac(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  assert_int_equal(F.nsends, 0); /* nothing before the connection is up */
  fake_link_up(&F, 0);
  assert_int_equal(F.nsends, 1);
  assert_send(0, MAC, 6, "");
  assert_true(fake_find_event(&F, FIRST_MAC) >= 0);
  fake_rx_frame(&F, "data");
  assert_int_equal(F.nsends, 2);
  assert_send(1, NULL, 0, "data"); /* once per connection, not per frame */
  assert_int_equal(fake_count_events(&F, "reg.sent "), 1);
}

static void test_tcpc_first_usr_before_kept_data(void **state) {
  (void)state;
  C.regen = M0_REGEN_USR;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "kept1");
  fake_rx_frame(&F, "kept2");
  assert_int_equal(F.nsends, 0);
  fake_link_up(&F, 0);
  assert_int_equal(F.nsends, 2);
  assert_send(0, USR, sizeof USR, "");
  assert_send(1, NULL, 0, "kept1kept2");
  assert_true(fake_find_event(&F, "reg.sent {\"link\":0,\"bytes\":3,\"when\":\"first\"}") >= 0);
}

static void test_tcpc_first_on_every_connection(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  fake_link_down(&F, 0, M0_DOWN_CLOSED);
  fake_advance(&F, S); /* the retry */
  fake_link_up(&F, 0);
  assert_int_equal(F.nsends, 2);
  assert_send(0, MAC, 6, "");
  assert_send(1, MAC, 6, "");
  assert_int_equal(fake_count_events(&F, "reg.sent "), 2);
}

static void test_tcpc_short_connections_register_each_time(void **state) {
  (void)state;
  C.socksl = true;
  C.shorto = 2;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "one");
  fake_link_up(&F, 0);
  fake_advance(&F, 3 * S); /* SHORTO: closed */
  assert_int_equal(fake_count_ops(&F, "close 0"), 1);
  fake_rx_frame(&F, "two");
  fake_link_up(&F, 0);
  assert_int_equal(F.nsends, 4);
  assert_send(0, MAC, 6, "");
  assert_send(1, NULL, 0, "one");
  assert_send(2, MAC, 6, "");
  assert_send(3, NULL, 0, "two");
}

/* ---- TCPC, REGTCP=every ---- */

static void test_tcpc_every_prefixes_each_frame(void **state) {
  (void)state;
  C.regtcp = M0_REGTCP_EVERY;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  assert_int_equal(F.nsends, 0); /* nothing of its own at connect */
  fake_rx_frame(&F, "a");
  fake_rx_frame(&F, "bc");
  assert_int_equal(F.nsends, 2);
  assert_send(0, MAC, 6, "a");
  assert_send(1, MAC, 6, "bc");
  /* Reported once per connection, not per frame. */
  assert_int_equal(fake_count_events(&F, "reg.sent "), 1);
  assert_true(fake_find_event(&F, EVERY_MAC) >= 0);
  fake_link_down(&F, 0, M0_DOWN_CLOSED);
  fake_advance(&F, S);
  fake_link_up(&F, 0);
  fake_rx_frame(&F, "d");
  assert_send(2, MAC, 6, "d");
  assert_int_equal(fake_count_events(&F, "reg.sent "), 2);
}

static void test_tcpc_every_usr_kept_frames_carry_it(void **state) {
  uint8_t want[2 * (sizeof USR + 1)];
  (void)state;
  C.regen = M0_REGEN_USR;
  C.regtcp = M0_REGTCP_EVERY;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "x");
  fake_rx_frame(&F, "y");
  fake_link_up(&F, 0);
  assert_int_equal(F.nsends, 1);
  memcpy(want, USR, sizeof USR);
  want[sizeof USR] = 'x';
  memcpy(want + sizeof USR + 1, USR, sizeof USR);
  want[2 * sizeof USR + 1] = 'y';
  assert_int_equal(F.sends[0].len, sizeof want);
  assert_memory_equal(F.sends[0].data, want, sizeof want);
  assert_int_equal(fake_count_events(&F, "reg.sent "), 1);
}

static void test_tcpc_every_dropped_frame_counts_only_the_frame(void **state) {
  (void)state;
  C.regtcp = M0_REGTCP_EVERY;
  C.uartclbuf = true;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "lost");
  assert_int_equal(m0_dev_counters(&D)->net_tx_dropped, 4);
  assert_int_equal(fake_count_events(&F, "reg.sent "), 0);
}

/* ---- UDPC ---- */

static void test_udpc_first_is_its_own_datagram_once(void **state) {
  (void)state;
  C.regen = M0_REGEN_USR;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  assert_int_equal(F.nsends, 0); /* bound: still nothing until the first datagram */
  fake_rx_frame(&F, "one");
  fake_rx_frame(&F, "two");
  assert_int_equal(F.nsends, 3);
  assert_send(0, USR, sizeof USR, "");
  assert_send(1, NULL, 0, "one");
  assert_send(2, NULL, 0, "two");
  assert_true(fake_find_event(&F, "reg.sent {\"link\":0,\"bytes\":3,\"when\":\"first\"}") >= 0);
  /* Again after a restart. */
  m0_dev_restart(&D, F.now, "test");
  fake_advance(&F, S);
  fake_link_up(&F, 0);
  fake_clear(&F);
  fake_rx_frame(&F, "three");
  assert_int_equal(F.nsends, 2);
  assert_send(0, USR, sizeof USR, "");
  assert_send(1, NULL, 0, "three");
}

static void test_udpc_first_mac_not_before_bound(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "early"); /* no socket yet: dropped, and the registration is still due */
  assert_int_equal(F.nsends, 0);
  fake_link_up(&F, 0);
  fake_rx_frame(&F, "late");
  assert_int_equal(F.nsends, 2);
  assert_send(0, MAC, 6, "");
  assert_send(1, NULL, 0, "late");
}

static void test_udpc_every_in_the_same_datagram(void **state) {
  (void)state;
  C.regtcp = M0_REGTCP_EVERY;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  fake_rx_frame(&F, "p");
  fake_rx_frame(&F, "qr");
  assert_int_equal(F.nsends, 2);
  assert_send(0, MAC, 6, "p");
  assert_send(1, MAC, 6, "qr");
  assert_false(F.sends[0].has_to); /* to the link's peer, SOCK */
  assert_int_equal(fake_count_events(&F, "reg.sent "), 1);
  assert_true(fake_find_event(&F, EVERY_MAC) >= 0);
}

/* ---- nothing ---- */

static void test_regen_off_sends_nothing(void **state) {
  (void)state;
  C.regen = M0_REGEN_OFF;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  fake_rx_frame(&F, "plain");
  assert_int_equal(F.nsends, 1);
  assert_send(0, NULL, 0, "plain");
  C.regtcp = M0_REGTCP_EVERY;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  fake_rx_frame(&F, "plain");
  assert_send(0, NULL, 0, "plain");
  assert_int_equal(fake_count_events(&F, "reg.sent "), 0);
}

static void test_regen_off_udpc_sends_nothing(void **state) {
  (void)state;
  C.regen = M0_REGEN_OFF;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  fake_rx_frame(&F, "plain");
  assert_int_equal(F.nsends, 1);
  assert_send(0, NULL, 0, "plain");
  assert_int_equal(fake_count_events(&F, "reg.sent "), 0);
}

static void test_servers_do_not_register(void **state) {
  (void)state;
  C.proto = M0_PROTO_TCPS;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  assert_int_equal(fake_link_accept(&F, 0, "127.0.0.1", 5001), 1);
  fake_rx_frame(&F, "t");
  assert_int_equal(F.nsends, 1);
  assert_send(0, NULL, 0, "t");
  C.proto = M0_PROTO_UDPS;
  C.regtcp = M0_REGTCP_EVERY;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  fake_rx_frame(&F, "u");
  assert_int_equal(F.nsends, 1);
  assert_send(0, NULL, 0, "u");
  assert_int_equal(fake_count_events(&F, "reg.sent "), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_tcpc_first_mac, setup),
    cmocka_unit_test_setup(test_tcpc_first_usr_before_kept_data, setup),
    cmocka_unit_test_setup(test_tcpc_first_on_every_connection, setup),
    cmocka_unit_test_setup(test_tcpc_short_connections_register_each_time, setup),
    cmocka_unit_test_setup(test_tcpc_every_prefixes_each_frame, setup),
    cmocka_unit_test_setup(test_tcpc_every_usr_kept_frames_carry_it, setup),
    cmocka_unit_test_setup(test_tcpc_every_dropped_frame_counts_only_the_frame, setup),
    cmocka_unit_test_setup(test_udpc_first_is_its_own_datagram_once, setup_udpc),
    cmocka_unit_test_setup(test_udpc_first_mac_not_before_bound, setup_udpc),
    cmocka_unit_test_setup(test_udpc_every_in_the_same_datagram, setup_udpc),
    cmocka_unit_test_setup(test_regen_off_sends_nothing, setup),
    cmocka_unit_test_setup(test_regen_off_udpc_sends_nothing, setup_udpc),
    cmocka_unit_test_setup(test_servers_do_not_register, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
