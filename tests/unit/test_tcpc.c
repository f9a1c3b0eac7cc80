/* test_tcpc.c: the TCP client work mode (spec §2.2, §6.2, §6.9) on the fake HAL.
 *
 * The fake plays the board: the test decides when a dial succeeds (fake_link_up) or fails
 * (fake_link_down), or leaves it unanswered until the device gives up, and reads every
 * link call the device made as text. Times are exact on the virtual clock: a dial given up
 * at 10 s, retries 1 s after the failure, CLIENTRST at the 30th failed attempt, SHORTO and
 * RSTIM to the nanosecond. Frames are cut after 4 idle character times (347223 ns at
 * 115200 8N1, 4166667 ns at 9600 8N1) or at 400 bytes, and each frame reaches the
 * connection as one link_send.
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

#define OPEN_DEFAULT "open 0 tcp 192.168.0.201:8234 from 20108 keepalive"

static int setup(void **state) {
  (void)state;
  fake_options(&O);
  m0_config_defaults(&C);
  return 0;
}

/* ---- totals ---- */

/* The status page's totals: bytes each way over every link since start. A link's own
 * counts leave with it, the totals do not (they must never go down). */
static void test_network_totals_outlive_the_link(void **state) {
  struct m0_status st;
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  fake_rx_frame(&F, "hello");
  fake_link_rx_str(&F, 0, "abc");
  fake_advance(&F, MS);
  m0_dev_status(&D, &st);
  assert_int_equal(st.links[0].tx_bytes, 5);
  assert_int_equal(st.links[0].rx_bytes, 3);
  assert_int_equal(st.counters.net_tx, 5);
  assert_int_equal(st.counters.net_rx, 3);
  fake_link_down(&F, 0, M0_DOWN_RESET);
  fake_advance(&F, 2 * S); /* dialled again, connected again */
  fake_link_up(&F, 0);
  fake_rx_frame(&F, "xy");
  m0_dev_status(&D, &st);
  assert_int_equal(st.links[0].tx_bytes, 2);
  assert_int_equal(st.counters.net_tx, 7);
  assert_int_equal(st.counters.net_rx, 3);
}

/* ---- dialling ---- */

static void test_boot_dials_sock_from_sockport(void **state) {
  (void)state;
  fake_start(&F, &D, &O, &C, 10 * S);
  fake_advance(&F, 200 * MS - 1);
  assert_int_equal(F.nops, 0); /* nothing while booting */
  fake_advance(&F, 1);
  assert_int_equal(F.nops, 1);
  assert_string_equal(fake_op(&F, 0), OPEN_DEFAULT);
  assert_false(m0__dev_socket_connected(&D));
}

static void test_sockport_zero_and_other_address(void **state) {
  (void)state;
  C.sockport = 0;
  snprintf(C.sock_addr, sizeof C.sock_addr, "%s", "server.example");
  C.sock_port = 9000;
  fake_start(&F, &D, &O, &C, 10 * S);
  fake_advance(&F, S);
  assert_string_equal(fake_op(&F, 0), "open 0 tcp server.example:9000 from 0 keepalive");
}

static void test_retry_one_second_after_failure(void **state) {
  uint64_t t;
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_advance(&F, 5 * S); /* a connect that takes a while, then fails */
  fake_link_down(&F, 0, M0_DOWN_TIMEOUT);
  t = F.now;
  assert_int_equal(F.nops, 0);
  fake_advance_to(&F, t + S - 1);
  assert_int_equal(F.nops, 0);
  fake_advance(&F, 1);
  assert_int_equal(F.nops, 1);
  assert_string_equal(fake_op(&F, 0), OPEN_DEFAULT);
  /* Refused at once: again 1 s later, every time. */
  fake_link_down(&F, 0, M0_DOWN_REFUSED);
  fake_advance(&F, S);
  fake_link_down(&F, 0, M0_DOWN_REFUSED);
  fake_advance(&F, S);
  assert_int_equal(fake_count_ops(&F, "open 0 tcp"), 3);
  assert_int_equal(D.net.failures, 3);
}

