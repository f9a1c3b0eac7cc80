/* test_invariants.c: the core's invariants (src/core/invariants.c), and the bugs the
 * fuzzers found through them.
 *
 * First that the checker holds on healthy devices of every work mode, then that it names
 * the rule a corrupted device breaks (a queue length past its buffer, a wrong armed
 * deadline, a link its work mode cannot have, flow control disagreeing with the queues,
 * a stuck byte for the host), through the non-aborting m0__dev_invariant(). Then the
 * hook: in a build with M0_CHECK_INVARIANTS the next input after a corruption aborts
 * (in a child process), and in a build without it the same input runs on. Last, one
 * regression test per bug a fuzz target found, each failing before its fix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/core/core.h"
#include "fake_hal.h"

static struct fake F;
static struct m0_dev D;
static struct m0_dev_options O;
static struct m0_config C;

#define MS M0_NS_PER_MS
#define S M0_NS_PER_S

static int setup(void **state) {
  (void)state;
  fake_options(&O);
  m0_config_defaults(&C);
  return 0;
}

static const char *broken(void) { return m0__dev_invariant(&D, F.now); }

static void assert_healthy(void) {
  const char *b = broken();
  if (b != NULL)
    fail_msg("invariant %s broken on a healthy device", b);
}

/* Booted in TCPC and connected, with bytes going both ways. */
static void boot_tcpc(void) {
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  fake_rx(&F, "to the server");
  fake_link_rx_str(&F, 0, "to the host");
  fake_clear(&F);
}

/* ---- healthy devices ---- */

static void test_healthy_every_mode(void **state) {
  static const enum m0_proto protos[] = {M0_PROTO_TCPC, M0_PROTO_TCPS, M0_PROTO_UDPC,
                                         M0_PROTO_UDPS, M0_PROTO_HTPC};
  unsigned i;
  (void)state;
  for (i = 0; i < sizeof protos / sizeof protos[0]; i++) {
    setup(NULL);
    C.proto = (uint8_t)protos[i];
    fake_init(&F, &D, &O, &C, 1000 * S);
    assert_healthy(); /* not started */
    m0_dev_start(&D, F.now);
    assert_healthy(); /* booting */
    fake_advance(&F, O.boot_ns);
    m0_dev_on_host_attach(&D, F.now, true);
    assert_healthy();
    if (protos[i] == M0_PROTO_TCPS)
      assert_true(fake_link_accept(&F, 0, "10.0.0.9", 5000) == 1);
    else if (protos[i] != M0_PROTO_HTPC)
      fake_link_up(&F, 0);
    fake_rx(&F, "data");
    fake_advance(&F, 10 * MS);
    assert_healthy();
    fake_enter_command(&F);
    assert_healthy();
  }
}

/* ---- corruptions the checker must name ---- */

static void test_catches_txq_len(void **state) {
  (void)state;
  boot_tcpc();
  assert_healthy();
  D.txq.len = M0_UART_TXQ_SIZE + 1;
  assert_string_equal(broken(), "txq.bounds");
}

static void test_catches_inbox_and_line(void **state) {
  size_t frame;
  (void)state;
  boot_tcpc();
  frame = D.framer.len; /* "to the server", waiting for its idle gap */
  D.net.inbox.head = M0_NET_INBOX_SIZE;
  assert_string_equal(broken(), "inbox.bounds");
  D.net.inbox.head = 0;
  D.at.len = M0_LINE_MAX + 1;
  assert_string_equal(broken(), "at.line.bounds");
  D.at.len = 0;
  D.framer.len = M0_FRAME_MAX;
  assert_string_equal(broken(), "framer.bounds");
  D.framer.len = frame;
  assert_healthy();
}

static void test_catches_wrong_deadline(void **state) {
  (void)state;
  boot_tcpc();
  uint64_t armed;
  /* A frame is waiting for its idle gap: the timer must be armed for it (or for
   * something earlier, such as the receive budget's next chunk). */
  fake_rx(&F, "partial");
  assert_healthy();
  assert_int_not_equal(D.framer.deadline, M0_TIME_NEVER);
  armed = D.armed;
  assert_true(armed <= D.framer.deadline);
  D.armed = D.framer.deadline + 1; /* too late: the frame would wait */
  assert_string_equal(broken(), "timer.armed-earliest");
  D.armed = M0_TIME_NEVER; /* disarmed while a deadline is pending */
  assert_string_equal(broken(), "timer.armed-earliest");
  /* The right deadline, but already in the past at the end of an input: it should have
   * run during that input. */
  D.armed = armed;
  assert_healthy();
  F.now = armed;
  assert_string_equal(broken(), "timer.future");
}

