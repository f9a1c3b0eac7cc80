/* test_dev.c: the device's life cycle (spec §2, §3.4, §5): boot, restart, host attach,
 * the host's line settings and line faults, the web page's set path, counters, status,
 * and the single timer armed for the earliest deadline.
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

static const char *const UART_DEFAULT =
    "uart.config {\"baud\":115200,\"data\":8,\"stop\":1,\"parity\":\"NONE\",\"cause\":\"restart\"}";
static const char *const READY_TCPC = "ready {\"mode\":\"transparent\",\"proto\":\"TCPC\"}";

static int setup(void **state) {
  (void)state;
  fake_options(&O);
  fake_boot(&F, &D, &O, NULL);
  return 0;
}

static int setup_unstarted(void **state) {
  (void)state;
  fake_options(&O);
  fake_init(&F, &D, &O, NULL, 50 * S);
  return 0;
}

/* Bytes for the host, as the network will queue them, then settle like any input. */
static void to_host(const void *data, size_t len) {
  m0__host_send(&D, F.now, data, len);
  m0__dev_settle(&D, F.now);
}

static void xor_55(char *s) {
  for (; *s != '\0'; s++)
    *s = (char)(*s ^ 0x55);
}

/* ---- boot ---- */

static void test_boot_sequence(void **state) {
  struct m0_config defaults;
  uint64_t t0 = F.now;
  (void)state;
  m0_config_defaults(&defaults);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_BOOTING);
  m0_dev_start(&D, t0);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_BOOTING);
  assert_int_equal(F.timer, t0 + 200 * MS);
  fake_advance(&F, 200 * MS - 1);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_BOOTING);
  assert_int_equal(F.booted_calls, 0);
  assert_int_equal(F.nevents, 0);
  fake_advance(&F, 1);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  assert_int_equal(F.booted_calls, 1);
  assert_memory_equal(&F.booted_cfg, &defaults, sizeof defaults);
  assert_memory_equal(m0_dev_running(&D), &defaults, sizeof defaults);
  assert_int_equal(F.nevents, 2);
  assert_string_equal(fake_event(&F, 0), UART_DEFAULT);
  assert_string_equal(fake_event(&F, 1), READY_TCPC);
  assert_int_equal(m0_dev_counters(&D)->restarts, 0);
  /* The running work mode's link, opened as the boot ends (net.c). */
  assert_int_equal(F.nops, 1);
  assert_string_equal(fake_op(&F, 0), "open 0 tcp 192.168.0.201:8234 from 20108 keepalive");
}

static void test_boot_reports_saved_settings(void **state) {
  struct m0_config cfg;
  (void)state;
  m0_config_defaults(&cfg);
  assert_int_equal(m0_param_set(&m0_params[M0_ID_UART], &cfg, "9600,7,2,EVEN,NFC", 17), 0);
  assert_int_equal(m0_param_set(&m0_params[M0_ID_SOCK], &cfg, "UDPS,1.2.3.4,99", 15), 0);
  fake_init(&F, &D, &O, &cfg, 0);
  m0_dev_start(&D, 0);
  fake_advance(&F, S);
  assert_int_equal(fake_find_event(&F, "uart.config {\"baud\":9600,\"data\":7,\"stop\":2,"
                                        "\"parity\":\"EVEN\",\"cause\":\"restart\"}"),
                   0);
  assert_int_equal(fake_find_event(&F, "ready {\"mode\":\"transparent\",\"proto\":\"UDPS\"}"),
                   1);
}

static void test_boot_zero_duration(void **state) {
  (void)state;
  O.boot_ns = 0;
  fake_init(&F, &D, &O, NULL, 0);
  m0_dev_start(&D, 0);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  assert_string_equal(fake_event(&F, 1), READY_TCPC);
}

static void test_bytes_while_booting_are_dropped(void **state) {
  (void)state;
  m0_dev_on_host_attach(&D, F.now, true);
  m0_dev_start(&D, F.now);
  fake_advance(&F, 50 * MS);
  fake_rx(&F, "+++");
  fake_advance(&F, 100 * MS);
  fake_rx(&F, "hello!!");
  fake_advance(&F, S);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  assert_int_equal(m0_dev_counters(&D)->uart_rx, 10);
  assert_int_equal(m0_dev_counters(&D)->uart_rx_dropped, 10);
  assert_int_equal(F.nframes, 0);
  assert_string_equal(fake_out(&F), ""); /* no 'a': the +++ never counted */
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"from_host\",\"reason\":\"booting\",\"bytes\":3}") >= 0);
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"from_host\",\"reason\":\"booting\",\"bytes\":10}") >= 0);
}

/* ---- restart ---- */