/* The connect timeout is the core's (net.c): a dial nobody answers is closed at exactly
 * 10 s, reported as the board reports a refusal, counted as a failed attempt and retried
 * 1 s later. */
#define DIAL_AT (10 * S + 200 * MS) /* fake_start at 10 s, 200 ms of boot */
#define TIMED_OUT \
  "net.refused {\"link\":0,\"peer\":\"192.168.0.201:8234\",\"error\":\"connection timed out\"}"

static void test_dial_times_out_at_exactly_10_s(void **state) {
  (void)state;
  fake_start(&F, &D, &O, &C, 10 * S);
  fake_advance_to(&F, DIAL_AT);
  assert_string_equal(fake_op(&F, 0), OPEN_DEFAULT);
  assert_int_equal(fake_next_fire(&F), DIAL_AT + 10 * S); /* in the single timer */
  fake_advance_to(&F, DIAL_AT + 10 * S - 1);
  assert_int_equal(F.nops, 1);
  assert_int_equal(fake_count_events(&F, "net.refused "), 0);
  fake_advance(&F, 1);
  assert_int_equal(F.nops, 2);
  assert_string_equal(fake_op(&F, 1), "close 0");
  assert_false(F.links[0].open);
  assert_true(fake_find_event(&F, TIMED_OUT) >= 0);
  assert_int_equal(D.net.failures, 1);
  assert_int_equal(D.net.tcpc, M0__TCPC_WAITING);
  fake_advance_to(&F, DIAL_AT + 11 * S - 1);
  assert_int_equal(F.nops, 2);
  fake_advance(&F, 1);
  assert_string_equal(fake_op(&F, 2), OPEN_DEFAULT);
  /* The next dial has its own 10 s. */
  assert_int_equal(fake_next_fire(&F), DIAL_AT + 21 * S);
}

static void test_dial_answered_at_9_999_s_is_taken(void **state) {
  (void)state;
  fake_start(&F, &D, &O, &C, 10 * S);
  fake_advance_to(&F, DIAL_AT + 10 * S - MS);
  fake_link_up(&F, 0);
  assert_true(m0__dev_socket_connected(&D));
  fake_advance(&F, 60 * S);
  assert_int_equal(fake_count_ops(&F, "close"), 0);
  assert_int_equal(fake_count_events(&F, "net.refused "), 0);
  assert_int_equal(D.net.failures, 0);
  assert_true(m0__dev_socket_connected(&D));
}

/* The board's "up" for the same instant comes too late: the dial was given up first, and
 * the report is about a link that is gone. */
static void test_dial_answered_at_10_s_is_too_late(void **state) {
  (void)state;
  fake_start(&F, &D, &O, &C, 10 * S);
  fake_advance_to(&F, DIAL_AT + 10 * S - 1);
  F.now = DIAL_AT + 10 * S; /* the answer arrives before the timer fired */
  m0_dev_on_link_up(&D, F.now, 0, &F.links[0].req.peer);
  assert_false(m0__dev_socket_connected(&D));
  assert_true(fake_find_event(&F, TIMED_OUT) >= 0);
  assert_int_equal(fake_count_ops(&F, "close 0"), 1);
  assert_int_equal(D.net.tcpc, M0__TCPC_WAITING);
}

/* A dial that hangs is a failed attempt like a refusal: CLIENTRST counts it. */
static void test_clientrst_counts_timeouts(void **state) {
  (void)state;
  C.clientrst = true;
  fake_start(&F, &D, &O, &C, 10 * S);
  fake_advance_to(&F, DIAL_AT + 29 * 11 * S + 10 * S - 1); /* 29 timed out, the 30th dials */
  assert_int_equal(fake_count_events(&F, "net.refused "), 29);
  assert_int_equal(m0_dev_counters(&D)->restarts, 0);
  fake_advance(&F, 1);
  assert_int_equal(fake_count_events(&F, "net.refused "), 30);
  assert_int_equal(m0_dev_counters(&D)->restarts, 1);
  assert_true(fake_find_event(&F, "restart {\"cause\":\"clientrst\"}") >= 0);
}

