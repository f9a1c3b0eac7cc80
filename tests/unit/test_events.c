/* test_events.c: the event stream and the log, per device (src/board/events.c).
 *
 * The expected lines are docs/events.md's: a single unnamed device writes exactly what
 * it always did; a named one (a fleet's) carries "dev" right after "ev" on every event
 * line and "m0emu[<name>]: " on every log line. The sink's clock is a virtual one fixed
 * 200 ms after the start, so t_ms is exact; the stream and the log go to temporary files
 * read back after each call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board.h"

#define START_NS (1000 * M0_NS_PER_S)
#define READY_FIELDS "\"mode\":\"transparent\",\"proto\":\"TCPC\""
/* docs/events.md, the example line and the same event from the device bench-a. */
#define READY_UNNAMED                                                                      \
  "{\"t_ms\":200,\"ev\":\"ready\",\"mode\":\"transparent\",\"proto\":\"TCPC\"}"
#define READY_NAMED                                                                        \
  "{\"t_ms\":200,\"ev\":\"ready\",\"dev\":\"bench-a\",\"mode\":\"transparent\","          \
  "\"proto\":\"TCPC\"}"

static uint64_t virtual_now = START_NS + 200 * M0_NS_PER_MS;

static uint64_t virtual_clock(void) {
  return virtual_now;
}

struct fixture {
  char dir[64];
  char stream[96];
  struct m0__sink sink;
  char taps[2][1024]; /* last line seen by the device's tap, by the sink's tap */
};

static void device_tap(void *ctx, const char *line) {
  struct fixture *f = ctx;
  snprintf(f->taps[0], sizeof f->taps[0], "%s", line);
}

static void sink_tap(void *ctx, const char *line) {
  struct fixture *f = ctx;
  snprintf(f->taps[1], sizeof f->taps[1], "%s", line);
}