static void test_restart_event_and_reboot(void **state) {
  uint64_t t0 = F.now;
  (void)state;
  m0_dev_restart(&D, t0, "sighup");
  assert_string_equal(fake_event(&F, 0), "restart {\"cause\":\"sighup\"}");
  assert_int_equal(m0_dev_mode(&D), M0_MODE_BOOTING);
  assert_int_equal(m0_dev_counters(&D)->restarts, 1);
  fake_advance(&F, 200 * MS);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  assert_string_equal(fake_event(&F, 1), UART_DEFAULT);
  assert_string_equal(fake_event(&F, 2), READY_TCPC);
  assert_int_equal(F.event_at[2], t0 + 200 * MS);
  assert_int_equal(F.booted_calls, 1);
  /* The host is still attached: the handshake's 'a' reaches it. */
  fake_advance(&F, S);
  fake_rx(&F, "+++");
  fake_advance(&F, 10 * MS);
  assert_string_equal(fake_out(&F), "a");
}

/* m0_dev_init clears the state and never writes the buffers (a fleet's idle device must
 * not touch 210 KiB): a device in memory full of garbage still starts clean, and the
 * garbage in its buffers stays where nothing reads it. */
static void test_init_leaves_buffers_alone(void **state) {
  (void)state;
  memset(&D, 0xA5, sizeof D);
  fake_options(&O);
  fake_boot(&F, &D, &O, NULL);
  assert_int_equal(D.txq.len, 0);
  assert_int_equal(D.net.inbox.len, 0);
  assert_int_equal(D.save.held_len, 0);
  assert_int_equal(D.net.pending_len, 0);
  assert_int_equal(D.bufs.txq[0], 0xA5);
  assert_int_equal(D.bufs.txq[sizeof D.bufs.txq - 1], 0xA5);
  assert_int_equal(D.bufs.inbox[100], 0xA5);
  assert_int_equal(D.bufs.held[0], 0xA5);
  assert_int_equal(D.bufs.pending[0], 0xA5);
  assert_int_equal(D.bufs.flash_text[0], (char)0xA5);
  assert_int_equal(D.bufs.fault_held[0], 0xA5);
  assert_int_equal(D.bufs.fault_held[sizeof D.bufs.fault_held - 1], 0xA5);
  /* And it works: the handshake and a command go through the queue toward the host. */
  fake_enter_command(&F);
  fake_out_clear(&F);
  fake_rx(&F, "AT\r");
  fake_advance(&F, 10 * MS);
  assert_string_equal(fake_out(&F), "AT\r\r\n+ok\r\n");
  assert_int_equal(m0_dev_counters(&D)->uart_tx_dropped, 0);
}

static void test_restart_cause_is_json_escaped(void **state) {
  (void)state;
  m0_dev_restart(&D, F.now, "a\"b\\c");
  assert_string_equal(fake_event(&F, 0), "restart {\"cause\":\"a\\\"b\\\\c\"}");
}

static void test_restart_drops_data_for_the_host(void **state) {
  (void)state;
  F.room = 0;
  to_host("stale bytes", 11);
  assert_int_equal(F.out_len, 0);
  m0_dev_restart(&D, F.now, "test");
  assert_int_equal(m0_dev_counters(&D)->uart_tx_dropped, 11);
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"to_host\",\"reason\":\"restart\",\"bytes\":11}") >= 0);
  fake_advance(&F, S);
  F.room = SIZE_MAX;
  fake_host_reads(&F, 0);
  fake_advance(&F, S);
  assert_int_equal(F.out_len, 0);
}

static void test_restart_clears_escape_and_line(void **state) {
  (void)state;
  fake_rx(&F, "++");
  m0_dev_restart(&D, F.now, "test");
  fake_advance(&F, 5 * S);
  assert_int_equal(F.nframes, 0); /* the held '+' died with the restart */
  fake_enter_command(&F);
  fake_rx(&F, "AT+VE");
  m0_dev_restart(&D, F.now, "test");
  fake_advance(&F, S);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  fake_enter_command(&F);
  assert_string_equal(fake_at(&F, "R"), "R\r\r\n+ERR=-1\r\n"); /* "AT+VE" is gone */
}

static void test_restart_applies_saved_settings(void **state) {
  (void)state;
  assert_int_equal(m0_dev_set_param(&D, F.now, "SOCKPORT", "1234"), 0);
  assert_int_equal(m0_dev_saved(&D)->sockport, 1234);
  assert_int_equal(m0_dev_running(&D)->sockport, 20108);
  m0_dev_restart(&D, F.now, "test");
  assert_int_equal(m0_dev_running(&D)->sockport, 20108); /* still booting */
  fake_advance(&F, S);
  assert_int_equal(m0_dev_running(&D)->sockport, 1234);
  assert_int_equal(F.booted_cfg.sockport, 1234);
}

