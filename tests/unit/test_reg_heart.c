/* test_reg_heart.c: registration bytes (spec §6.6) and heartbeat schedule (spec §6.7).
 *
 * The heartbeat runs on a virtual nanosecond clock: a simulated device loop advances time
 * to the schedule's deadline (or to the next traffic), so 30-second periods and exact
 * boundaries (fires at HEARTTM s, not at HEARTTM s - 1 ns) are checked in microseconds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/core/reg.h"
#include "../../src/core/heart.h"
#include "m0/params.h"

#define S M0_NS_PER_S

static struct m0_config config(uint8_t proto) {
  struct m0_config cfg;
  m0_config_defaults(&cfg);
  cfg.proto = proto;
  return cfg;
}

static void test_reg_bytes(void **state) {
  struct m0_config cfg = config(M0_PROTO_TCPC);
  uint8_t out[M0_HEX_BYTES_MAX];
  (void)state;
  cfg.regen = M0_REGEN_OFF;
  assert_int_equal(m0__reg_bytes(&cfg, "D8B04C000001", out), 0);
  cfg.regen = M0_REGEN_MAC;
  assert_int_equal(m0__reg_bytes(&cfg, "D8B04C000001", out), 6);
  assert_memory_equal(out, "\xD8\xB0\x4C\x00\x00\x01", 6);
  assert_int_equal(m0__reg_bytes(&cfg, "d8b04cabcdef", out), 6);
  assert_memory_equal(out, "\xD8\xB0\x4C\xAB\xCD\xEF", 6);
  static const char *const bad[] = {"", "D8B04C00000", "D8B04C0000012", "D8B04C00000G",
                                    "D8:B0:4C:00", "D8B04C 00001"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(m0__reg_bytes(&cfg, bad[i], out), M0_E_INVAL);
  assert_int_equal(m0__reg_bytes(&cfg, NULL, out), M0_E_INVAL);
  /* usr: REGUSR's decoded bytes, the factory default first. */
  cfg.regen = M0_REGEN_USR;
  assert_int_equal(m0__reg_bytes(&cfg, NULL, out), 10);
  assert_memory_equal(out, "www.usr.cn", 10);
  const struct m0_param *p = m0_param_find("REGUSR", 6);
  assert_int_equal(m0_param_set(p, &cfg, "00FF0d0A", 8), 0);
  assert_int_equal(m0__reg_bytes(&cfg, NULL, out), 4);
  assert_memory_equal(out, "\x00\xFF\r\n", 4);
  char forty[81];
  memset(forty, 'A', 80);
  forty[80] = 0;
  assert_int_equal(m0_param_set(p, &cfg, forty, 80), 0);
  assert_int_equal(m0__reg_bytes(&cfg, NULL, out), 40);
  assert_int_equal(out[39], 0xAA);
}

/* Registration applies to TCPC and UDPC only; REGTCP picks once or every frame. */
static void test_reg_modes(void **state) {
  static const struct { uint8_t proto; uint8_t len; } cases[] = {
    {M0_PROTO_TCPC, 6}, {M0_PROTO_UDPC, 6}, {M0_PROTO_TCPS, 0}, {M0_PROTO_UDPS, 0},
    {M0_PROTO_HTPC, 0},
  };
  struct m0__reg r;
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct m0_config cfg = config(cases[i].proto);
    cfg.regen = M0_REGEN_MAC;
    assert_int_equal(m0__reg_init(&r, &cfg, "D8B04C000001"), 0);
    assert_int_equal(r.len, cases[i].len);
    assert_false(r.every);
  }
  struct m0_config cfg = config(M0_PROTO_TCPC);
  assert_int_equal(m0__reg_init(&r, &cfg, "D8B04C000001"), 0); /* REGEN=off by default */
  assert_int_equal(r.len, 0);
  cfg.regen = M0_REGEN_MAC;
  assert_int_equal(m0__reg_init(&r, &cfg, "nonsense"), M0_E_INVAL);
  assert_int_equal(r.len, 0);
  cfg.regen = M0_REGEN_USR;
  cfg.regtcp = M0_REGTCP_EVERY;
  assert_int_equal(m0__reg_init(&r, &cfg, NULL), 0);
  assert_int_equal(r.len, 10);
  assert_true(r.every);
}

