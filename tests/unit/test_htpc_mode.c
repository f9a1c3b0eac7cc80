/* test_htpc_mode.c: the HTTP client work mode on the links (spec §6.5, htpc_mode.c).
 *
 * One request per serial frame on a new connection (link 0, any local port), one at a
 * time in frame order; the response reaches the host whole (HTPCHD=off) or as its body
 * (on), then the device closes the connection and goes on with the next frame. The bytes
 * of requests and responses are htpc.c's (tested in test_htpc.c); here: the sequencing,
 * the queue of frames, failures and their counts and events, and the 10 s a silent peer
 * gets before its request is given up.
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

#define OPEN "open 0 tcp 192.168.0.201:8234 from 0 keepalive"
#define OK_RESPONSE "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"

static int setup(void **state) {
  (void)state;
  fake_options(&O);
  m0_config_defaults(&C);
  C.proto = M0_PROTO_HTPC;
  return 0;
}

static bool sent_starts_with(const char *prefix) {
  return strncmp(fake_link_sent(&F, 0), prefix, strlen(prefix)) == 0;
}

static void test_nothing_opens_at_boot(void **state) {
  (void)state;
  fake_start(&F, &D, &O, &C, 10 * S);
  fake_advance(&F, 60 * S);
  assert_int_equal(F.nops, 0);
  assert_false(m0__dev_socket_connected(&D));
}

static void test_one_frame_one_request(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "temp=21");
  assert_int_equal(F.nops, 1);
  assert_string_equal(fake_op(&F, 0), OPEN);
  assert_int_equal(F.nsends, 0);
  fake_link_up(&F, 0);
  assert_true(m0__dev_socket_connected(&D));
  assert_int_equal(F.nsends, 1);
  assert_true(sent_starts_with("GET /2.php?temp=21 HTTP/1.1\r\nHost: 192.168.0.201:8234\r\n"));
  fake_link_rx_str(&F, 0, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel");
  assert_int_equal(fake_count_ops(&F, "close"), 0);
  fake_link_rx_str(&F, 0, "lo");
  assert_string_equal(fake_op(&F, F.nops - 1), "close 0"); /* the response is complete */
  assert_string_equal(fake_out_drained(&F), OK_RESPONSE);
  assert_true(fake_find_event(&F, "http.response {\"link\":0,\"status\":200,\"bytes\":43}") >= 0);
  assert_false(m0__dev_socket_connected(&D));
}

static void test_body_only_with_htpchd(void **state) {
  (void)state;
  C.htpchd = true;
  C.htptp = M0_HTPTP_POST;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "x=1");
  fake_link_up(&F, 0);
  assert_true(sent_starts_with("POST /2.php? HTTP/1.1\r\n"));
  fake_link_rx_str(&F, 0, OK_RESPONSE);
  assert_string_equal(fake_out_drained(&F), "hello");
}

static void test_requests_one_at_a_time_in_order(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "a");
  fake_rx_frame(&F, "b");
  fake_rx_frame(&F, "c");
  assert_int_equal(fake_count_ops(&F, "open"), 1);
  fake_link_up(&F, 0);
  assert_true(sent_starts_with("GET /2.php?a "));
  fake_link_rx_str(&F, 0, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA");
  assert_int_equal(fake_count_ops(&F, "open"), 2); /* closed, then the next one */
  fake_link_up(&F, 0);
  assert_true(sent_starts_with("GET /2.php?b "));
  fake_link_rx_str(&F, 0, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nB");
  fake_link_up(&F, 0);
  assert_true(sent_starts_with("GET /2.php?c "));
  fake_link_rx_str(&F, 0, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nC");
  assert_int_equal(fake_count_ops(&F, "open"), 3);
  assert_int_equal(fake_count_ops(&F, "close"), 3);
  fake_run(&F, S);
  assert_true(strstr(fake_out(&F), "\r\n\r\nA") < strstr(fake_out(&F), "\r\n\r\nB"));
  assert_true(strstr(fake_out(&F), "\r\n\r\nB") < strstr(fake_out(&F), "\r\n\r\nC"));
}

static void test_response_ended_by_the_close(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "q");
  fake_link_up(&F, 0);
  fake_link_rx_str(&F, 0, "HTTP/1.1 200 OK\r\n\r\nuntil the end");
  fake_link_down(&F, 0, M0_DOWN_CLOSED);
  assert_int_equal(fake_count_ops(&F, "close"), 0); /* the board closed it already */
  assert_string_equal(fake_out_drained(&F), "HTTP/1.1 200 OK\r\n\r\nuntil the end");
  assert_int_equal(fake_count_events(&F, "http.response "), 1);
}

static void test_truncated_response_is_reported(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "q");
  fake_link_up(&F, 0);
  fake_link_rx_str(&F, 0, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
  fake_link_down(&F, 0, M0_DOWN_RESET);
  assert_int_equal(fake_count_events(&F, "http.error "), 1);
  fake_rx_frame(&F, "next"); /* the device goes on */
  assert_int_equal(fake_count_ops(&F, "open"), 2);
}

static void test_malformed_response_closes(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "q");
  fake_link_up(&F, 0);
  fake_link_rx_str(&F, 0, "SSH-2.0-OpenSSH\r\n");
  assert_string_equal(fake_op(&F, F.nops - 1), "close 0");
  assert_int_equal(fake_count_events(&F, "http.error "), 1);
}