static void test_factory_reset(void **state) {
  struct m0_config defaults;
  char text[M0_FLASH_MAX];
  size_t n;
  (void)state;
  m0_config_defaults(&defaults);
  assert_int_equal(m0_dev_set_param(&D, F.now, "MID", "bench-1"), 0);
  fake_clear(&F);
  m0_dev_factory_reset(&D, F.now);
  assert_int_equal(F.flash_saves, 1);
  n = m0_flash_format(&defaults, text, sizeof text);
  assert_int_equal(F.flash_len, n);
  assert_memory_equal(F.flash, text, n);
  assert_memory_equal(m0_dev_saved(&D), &defaults, sizeof defaults);
  assert_string_equal(fake_event(&F, 0), "restart {\"cause\":\"reld\"}");
  fake_advance(&F, S);
  assert_memory_equal(m0_dev_running(&D), &defaults, sizeof defaults);
}

/* The web page's factory reset restores the module's own factory settings (a profile). */
static void test_factory_reset_to_the_profile(void **state) {
  struct m0_config factory;
  char reason[M0_PROFILE_REASON_MAX];
  (void)state;
  m0_config_defaults(&factory);
  assert_int_equal(m0_profile_set(&factory, "MAXSK=2", 7, reason, sizeof reason), 0);
  fake_options(&O);
  O.factory_settings = &factory;
  fake_boot(&F, &D, &O, NULL); /* flash: the built-in defaults */
  assert_int_equal(m0_dev_saved(&D)->maxsk, 4);
  m0_dev_factory_reset(&D, F.now);
  assert_int_equal(F.flash_saves, 1);
  assert_memory_equal(m0_dev_saved(&D), &factory, sizeof factory);
  fake_advance(&F, S);
  assert_int_equal(m0_dev_running(&D)->maxsk, 2);
}

static void test_factory_reset_flash_failure(void **state) {
  (void)state;
  assert_int_equal(m0_dev_set_param(&D, F.now, "MID", "bench-1"), 0);
  fake_clear(&F);
  F.flash_result = -1;
  m0_dev_factory_reset(&D, F.now);
  assert_string_equal(m0_dev_saved(&D)->mid, "bench-1");
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  assert_int_equal(fake_count_events(&F, "restart "), 0);
  assert_true(F.nlogs >= 1);
}

/* ---- the host side of the tty ---- */

static void test_detached_drops_bytes_for_the_host(void **state) {
  (void)state;
  m0_dev_start(&D, F.now);
  fake_advance(&F, S); /* booted, nobody has the tty open */
  fake_rx(&F, "+++");
  fake_advance(&F, 10 * MS);
  assert_int_equal(F.write_calls, 0);
  assert_int_equal(m0_dev_counters(&D)->uart_tx_dropped, 1);
  assert_true(fake_find_event(
                  &F, "drop {\"dir\":\"to_host\",\"reason\":\"no-host\",\"bytes\":1}") >= 0);
  fake_rx(&F, "a");
  assert_int_equal(m0_dev_counters(&D)->uart_tx_dropped, 4);
  m0_dev_on_host_attach(&D, F.now, true);
  fake_advance(&F, S);
  assert_int_equal(F.out_len, 0); /* nothing stale arrives */
  fake_rx(&F, "AT\r");
  fake_advance(&F, S);
  assert_string_equal(fake_out(&F), "AT\r\r\n+ok\r\n");
}

static void test_detach_drops_the_queue(void **state) {
  (void)state;
  F.room = 3;
  to_host("0123456789", 10);
  assert_string_equal(fake_out(&F), "012");
  m0_dev_on_host_attach(&D, F.now, false);
  assert_int_equal(m0_dev_counters(&D)->uart_tx_dropped, 7);
  assert_int_equal(m0_dev_counters(&D)->uart_tx, 3);
  F.room = SIZE_MAX;
  m0_dev_on_uart_writable(&D, F.now);
  m0_dev_on_host_attach(&D, F.now, true);
  fake_advance(&F, S);
  assert_string_equal(fake_out(&F), "012");
  assert_int_equal(F.writes_while_detached, 0);
  to_host("xy", 2);
  assert_string_equal(fake_out(&F), "012xy");
}

/* Issue 12: a program that closes the tty in the middle of a command line must not
 * leave it to the next one, whose first command would be answered as "AT+VEAT". */