static void test_reg_wrap(void **state) {
  struct m0_config cfg = config(M0_PROTO_UDPC);
  struct m0__reg r;
  uint8_t out[M0__REG_WRAP_MAX], frame[M0_FRAME_MAX];
  (void)state;
  cfg.regen = M0_REGEN_USR;
  cfg.regtcp = M0_REGTCP_EVERY;
  assert_int_equal(m0__reg_init(&r, &cfg, NULL), 0);
  assert_int_equal(m0__reg_wrap(&r, (const uint8_t *)"hello", 5, out, sizeof out), 15);
  assert_memory_equal(out, "www.usr.cnhello", 15);
  assert_int_equal(m0__reg_wrap(&r, (const uint8_t *)"hello", 5, out, 15), 15);
  assert_int_equal(m0__reg_wrap(&r, (const uint8_t *)"hello", 5, out, 14), -1);
  memset(frame, 'f', sizeof frame);
  assert_int_equal(m0__reg_wrap(&r, frame, sizeof frame, out, sizeof out), 410);
  /* REGTCP=first: the frame alone (the caller sends the registration once). */
  cfg.regtcp = M0_REGTCP_FIRST;
  assert_int_equal(m0__reg_init(&r, &cfg, NULL), 0);
  assert_int_equal(m0__reg_wrap(&r, (const uint8_t *)"hello", 5, out, sizeof out), 5);
  assert_memory_equal(out, "hello", 5);
  /* Registration off: the frame alone even with every. */
  cfg.regen = M0_REGEN_OFF;
  cfg.regtcp = M0_REGTCP_EVERY;
  assert_int_equal(m0__reg_init(&r, &cfg, NULL), 0);
  assert_int_equal(m0__reg_wrap(&r, (const uint8_t *)"hi", 2, out, sizeof out), 2);
}

static struct m0__heart heart(uint8_t proto, uint8_t type, uint16_t seconds) {
  struct m0_config cfg = config(proto);
  struct m0__heart h;
  cfg.hearten = true;
  cfg.hearttp = type;
  cfg.hearttm = seconds;
  m0__heart_init(&h, &cfg);
  return h;
}

static void test_heart_targets(void **state) {
  static const struct { uint8_t proto, type, target; } cases[] = {
    {M0_PROTO_TCPC, M0_HEARTTP_NET, M0__HEART_NET},
    {M0_PROTO_UDPC, M0_HEARTTP_NET, M0__HEART_NET},
    {M0_PROTO_TCPS, M0_HEARTTP_NET, M0__HEART_NONE},
    {M0_PROTO_UDPS, M0_HEARTTP_NET, M0__HEART_NONE},
    {M0_PROTO_HTPC, M0_HEARTTP_NET, M0__HEART_NONE},
    {M0_PROTO_TCPC, M0_HEARTTP_COM, M0__HEART_UART},
    {M0_PROTO_TCPS, M0_HEARTTP_COM, M0__HEART_UART},
    {M0_PROTO_UDPS, M0_HEARTTP_COM, M0__HEART_UART},
    {M0_PROTO_HTPC, M0_HEARTTP_COM, M0__HEART_UART},
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct m0__heart h = heart(cases[i].proto, cases[i].type, 30);
    assert_int_equal(h.target, cases[i].target);
    assert_int_equal(h.len, 10);
    assert_memory_equal(h.data, "www.usr.cn", 10);
    assert_int_equal(h.period_ns, 30 * S);
    /* Stopped until started. */
    assert_false(m0__heart_due(&h, 1000 * S));
    assert_true(m0__heart_next(&h) == M0_TIME_NEVER);
    m0__heart_start(&h, 5 * S);
    if (cases[i].target == M0__HEART_NONE) {
      assert_true(m0__heart_next(&h) == M0_TIME_NEVER);
      assert_false(m0__heart_due(&h, 1000 * S));
    } else {
      assert_int_equal(m0__heart_next(&h), 35 * S);
    }
  }
  /* HEARTEN=off (the default): nothing ever. */
  struct m0_config cfg = config(M0_PROTO_TCPC);
  struct m0__heart h;
  m0__heart_init(&h, &cfg);
  assert_int_equal(h.target, M0__HEART_NONE);
  m0__heart_start(&h, 0);
  assert_false(m0__heart_due(&h, 1000000 * S));
}