static void test_retry_after_loss(void **state) {
  uint64_t t;
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  assert_true(m0__dev_socket_connected(&D));
  fake_advance(&F, 10 * S);
  fake_link_down(&F, 0, M0_DOWN_CLOSED);
  t = F.now;
  assert_false(m0__dev_socket_connected(&D));
  fake_advance_to(&F, t + S - 1);
  assert_int_equal(fake_count_ops(&F, "open"), 0);
  fake_advance(&F, 1);
  assert_int_equal(fake_count_ops(&F, "open"), 1);
  assert_int_equal(D.net.failures, 0); /* a loss is not a failed attempt */
}

static void test_open_that_cannot_start_is_retried(void **state) {
  (void)state;
  F.link_open_result = -1;
  fake_init(&F, &D, &O, &C, 10 * S);
  F.link_open_result = -1;
  m0_dev_start(&D, F.now);
  fake_advance(&F, 200 * MS);
  assert_int_equal(F.nops, 1);
  assert_false(F.links[0].open);
  fake_advance(&F, S - 1);
  assert_int_equal(F.nops, 1);
  fake_advance(&F, 1);
  assert_int_equal(F.nops, 2);
  F.link_open_result = 0;
  fake_advance(&F, S);
  assert_int_equal(F.nops, 3);
  assert_true(F.links[0].open);
  fake_link_up(&F, 0);
  assert_true(m0__dev_socket_connected(&D));
}

/* ---- CLIENTRST ---- */

static void fail_attempts(unsigned n) {
  unsigned i;
  for (i = 0; i < n; i++) {
    if (!F.links[0].open)
      fail_msg("attempt %u: no dial", i + 1);
    fake_link_down(&F, 0, M0_DOWN_REFUSED);
    fake_advance(&F, S);
  }
}

static void test_clientrst_at_exactly_30(void **state) {
  (void)state;
  C.clientrst = true;
  fake_boot(&F, &D, &O, &C);
  fail_attempts(29);
  assert_int_equal(m0_dev_counters(&D)->restarts, 0);
  assert_int_equal(fake_count_events(&F, "restart "), 0);
  assert_true(F.links[0].open); /* the 30th attempt is under way */
  fake_link_down(&F, 0, M0_DOWN_REFUSED);
  assert_int_equal(m0_dev_counters(&D)->restarts, 1);
  assert_true(fake_find_event(&F, "restart {\"cause\":\"clientrst\"}") >= 0);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_BOOTING);
  /* After the boot it dials again, counting from zero. */
  fake_ops_clear(&F);
  fake_advance(&F, 200 * MS);
  assert_int_equal(fake_count_ops(&F, "open 0 tcp"), 1);
  assert_int_equal(D.net.failures, 0);
}

static void test_clientrst_off_never_restarts(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fail_attempts(40);
  assert_int_equal(m0_dev_counters(&D)->restarts, 0);
  assert_int_equal(D.net.failures, 40);
}

static void test_clientrst_counts_consecutive_failures_only(void **state) {
  (void)state;
  C.clientrst = true;
  fake_boot(&F, &D, &O, &C);
  fail_attempts(29);
  fake_link_up(&F, 0); /* success: the count starts again */
  fake_link_down(&F, 0, M0_DOWN_RESET);
  fake_advance(&F, S);
  fail_attempts(29);
  assert_int_equal(m0_dev_counters(&D)->restarts, 0);
  fake_link_down(&F, 0, M0_DOWN_REFUSED);
  assert_int_equal(m0_dev_counters(&D)->restarts, 1);
}

/* ---- data ---- */

