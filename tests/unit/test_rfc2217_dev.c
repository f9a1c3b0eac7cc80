/* test_rfc2217_dev.c: similar-RFC2217 on the device's links (spec §6.8, net.c).
 *
 * The scanner itself is test_rfc2217.c's; here it runs where the device puts it, inside
 * m0__link_to_host: the published packets change the running UART (not the saved one)
 * at once, with pacing and the host line check following; the host never sees them;
 * everything else reaches the host unchanged and in order, however the network split
 * it; held bytes are released after 50 ms of quiet on that link, at the end of each
 * datagram and at close; every link has its own scanner; RFCEN=off and HTPC leave the
 * bytes alone.
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

#define HOLD (50 * MS)

/* The spec's two examples. */
static const uint8_t PKT_115200[8] = {0x55, 0xAA, 0x55, 0x01, 0xC2, 0x00, 0x83, 0x46};
static const uint8_t PKT_9600[8] = {0x55, 0xAA, 0x55, 0x00, 0x25, 0x80, 0x83, 0x28};
#define CONFIG_9600                                                                        \
  "uart.config {\"baud\":9600,\"data\":8,\"stop\":1,\"parity\":\"NONE\",\"cause\":\"rfc2217\"," \
  "\"link\":0}"

static int setup(void **state) {
  (void)state;
  fake_options(&O);
  m0_config_defaults(&C);
  return 0;
}

static int setup_tcps(void **state) {
  setup(state);
  C.proto = M0_PROTO_TCPS;
  return 0;
}

static int setup_udpc(void **state) {
  setup(state);
  fake_config_udpc(&C);
  return 0;
}

static void rx(unsigned id, const void *data, size_t len) { fake_link_rx(&F, id, data, len); }

/* Bytes joined into one buffer, so a test can send data and packets in one read. */
static size_t join(uint8_t *out, const char *before, const uint8_t *pkt, const char *after) {
  size_t n = strlen(before);
  memcpy(out, before, n);
  if (pkt != NULL) {
    memcpy(out + n, pkt, 8);
    n += 8;
  }
  memcpy(out + n, after, strlen(after));
  return n + strlen(after);
}

static void datagram(const void *data, size_t len, const char *host, uint16_t port) {
  struct m0_net_addr from;
  memset(&from, 0, sizeof from);
  snprintf(from.host, sizeof from.host, "%s", host);
  from.port = port;
  m0_dev_on_link_rx(&D, F.now, 0, data, len, &from);
}

/* The host has exactly these bytes (binary-safe), after what is queued has drained. */
static void assert_host(const void *want, size_t len) {
  fake_run(&F, 2 * S);
  assert_int_equal(F.out_len, len);
  assert_memory_equal(F.out, want, len);
}

static void assert_host_str(const char *want) { assert_host(want, strlen(want)); }

static void assert_uart(const struct m0_config *c, uint32_t baud, uint8_t data, uint8_t stop,
                        uint8_t parity) {
  assert_int_equal(c->baud, baud);
  assert_int_equal(c->data_bits, data);
  assert_int_equal(c->stop_bits, stop);
  assert_int_equal(c->parity, parity);
}

/* ---- the published packets through a TCP client link ---- */

static void test_9600_packet_changes_running_not_saved(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  rx(0, PKT_9600, 8);
  assert_uart(m0_dev_running(&D), 9600, 8, 1, M0_PARITY_NONE);
  assert_uart(m0_dev_saved(&D), 115200, 8, 1, M0_PARITY_NONE);
  assert_int_equal(F.flash_attempts, 0);     /* not saved */
  assert_int_equal(F.nsends, 0);             /* not answered */
  assert_true(fake_find_event(&F, CONFIG_9600) >= 0);
  assert_host_str("");                       /* not passed on */
  /* AT+UART still answers the saved value. */
  fake_enter_command(&F);
  assert_string_equal(fake_at(&F, "AT+UART"), "AT+UART\r\r\n+ok=115200,8,1,NONE,NFC\r\n");
}

static void test_115200_packet_changes_running_not_saved(void **state) {
  (void)state;
  C.baud = 9600;
  C.data_bits = 7;
  C.stop_bits = 2;
  C.parity = M0_PARITY_EVEN;
  fake_boot_link_up(&F, &D, &O, &C);
  rx(0, PKT_115200, 8);
  assert_uart(m0_dev_running(&D), 115200, 8, 1, M0_PARITY_NONE);
  assert_uart(m0_dev_saved(&D), 9600, 7, 2, M0_PARITY_EVEN);
  assert_true(fake_find_event(&F, "uart.config {\"baud\":115200,\"data\":8,\"stop\":1,"
                                  "\"parity\":\"NONE\",\"cause\":\"rfc2217\",\"link\":0}") >= 0);
  assert_host_str("");
}