/* NET: fires at exactly HEARTTM s of silence, not 1 ns earlier; every send resets it. */
static void test_heart_net_boundary(void **state) {
  struct m0__heart h = heart(M0_PROTO_TCPC, M0_HEARTTP_NET, 30);
  uint64_t t0 = 7 * S + 123;
  (void)state;
  m0__heart_start(&h, t0);
  assert_false(m0__heart_due(&h, t0 + 30 * S - 1));
  assert_true(m0__heart_due(&h, t0 + 30 * S));
  /* A frame at +10 s pushes the beat to +40 s. */
  m0__heart_on_sent(&h, t0 + 10 * S);
  assert_int_equal(m0__heart_next(&h), t0 + 40 * S);
  assert_false(m0__heart_due(&h, t0 + 40 * S - 1));
  assert_true(m0__heart_due(&h, t0 + 40 * S));
  /* The beat goes 3 ms late (a loaded board noticed late); the next one is a full period
   * after its deadline, as on the module: late timers do not make the schedule drift.
   * The beat's own send (on_sent, 3 ms late) is what beaten() corrects. */
  m0__heart_on_sent(&h, t0 + 40 * S + 3000000);
  m0__heart_beaten(&h, t0 + 40 * S, t0 + 40 * S + 3000000);
  assert_int_equal(m0__heart_next(&h), t0 + 70 * S);
  /* Over a whole period late (the host stalled): a period from now, not a burst. */
  m0__heart_on_sent(&h, t0 + 101 * S);
  m0__heart_beaten(&h, t0 + 70 * S, t0 + 101 * S);
  assert_int_equal(m0__heart_next(&h), t0 + 131 * S);
  /* Down: nothing due, sends ignored; up again: a fresh period. */
  m0__heart_stop(&h);
  assert_false(m0__heart_due(&h, t0 + 1000 * S));
  m0__heart_on_sent(&h, t0 + 100 * S);
  assert_true(m0__heart_next(&h) == M0_TIME_NEVER);
  m0__heart_start(&h, t0 + 200 * S);
  assert_int_equal(m0__heart_next(&h), t0 + 230 * S);
  /* HEARTTM=1 and 65535 scale the same way. */
  struct m0__heart one = heart(M0_PROTO_UDPC, M0_HEARTTP_NET, 1);
  m0__heart_start(&one, 0);
  assert_false(m0__heart_due(&one, S - 1));
  assert_true(m0__heart_due(&one, S));
  struct m0__heart max = heart(M0_PROTO_UDPC, M0_HEARTTP_NET, 65535);
  m0__heart_start(&max, 0);
  assert_int_equal(m0__heart_next(&max), 65535 * S);
}

/* A device loop on a virtual clock: jump to the next event (beat or traffic). */
struct sim {
  uint64_t beats[64];
  size_t nbeats;
};

static void run(struct m0__heart *h, struct sim *sim, const uint64_t *sends, size_t nsends,
                uint64_t until) {
  size_t i = 0;
  sim->nbeats = 0;
  for (;;) {
    uint64_t next_send = i < nsends ? sends[i] : M0_TIME_NEVER;
    uint64_t beat = m0__heart_next(h);
    uint64_t now = next_send < beat ? next_send : beat;
    if (now > until)
      return;
    if (m0__heart_due(h, now)) {
      assert_true(sim->nbeats < 64);
      sim->beats[sim->nbeats++] = now;
      m0__heart_beaten(h, beat, now);
    } else {
      m0__heart_on_sent(h, now);
      i++;
    }
  }
}