static void test_attach_starts_a_new_command_line(void **state) {
  (void)state;
  fake_enter_command(&F);
  fake_rx(&F, "AT+VE");
  m0_dev_on_host_attach(&D, F.now, false);
  m0_dev_on_host_attach(&D, F.now, true);
  assert_string_equal(fake_at(&F, "AT"), "AT\r\r\n+ok\r\n");
  /* A line the same host is typing is kept: only an attach starts a new one. */
  fake_out_clear(&F);
  fake_rx(&F, "AT+V");
  fake_rx(&F, "ER\r");
  fake_run(&F, S);
  assert_string_equal(fake_out(&F), "AT+VER\r\r\n+ok=V4017\r\n");
}

/* Said once per change, where the user looks without -v (hal->warn), and its end too. */
static void test_termios_mismatch_reported_once_per_change(void **state) {
  struct m0_status st;
  (void)state;
  m0_dev_status(&D, &st);
  assert_false(st.host_line_known);
  assert_false(st.uart_mismatch);
  m0_dev_on_host_termios(&D, F.now, 115200, 1);
  assert_int_equal(F.nevents, 0);
  assert_int_equal(F.nwarns, 0);
  m0_dev_status(&D, &st);
  assert_true(st.host_line_known);
  assert_false(st.uart_mismatch);
  m0_dev_on_host_termios(&D, F.now, 9600, 1);
  assert_int_equal(F.nevents, 1);
  assert_string_equal(fake_event(&F, 0), "uart.mismatch {\"host_baud\":9600,\"host_stop\":1,"
                                         "\"baud\":115200,\"stop\":1}");
  assert_int_equal(F.nwarns, 1);
  assert_string_equal(F.warns[0], "host line is 9600 baud 1 stop bits but AT+UART is 115200 "
                                  "baud 1 stop bits; a real module would garble the bytes "
                                  "(--line-faults does too)");
  assert_int_equal(F.nlogs, 0); /* not only in the -v trace */
  m0_dev_status(&D, &st);
  assert_true(st.uart_mismatch);
  assert_int_equal(st.host_baud, 9600);
  assert_int_equal(st.host_stop, 1);
  m0_dev_on_host_termios(&D, F.now, 9600, 1);
  m0_dev_on_host_termios(&D, F.now, 9600, 1);
  assert_int_equal(F.nevents, 1);
  assert_int_equal(F.nwarns, 1);
  m0_dev_on_host_termios(&D, F.now, 19200, 1);
  assert_int_equal(F.nevents, 2);
  assert_int_equal(F.nwarns, 2);
  m0_dev_on_host_termios(&D, F.now, 115200, 2);
  assert_int_equal(F.nevents, 3);
  assert_string_equal(fake_event(&F, 2), "uart.mismatch {\"host_baud\":115200,\"host_stop\":2,"
                                         "\"baud\":115200,\"stop\":1}");
  m0_dev_on_host_termios(&D, F.now, 115200, 1); /* in sync: said once */
  assert_int_equal(F.nevents, 4);
  assert_string_equal(fake_event(&F, 3), "uart.match {\"host_baud\":115200,\"host_stop\":1,"
                                         "\"baud\":115200,\"stop\":1}");
  assert_int_equal(F.nwarns, 4);
  assert_string_equal(F.warns[3], "host line now agrees with AT+UART (115200 baud, 1 stop bits)");
  m0_dev_status(&D, &st);
  assert_false(st.uart_mismatch);
  m0_dev_on_host_termios(&D, F.now, 115200, 1); /* still in sync: quiet */
  assert_int_equal(F.nevents, 4);
  assert_int_equal(F.nwarns, 4);
  m0_dev_on_host_termios(&D, F.now, 115200, 2); /* the same mismatch again is news */
  assert_int_equal(F.nevents, 5);
  assert_int_equal(F.nwarns, 5);
}

/* A board without hal->warn still gets the line, in its log. */
static void test_mismatch_without_warn_goes_to_the_log(void **state) {
  (void)state;
  F.hal.warn = NULL;
  m0_dev_on_host_termios(&D, F.now, 9600, 1);
  assert_int_equal(F.nwarns, 0);
  assert_int_equal(F.nlogs, 1);
  assert_non_null(strstr(F.logs[0], "host line is 9600 baud"));
}

static void test_mismatch_follows_the_running_uart(void **state) {
  (void)state;
  assert_int_equal(m0_dev_set_param(&D, F.now, "UART", "9600,8,1,NONE,NFC"), 0);
  m0_dev_on_host_termios(&D, F.now, 9600, 1); /* the host already uses the saved value */
  assert_int_equal(fake_count_events(&F, "uart.mismatch "), 1);
  m0_dev_restart(&D, F.now, "test");
  fake_advance(&F, S);
  assert_int_equal(fake_count_events(&F, "uart.mismatch "), 1); /* in sync after boot */
  assert_false(D.mismatch);
  assert_int_equal(m0_dev_set_param(&D, F.now, "UART", "115200,8,1,NONE,NFC"), 0);
  m0_dev_restart(&D, F.now, "test");
  fake_advance(&F, S);
  assert_int_equal(fake_count_events(&F, "uart.mismatch "), 2);
  assert_string_equal(fake_event(&F, F.nevents - 1),
                      "uart.mismatch {\"host_baud\":9600,\"host_stop\":1,"
                      "\"baud\":115200,\"stop\":1}");
}