static void test_catches_link_for_mode(void **state) {
  (void)state;
  boot_tcpc();
  D.net.link[3].role = M0__LINK_CLIENT; /* a TCP server's client in TCPC */
  D.net.link[3].up = true;
  assert_string_equal(broken(), "links.role-for-mode");
  D.net.link[3].role = M0__LINK_FREE;
  assert_string_equal(broken(), "links.free-blank"); /* a free id keeps nothing */
  D.net.link[3].up = false;
  assert_healthy();
  D.net.tcpc = M0__TCPC_WAITING; /* waiting with the link still there */
  assert_string_equal(broken(), "tcpc.waiting");
}

static void test_catches_too_many_clients(void **state) {
  unsigned id;
  (void)state;
  setup(NULL);
  C.proto = M0_PROTO_TCPS;
  C.maxsk = 2;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  for (id = 1; id <= 2; id++)
    assert_int_equal(fake_link_accept(&F, 0, "10.0.0.9", (uint16_t)(5000 + id)), (int)id);
  assert_healthy();
  D.net.link[3] = D.net.link[2]; /* a third client behind MAXSK's back */
  assert_string_equal(broken(), "tcps.maxsk");
}

static void test_catches_flow_disagreement(void **state) {
  (void)state;
  boot_tcpc();
  D.net.uart_held = true; /* no link is anywhere near 256 KiB behind */
  assert_string_equal(broken(), "flow.uart-held");
  D.net.uart_held = false;
  D.net.links_paused = true; /* paused with nothing waiting for the host */
  assert_string_equal(broken(), "flow.link-paused");
  D.net.link[0].paused = true;
  assert_string_equal(broken(), "flow.resume-low");
  D.net.links_paused = false;
  D.net.link[0].paused = false;
  assert_healthy();
}

static void test_catches_stuck_host_bytes(void **state) {
  (void)state;
  boot_tcpc();
  /* Bytes in the inbox while the UART queue has room, in transparent mode: nothing
   * would ever move them. */
  D.net.inbox.len = 5;
  assert_string_equal(broken(), "flow.inbox-moves");
  D.net.inbox.len = 0;
  /* Bytes queued for the host with no tx deadline and no stall. */
  D.txq.len = 3;
  D.tx_due = M0_TIME_NEVER;
  assert_string_equal(broken(), "uart.tx-progress");
}

/* ---- the hook ---- */

/* The device is corrupted, then one input arrives: with M0_CHECK_INVARIANTS the core
 * aborts at the end of it (SIGABRT), without it the input runs to the end. */
static void test_hook_aborts_when_built_in(void **state) {
  pid_t pid;
  int status;
  (void)state;
  boot_tcpc();
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    D.net.uart_held = true; /* survives the input: only flow_queued changes it */
    m0_dev_on_timer(&D, F.now);
    _exit(0);
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
#ifdef M0_CHECK_INVARIANTS
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGABRT);
#else
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
#endif
}

/* ---- bugs found by the fuzz targets ---- */

/* fuzz_link: m0_dev_uart_rx_budget() ran what was due (here the similar-RFC2217 hold of
 * a lone 0x55) but not the flow step that every other input ends with, so the released
 * byte sat in the inbox with no timer armed, until some unrelated input came. */
static void test_budget_moves_released_bytes(void **state) {
  (void)state;
  setup(NULL);
  C.rfcen = true;
  fake_boot(&F, &D, &O, &C);
  fake_link_up(&F, 0);
  fake_link_rx(&F, 0, "\x55", 1); /* may be a packet's start: held for 50 ms */
  assert_string_equal(fake_out(&F), "");
  /* The board asks for its budget after the hold expired, before its timer fired. */
  F.now += 60 * MS;
  (void)m0_dev_uart_rx_budget(&D, F.now);
  assert_healthy();
  fake_run(&F, 10 * S);
  assert_string_equal(fake_out(&F), "\x55");
}