static void test_parameter_byte_reaches_the_event(void **state) {
  /* 57600, 7 data bits (10), 2 stop (bit 2), parity on (bit 3), 01 = even; bit 7 set. */
  uint8_t pkt[8] = {0x55, 0xAA, 0x55, 0x00, 0xE1, 0x00, 0x80 | 0x10 | 0x08 | 0x04 | 0x02, 0};
  (void)state;
  pkt[7] = (uint8_t)(pkt[3] + pkt[4] + pkt[5] + pkt[6]);
  fake_boot_link_up(&F, &D, &O, &C);
  rx(0, pkt, 8);
  assert_uart(m0_dev_running(&D), 57600, 7, 2, M0_PARITY_EVEN);
  assert_true(fake_find_event(&F, "uart.config {\"baud\":57600,\"data\":7,\"stop\":2,"
                                  "\"parity\":\"EVEN\",\"cause\":\"rfc2217\",\"link\":0}") >= 0);
}

static void test_data_around_the_packet_in_order(void **state) {
  uint8_t buf[64];
  size_t n;
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  n = join(buf, "before", PKT_9600, "after");
  rx(0, buf, n);
  assert_int_equal(m0_dev_running(&D)->baud, 9600);
  assert_host_str("beforeafter");
}

static void test_bad_checksum_is_data(void **state) {
  uint8_t bad[8];
  (void)state;
  memcpy(bad, PKT_9600, 8);
  bad[7] ^= 1;
  fake_boot_link_up(&F, &D, &O, &C);
  rx(0, bad, 8);
  assert_int_equal(m0_dev_running(&D)->baud, 115200);
  assert_int_equal(fake_count_events(&F, "uart.config "), 0);
  assert_host(bad, 8);
}

static void test_packet_split_across_two_reads(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  rx(0, "x", 1);
  rx(0, PKT_9600, 3);
  assert_int_equal(m0_dev_running(&D)->baud, 115200); /* not yet */
  fake_advance(&F, 10 * MS);                         /* well within the hold */
  rx(0, PKT_9600 + 3, 5);
  assert_int_equal(m0_dev_running(&D)->baud, 9600);
  rx(0, "y", 1);
  assert_host_str("xy");
}

static void test_partial_packet_flushed_after_50_ms(void **state) {
  uint8_t want[16];
  size_t n;
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  rx(0, "ab\x55\xAA", 4);
  fake_advance(&F, 30 * MS);
  rx(0, "\x55", 1); /* still a possible packet: the hold starts again */
  fake_advance(&F, HOLD - 1);
  assert_string_equal(fake_out(&F), "ab");
  fake_advance(&F, 1); /* 50 ms of quiet on the link */
  n = join(want, "ab\x55\xAA\x55", NULL, "");
  assert_host(want, n);
  assert_int_equal(m0_dev_running(&D)->baud, 115200);
}

static void test_hold_is_in_the_single_timer(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  rx(0, "\x55", 1);
  fake_run(&F, S); /* let anything else settle */
  assert_int_equal(fake_next_fire(&F), M0_TIME_NEVER); /* released: nothing left to wait for */
  assert_host_str("\x55");
  rx(0, "\x55\xAA", 2);
  assert_int_equal(fake_next_fire(&F), F.now + HOLD);
}

static void test_held_bytes_are_released_at_close(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  rx(0, "end\x55\xAA", 5);
  fake_link_down(&F, 0, M0_DOWN_CLOSED); /* long before the hold ends */
  assert_host_str("end\x55\xAA");
}

static void test_held_bytes_at_restart_are_counted(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  fake_run(&F, S);
  rx(0, "\x55\xAA", 2);
  m0_dev_restart(&D, F.now, "test");
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"to_host\",\"reason\":\"restart\",\"bytes\":2}") >= 0);
}

static void test_running_returns_to_saved_at_restart(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  rx(0, PKT_9600, 8);
  m0_dev_restart(&D, F.now, "test");
  fake_advance(&F, S);
  assert_int_equal(m0_dev_running(&D)->baud, 115200);
}