/* A host that never sets a speed leaves B0 on the pty (socat's rawer does): that is no
 * speed, not a mismatch; its stop bits still count. */
static void test_host_speed_zero_is_no_mismatch(void **state) {
  (void)state;
  m0_dev_on_host_termios(&D, F.now, 0, 1);
  assert_false(D.mismatch);
  assert_int_equal(fake_count_events(&F, "uart.mismatch "), 0);
  m0_dev_on_host_termios(&D, F.now, 0, 2);
  assert_true(D.mismatch);
  assert_int_equal(fake_count_events(&F, "uart.mismatch "), 1);
}

static void test_mismatch_without_line_faults_is_harmless(void **state) {
  (void)state;
  m0_dev_on_host_termios(&D, F.now, 9600, 1);
  fake_rx(&F, "hello");
  fake_advance(&F, S);
  assert_int_equal(F.nframes, 1);
  assert_memory_equal(F.frames[0].data, "hello", 5);
  to_host("world", 5);
  fake_advance(&F, S);
  assert_string_equal(fake_out(&F), "world");
}

static void test_line_faults_corrupt_both_ways(void **state) {
  char expect[8] = "hello";
  (void)state;
  O.line_faults = true;
  fake_boot(&F, &D, &O, NULL);
  fake_rx(&F, "hello");
  fake_advance(&F, S);
  assert_memory_equal(F.frames[0].data, "hello", 5); /* in sync: clean */
  m0_dev_on_host_termios(&D, F.now, 9600, 1);
  fake_rx(&F, "hello");
  fake_advance(&F, S);
  xor_55(expect);
  assert_int_equal(F.nframes, 2);
  assert_memory_equal(F.frames[1].data, expect, 5);
  to_host("hello", 5);
  fake_advance(&F, S);
  assert_string_equal(fake_out(&F), expect);
  /* Back in sync: clean again. */
  m0_dev_on_host_termios(&D, F.now, 115200, 1);
  fake_out_clear(&F);
  to_host("hello", 5);
  fake_rx(&F, "hello");
  fake_advance(&F, S);
  assert_string_equal(fake_out(&F), "hello");
  assert_memory_equal(F.frames[2].data, "hello", 5);
}

static void test_line_faults_break_the_handshake(void **state) {
  (void)state;
  O.line_faults = true;
  fake_boot(&F, &D, &O, NULL);
  m0_dev_on_host_termios(&D, F.now, 9600, 1);
  fake_type(&F, "+++a", 10 * MS);
  fake_advance(&F, S);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  assert_string_equal(fake_out(&F), "");
}

/* A network host (RFC 2217) tells data bits and parity too: they must match AT+UART,
 * and the event and log line then name them. */
static void test_host_line_data_bits_and_parity(void **state) {
  char expect[8] = "hello";
  (void)state;
  O.line_faults = true;
  fake_boot(&F, &D, &O, NULL);
  m0_dev_on_host_line(&D, F.now, 115200, 8, 1, M0_PARITY_NONE);
  assert_false(D.mismatch);
  assert_int_equal(fake_count_events(&F, "uart.mismatch "), 0);
  m0_dev_on_host_line(&D, F.now, 115200, 7, 1, M0_PARITY_EVEN);
  assert_true(D.mismatch);
  assert_string_equal(fake_event(&F, F.nevents - 1),
                      "uart.mismatch {\"host_baud\":115200,\"host_stop\":1,\"baud\":115200,"
                      "\"stop\":1,\"host_data\":7,\"host_parity\":\"EVEN\",\"data\":8,"
                      "\"parity\":\"NONE\"}");
  assert_int_equal(F.nwarns, 1); /* said where the user looks, without -v */
  assert_string_equal(F.warns[F.nwarns - 1],
                      "host line is 115200 7E1 but AT+UART is 115200 8N1; bytes will be corrupted");
  fake_rx(&F, "hello");
  fake_advance(&F, S);
  xor_55(expect);
  assert_memory_equal(F.frames[F.nframes - 1].data, expect, 5);
  /* The same settings again: nothing new; parity alone differing is news. */
  m0_dev_on_host_line(&D, F.now, 115200, 7, 1, M0_PARITY_EVEN);
  assert_int_equal(fake_count_events(&F, "uart.mismatch "), 1);
  m0_dev_on_host_line(&D, F.now, 115200, 8, 1, M0_PARITY_ODD);
  assert_int_equal(fake_count_events(&F, "uart.mismatch "), 2);
  /* In sync again, and the pty's form (no data bits, no parity) compares what it can. */
  m0_dev_on_host_line(&D, F.now, 115200, 8, 1, M0_PARITY_NONE);
  assert_false(D.mismatch);
  m0_dev_on_host_termios(&D, F.now, 115200, 1);
  assert_false(D.mismatch);
  assert_int_equal(fake_count_events(&F, "uart.mismatch "), 2);
}

