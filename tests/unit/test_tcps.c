/* test_tcps.c: the TCP server work mode (spec §6.3) on the fake HAL.
 *
 * The listener is link 0; client N is link N (1..8), the lowest free number, which is
 * also its INDEXEN number. MAXSK 1 and 8 with TCPSE keep (the newcomer is refused: -1)
 * and kick (the client that arrived first is closed, the newcomer kept); serial frames
 * to every client or, with INDEXEN, `ON...` to client N alone; client bytes to the host,
 * with INDEXEN prefixed `IN`; `CNM`, `DNM` and `FF` notices.
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
  C.proto = M0_PROTO_TCPS;
  C.sockport = 8234;
  return 0;
}

static int client(uint16_t port) { return fake_link_accept(&F, 0, "127.0.0.1", port); }

/* ---- listening ---- */

static void test_listens_on_sockport(void **state) {
  (void)state;
  fake_start(&F, &D, &O, &C, 10 * S);
  fake_advance(&F, 200 * MS);
  assert_int_equal(F.nops, 1);
  assert_string_equal(fake_op(&F, 0), "open 0 listen :0 from 8234 keepalive");
}

static void test_sockport_zero_listens_on_sock_port(void **state) {
  (void)state;
  C.sockport = 0;
  C.sock_port = 9100;
  fake_start(&F, &D, &O, &C, 10 * S);
  fake_advance(&F, 200 * MS);
  assert_int_equal(F.nops, 1);
  assert_true(strstr(fake_op(&F, 0), "listen") != NULL);
  assert_true(strstr(fake_op(&F, 0), " from 9100 ") != NULL);
}

static void test_listener_that_cannot_bind_is_retried(void **state) {
  (void)state;
  fake_boot(&F, &D, &O, &C);
  fake_link_down(&F, 0, M0_DOWN_BIND);
  fake_advance(&F, S - 1);
  assert_int_equal(fake_count_ops(&F, "open"), 0);
  fake_advance(&F, 1);
  assert_int_equal(fake_count_ops(&F, "open 0 listen"), 1);
}

/* ---- clients, keep and kick ---- */

static void test_clients_get_the_lowest_free_number(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  assert_int_equal(client(5001), 1);
  assert_int_equal(client(5002), 2);
  assert_int_equal(client(5003), 3);
  fake_link_down(&F, 2, M0_DOWN_CLOSED);
  assert_int_equal(client(5004), 2);
  assert_int_equal(client(5005), 4);
}

static void test_maxsk_1_keep_refuses_the_newcomer(void **state) {
  (void)state;
  C.maxsk = 1;
  fake_boot_link_up(&F, &D, &O, &C);
  assert_int_equal(client(5001), 1);
  assert_int_equal(client(5002), -1);
  assert_int_equal(fake_count_ops(&F, "close"), 0);
  assert_true(F.links[1].open);
  assert_string_equal(fake_out_drained(&F), ""); /* no notices without INDEXEN */
  fake_link_down(&F, 1, M0_DOWN_CLOSED);
  assert_int_equal(client(5003), 1); /* room again */
}

static void test_maxsk_1_kick_closes_the_old_client(void **state) {
  (void)state;
  C.maxsk = 1;
  C.tcpse = M0_TCPSE_KICK;
  fake_boot_link_up(&F, &D, &O, &C);
  assert_int_equal(client(5001), 1);
  assert_int_equal(client(5002), 1); /* the old one closed first, its number reused */
  assert_int_equal(F.nops, 1);
  assert_string_equal(fake_op(&F, 0), "close 1");
  assert_string_equal(D.net.link[1].peer.host, "127.0.0.1");
  assert_int_equal(D.net.link[1].peer.port, 5002);
}

static void test_maxsk_8_keep(void **state) {
  unsigned i;
  (void)state;
  C.maxsk = 8;
  fake_boot_link_up(&F, &D, &O, &C);
  for (i = 1; i <= 8; i++)
    assert_int_equal(client((uint16_t)(5000 + i)), (int)i);
  assert_int_equal(client(5009), -1);
  assert_int_equal(fake_count_ops(&F, "close"), 0);
}