static void test_pacing_follows(void **state) {
  static uint8_t data[97];
  uint64_t t0;
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  memset(data, 'd', sizeof data);
  memcpy(data, PKT_9600, 8);
  t0 = F.now;
  rx(0, data, sizeof data); /* the packet, then 89 bytes */
  assert_int_equal(D.tx.baud, 9600);
  assert_int_equal(D.rx.baud, 9600);
  fake_run(&F, 2 * S);
  assert_int_equal(F.out_len, 89);
  /* 89 bytes of 10 bits at 9600 take 92.7 ms (at 115200 they would take 7.7 ms). */
  assert_true(F.writes[F.nwrites - 1].at - t0 >= 90 * MS);
}

static void test_host_line_check_reruns(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  m0_dev_on_host_termios(&D, F.now, 115200, 1);
  assert_int_equal(fake_count_events(&F, "uart.mismatch "), 0);
  rx(0, PKT_9600, 8);
  assert_true(fake_find_event(&F, "uart.mismatch {\"host_baud\":115200,\"host_stop\":1,"
                                  "\"baud\":9600,\"stop\":1}") >= 0);
  assert_true(D.mismatch);
  rx(0, PKT_115200, 8);
  assert_false(D.mismatch); /* back in step with the host */
}

static void test_packet_applies_in_command_mode(void **state) {
  uint8_t buf[32];
  size_t n;
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  fake_enter_command(&F);
  n = join(buf, "held", PKT_9600, "");
  rx(0, buf, n);
  assert_int_equal(m0_dev_running(&D)->baud, 9600); /* at once */
  assert_string_equal(fake_at(&F, "AT+ENTM"), "AT+ENTM\r\r\n+ok\r\n" "held");
}

static void test_rfcen_off_passes_the_packet(void **state) {
  (void)state;
  C.rfcen = false;
  fake_boot_link_up(&F, &D, &O, &C);
  rx(0, PKT_9600, 8);
  assert_int_equal(m0_dev_running(&D)->baud, 115200);
  assert_int_equal(fake_count_events(&F, "uart.config "), 0);
  rx(0, "\x55", 1);
  fake_advance(&F, 5 * MS); /* nothing held: 9 bytes at 115200 take 0.8 ms */
  assert_int_equal(F.out_len, 9);
  assert_memory_equal(F.out, PKT_9600, 8);
}

/* ---- other links ---- */

static void test_htpc_ignores_it(void **state) {
  uint8_t buf[128];
  size_t n;
  (void)state;
  C.proto = M0_PROTO_HTPC;
  C.htpchd = true;
  fake_boot(&F, &D, &O, &C);
  fake_rx(&F, "q");
  fake_advance(&F, MS);
  fake_link_up(&F, 0);
  n = join(buf, "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n", PKT_9600, "");
  rx(0, buf, n);
  assert_int_equal(m0_dev_running(&D)->baud, 115200);
  assert_int_equal(fake_count_events(&F, "uart.config "), 0);
  assert_host(PKT_9600, 8); /* the body, as the server sent it */
}

static void test_tcps_clients_each_their_own(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  assert_int_equal(fake_link_accept(&F, 0, "127.0.0.1", 5001), 1);
  assert_int_equal(fake_link_accept(&F, 0, "127.0.0.1", 5002), 2);
  rx(1, PKT_9600, 4);
  rx(2, "\x80\x83\x28" "two", 6); /* client 2's bytes do not complete client 1's packet */
  assert_int_equal(m0_dev_running(&D)->baud, 115200);
  rx(1, PKT_9600 + 4, 4);
  assert_int_equal(m0_dev_running(&D)->baud, 9600);
  assert_true(fake_find_event(&F, "uart.config {\"baud\":9600,\"data\":8,\"stop\":1,"
                                  "\"parity\":\"NONE\",\"cause\":\"rfc2217\",\"link\":1}") >= 0);
  assert_host_str("\x80\x83\x28" "two");
}

static void test_tcps_index_prefix_once_per_read(void **state) {
  uint8_t buf[32];
  size_t n;
  (void)state;
  C.indexen = true;
  fake_boot_link_up(&F, &D, &O, &C);
  assert_int_equal(fake_link_accept(&F, 0, "127.0.0.1", 5001), 1);
  fake_run(&F, S);
  fake_out_clear(&F);
  n = join(buf, "ab", PKT_9600, "cd");
  rx(1, buf, n);
  assert_int_equal(m0_dev_running(&D)->baud, 9600);
  assert_host_str("I1abcd");
  fake_out_clear(&F);
  rx(1, "x\x55", 2);
  fake_advance(&F, HOLD); /* the released byte is a delivery of its own */
  assert_host_str("I1xI1\x55");
}

