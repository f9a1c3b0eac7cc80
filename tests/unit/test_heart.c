/* test_heart.c: the heartbeat on the device (spec §6.7, dev.c, net.c, tcpc.c, udp.c).
 *
 * NET (TCPC, UDPC): HEARTDT goes to the server after HEARTTM s with nothing sent: every
 * send (frame, registration, the beat) starts the silence again, bytes received do not;
 * only while the TCP connection is up or the UDP socket bound; never in TCPS/UDPS.
 * COM: HEARTDT to the UART every HEARTTM s on a grid from the start of transparent mode,
 * in any work mode; none in command mode, none while booting. The schedule is part of the
 * device's single timer: the fake fires it at the exact nanosecond.
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

#define BEAT "www.usr.cn" /* HEARTDT's default, decoded */
#define NET_EVENT "heart.sent {\"to\":\"net\",\"bytes\":10}"
#define UART_EVENT "heart.sent {\"to\":\"uart\",\"bytes\":10}"
/* fake_boot starts the clock at 1000 s and boots for 200 ms. */
#define BOOTED (1000 * S + 200 * MS)

static int setup(void **state) {
  (void)state;
  fake_options(&O);
  m0_config_defaults(&C);
  C.hearten = true;
  C.hearttp = M0_HEARTTP_NET;
  C.hearttm = 5;
  return 0;
}

static int setup_udpc(void **state) {
  setup(state);
  fake_config_udpc(&C);
  return 0;
}

static int setup_com(void **state) {
  setup(state);
  C.hearttp = M0_HEARTTP_COM;
  C.hearttm = 2;
  return 0;
}

/* ---- NET, TCP client ---- */

static void test_net_beats_after_exactly_hearttm_of_silence(void **state) {
  uint64_t up;
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  up = F.now;
  assert_int_equal(fake_next_fire(&F), up + 5 * S); /* in the single timer */
  fake_advance_to(&F, up + 5 * S - 1);
  assert_int_equal(F.nsends, 0);
  fake_advance(&F, 1);
  assert_int_equal(F.nsends, 1);
  fake_assert_send(&F, 0, 0, BEAT);
  assert_int_equal(F.sends[0].at, up + 5 * S);
  assert_true(fake_find_event(&F, NET_EVENT) >= 0);
  /* The beat is a send too: the next one after another HEARTTM. */
  fake_advance_to(&F, up + 10 * S - 1);
  assert_int_equal(F.nsends, 1);
  fake_advance(&F, 1);
  assert_int_equal(F.nsends, 2);
  assert_int_equal(fake_count_events(&F, "heart.sent "), 2);
}

/* A board that notices late (a timer 30 ms late, a thousand devices due at once) does not
 * make the schedule drift: each beat goes at the first moment it is noticed, and the next
 * is still HEARTTM after its deadline, as on the module. */
static void test_net_late_timer_does_not_drift(void **state) {
  uint64_t up;
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  up = F.now;
  F.timer_late = 30 * MS;
  fake_advance_to(&F, up + 50 * S + 40 * MS);
  assert_int_equal(F.nsends, 10);
  for (unsigned k = 0; k < 10; k++) {
    fake_assert_send(&F, k, 0, BEAT);
    assert_int_equal(F.sends[k].at, up + (k + 1) * 5 * S + 30 * MS);
  }
}

static void test_net_reset_by_frames_not_by_received_bytes(void **state) {
  uint64_t up, sent;
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  up = F.now;
  fake_advance(&F, 3 * S);
  fake_rx_frame(&F, "data");
  assert_int_equal(F.nsends, 1);
  sent = F.sends[0].at;
  fake_advance_to(&F, up + 5 * S); /* would have beaten here */
  assert_int_equal(F.nsends, 1);
  fake_link_rx_str(&F, 0, "from the server"); /* receiving is not sending */
  fake_advance_to(&F, sent + 5 * S - 1);
  assert_int_equal(F.nsends, 1);
  fake_advance(&F, 1);
  assert_int_equal(F.nsends, 2);
  fake_assert_send(&F, 1, 0, BEAT);
}

static void test_net_only_while_connected(void **state) {
  uint64_t up;
  (void)state;
  fake_boot(&F, &D, &O, &C);
  /* Dialling for a minute (each dial given up after 10 s, the next 1 s later): nothing to
   * beat on. Five dials after the boot's, the last under way at 61 s. */
  fake_advance(&F, 60 * S);
  assert_int_equal(F.nsends, 0);
  assert_int_equal(fake_count_ops(&F, "open 0"), 5);
  fake_link_up(&F, 0);
  fake_advance(&F, 2 * S);
  fake_link_down(&F, 0, M0_DOWN_CLOSED);
  fake_advance(&F, S); /* the retry dials ... */
  fake_link_down(&F, 0, M0_DOWN_REFUSED); /* ... and fails */
  fake_advance(&F, 30 * S); /* the next ones hang: the third is under way at 30 s */
  assert_int_equal(F.nsends, 0);
  assert_int_equal(fake_count_events(&F, "heart.sent "), 0);
  assert_false(D.heart.running); /* stopped, not beating into the void */
  assert_int_equal(fake_next_fire(&F), D.net.link[0].dial_at); /* only the dial waits */
  fake_link_up(&F, 0); /* the silence counts from the new connection */
  up = F.now;
  fake_advance_to(&F, up + 5 * S - 1);
  assert_int_equal(F.nsends, 0);
  fake_advance(&F, 1);
  fake_assert_send(&F, 0, 0, BEAT);
}