/* Each host has its own line: what the last one set is forgotten at the next attach, so
 * a host whose front end tells nothing (a raw network client) never mismatches, and a
 * new host with the same wrong speed is told again. */
static void test_attach_forgets_the_last_hosts_line(void **state) {
  (void)state;
  m0_dev_on_host_attach(&D, F.now, true);
  m0_dev_on_host_termios(&D, F.now, 9600, 1);
  assert_true(D.mismatch);
  assert_int_equal(fake_count_events(&F, "uart.mismatch "), 1);
  m0_dev_on_host_attach(&D, F.now, false);
  m0_dev_on_host_attach(&D, F.now, true);
  assert_false(D.mismatch);
  to_host("clean", 5);
  fake_advance(&F, S);
  assert_string_equal(fake_out(&F), "clean");
  m0_dev_on_host_termios(&D, F.now, 9600, 1);
  assert_true(D.mismatch);
  assert_int_equal(fake_count_events(&F, "uart.mismatch "), 2);
}

/* ---- the web page's set path ---- */

static void test_set_param(void **state) {
  (void)state;
  assert_int_equal(m0_dev_set_param(&D, F.now, "sockport", "1234"), 0);
  assert_int_equal(F.flash_saves, 1);
  assert_non_null(strstr(F.flash, "\nAT+SOCKPORT=1234\n"));
  assert_int_equal(m0_dev_set_param(&D, F.now, "SOCKPORT", "65536"), M0_E_INVAL);
  assert_int_equal(m0_dev_set_param(&D, F.now, "NOSUCH", "1"), M0_E_NOTFOUND);
  assert_int_equal(m0_dev_set_param(&D, F.now, "VER", "1"), M0_E_NOTCONFIG);
  assert_int_equal(m0_dev_set_param(&D, F.now, "Z", ""), M0_E_NOTCONFIG);
  assert_int_equal(F.flash_attempts, 1);
  assert_int_equal(m0_dev_saved(&D)->sockport, 1234);
  assert_int_equal(m0_dev_set_param(&D, F.now, "NETP", "UDPC,10.0.0.2,7"), 0);
  assert_int_equal(m0_dev_saved(&D)->proto, M0_PROTO_UDPC);
  assert_int_equal(m0_dev_running(&D)->proto, M0_PROTO_TCPC);
}

static void test_set_param_flash_failure(void **state) {
  struct m0_config before;
  (void)state;
  before = *m0_dev_saved(&D);
  F.flash_result = -5;
  assert_int_equal(m0_dev_set_param(&D, F.now, "SOCKPORT", "1234"), M0_E_FLASH);
  assert_int_equal(m0_dev_set_param(&D, F.now, "E", "off"), M0_E_FLASH);
  assert_memory_equal(m0_dev_saved(&D), &before, sizeof before);
  assert_true(m0_dev_running(&D)->echo);
}

static void test_set_param_echo_applies_now(void **state) {
  (void)state;
  assert_int_equal(m0_dev_set_param(&D, F.now, "E", "off"), 0);
  assert_false(m0_dev_saved(&D)->echo);
  assert_false(m0_dev_running(&D)->echo);
  fake_enter_command(&F);
  assert_string_equal(fake_at(&F, "AT"), "\r\n+ok\r\n");
}

/* ---- restart needed ---- */