/* A sink on a fresh stream file, its log on a temporary file, at verbosity v. */
static struct fixture *open_fixture(int verbosity) {
  struct fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  snprintf(f->dir, sizeof f->dir, "/tmp/m0emu-test-events-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  snprintf(f->stream, sizeof f->stream, "%s/ev.jsonl", f->dir);
  assert_int_equal(m0__sink_open(&f->sink, f->stream, START_NS, verbosity), 0);
  f->sink.clock = virtual_clock;
  f->sink.err = tmpfile();
  assert_non_null(f->sink.err);
  return f;
}

static void close_fixture(struct fixture *f) {
  m0__sink_close(&f->sink);
  fclose(f->sink.err);
  unlink(f->stream);
  rmdir(f->dir);
  free(f);
}

/* The whole of a stream: the events file, or the log. */
static const char *read_all(FILE *in, char *buf, size_t cap) {
  rewind(in);
  size_t n = fread(buf, 1, cap - 1, in);
  buf[n] = '\0';
  return buf;
}

static const char *stream_text(struct fixture *f, char *buf, size_t cap) {
  FILE *in = fopen(f->stream, "r");
  assert_non_null(in);
  read_all(in, buf, cap);
  fclose(in);
  return buf;
}

static void unnamed_event_line_is_as_documented(void **state) {
  (void)state;
  struct fixture *f = open_fixture(0);
  struct m0__events ev;
  assert_int_equal(m0__events_attach(&ev, &f->sink, ""), 0);
  m0__events_emit(&ev, "ready", READY_FIELDS);
  char buf[2048];
  assert_string_equal(stream_text(f, buf, sizeof buf), READY_UNNAMED "\n");
  close_fixture(f);
}

static void named_event_line_carries_dev_after_ev(void **state) {
  (void)state;
  struct fixture *f = open_fixture(0);
  struct m0__events ev;
  assert_int_equal(m0__events_attach(&ev, &f->sink, "bench-a"), 0);
  m0__events_emit(&ev, "ready", READY_FIELDS);
  char buf[2048];
  assert_string_equal(stream_text(f, buf, sizeof buf), READY_NAMED "\n");
  close_fixture(f);
}

/* Two devices on one sink: each line names its own device, the unnamed one none. */
static void devices_share_the_sink_each_named(void **state) {
  (void)state;
  struct fixture *f = open_fixture(0);
  struct m0__events a, b, process;
  assert_int_equal(m0__events_attach(&a, &f->sink, "bench-a"), 0);
  assert_int_equal(m0__events_attach(&b, &f->sink, "bench-b"), 0);
  assert_int_equal(m0__events_attach(&process, &f->sink, ""), 0);
  m0__events_emit(&a, "ready", READY_FIELDS);
  m0__events_emit(&b, "restart", "\"cause\":\"sighup\"");
  m0__events_emit(&process, "ready", READY_FIELDS);
  char buf[2048];
  assert_string_equal(stream_text(f, buf, sizeof buf),
                      READY_NAMED "\n"
                      "{\"t_ms\":200,\"ev\":\"restart\",\"dev\":\"bench-b\","
                      "\"cause\":\"sighup\"}\n"
                      READY_UNNAMED "\n");
  close_fixture(f);
}

/* The device's tap (its web page) and the sink's (every device's) see the same object,
 * without the newline, also with no --events stream. */
static void taps_see_the_named_line(void **state) {
  (void)state;
  struct fixture *f = open_fixture(0);
  m0__sink_close(&f->sink); /* no stream: the taps alone */
  f->sink.tap = sink_tap;
  f->sink.tap_ctx = f;
  struct m0__events ev;
  assert_int_equal(m0__events_attach(&ev, &f->sink, "bench-a"), 0);
  ev.tap = device_tap;
  ev.tap_ctx = f;
  m0__events_emit(&ev, "ready", READY_FIELDS);
  assert_string_equal(f->taps[0], READY_NAMED);
  assert_string_equal(f->taps[1], READY_NAMED);
  close_fixture(f);
}

/* A name is written as a JSON string: a quote in it cannot break the object. */
static void name_is_escaped_in_json(void **state) {
  (void)state;
  struct fixture *f = open_fixture(0);
  struct m0__events ev;
  assert_int_equal(m0__events_attach(&ev, &f->sink, "a\"b"), 0);
  m0__events_emit(&ev, "tty.attach", "\"pts\":\"/dev/pts/3\"");
  char buf[2048];
  assert_string_equal(stream_text(f, buf, sizeof buf),
                      "{\"t_ms\":200,\"ev\":\"tty.attach\",\"dev\":\"a\\\"b\","
                      "\"pts\":\"/dev/pts/3\"}\n");
  close_fixture(f);
}

static void name_too_long_is_refused(void **state) {
  (void)state;
  struct fixture *f = open_fixture(0);
  char name[M0__DEV_NAME_MAX + 2];
  memset(name, 'x', sizeof name - 1);
  name[sizeof name - 1] = '\0';
  struct m0__events ev;
  assert_int_equal(m0__events_attach(&ev, &f->sink, name), -ENAMETOOLONG);
  name[M0__DEV_NAME_MAX] = '\0'; /* the longest that fits */
  assert_int_equal(m0__events_attach(&ev, &f->sink, name), 0);
  assert_string_equal(ev.name, name);
  close_fixture(f);
}

/* An event too long for a line becomes a whole object that still names the device. */
static void truncated_event_keeps_the_device(void **state) {
  (void)state;
  struct fixture *f = open_fixture(0);
  struct m0__events ev;
  assert_int_equal(m0__events_attach(&ev, &f->sink, "bench-a"), 0);
  size_t len = 3 * PATH_MAX;
  char *fields = malloc(len + 1);
  assert_non_null(fields);
  snprintf(fields, len + 1, "\"path\":\"");
  memset(fields + 8, 'p', len - 9);
  fields[len - 1] = '"';
  fields[len] = '\0';
  m0__events_emit(&ev, "flash.saved", fields);
  free(fields);
  char buf[2048];
  assert_string_equal(stream_text(f, buf, sizeof buf),
                      "{\"t_ms\":200,\"ev\":\"flash.saved\",\"dev\":\"bench-a\","
                      "\"truncated\":true}\n");
  close_fixture(f);
}

/* Log lines: "m0emu: " unnamed, "m0emu[name]: " named; -q keeps errors and warnings,
 * drops info; only -v writes debug, including the echo of each event. */
static void log_lines_named_and_by_level(void **state) {
  (void)state;
  static const struct {
    int verbosity;
    const char *expected;
  } cases[] = {
      {-1, "m0emu: e 1\nm0emu[bench-a]: w 2\n"},
      {0, "m0emu: e 1\nm0emu[bench-a]: w 2\nm0emu[bench-a]: i 3\n"},
      {1, "m0emu: e 1\nm0emu[bench-a]: w 2\nm0emu[bench-a]: i 3\nm0emu: d 4\n"
          "m0emu[bench-a]: event ready " READY_FIELDS "\n"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct fixture *f = open_fixture(cases[i].verbosity);
    struct m0__events process, dev;
    assert_int_equal(m0__events_attach(&process, &f->sink, ""), 0);
    assert_int_equal(m0__events_attach(&dev, &f->sink, "bench-a"), 0);
    m0__log_at(&process, M0__LOG_ERROR, "e %d", 1);
    m0__log_at(&dev, M0__LOG_WARNING, "w %d", 2);
    m0__log_at(&dev, M0__LOG_INFO, "i %d", 3);
    m0__log(&process, "d %d", 4);
    m0__events_emit(&dev, "ready", READY_FIELDS);
    char buf[2048];
    assert_string_equal(read_all(f->sink.err, buf, sizeof buf), cases[i].expected);
    close_fixture(f);
  }
}

/* -v: a reconnect refused every second for three minutes is not 540 lines. Each of the
 * cycle's lines is written 3 times a minute, the first of each new minute says how many
 * were held back, and the exit says the rest; other lines go through untouched. */
static void trace_does_not_repeat_itself_forever(void **state) {
  (void)state;
  struct fixture *f = open_fixture(1);
  struct m0__events ev;
  assert_int_equal(m0__events_attach(&ev, &f->sink, ""), 0);
  uint64_t t0 = virtual_now;
  for (unsigned i = 0; i < 180; i++) {
    virtual_now = t0 + i * M0_NS_PER_S;
    m0__log(&ev, "event net.connecting %s", "\"link\":0");
    m0__log(&ev, "link 0 down (3): %s", "connection refused");
    if (i == 100)
      m0__log(&ev, "something else");
  }
  static char buf[16384];
  read_all(f->sink.err, buf, sizeof buf);
  unsigned lines = 0, held = 0;
  for (const char *p = buf; (p = strchr(p, '\n')) != NULL; p++)
    lines++;
  for (const char *p = buf; (p = strstr(p, "link 0 down (3): connection refused")) != NULL; p++)
    held++;
  assert_int_equal(held, 9); /* 3 per minute */
  assert_int_equal(lines, 2 * 9 + 1);
  assert_non_null(strstr(buf, "m0emu: something else\n"));
  assert_non_null(strstr(buf, "m0emu: link 0 down (3): connection refused (57 more like it in "
                              "the last 60 s, not shown)\n"));
  /* The exit says what the last minute held back. */
  m0__sink_close(&f->sink);
  read_all(f->sink.err, buf, sizeof buf);
  assert_non_null(strstr(buf, "m0emu: link 0 down (3): connection refused ... (57 more like "
                              "it, not shown)\n"));
  virtual_now = t0;
  /* Without -v, nothing of it at all. */
  struct fixture *g = open_fixture(0);
  assert_int_equal(m0__events_attach(&ev, &g->sink, ""), 0);
  m0__log(&ev, "link 0 down (3): %s", "connection refused");
  assert_string_equal(read_all(g->sink.err, buf, sizeof buf), "");
  close_fixture(g);
  close_fixture(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(unnamed_event_line_is_as_documented),
      cmocka_unit_test(named_event_line_carries_dev_after_ev),
      cmocka_unit_test(devices_share_the_sink_each_named),
      cmocka_unit_test(taps_see_the_named_line),
      cmocka_unit_test(name_is_escaped_in_json),
      cmocka_unit_test(name_too_long_is_refused),
      cmocka_unit_test(truncated_event_keeps_the_device),
      cmocka_unit_test(log_lines_named_and_by_level),
      cmocka_unit_test(trace_does_not_repeat_itself_forever),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