/* fuzz_link: an input about a link id is made by the board before the core, catching up
 * on what was due, closes that link and opens a new one on the same id (HTPC: the 10 s
 * timeout gives the request up and the next frame dials at once on link 0). The report
 * was about the old connection, and was applied to the new one: the new request was
 * dropped as refused while the board kept dialling it. */
static void test_stale_link_report_ignored(void **state) {
  uint64_t dialled;
  (void)state;
  setup(NULL);
  C.proto = M0_PROTO_HTPC;
  fake_boot(&F, &D, &O, &C);
  fake_rx(&F, "one");
  fake_advance(&F, 10 * MS); /* the frame ends: its request dials link 0 */
  assert_true(F.links[0].open);
  dialled = F.now;
  fake_rx(&F, "two");
  fake_advance(&F, 10 * MS); /* waits for the first request */
  fake_events_clear(&F);
  /* The server refuses the first connection just after the timeout was due, before the
   * board's timer fired. */
  F.now = dialled + 10 * S + MS;
  m0_dev_on_link_down(&D, F.now, 0, M0_DOWN_REFUSED);
  assert_healthy();
  /* The timeout gave "one" up and "two" is dialling on link 0: the refusal was about
   * the old connection, not this one. */
  assert_true(fake_find_event(&F, "http.error {\"link\":0,\"reason\":\"timeout\","
                                  "\"code\":\"\"}") >= 0);
  assert_int_equal(fake_count_events(&F, "http.error"), 1);
  assert_int_equal(D.net.link[0].role, M0__LINK_HTTP);
  assert_true(D.net.http_busy);
  assert_true(F.links[0].open);
  fake_link_up(&F, 0);
  assert_true(strstr(fake_link_sent(&F, 0), "two") != NULL);
}


/* The faults' own rules (fault.c): each caught, then healthy again. */
static void test_catches_fault_state(void **state) {
  (void)state;
  boot_tcpc();
  /* Healthy in every fault, one at a time. */
  m0_dev_fault_cable(&D, F.now, false, 0, 0);
  fake_rx_frame(&F, "held");
  assert_healthy();
  D.bufs.fault_rec[D.fault.txq.rhead].len++; /* the records no longer tile the bytes */
  assert_string_equal(broken(), "fault.held.records");
  D.bufs.fault_rec[D.fault.txq.rhead].len--;
  m0_dev_fault_cable(&D, F.now, true, 0, 0);
  assert_healthy();
  uint64_t armed = D.armed;
  D.fault.dial_until[5] = F.now + S; /* a dial into the void with the cable in (the timer */
  D.armed = armed < F.now + S ? armed : F.now + S; /* armed for it, so only this rule) */
  assert_string_equal(broken(), "fault.dial-void");
  D.fault.dial_until[5] = M0_TIME_NEVER;
  D.armed = armed;
  D.fault.orphans = 1; /* silent connections while the power is on */
  assert_string_equal(broken(), "fault.orphans-while-off");
  D.fault.orphans = 0;
  D.fault.inbox_in += 3; /* the marks' count and the inbox disagree */
  assert_string_equal(broken(), "fault.inbox-count");
  D.fault.inbox_in -= 3;
  D.fault.hang_until = F.now + S; /* a hang's end without a hang */
  assert_string_equal(broken(), "fault.hang-until");
  D.fault.hang_until = M0_TIME_NEVER;
  assert_healthy();
  m0_dev_fault_hang(&D, F.now, S);
  assert_healthy();
  fake_advance(&F, 2 * S);
  assert_healthy();
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_healthy_every_mode, setup),
    cmocka_unit_test_setup(test_catches_txq_len, setup),
    cmocka_unit_test_setup(test_catches_inbox_and_line, setup),
    cmocka_unit_test_setup(test_catches_wrong_deadline, setup),
    cmocka_unit_test_setup(test_catches_link_for_mode, setup),
    cmocka_unit_test_setup(test_catches_too_many_clients, setup),
    cmocka_unit_test_setup(test_catches_flow_disagreement, setup),
    cmocka_unit_test_setup(test_catches_stuck_host_bytes, setup),
    cmocka_unit_test_setup(test_hook_aborts_when_built_in, setup),
    cmocka_unit_test_setup(test_budget_moves_released_bytes, setup),
    cmocka_unit_test_setup(test_stale_link_report_ignored, setup),
    cmocka_unit_test_setup(test_catches_fault_state, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