static void test_frames_at_115200_around_the_gap(void **state) {
  uint64_t g = fake_packing_ns(10, 115200);
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  fake_rx(&F, "ab");
  fake_advance(&F, g - 1);
  assert_int_equal(F.nsends, 0);
  fake_rx(&F, "cd"); /* within the gap: the same frame */
  fake_advance(&F, g - 1);
  assert_int_equal(F.nsends, 0);
  fake_advance(&F, 1);
  assert_int_equal(F.nsends, 1);
  fake_assert_send(&F, 0, 0, "abcd");
  fake_rx(&F, "ef");
  fake_advance(&F, g);
  fake_rx(&F, "gh"); /* a full gap later: a frame of its own */
  fake_advance(&F, g);
  assert_int_equal(F.nsends, 3);
  fake_assert_send(&F, 1, 0, "ef");
  fake_assert_send(&F, 2, 0, "gh");
  assert_string_equal(fake_link_sent(&F, 0), "abcdefgh");
}

static void test_frames_at_9600_around_the_gap(void **state) {
  uint64_t g = fake_packing_ns(10, 9600);
  (void)state;
  C.baud = 9600;
  fake_boot_link_up(&F, &D, &O, &C);
  assert_int_equal(g, 4166667);
  fake_rx(&F, "x");
  fake_advance(&F, 4 * MS); /* 4 ms: shorter than 4 characters at 9600 */
  fake_rx(&F, "y");
  fake_advance(&F, g - 1);
  assert_int_equal(F.nsends, 0);
  fake_advance(&F, 1);
  assert_int_equal(F.nsends, 1);
  fake_assert_send(&F, 0, 0, "xy");
  fake_rx(&F, "z");
  fake_advance(&F, g);
  fake_rx(&F, "w");
  fake_advance(&F, g);
  assert_int_equal(F.nsends, 3);
  fake_assert_send(&F, 2, 0, "w");
}

static void test_frames_cut_at_400_bytes(void **state) {
  static uint8_t data[1000];
  unsigned i;
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  for (i = 0; i < sizeof data; i++)
    data[i] = (uint8_t)('a' + i % 26);
  fake_rx_bytes(&F, data, sizeof data);
  assert_int_equal(F.nsends, 2); /* two full frames at once, the rest on the idle cut */
  fake_advance(&F, S);
  assert_int_equal(F.nsends, 3);
  assert_int_equal(F.sends[0].len, 400);
  assert_int_equal(F.sends[1].len, 400);
  assert_int_equal(F.sends[2].len, 200);
  assert_memory_equal(F.links[0].stream, data, sizeof data);
  assert_int_equal(D.net.link[0].tx_bytes, 1000);
}

static void test_server_bytes_reach_the_host(void **state) {
  struct m0_status st;
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  fake_link_rx_str(&F, 0, "hello from the server");
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), "hello from the server");
  m0_dev_status(&D, &st);
  assert_int_equal(st.nlinks, 1);
  assert_int_equal(st.links[0].kind, M0_LINK_TCP_CONNECT);
  assert_true(st.links[0].connected);
  assert_string_equal(st.links[0].peer.host, "192.168.0.201");
  assert_int_equal(st.links[0].peer.port, 8234);
  assert_int_equal(st.links[0].rx_bytes, 21);
}

static void test_uartclbuf_off_keeps_data_until_connected(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_rx(&F, "first ");
  fake_advance(&F, 10 * MS);
  fake_rx(&F, "second");
  fake_advance(&F, 10 * MS);
  assert_int_equal(F.nsends, 0);
  assert_int_equal(m0_dev_counters(&D)->net_tx_dropped, 0);
  fake_link_down(&F, 0, M0_DOWN_REFUSED); /* kept across failed attempts */
  fake_advance(&F, S);
  fake_link_up(&F, 0);
  assert_int_equal(F.nsends, 1); /* right after connecting, as the first bytes */
  fake_assert_send(&F, 0, 0, "first second");
  fake_rx(&F, "third");
  fake_advance(&F, 10 * MS);
  assert_string_equal(fake_link_sent(&F, 0), "first secondthird");
  assert_int_equal(fake_count_events(&F, "drop "), 0);
}