static void test_maxsk_8_kick_closes_the_oldest(void **state) {
  unsigned i;
  (void)state;
  C.maxsk = 8;
  C.tcpse = M0_TCPSE_KICK;
  fake_boot_link_up(&F, &D, &O, &C);
  /* Arrival order differs from numbers: 3 leaves and comes back last. */
  for (i = 1; i <= 8; i++)
    assert_int_equal(client((uint16_t)(5000 + i)), (int)i);
  fake_link_down(&F, 3, M0_DOWN_CLOSED);
  fake_link_down(&F, 1, M0_DOWN_CLOSED);
  assert_int_equal(client(6001), 1); /* arrived after 2, 4..8 */
  assert_int_equal(client(6003), 3); /* the newest */
  assert_int_equal(client(7000), 2); /* 2 is now the oldest: kicked */
  assert_string_equal(fake_op(&F, 0), "close 2");
  assert_int_equal(client(7001), 4); /* then 4 */
  assert_string_equal(fake_op(&F, 1), "close 4");
  assert_int_equal(fake_count_ops(&F, "close"), 2);
}

static void test_maxsk_4_default(void **state) {
  unsigned i;
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  for (i = 1; i <= 4; i++)
    assert_int_equal(client((uint16_t)(5000 + i)), (int)i);
  assert_int_equal(client(5005), -1);
}

/* ---- data ---- */

static void test_frames_go_to_every_client(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  fake_rx_frame(&F, "nobody");
  assert_int_equal(F.nsends, 0);
  assert_int_equal(m0_dev_counters(&D)->net_tx_dropped, 6);
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"to_net\",\"reason\":\"not-connected\",\"bytes\":6}") >= 0);
  client(5001);
  client(5002);
  client(5003);
  fake_rx_frame(&F, "all");
  assert_string_equal(fake_link_sent(&F, 1), "all");
  assert_string_equal(fake_link_sent(&F, 2), "all");
  assert_string_equal(fake_link_sent(&F, 3), "all");
  assert_int_equal(F.nsends, 3);
}

static void test_client_bytes_go_to_the_host(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  client(5001);
  client(5002);
  fake_link_rx_str(&F, 2, "two ");
  fake_link_rx_str(&F, 1, "one");
  assert_string_equal(fake_out_drained(&F), "two one");
}

static void test_frames_without_indexen_are_not_addressed(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  client(5001);
  client(5002);
  fake_rx_frame(&F, "O1x");
  assert_string_equal(fake_link_sent(&F, 1), "O1x");
  assert_string_equal(fake_link_sent(&F, 2), "O1x");
  fake_link_rx_str(&F, 1, "y");
  assert_string_equal(fake_out_drained(&F), "y");
}

/* ---- INDEXEN ---- */

static void test_index_notices_and_prefix(void **state) {
  (void)state;
  C.indexen = true;
  C.maxsk = 2;
  fake_boot_link_up(&F, &D, &O, &C);
  assert_int_equal(client(5001), 1);
  assert_string_equal(fake_out_drained(&F), "C11");
  assert_int_equal(client(5002), 2);
  assert_string_equal(fake_out_drained(&F), "C11C22");
  fake_out_clear(&F);
  fake_link_rx_str(&F, 2, "hello");
  fake_link_rx_str(&F, 1, "hi");
  assert_string_equal(fake_out_drained(&F), "I2helloI1hi");
  fake_out_clear(&F);
  assert_int_equal(client(5003), -1); /* keep: refused */
  assert_string_equal(fake_out_drained(&F), "FF");
  fake_out_clear(&F);
  fake_link_down(&F, 1, M0_DOWN_CLOSED);
  assert_string_equal(fake_out_drained(&F), "D11"); /* client 1 left, 1 still connected */
  fake_out_clear(&F);
  fake_link_down(&F, 2, M0_DOWN_RESET);
  assert_string_equal(fake_out_drained(&F), "D20");
}

static void test_index_addressing(void **state) {
  (void)state;
  C.indexen = true;
  fake_boot_link_up(&F, &D, &O, &C);
  client(5001);
  client(5002);
  client(5003);
  fake_rx_frame(&F, "O2to two");
  assert_string_equal(fake_link_sent(&F, 1), "");
  assert_string_equal(fake_link_sent(&F, 2), "to two");
  assert_string_equal(fake_link_sent(&F, 3), "");
  fake_rx_frame(&F, "O3x");
  assert_string_equal(fake_link_sent(&F, 3), "x");
  /* Not a connected client's number, not a digit, or lower case: to all, as it is. */
  fake_rx_frame(&F, "O5all");
  fake_rx_frame(&F, "O0");
  fake_rx_frame(&F, "o1");
  fake_rx_frame(&F, "Oxy");
  assert_string_equal(fake_link_sent(&F, 1), "O5allO0o1Oxy");
  assert_string_equal(fake_link_sent(&F, 2), "to twoO5allO0o1Oxy");
  /* Addressing is per frame: "O1" in the middle of a frame is data. */
  fake_link_clear(&F, 1);
  fake_link_clear(&F, 2);
  fake_rx_frame(&F, "abO1cd");
  assert_string_equal(fake_link_sent(&F, 1), "abO1cd");
  assert_string_equal(fake_link_sent(&F, 2), "abO1cd");
  /* The bare prefix: nothing to send. */
  fake_link_clear(&F, 1);
  F.nsends = 0;
  fake_rx_frame(&F, "O1");
  assert_int_equal(F.nsends, 0);
}