static void test_refused_dial_loses_that_frame_only(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "lost");
  fake_rx_frame(&F, "kept");
  fake_link_down(&F, 0, M0_DOWN_REFUSED);
  assert_int_equal(m0_dev_counters(&D)->net_tx_dropped, 4);
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"to_net\",\"reason\":\"not-connected\",\"bytes\":4}") >= 0);
  assert_int_equal(fake_count_ops(&F, "open"), 2);
  fake_link_up(&F, 0);
  assert_true(sent_starts_with("GET /2.php?kept "));
  /* A dial that cannot even start is the same. */
  fake_link_rx_str(&F, 0, "HTTP/1.1 204 No Content\r\n\r\n");
  F.link_open_result = -1;
  fake_rx_frame(&F, "gone");
  assert_int_equal(m0_dev_counters(&D)->net_tx_dropped, 8);
}

static void test_queue_drops_the_oldest_frames(void **state) {
  static char big[401];
  unsigned i;
  (void)state;
  fake_boot(&F, &D, &O, &C);
  memset(big, 'f', 400);
  fake_rx_frame(&F, "first"); /* under way: not in the queue */
  for (i = 0; i < 11; i++) { /* 11 * 402 > 4096: the oldest waiting frame goes */
    big[0] = (char)('a' + i);
    fake_rx_frame(&F, big);
  }
  assert_int_equal(m0_dev_counters(&D)->net_tx_dropped, 400);
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"to_net\",\"reason\":\"buffer-full\",\"bytes\":400}") >= 0);
  assert_int_equal(m0__htpc_mode_queued(&D), 10 * 400);
  fake_link_up(&F, 0);
  fake_link_rx_str(&F, 0, "HTTP/1.1 204 No Content\r\n\r\n");
  fake_link_up(&F, 0);
  assert_true(sent_starts_with("GET /2.php?bfff")); /* 'a' was dropped */
}

static void test_restart_drops_waiting_frames(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "one");
  fake_rx_frame(&F, "two");
  fake_rx_frame(&F, "three");
  m0_dev_restart(&D, F.now, "test");
  assert_int_equal(fake_count_ops(&F, "close 0"), 1);
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"to_net\",\"reason\":\"restart\",\"bytes\":8}") >= 0);
  fake_advance(&F, S);
  assert_int_equal(fake_count_ops(&F, "open"), 1);
}

/* ---- events and failures (issue 4: the device keeps working) ---- */

#define ERROR_EVENT(reason, code) \
  "http.error {\"link\":0,\"reason\":\"" reason "\",\"code\":\"" code "\"}"

static void test_request_event(void **state) {
  char want[128];
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "g");
  fake_link_up(&F, 0);
  snprintf(want, sizeof want, "http.request {\"link\":0,\"method\":\"GET\",\"bytes\":%zu}",
           F.sends[0].len);
  assert_true(fake_find_event(&F, want) >= 0);
  C.htptp = M0_HTPTP_POST;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "p");
  assert_int_equal(fake_count_events(&F, "http.request "), 0); /* not before it is sent */
  fake_link_up(&F, 0);
  snprintf(want, sizeof want, "http.request {\"link\":0,\"method\":\"POST\",\"bytes\":%zu}",
           F.sends[0].len);
  assert_true(fake_find_event(&F, want) >= 0);
}