static void test_uartclbuf_off_keeps_the_newest_4_kib(void **state) {
  static uint8_t data[5000];
  unsigned i;
  (void)state;
  fake_boot(&F, &D, &O, &C);
  for (i = 0; i < sizeof data; i++)
    data[i] = (uint8_t)(i * 7);
  for (i = 0; i < sizeof data; i += 400) { /* frames of 400 */
    fake_rx_bytes(&F, data + i, sizeof data - i < 400 ? sizeof data - i : 400);
    fake_advance(&F, 10 * MS);
  }
  assert_int_equal(D.net.pending_len, 4096);
  assert_int_equal(m0_dev_counters(&D)->net_tx_dropped, 5000 - 4096);
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"to_net\",\"reason\":\"buffer-full\",\"bytes\":304}") >= 0);
  fake_advance(&F, S); /* the trailing event of the second carries the total */
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"to_net\",\"reason\":\"buffer-full\",\"bytes\":904}") >= 0);
  fake_link_up(&F, 0);
  assert_int_equal(F.links[0].stream_len, 4096);
  assert_memory_equal(F.links[0].stream, data + 904, 4096);
}

static void test_uartclbuf_on_discards_while_not_connected(void **state) {
  (void)state;
  C.uartclbuf = true;
  fake_boot(&F, &D, &O, &C);
  fake_rx(&F, "lost");
  fake_advance(&F, 10 * MS);
  assert_int_equal(m0_dev_counters(&D)->net_tx_dropped, 4);
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"to_net\",\"reason\":\"not-connected\",\"bytes\":4}") >= 0);
  fake_link_up(&F, 0);
  assert_int_equal(F.nsends, 0);
  fake_rx(&F, "kept");
  fake_advance(&F, 10 * MS);
  assert_string_equal(fake_link_sent(&F, 0), "kept");
}

static void test_restart_closes_and_drops_kept_data(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_rx(&F, "abc");
  fake_advance(&F, 10 * MS);
  m0_dev_restart(&D, F.now, "test");
  assert_true(fake_find_op(&F, "close 0") >= 0);
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"to_net\",\"reason\":\"restart\",\"bytes\":3}") >= 0);
  fake_advance(&F, 200 * MS);
  fake_link_up(&F, 0);
  assert_int_equal(F.nsends, 0);
}

static void test_restart_while_connected(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  fake_link_rx_str(&F, 0, "x");
  m0_dev_restart(&D, F.now, "test");
  assert_int_equal(fake_count_ops(&F, "close 0"), 1);
  assert_false(m0__dev_socket_connected(&D));
  fake_advance(&F, 200 * MS);
  assert_int_equal(fake_count_ops(&F, "open 0 tcp"), 1);
}

/* ---- SOCKSL: short connection ---- */

static void test_short_connection_opens_on_data(void **state) {
  uint64_t t;
  (void)state;
  C.socksl = true;
  C.shorto = 3;
  fake_boot(&F, &D, &O, &C);
  assert_int_equal(fake_count_ops(&F, "open"), 0);
  fake_advance(&F, 60 * S);
  assert_int_equal(fake_count_ops(&F, "open"), 0); /* nothing without data */
  fake_rx_frame(&F, "report");
  assert_int_equal(fake_count_ops(&F, "open 0 tcp"), 1);
  assert_int_equal(F.nsends, 0);
  fake_advance(&F, 50 * MS);
  fake_link_up(&F, 0);
  t = F.now;
  assert_int_equal(F.nsends, 1);
  fake_assert_send(&F, 0, 0, "report");
  /* SHORTO seconds without traffic either way: closed. */
  fake_advance_to(&F, t + 3 * S - 1);
  assert_int_equal(fake_count_ops(&F, "close"), 0);
  fake_advance(&F, 1);
  assert_int_equal(fake_count_ops(&F, "close 0"), 1);
  assert_false(m0__dev_socket_connected(&D));
  /* No retry after our own close: the next data reconnects. */
  fake_advance(&F, 10 * S);
  assert_int_equal(fake_count_ops(&F, "open"), 1);
  fake_rx_frame(&F, "again");
  assert_int_equal(fake_count_ops(&F, "open 0 tcp"), 2);
  fake_link_up(&F, 0);
  assert_string_equal(fake_link_sent(&F, 0), "again");
}