static void test_index_kick_notices(void **state) {
  (void)state;
  C.indexen = true;
  C.maxsk = 1;
  C.tcpse = M0_TCPSE_KICK;
  fake_boot_link_up(&F, &D, &O, &C);
  client(5001);
  assert_int_equal(client(5002), 1);
  assert_string_equal(fake_out_drained(&F), "C11D10C11");
}

static void test_index_after_a_gap(void **state) {
  (void)state;
  C.indexen = true;
  fake_boot_link_up(&F, &D, &O, &C);
  client(5001);
  client(5002);
  client(5003);
  fake_link_down(&F, 2, M0_DOWN_CLOSED);
  assert_string_equal(fake_out_drained(&F), "C11C22C33D22");
  fake_out_clear(&F);
  assert_int_equal(client(5004), 2);
  assert_string_equal(fake_out_drained(&F), "C23");
}

/* ---- SOCKLK, status ---- */

static void test_socklk_while_a_client_is_connected(void **state) {
  struct m0_status st;
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  assert_false(m0__dev_socket_connected(&D));
  client(5001);
  client(5002);
  assert_true(m0__dev_socket_connected(&D));
  fake_link_down(&F, 1, M0_DOWN_CLOSED);
  assert_true(m0__dev_socket_connected(&D));
  m0_dev_status(&D, &st);
  assert_int_equal(st.nlinks, 2);
  assert_int_equal(st.links[0].kind, M0_LINK_TCP_LISTEN);
  assert_int_equal(st.links[1].kind, M0_LINK_TCP_ACCEPTED);
  assert_int_equal(st.links[1].id, 2);
  assert_int_equal(st.links[1].peer.port, 5002);
  fake_link_down(&F, 2, M0_DOWN_CLOSED);
  assert_false(m0__dev_socket_connected(&D));
  fake_enter_command(&F);
  assert_string_equal(fake_at(&F, "AT+SOCKLK"), "AT+SOCKLK\r\r\n+ok=disconnect\r\n");
  fake_link_accept(&F, 0, "127.0.0.1", 5003);
  assert_string_equal(fake_at(&F, "AT+SOCKLK"), "AT+SOCKLK\r\r\n+ok=connect\r\n");
}

static void test_restart_closes_listener_and_clients(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  client(5001);
  client(5002);
  m0_dev_restart(&D, F.now, "test");
  assert_int_equal(fake_count_ops(&F, "close"), 3);
  assert_false(F.links[0].open || F.links[1].open || F.links[2].open);
  fake_advance(&F, 200 * MS);
  assert_int_equal(fake_count_ops(&F, "open 0 listen"), 1);
}

static void test_accept_on_a_link_that_is_not_the_listener(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  client(5001);
  assert_int_equal(fake_link_accept(&F, 1, "127.0.0.1", 5002), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_listens_on_sockport, setup),
    cmocka_unit_test_setup(test_sockport_zero_listens_on_sock_port, setup),
    cmocka_unit_test_setup(test_listener_that_cannot_bind_is_retried, setup),
    cmocka_unit_test_setup(test_clients_get_the_lowest_free_number, setup),
    cmocka_unit_test_setup(test_maxsk_1_keep_refuses_the_newcomer, setup),
    cmocka_unit_test_setup(test_maxsk_1_kick_closes_the_old_client, setup),
    cmocka_unit_test_setup(test_maxsk_8_keep, setup),
    cmocka_unit_test_setup(test_maxsk_8_kick_closes_the_oldest, setup),
    cmocka_unit_test_setup(test_maxsk_4_default, setup),
    cmocka_unit_test_setup(test_frames_go_to_every_client, setup),
    cmocka_unit_test_setup(test_client_bytes_go_to_the_host, setup),
    cmocka_unit_test_setup(test_frames_without_indexen_are_not_addressed, setup),
    cmocka_unit_test_setup(test_index_notices_and_prefix, setup),
    cmocka_unit_test_setup(test_index_addressing, setup),
    cmocka_unit_test_setup(test_index_kick_notices, setup),
    cmocka_unit_test_setup(test_index_after_a_gap, setup),
    cmocka_unit_test_setup(test_socklk_while_a_client_is_connected, setup),
    cmocka_unit_test_setup(test_restart_closes_listener_and_clients, setup),
    cmocka_unit_test_setup(test_accept_on_a_link_that_is_not_the_listener, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