static void test_net_stops_at_restart(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  fake_advance(&F, 4 * S);
  m0_dev_restart(&D, F.now, "test");
  fake_advance(&F, 30 * S); /* booted again, dialling, never connected */
  assert_int_equal(F.nsends, 0);
}

static void test_net_does_not_hold_a_short_connection(void **state) {
  uint64_t sent;
  (void)state;
  C.socksl = true;
  C.shorto = 3;
  C.hearttm = 1;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "s");
  fake_link_up(&F, 0);
  sent = F.now;
  fake_advance(&F, 2500 * MS);
  assert_int_equal(fake_count_events(&F, "heart.sent "), 2); /* at +1 s and +2 s */
  fake_advance_to(&F, sent + 3 * S); /* SHORTO after the data, beats or not */
  assert_int_equal(fake_count_ops(&F, "close 0"), 1);
  fake_advance(&F, 10 * S);
  assert_int_equal(fake_count_events(&F, "heart.sent "), 2); /* closed: no more */
  assert_int_equal(fake_next_fire(&F), M0_TIME_NEVER);
}

/* ---- NET, UDP client ---- */

static void test_net_udpc_datagram_to_the_peer(void **state) {
  uint64_t bound;
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_advance(&F, 20 * S); /* not bound yet: nothing */
  assert_int_equal(F.nsends, 0);
  fake_link_up(&F, 0);
  bound = F.now;
  fake_advance_to(&F, bound + 5 * S - 1);
  assert_int_equal(F.nsends, 0);
  fake_advance(&F, 1);
  assert_int_equal(F.nsends, 1);
  fake_assert_send(&F, 0, 0, BEAT);
  assert_false(F.sends[0].has_to); /* the link's peer: SOCK's address */
  assert_true(fake_find_event(&F, NET_EVENT) >= 0);
  fake_rx_frame(&F, "x");
  fake_advance_to(&F, F.sends[1].at + 5 * S - 1);
  assert_int_equal(F.nsends, 2);
  fake_advance(&F, 1);
  assert_int_equal(F.nsends, 3);
}

static void test_net_udpc_stops_while_unbound(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  fake_advance(&F, 2 * S);
  fake_link_down(&F, 0, M0_DOWN_RESET);
  fake_advance(&F, S); /* bound again ... */
  assert_int_equal(fake_count_ops(&F, "open 0 udp"), 1);
  fake_advance(&F, 30 * S); /* ... not yet */
  assert_int_equal(F.nsends, 0);
  assert_int_equal(fake_next_fire(&F), M0_TIME_NEVER);
  fake_link_up(&F, 0);
  fake_advance(&F, 5 * S);
  assert_int_equal(F.nsends, 1);
}

static void test_net_udpc_registration_before_the_first_beat(void **state) {
  (void)state;
  C.regen = M0_REGEN_USR; /* REGUSR default: www.usr.cn */
  C.regtcp = M0_REGTCP_FIRST;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  fake_advance(&F, 5 * S);
  assert_int_equal(F.nsends, 2);
  fake_assert_send(&F, 0, 0, "www.usr.cn"); /* the registration, its own datagram */
  fake_assert_send(&F, 1, 0, BEAT);
  fake_advance(&F, 5 * S);
  assert_int_equal(F.nsends, 3); /* once */
}

/* ---- NET where it does not apply ---- */

static void test_net_in_servers_sends_nothing(void **state) {
  (void)state;
  C.proto = M0_PROTO_TCPS;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  assert_int_equal(fake_link_accept(&F, 0, "127.0.0.1", 5001), 1);
  fake_advance(&F, 60 * S);
  C.proto = M0_PROTO_UDPS;
  assert_int_equal(F.nsends, 0);
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  fake_advance(&F, 60 * S);
  assert_int_equal(F.nsends, 0);
  assert_int_equal(fake_count_events(&F, "heart.sent "), 0);
  assert_int_equal(F.out_len, 0); /* nor to the UART */
}

static void test_hearten_off_sends_nothing(void **state) {
  (void)state;
  C.hearten = false;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  fake_advance(&F, 60 * S);
  assert_int_equal(F.nsends, 0);
  C.hearttp = M0_HEARTTP_COM;
  fake_boot(&F, &D, &O, &C);
  fake_advance(&F, 60 * S);
  assert_int_equal(F.out_len, 0);
}

/* ---- COM ---- */