static void test_restart_needed(void **state) {
  (void)state;
  assert_false(m0_dev_restart_needed(&D));
  /* E applies at once: nothing waits for a restart. */
  assert_int_equal(m0_dev_set_param(&D, F.now, "E", "off"), 0);
  assert_false(m0_dev_restart_needed(&D));
  /* A similar-RFC2217 packet changes only what runs: nothing saved waits (it used to
   * say true, saved and running UART differing). */
  m0__dev_uart_running(&D, F.now, 9600, 7, 2, M0_PARITY_EVEN, 0);
  assert_false(m0_dev_restart_needed(&D));
  assert_int_equal(m0_dev_running(&D)->baud, 9600);
  /* A saved UART waits for a restart, even the value the packet set: only a boot
   * applies what was saved. */
  assert_int_equal(m0_dev_set_param(&D, F.now, "UART", "9600,7,2,EVEN,NFC"), 0);
  assert_true(m0_dev_restart_needed(&D));
  /* Saved back to what the device booted with: nothing waits. */
  assert_int_equal(m0_dev_set_param(&D, F.now, "UART", "115200,8,1,NONE,NFC"), 0);
  assert_false(m0_dev_restart_needed(&D));
  /* Any setting that applies at restart; a refused one changes nothing. */
  assert_int_equal(m0_dev_set_param(&D, F.now, "SOCKPORT", "65536"), M0_E_INVAL);
  assert_false(m0_dev_restart_needed(&D));
  assert_int_equal(m0_dev_set_param(&D, F.now, "SOCKPORT", "1234"), 0);
  assert_true(m0_dev_restart_needed(&D));
  m0_dev_restart(&D, F.now, "test");
  assert_true(m0_dev_restart_needed(&D)); /* still booting on the old settings */
  fake_advance(&F, S);
  assert_int_equal(m0_dev_mode(&D), M0_MODE_TRANSPARENT);
  assert_false(m0_dev_restart_needed(&D));
  /* After that boot, a packet again only changes what runs. */
  m0__dev_uart_running(&D, F.now, 2400, 8, 1, M0_PARITY_NONE, 0);
  assert_false(m0_dev_restart_needed(&D));
}

/* ---- counters, status, timer ---- */

static void test_counters(void **state) {
  const struct m0_counters *c = m0_dev_counters(&D);
  (void)state;
  fake_rx(&F, "abc");
  fake_advance(&F, S);
  fake_enter_command(&F);
  assert_int_equal(c->uart_rx, 3 + 4);
  assert_int_equal(c->uart_tx, 4); /* "a" and "+ok" */
  assert_int_equal(c->net_tx_dropped, 0); /* kept for the connection (UARTCLBUF=off) */
  fake_at(&F, "AT");
  assert_int_equal(c->uart_rx, 3 + 4 + 3);
  assert_int_equal(c->uart_tx, 4 + 3 + 7); /* echo, "\r\n+ok\r\n" */
  assert_int_equal(c->uart_tx_dropped, 0);
  assert_int_equal(c->uart_rx_dropped, 0);
  assert_int_equal(c->restarts, 0);
}

static void test_status(void **state) {
  struct m0_status st;
  (void)state;
  fake_rx(&F, "abc");
  fake_advance(&F, S);
  m0_dev_status(&D, &st);
  assert_int_equal(st.mode, M0_MODE_TRANSPARENT);
  assert_false(st.socket_connected);
  assert_true(st.link_pin); /* SCSLINK=off: the Ethernet link, always up */
  assert_int_equal(st.nlinks, 1); /* the TCP client's connection, still dialling */
  assert_false(st.links[0].connected);
  assert_int_equal(st.counters.net_tx_dropped, 0);
  assert_int_equal(m0_dev_set_param(&D, F.now, "SCSLINK", "on"), 0);
  m0_dev_restart(&D, F.now, "test");
  fake_advance(&F, S);
  m0_dev_status(&D, &st);
  assert_false(st.link_pin); /* SCSLINK=on: the socket, not connected */
  fake_link_up(&F, 0);
  m0_dev_status(&D, &st);
  assert_true(st.socket_connected);
  assert_true(st.link_pin);
}

static void test_link_inputs_for_unknown_ids_are_ignored(void **state) {
  struct m0_net_addr peer = {"127.0.0.1", 1234};
  unsigned ids[] = {5, M0_LINKS_MAX, 99}, i;
  (void)state;
  for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
    m0_dev_on_link_up(&D, F.now, ids[i], &peer);
    assert_int_equal(m0_dev_on_link_accept(&D, F.now, ids[i], &peer), -1);
    m0_dev_on_link_rx(&D, F.now, ids[i], (const uint8_t *)"x", 1, &peer);
    m0_dev_on_link_down(&D, F.now, ids[i], M0_DOWN_RESET);
    m0_dev_on_link_drained(&D, F.now, ids[i]);
  }
  /* Link 0 is the TCP client's: it is not a listener. */
  assert_int_equal(m0_dev_on_link_accept(&D, F.now, 0, &peer), -1);
  assert_int_equal(F.out_len, 0);
  assert_int_equal(F.link_calls, 0);
  assert_int_equal(F.nevents, 0);
}