static void test_silent_peer_times_out_after_10_s(void **state) {
  uint64_t dialled;
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "a");
  assert_int_equal(fake_count_ops(&F, "open"), 1);
  dialled = F.frames[0].at; /* dialled as the frame was cut */
  fake_advance(&F, 2 * S);
  fake_link_up(&F, 0); /* a slow connect: still 10 s from the dial */
  fake_rx_frame(&F, "b");          /* waits behind a */
  assert_int_equal(fake_next_fire(&F), dialled + 10 * S); /* in the single timer */
  fake_advance_to(&F, dialled + 10 * S - 1);
  assert_int_equal(fake_count_ops(&F, "close"), 0);
  fake_advance(&F, 1);
  assert_true(fake_find_event(&F, ERROR_EVENT("timeout", "")) >= 0);
  assert_int_equal(fake_count_ops(&F, "close 0"), 1);
  assert_int_equal(m0_dev_counters(&D)->net_tx_dropped, 0); /* the request went out */
  /* The next frame proceeds. */
  assert_int_equal(fake_count_ops(&F, "open"), 2);
  fake_link_clear(&F, 0);
  fake_link_up(&F, 0);
  assert_true(sent_starts_with("GET /2.php?b "));
  fake_link_rx_str(&F, 0, "HTTP/1.1 204 No Content\r\n\r\n");
  assert_int_equal(fake_count_events(&F, "http.response "), 1);
}

#define DIAL_TIMED_OUT \
  "net.refused {\"link\":0,\"peer\":\"192.168.0.201:8234\",\"error\":\"connection timed out\"}"

static void test_timeout_counts_from_the_dial(void **state) {
  uint64_t dialled;
  int refused;
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "never");
  assert_int_equal(fake_count_ops(&F, "open"), 1);
  dialled = F.frames[0].at;
  fake_advance_to(&F, dialled + 10 * S - 1);
  assert_int_equal(fake_count_events(&F, "http.error "), 0);
  fake_advance(&F, 1);
  assert_int_equal(fake_count_events(&F, "http.error "), 1);
  assert_true(fake_find_event(&F, ERROR_EVENT("timeout", "")) >= 0);
  assert_int_equal(fake_count_ops(&F, "close 0"), 1);
  /* The dial's own timeout (the core's, as for TCPC), reported like a refusal. */
  refused = fake_find_event(&F, DIAL_TIMED_OUT);
  assert_true(refused >= 0 && refused < fake_find_event(&F, ERROR_EVENT("timeout", "")));
  /* Never connected: the frame never left, counted as such. */
  assert_int_equal(m0_dev_counters(&D)->net_tx_dropped, 5);
  assert_int_equal(fake_count_events(&F, "drop "), 1);
  fake_rx_frame(&F, "next");
  assert_int_equal(fake_count_ops(&F, "open"), 2);
}

/* A connect that takes 9.999 s is taken: the request goes out, and the answer that comes
 * before the 10 s of silence are over is the response. */
static void test_dial_answered_at_9_999_s_is_taken(void **state) {
  uint64_t dialled;
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "late");
  dialled = F.frames[0].at;
  fake_advance_to(&F, dialled + 10 * S - MS);
  fake_link_up(&F, 0);
  assert_int_equal(F.nsends, 1);
  assert_true(sent_starts_with("GET /2.php?late HTTP/1.1\r\n"));
  fake_advance(&F, MS / 2);
  fake_link_rx_str(&F, 0, OK_RESPONSE);
  assert_string_equal(fake_out_drained(&F), OK_RESPONSE);
  assert_int_equal(fake_count_events(&F, "http.response "), 1);
  assert_int_equal(fake_count_events(&F, "http.error "), 0);
  assert_int_equal(fake_count_events(&F, "net.refused "), 0);
  assert_int_equal(m0_dev_counters(&D)->net_tx_dropped, 0);
}

static void test_live_response_is_not_cut(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "slow");
  fake_link_up(&F, 0);
  fake_advance(&F, 9 * S);
  fake_link_rx_str(&F, 0, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n");
  fake_advance(&F, 9 * S);
  fake_link_rx_str(&F, 0, "ab");
  fake_advance(&F, 9 * S);
  fake_link_rx_str(&F, 0, "c");
  assert_int_equal(fake_count_events(&F, "http.error "), 0);
  assert_int_equal(fake_count_events(&F, "http.response "), 1);
  fake_run(&F, S);
  assert_int_equal(fake_next_fire(&F), M0_TIME_NEVER); /* done: no timeout left behind */
  fake_advance(&F, 30 * S);
  assert_int_equal(fake_count_events(&F, "http.error "), 0);
  assert_int_equal(fake_count_ops(&F, "close"), 1);
}