static void test_short_connection_traffic_keeps_it_open(void **state) {
  uint64_t t;
  (void)state;
  C.socksl = true;
  C.shorto = 2;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "a");
  fake_link_up(&F, 0);
  fake_advance(&F, 1500 * MS);
  fake_link_rx_str(&F, 0, "reply"); /* received traffic counts */
  fake_advance(&F, 1500 * MS);
  fake_rx_frame(&F, "b"); /* and sent traffic */
  t = F.now;
  fake_advance(&F, 1500 * MS);
  assert_int_equal(fake_count_ops(&F, "close"), 0);
  fake_advance_to(&F, t + 2 * S);
  assert_int_equal(fake_count_ops(&F, "close 0"), 1);
  assert_string_equal(fake_link_sent(&F, 0), "ab");
}

static void test_short_connection_peer_close_and_failure(void **state) {
  (void)state;
  C.socksl = true;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "a");
  fake_link_down(&F, 0, M0_DOWN_REFUSED); /* the data waits for the retry */
  fake_advance(&F, S);
  assert_int_equal(fake_count_ops(&F, "open 0 tcp"), 2);
  fake_link_up(&F, 0);
  assert_string_equal(fake_link_sent(&F, 0), "a");
  fake_link_down(&F, 0, M0_DOWN_CLOSED); /* the server closed: wait for data */
  fake_advance(&F, 5 * S);
  assert_int_equal(fake_count_ops(&F, "open 0 tcp"), 2);
}

/* ---- SOCKLK, link pin, RSTIM ---- */

static void test_socklk_answers_the_real_state(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_enter_command(&F);
  assert_string_equal(fake_at(&F, "AT+SOCKLK"), "AT+SOCKLK\r\r\n+ok=disconnect\r\n");
  fake_link_up(&F, 0);
  assert_string_equal(fake_at(&F, "AT+SOCKLK"), "AT+SOCKLK\r\r\n+ok=connect\r\n");
  fake_link_down(&F, 0, M0_DOWN_RESET);
  assert_string_equal(fake_at(&F, "AT+SOCKLK"), "AT+SOCKLK\r\r\n+ok=disconnect\r\n");
}

static void test_socket_event_and_link_pin(void **state) {
  struct m0_status st;
  (void)state;
  C.scslink = true;
  fake_boot(&F, &D, &O, &C);
  m0_dev_status(&D, &st);
  assert_false(st.link_pin);
  fake_link_up(&F, 0);
  assert_true(fake_find_event(&F, "net.socket {\"connected\":true,\"link_pin\":true}") >= 0);
  m0_dev_status(&D, &st);
  assert_true(st.socket_connected);
  assert_true(st.link_pin);
  fake_link_down(&F, 0, M0_DOWN_CLOSED);
  assert_true(fake_find_event(&F, "net.socket {\"connected\":false,\"link_pin\":false}") >= 0);
  assert_int_equal(fake_count_events(&F, "net.socket "), 2);
}

static void test_rstim_restarts_after_silence(void **state) {
  uint64_t t0;
  (void)state;
  C.rstim = 60;
  fake_start(&F, &D, &O, &C, 10 * S);
  fake_advance(&F, 200 * MS);
  t0 = F.now; /* counted from the end of the boot */
  m0_dev_on_host_attach(&D, F.now, true);
  fake_link_up(&F, 0);
  fake_advance_to(&F, t0 + 30 * S);
  fake_link_rx_str(&F, 0, "alive");
  fake_advance_to(&F, t0 + 90 * S - 1);
  assert_int_equal(m0_dev_counters(&D)->restarts, 0);
  fake_advance(&F, 1);
  assert_int_equal(m0_dev_counters(&D)->restarts, 1);
  assert_true(fake_find_event(&F, "restart {\"cause\":\"rstim\"}") >= 0);
}