static void test_timer_is_the_earliest_deadline(void **state) {
  static uint8_t data[1000];
  uint64_t t0, idle = (4ull * 10 * S + 115199) / 115200;
  (void)state;
  fake_link_up(&F, 0); /* the dial answered: the network waits for nothing */
  t0 = F.now;
  fake_rx(&F, "x");
  assert_int_equal(F.timer, t0 + idle); /* the frame's idle cut */
  memset(data, 'y', sizeof data);
  to_host(data, sizeof data); /* 11 bytes now, the next 11 in ~1 ms */
  assert_int_equal(F.timer, t0 + idle);
  fake_advance_to(&F, t0 + idle);
  assert_int_equal(F.nframes, 1);
  assert_true(F.timer > t0 + idle && F.timer <= t0 + 2 * MS); /* now the pacing */
  fake_run(&F, S);
  assert_int_equal(F.out_len, sizeof data);
  assert_int_equal(F.timer, M0_TIME_NEVER); /* all done: nothing left to wake up for */
}

static void test_late_timer_changes_nothing(void **state) {
  (void)state;
  /* The board's timer fires late (ms resolution): input that arrives first must see the
   * expired window and the finished frame exactly as a punctual timer would leave them. */
  fake_rx(&F, "ab");
  F.timer = M0_TIME_NEVER; /* pretend the timer has not fired */
  F.now += 5 * MS;
  fake_rx(&F, "cd");
  fake_advance(&F, S);
  assert_int_equal(F.nframes, 2);
  assert_memory_equal(F.frames[0].data, "ab", 2);
  assert_memory_equal(F.frames[1].data, "cd", 2);
  fake_rx(&F, "+");
  F.timer = M0_TIME_NEVER;
  F.now += 400 * MS;
  fake_rx(&F, "++");
  fake_advance(&F, S);
  assert_string_equal(fake_out(&F), ""); /* the late '+' restarted the count: no 'a' */
  assert_int_equal(F.nframes, 4);
  assert_memory_equal(F.frames[2].data, "+", 1);
  assert_memory_equal(F.frames[3].data, "++", 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_boot_sequence, setup_unstarted),
    cmocka_unit_test_setup(test_boot_reports_saved_settings, setup_unstarted),
    cmocka_unit_test_setup(test_boot_zero_duration, setup_unstarted),
    cmocka_unit_test_setup(test_bytes_while_booting_are_dropped, setup_unstarted),
    cmocka_unit_test_setup(test_restart_event_and_reboot, setup),
    cmocka_unit_test(test_init_leaves_buffers_alone),
    cmocka_unit_test_setup(test_restart_cause_is_json_escaped, setup),
    cmocka_unit_test_setup(test_restart_drops_data_for_the_host, setup),
    cmocka_unit_test_setup(test_restart_clears_escape_and_line, setup),
    cmocka_unit_test_setup(test_restart_applies_saved_settings, setup),
    cmocka_unit_test_setup(test_factory_reset, setup),
    cmocka_unit_test_setup(test_factory_reset_flash_failure, setup),
    cmocka_unit_test(test_factory_reset_to_the_profile),
    cmocka_unit_test_setup(test_detached_drops_bytes_for_the_host, setup_unstarted),
    cmocka_unit_test_setup(test_detach_drops_the_queue, setup),
    cmocka_unit_test_setup(test_attach_starts_a_new_command_line, setup),
    cmocka_unit_test_setup(test_termios_mismatch_reported_once_per_change, setup),
    cmocka_unit_test_setup(test_mismatch_without_warn_goes_to_the_log, setup),
    cmocka_unit_test_setup(test_mismatch_follows_the_running_uart, setup),
    cmocka_unit_test_setup(test_host_speed_zero_is_no_mismatch, setup),
    cmocka_unit_test_setup(test_mismatch_without_line_faults_is_harmless, setup),
    cmocka_unit_test_setup(test_line_faults_corrupt_both_ways, setup),
    cmocka_unit_test_setup(test_line_faults_break_the_handshake, setup),
    cmocka_unit_test_setup(test_host_line_data_bits_and_parity, setup),
    cmocka_unit_test_setup(test_attach_forgets_the_last_hosts_line, setup),
    cmocka_unit_test_setup(test_set_param, setup),
    cmocka_unit_test_setup(test_set_param_flash_failure, setup),
    cmocka_unit_test_setup(test_set_param_echo_applies_now, setup),
    cmocka_unit_test_setup(test_restart_needed, setup),
    cmocka_unit_test_setup(test_counters, setup),
    cmocka_unit_test_setup(test_status, setup),
    cmocka_unit_test_setup(test_link_inputs_for_unknown_ids_are_ignored, setup),
    cmocka_unit_test_setup(test_timer_is_the_earliest_deadline, setup),
    cmocka_unit_test_setup(test_late_timer_changes_nothing, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