static void test_com_every_hearttm_to_the_uart(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C); /* TCPC, never connected: COM does not care */
  assert_int_equal(fake_next_fire(&F), BOOTED + 2 * S);
  fake_advance_to(&F, BOOTED + 2 * S - 1);
  assert_int_equal(F.out_len, 0);
  fake_advance(&F, 1);
  assert_true(F.nwrites > 0);
  assert_int_equal(F.writes[0].at, BOOTED + 2 * S);
  assert_true(fake_find_event(&F, UART_EVENT) >= 0);
  fake_advance_to(&F, BOOTED + 6 * S);
  assert_string_equal(fake_out(&F), BEAT BEAT BEAT);
  assert_int_equal(F.nsends, 0); /* nothing to the network */
}

static void test_com_keeps_its_grid_whatever_the_traffic(void **state) {
  (void)state;
  C.proto = M0_PROTO_UDPS;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  fake_advance_to(&F, BOOTED + 3 * S);
  fake_out_clear(&F); /* the beat at +2 s */
  fake_rx_frame(&F, "to the net");
  fake_link_datagram(&F, 0, "to the host", "10.0.0.9", 9);
  fake_advance_to(&F, BOOTED + 4 * S - 1);
  assert_string_equal(fake_out(&F), "to the host");
  fake_advance(&F, 1);
  fake_run(&F, 100 * MS);
  assert_string_equal(fake_out(&F), "to the host" BEAT);
}

static void test_com_in_htpc(void **state) {
  (void)state;
  C.proto = M0_PROTO_HTPC;
  fake_boot(&F, &D, &O, &C);
  fake_advance_to(&F, BOOTED + 2 * S + 10 * MS);
  assert_string_equal(fake_out(&F), BEAT);
}

static void test_com_none_in_command_mode(void **state) {
  uint64_t back;
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_advance_to(&F, BOOTED + 2 * S + 10 * MS);
  assert_int_equal(fake_count_events(&F, "heart.sent "), 1);
  fake_enter_command(&F); /* about 1 s of silence, then +++ a */
  fake_advance(&F, 20 * S);
  assert_int_equal(F.out_len, 0);
  assert_int_equal(fake_count_events(&F, "heart.sent "), 0);
  /* Not fake_at: its drain would run the heartbeat for ten minutes. */
  fake_rx(&F, "AT+ENTM\r");
  back = F.now;
  fake_advance(&F, 100 * MS);
  assert_string_equal(fake_out(&F), "AT+ENTM\r\r\n+ok\r\n");
  fake_out_clear(&F);
  F.nwrites = 0;
  fake_advance_to(&F, back + 2 * S - 1); /* the grid starts again at the ENTM */
  assert_int_equal(F.out_len, 0);
  fake_advance(&F, 1);
  assert_int_equal(F.writes[0].at, back + 2 * S);
  fake_run(&F, 100 * MS);
  assert_string_equal(fake_out(&F), BEAT);
}

static void test_com_none_while_booting(void **state) {
  (void)state;
  C.hearttm = 1;
  O.boot_ns = 5 * S;
  fake_start(&F, &D, &O, &C, 10 * S);
  m0_dev_on_host_attach(&D, F.now, true);
  fake_advance(&F, 5 * S - 1);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_BOOTING);
  assert_int_equal(fake_count_events(&F, "heart.sent "), 0);
  fake_advance(&F, 1); /* booted at 15 s: the first beat at 16 s */
  fake_advance_to(&F, 16 * S - 1);
  assert_int_equal(fake_count_events(&F, "heart.sent "), 0);
  fake_advance(&F, 1);
  assert_int_equal(fake_count_events(&F, "heart.sent "), 1);
  /* A restart: none during the next boot either. */
  fake_advance(&F, 500 * MS);
  m0_dev_restart(&D, F.now, "test");
  fake_advance(&F, 5 * S - 1);
  assert_int_equal(fake_count_events(&F, "heart.sent "), 1);
  fake_advance(&F, S + 1);
  assert_int_equal(fake_count_events(&F, "heart.sent "), 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_net_beats_after_exactly_hearttm_of_silence, setup),
    cmocka_unit_test_setup(test_net_late_timer_does_not_drift, setup),
    cmocka_unit_test_setup(test_net_reset_by_frames_not_by_received_bytes, setup),
    cmocka_unit_test_setup(test_net_only_while_connected, setup),
    cmocka_unit_test_setup(test_net_stops_at_restart, setup),
    cmocka_unit_test_setup(test_net_does_not_hold_a_short_connection, setup),
    cmocka_unit_test_setup(test_net_udpc_datagram_to_the_peer, setup_udpc),
    cmocka_unit_test_setup(test_net_udpc_stops_while_unbound, setup_udpc),
    cmocka_unit_test_setup(test_net_udpc_registration_before_the_first_beat, setup_udpc),
    cmocka_unit_test_setup(test_net_in_servers_sends_nothing, setup),
    cmocka_unit_test_setup(test_hearten_off_sends_nothing, setup),
    cmocka_unit_test_setup(test_com_every_hearttm_to_the_uart, setup_com),
    cmocka_unit_test_setup(test_com_keeps_its_grid_whatever_the_traffic, setup_com),
    cmocka_unit_test_setup(test_com_in_htpc, setup_com),
    cmocka_unit_test_setup(test_com_none_in_command_mode, setup_com),
    cmocka_unit_test_setup(test_com_none_while_booting, setup_com),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