static void test_garbage_then_the_next_frame(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "q");
  fake_rx_frame(&F, "r");
  fake_link_up(&F, 0);
  fake_link_rx_str(&F, 0, "SSH-2.0-OpenSSH\r\n");
  assert_true(fake_find_event(&F, ERROR_EVENT("Expected HTTP/", "HPE_INVALID_CONSTANT")) >= 0);
  assert_int_equal(fake_count_ops(&F, "open"), 2);
  fake_link_clear(&F, 0);
  fake_link_up(&F, 0);
  assert_true(sent_starts_with("GET /2.php?r "));
  fake_advance(&F, 20 * S); /* the first request's timeout went with it */
  assert_int_equal(fake_count_events(&F, "http.error "), 2); /* r's own timeout only */
}

static void test_reset_and_refused_are_reported(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "q");
  fake_link_up(&F, 0);
  fake_link_rx_str(&F, 0, "HTTP/1.1 200 OK\r\n\r\npart");
  fake_link_down(&F, 0, M0_DOWN_RESET);
  assert_true(fake_find_event(&F, ERROR_EVENT("reset", "")) >= 0);
  assert_string_equal(fake_out_drained(&F), "HTTP/1.1 200 OK\r\n\r\npart"); /* what came, came */
  fake_rx_frame(&F, "r");
  fake_link_down(&F, 0, M0_DOWN_REFUSED);
  assert_true(fake_find_event(&F, ERROR_EVENT("refused", "")) >= 0);
  fake_rx_frame(&F, "c");
  fake_link_down(&F, 0, M0_DOWN_TIMEOUT); /* the kernel's (ETIMEDOUT) */
  assert_true(fake_find_event(&F, ERROR_EVENT("timeout", "")) >= 0);
  F.link_open_result = -1;
  fake_rx_frame(&F, "s");
  assert_int_equal(fake_count_events(&F, "http.error {\"link\":0,\"reason\":\"refused\""), 2);
  F.link_open_result = 0;
  fake_rx_frame(&F, "t");
  fake_link_up(&F, 0);
  assert_true(sent_starts_with("GET /2.php?t "));
}

static void test_truncated_reason(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_rx_frame(&F, "q");
  fake_link_up(&F, 0);
  fake_link_rx_str(&F, 0, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
  fake_link_down(&F, 0, M0_DOWN_CLOSED);
  assert_true(fake_find_event(&F, ERROR_EVENT("connection closed inside the response",
                                              "HPE_INVALID_EOF_STATE")) >= 0);
  fake_rx_frame(&F, "r");
  fake_link_up(&F, 0);
  fake_link_down(&F, 0, M0_DOWN_CLOSED);
  assert_true(fake_find_event(&F, ERROR_EVENT("connection closed before a response", "")) >= 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_nothing_opens_at_boot, setup),
    cmocka_unit_test_setup(test_one_frame_one_request, setup),
    cmocka_unit_test_setup(test_body_only_with_htpchd, setup),
    cmocka_unit_test_setup(test_requests_one_at_a_time_in_order, setup),
    cmocka_unit_test_setup(test_response_ended_by_the_close, setup),
    cmocka_unit_test_setup(test_truncated_response_is_reported, setup),
    cmocka_unit_test_setup(test_malformed_response_closes, setup),
    cmocka_unit_test_setup(test_refused_dial_loses_that_frame_only, setup),
    cmocka_unit_test_setup(test_queue_drops_the_oldest_frames, setup),
    cmocka_unit_test_setup(test_restart_drops_waiting_frames, setup),
    cmocka_unit_test_setup(test_request_event, setup),
    cmocka_unit_test_setup(test_silent_peer_times_out_after_10_s, setup),
    cmocka_unit_test_setup(test_timeout_counts_from_the_dial, setup),
    cmocka_unit_test_setup(test_dial_answered_at_9_999_s_is_taken, setup),
    cmocka_unit_test_setup(test_live_response_is_not_cut, setup),
    cmocka_unit_test_setup(test_garbage_then_the_next_frame, setup),
    cmocka_unit_test_setup(test_reset_and_refused_are_reported, setup),
    cmocka_unit_test_setup(test_truncated_reason, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