static void test_rstim_counts_from_boot_without_any_data(void **state) {
  uint64_t t0;
  (void)state;
  C.rstim = 60;
  fake_boot(&F, &D, &O, &C);
  t0 = F.now - S; /* fake_boot waits 1 s after the boot */
  fake_rx(&F, "sending does not count"); /* only what comes from the network does */
  fake_advance_to(&F, t0 + 60 * S - 1);
  assert_int_equal(m0_dev_counters(&D)->restarts, 0);
  fake_advance(&F, 1);
  assert_int_equal(m0_dev_counters(&D)->restarts, 1);
  fake_advance(&F, 200 * MS + 60 * S); /* and again after the restart */
  assert_int_equal(m0_dev_counters(&D)->restarts, 2);
}

static void test_rstim_zero_is_off(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C); /* connected, and nothing ever comes */
  fake_advance(&F, 70000 * S);
  assert_int_equal(m0_dev_counters(&D)->restarts, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_network_totals_outlive_the_link, setup),
    cmocka_unit_test_setup(test_boot_dials_sock_from_sockport, setup),
    cmocka_unit_test_setup(test_sockport_zero_and_other_address, setup),
    cmocka_unit_test_setup(test_retry_one_second_after_failure, setup),
    cmocka_unit_test_setup(test_dial_times_out_at_exactly_10_s, setup),
    cmocka_unit_test_setup(test_dial_answered_at_9_999_s_is_taken, setup),
    cmocka_unit_test_setup(test_dial_answered_at_10_s_is_too_late, setup),
    cmocka_unit_test_setup(test_clientrst_counts_timeouts, setup),
    cmocka_unit_test_setup(test_retry_after_loss, setup),
    cmocka_unit_test_setup(test_open_that_cannot_start_is_retried, setup),
    cmocka_unit_test_setup(test_clientrst_at_exactly_30, setup),
    cmocka_unit_test_setup(test_clientrst_off_never_restarts, setup),
    cmocka_unit_test_setup(test_clientrst_counts_consecutive_failures_only, setup),
    cmocka_unit_test_setup(test_frames_at_115200_around_the_gap, setup),
    cmocka_unit_test_setup(test_frames_at_9600_around_the_gap, setup),
    cmocka_unit_test_setup(test_frames_cut_at_400_bytes, setup),
    cmocka_unit_test_setup(test_server_bytes_reach_the_host, setup),
    cmocka_unit_test_setup(test_uartclbuf_off_keeps_data_until_connected, setup),
    cmocka_unit_test_setup(test_uartclbuf_off_keeps_the_newest_4_kib, setup),
    cmocka_unit_test_setup(test_uartclbuf_on_discards_while_not_connected, setup),
    cmocka_unit_test_setup(test_restart_closes_and_drops_kept_data, setup),
    cmocka_unit_test_setup(test_restart_while_connected, setup),
    cmocka_unit_test_setup(test_short_connection_opens_on_data, setup),
    cmocka_unit_test_setup(test_short_connection_traffic_keeps_it_open, setup),
    cmocka_unit_test_setup(test_short_connection_peer_close_and_failure, setup),
    cmocka_unit_test_setup(test_socklk_answers_the_real_state, setup),
    cmocka_unit_test_setup(test_socket_event_and_link_pin, setup),
    cmocka_unit_test_setup(test_rstim_restarts_after_silence, setup),
    cmocka_unit_test_setup(test_rstim_counts_from_boot_without_any_data, setup),
    cmocka_unit_test_setup(test_rstim_zero_is_off, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