static void test_heart_net_idle(void **state) {
  struct m0__heart h = heart(M0_PROTO_TCPC, M0_HEARTTP_NET, 30);
  struct sim sim;
  /* Frames every 20 s up to 100 s keep it quiet; then it beats every 30 s. */
  static const uint64_t sends[] = {20 * S, 40 * S, 60 * S, 80 * S, 100 * S};
  (void)state;
  m0__heart_start(&h, 0);
  run(&h, &sim, sends, 5, 200 * S);
  assert_int_equal(sim.nbeats, 3);
  assert_int_equal(sim.beats[0], 130 * S);
  assert_int_equal(sim.beats[1], 160 * S);
  assert_int_equal(sim.beats[2], 190 * S);
  /* A frame 1 ns before the beat postpones it by a whole period. */
  static const uint64_t late[] = {30 * S - 1};
  m0__heart_start(&h, 0);
  run(&h, &sim, late, 1, 61 * S);
  assert_int_equal(sim.nbeats, 1);
  assert_int_equal(sim.beats[0], 60 * S - 1);
}

/* COM: every HEARTTM s from start, traffic or not; a late timer skips, never bursts. */
static void test_heart_com_periodic(void **state) {
  struct m0__heart h = heart(M0_PROTO_TCPS, M0_HEARTTP_COM, 30);
  struct sim sim;
  static const uint64_t sends[] = {10 * S, 29 * S, 31 * S, 59 * S, 75 * S};
  (void)state;
  m0__heart_start(&h, 0);
  run(&h, &sim, sends, 5, 120 * S);
  assert_int_equal(sim.nbeats, 4);
  for (size_t i = 0; i < 4; i++)
    assert_int_equal(sim.beats[i], (i + 1) * 30 * S);
  /* Boundary. */
  m0__heart_start(&h, 0);
  assert_false(m0__heart_due(&h, 30 * S - 1));
  assert_true(m0__heart_due(&h, 30 * S));
  /* A timer 2 ms late keeps the grid; one 95 s late skips to the next grid point. */
  m0__heart_beaten(&h, 30 * S, 30 * S + 2000000);
  assert_int_equal(m0__heart_next(&h), 60 * S);
  m0__heart_beaten(&h, 60 * S, 155 * S);
  assert_int_equal(m0__heart_next(&h), 180 * S);
  assert_false(m0__heart_due(&h, 179 * S));
  /* beaten() before the deadline changes nothing. */
  m0__heart_beaten(&h, 180 * S, 170 * S);
  assert_int_equal(m0__heart_next(&h), 180 * S);
  /* Command mode pauses it; back in transparent mode the period starts over. */
  m0__heart_stop(&h);
  assert_false(m0__heart_due(&h, 500 * S));
  m0__heart_beaten(&h, 500 * S, 500 * S);
  assert_true(m0__heart_next(&h) == M0_TIME_NEVER);
  m0__heart_start(&h, 500 * S + 7);
  assert_int_equal(m0__heart_next(&h), 530 * S + 7);
}

/* Deadlines near the end of the clock saturate instead of wrapping to the past. */
static void test_heart_saturates(void **state) {
  struct m0__heart net = heart(M0_PROTO_TCPC, M0_HEARTTP_NET, 65535);
  struct m0__heart com = heart(M0_PROTO_TCPC, M0_HEARTTP_COM, 65535);
  (void)state;
  m0__heart_start(&net, UINT64_MAX - 5);
  assert_true(m0__heart_next(&net) == M0_TIME_NEVER - 1);
  m0__heart_on_sent(&net, UINT64_MAX - 3);
  assert_true(m0__heart_next(&net) == M0_TIME_NEVER - 1);
  m0__heart_start(&com, UINT64_MAX - 70000 * S);
  assert_false(m0__heart_due(&com, UINT64_MAX - 70000 * S + 65535 * S - 1));
  m0__heart_beaten(&com, UINT64_MAX - 70000 * S + 65535 * S,
                   UINT64_MAX - 70000 * S + 65535 * S);
  assert_true(m0__heart_next(&com) == M0_TIME_NEVER - 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_reg_bytes),
    cmocka_unit_test(test_reg_modes),
    cmocka_unit_test(test_reg_wrap),
    cmocka_unit_test(test_heart_targets),
    cmocka_unit_test(test_heart_net_boundary),
    cmocka_unit_test(test_heart_net_idle),
    cmocka_unit_test(test_heart_com_periodic),
    cmocka_unit_test(test_heart_saturates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