static void test_udp_packet_and_datagram_end(void **state) {
  uint8_t buf[32];
  size_t n;
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  datagram(PKT_9600, 8, "10.0.0.7", 7000);
  assert_int_equal(m0_dev_running(&D)->baud, 9600);
  assert_true(fake_find_event(&F, CONFIG_9600) >= 0);
  /* A partial packet at the end of a datagram goes at once, and does not combine with
   * the next datagram. */
  n = join(buf, "pq\x55\xAA\x55", NULL, "");
  datagram(buf, n, "10.0.0.7", 7000);
  fake_advance(&F, 10 * MS); /* 5 bytes at 9600 take 5.2 ms: nothing waited for a hold */
  assert_int_equal(F.out_len, 5);
  datagram(PKT_115200 + 3, 5, "10.0.0.7", 7000);
  assert_int_equal(m0_dev_running(&D)->baud, 9600);
  n = join(buf, "pq\x55\xAA\x55", NULL, "");
  memcpy(buf + n, PKT_115200 + 3, 5);
  assert_host(buf, n + 5);
}

static void test_udp_stranger_packet_is_ignored(void **state) {
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  datagram(PKT_9600, 8, "10.0.0.8", 7000);
  assert_int_equal(m0_dev_running(&D)->baud, 115200);
  assert_host_str("");
}

static void test_udp_datagram_whole_or_nothing(void **state) {
  static uint8_t big[M0_UART_TXQ_SIZE];
  (void)state;
  fake_boot_link_up(&F, &D, &O, &C);
  F.room = 0; /* the host reads nothing: the UART queue fills */
  memset(big, 'z', sizeof big);
  datagram(big, 61000, "10.0.0.7", 7000);
  assert_int_equal(m0__flow_backlog(&D), 61000);
  /* 4537 data bytes and a packet: 61000 + 4537 is past the 64 KiB (65536), so the data is
   * dropped whole; the packet is for the device, not for the host, and applies. */
  memcpy(big + 100, PKT_9600, 8);
  datagram(big, 4537 + 8, "10.0.0.7", 7000);
  assert_int_equal(m0_dev_running(&D)->baud, 9600);
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"to_host\",\"reason\":\"queue-full\",\"bytes\":4537}") >= 0);
  assert_int_equal(m0__flow_backlog(&D), 61000);
  /* 4536 data bytes and a packet: the data fits exactly, the packet takes no room. */
  memcpy(big + 100, PKT_115200, 8);
  datagram(big, 4536 + 8, "10.0.0.7", 7000);
  assert_int_equal(m0_dev_running(&D)->baud, 115200);
  assert_int_equal(m0__flow_backlog(&D), M0_UART_TXQ_SIZE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_9600_packet_changes_running_not_saved, setup),
    cmocka_unit_test_setup(test_115200_packet_changes_running_not_saved, setup),
    cmocka_unit_test_setup(test_parameter_byte_reaches_the_event, setup),
    cmocka_unit_test_setup(test_data_around_the_packet_in_order, setup),
    cmocka_unit_test_setup(test_bad_checksum_is_data, setup),
    cmocka_unit_test_setup(test_packet_split_across_two_reads, setup),
    cmocka_unit_test_setup(test_partial_packet_flushed_after_50_ms, setup),
    cmocka_unit_test_setup(test_hold_is_in_the_single_timer, setup),
    cmocka_unit_test_setup(test_held_bytes_are_released_at_close, setup),
    cmocka_unit_test_setup(test_held_bytes_at_restart_are_counted, setup),
    cmocka_unit_test_setup(test_running_returns_to_saved_at_restart, setup),
    cmocka_unit_test_setup(test_pacing_follows, setup),
    cmocka_unit_test_setup(test_host_line_check_reruns, setup),
    cmocka_unit_test_setup(test_packet_applies_in_command_mode, setup),
    cmocka_unit_test_setup(test_rfcen_off_passes_the_packet, setup),
    cmocka_unit_test_setup(test_htpc_ignores_it, setup),
    cmocka_unit_test_setup(test_tcps_clients_each_their_own, setup_tcps),
    cmocka_unit_test_setup(test_tcps_index_prefix_once_per_read, setup_tcps),
    cmocka_unit_test_setup(test_udp_packet_and_datagram_end, setup_udpc),
    cmocka_unit_test_setup(test_udp_stranger_packet_is_ignored, setup_udpc),
    cmocka_unit_test_setup(test_udp_datagram_whole_or_nothing, setup_udpc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
