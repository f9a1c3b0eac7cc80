/* fake_hal.h: a struct m0_hal that records everything, and a virtual clock.
 *
 * Tests drive one device through its public inputs and read what it did here: bytes
 * written to the "pty" (with a settable amount of room, to play a full pty), the
 * receive enable line, the armed timer, flash saves (which can be made to fail, and to
 * complete at once or when the test says), booted
 * calls, events as "name {fields}" strings, log lines, frames seen at the network seam,
 * and the network: every link call as a line of text ("open 0 tcp 192.168.0.201:8234
 * from 20108", "send 1 5", "close 2", "pause 1 on"), every send with its bytes, and per
 * link what is open and everything sent on it. Link outcomes are the test's to play:
 * fake_link_up/down/accept/rx/drain call the device's inputs at the current instant.
 * Time is virtual: fake_advance() moves it and fires the device timer exactly at each
 * armed instant on the way, so a 3 s window costs nothing and is exact to the ns.
 * Capacities are fixed (no malloc); overflowing one fails the test loudly. The steps the
 * tests share (start, boot with link 0 up, a serial frame, the drained output, frame and
 * send checks) are here too, one name each.
 */
#ifndef FAKE_HAL_H
#define FAKE_HAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m0/dev.h"

#define FAKE_OUT_MAX (1u << 20)
#define FAKE_EVENTS_MAX 512
#define FAKE_EVENT_LEN 600
#define FAKE_LOGS_MAX 32
#define FAKE_FRAMES_MAX 256
#define FAKE_WRITES_MAX 4096

struct fake_frame {
  uint64_t at;
  size_t len;
  uint8_t data[M0_FRAME_MAX];
};

#define FAKE_OPS_MAX 1024
#define FAKE_OP_LEN 96
#define FAKE_SENDS_MAX 4096
#define FAKE_SEND_KEEP 512        /* bytes of each send kept (a frame and its prefixes) */
#define FAKE_STREAM_MAX (1u << 20) /* bytes per link kept in order; beyond: counted only */

struct fake_send {
  uint64_t at;
  unsigned id;
  size_t len;
  bool has_to;
  struct m0_net_addr to;
  uint8_t data[FAKE_SEND_KEEP];
};

struct fake_link {
  bool open;                  /* opened (or accepted) and not closed or reported down */
  struct m0_link_open req;    /* the last open (accepted: kind TCP_ACCEPTED, the peer) */
  bool paused;                /* the last link_pause */
  unsigned opens, closes, pauses, resumes, sends;
  bool backlog_mode;          /* TCP sends return the bytes queued since the last drain */
  uint64_t backlog;
  uint8_t stream[FAKE_STREAM_MAX + 1]; /* NUL-terminated */
  size_t stream_len;          /* kept in stream (since open or fake_link_clear) */
  uint64_t stream_total;      /* sent since open or fake_link_clear */
};

struct fake_write {
  uint64_t at;
  size_t len; /* accepted */
};

struct fake {
  struct m0_hal hal;
  struct m0_dev *dev;
  uint64_t now;

  /* uart_write */
  uint8_t out[FAKE_OUT_MAX + 1]; /* NUL-terminated for string comparisons */
  size_t out_len;                /* since the last fake_out_clear() */
  uint64_t out_total;            /* accepted since fake_init() */
  size_t room;                   /* bytes the pty can still take; SIZE_MAX = unlimited */
  unsigned write_calls;
  unsigned writes_while_detached; /* calls while the device had no host: a contract bug */
  struct fake_write writes[FAKE_WRITES_MAX];
  unsigned nwrites; /* recorded in writes[] (stops at FAKE_WRITES_MAX) */

  /* uart_rx_enable */
  bool rx_enabled;
  unsigned rx_enable_calls, rx_disable_calls;

  /* timer_arm */
  uint64_t timer;
  unsigned timer_arms;
  /* Play a libuv board: the timer fires at the next multiple of timer_quantum (e.g. 1 ms)
   * at or after the armed instant, plus timer_late. Both 0: exactly on time. */
  uint64_t timer_quantum, timer_late;

  /* flash_save: by default the outcome (flash_result) is reported within the call, like
   * a synchronous board. flash_async: the save stays in flight (flash_pending, its text
   * kept) until the test calls fake_flash_complete(), like the libuv board. */
  int flash_result; /* the outcome reported within the call */
  bool flash_async;
  bool flash_pending;
  char flash_pending_text[M0_FLASH_MAX + 1];
  size_t flash_pending_len;
  unsigned flash_saves, flash_attempts; /* successful writes; calls */
  char flash[M0_FLASH_MAX + 1];         /* what the last successful write left */
  size_t flash_len;

  /* booted */
  unsigned booted_calls;
  struct m0_config booted_cfg;

  /* event, log */
  char events[FAKE_EVENTS_MAX][FAKE_EVENT_LEN];
  uint64_t event_at[FAKE_EVENTS_MAX];
  unsigned nevents;
  char logs[FAKE_LOGS_MAX][256];
  unsigned nlogs;
  char warns[FAKE_LOGS_MAX][256]; /* hal->warn: what the user sees without -v */
  unsigned nwarns;
  size_t rx_pending; /* what hal->uart_rx_pending answers: host bytes not read yet */

  /* link_* */
  unsigned link_calls;
  int link_open_result; /* what link_open returns (0; negative: cannot start) */
  struct fake_link links[M0_LINKS_MAX];
  char ops[FAKE_OPS_MAX][FAKE_OP_LEN];
  unsigned nops;
  struct fake_send sends[FAKE_SENDS_MAX];
  unsigned nsends; /* recorded (stops at FAKE_SENDS_MAX) */
  unsigned sends_on_closed; /* link_send on a link that is not open: a contract bug */

  /* frames through the device's frame tap */
  struct fake_frame frames[FAKE_FRAMES_MAX];
  unsigned nframes;
};

/* Default options: doc dialect, real timing, 200 ms boot, factory D8B04C000001 / V4017 /
 * 2026-11-23, no line faults. */
void fake_options(struct m0_dev_options *o);

/* Wire f to dev and initialise it with `options` and `saved` (NULL: factory defaults).
 * The clock starts at `start` ns. Does not start the device. */
void fake_init(struct fake *f, struct m0_dev *dev, const struct m0_dev_options *options,
               const struct m0_config *saved, uint64_t start);

/* fake_init + m0_dev_start + boot to transparent + host attached + everything recorded so
 * far cleared: the usual starting point of a test. */
void fake_boot(struct fake *f, struct m0_dev *dev, const struct m0_dev_options *options,
               const struct m0_config *saved);

/* Move the clock to `when` (or by `ns`), firing the device timer at each armed instant on
 * the way (the clock reads exactly that instant during the call). */
void fake_advance_to(struct fake *f, uint64_t when);
void fake_advance(struct fake *f, uint64_t ns);
/* Fire the timer until nothing is armed, at most `limit` ns from now. */
void fake_run(struct fake *f, uint64_t limit);
/* When the armed timer will fire (M0_TIME_NEVER: not armed). */
uint64_t fake_next_fire(const struct fake *f);

/* Host bytes, all at the current instant, in one m0_dev_on_uart_rx call. */
void fake_rx(struct fake *f, const char *s);
void fake_rx_bytes(struct fake *f, const void *data, size_t len);
/* Host bytes one call per byte, `gap` ns apart (the first one now). */
void fake_type(struct fake *f, const char *s, uint64_t gap);

/* What the device wrote to the host since the last clear (NUL-terminated). */
const char *fake_out(const struct fake *f);
void fake_out_clear(struct fake *f);
/* The host read n bytes from a limited pty: room grows, the device is told it may write. */
void fake_host_reads(struct fake *f, size_t n);

/* Events as "name {fields}", in order. */
const char *fake_event(const struct fake *f, unsigned i);
/* Index of the first event equal to `text`, or -1. */
int fake_find_event(const struct fake *f, const char *text);
/* How many events start with `prefix` (e.g. "drop "). */
unsigned fake_count_events(const struct fake *f, const char *prefix);
void fake_events_clear(struct fake *f);

/* Frames are recorded from fake_init() on, through the device's frame tap. */
void fake_frames_clear(struct fake *f);
/* All frames recorded, concatenated (NUL-terminated in a static buffer of the test). */
size_t fake_frames_concat(const struct fake *f, char *buf, size_t cap);

/* The save in flight (flash_async) completes now with rc (0: written, so f->flash
 * changes; negative: not written), reported to the device at the current instant. */
void fake_flash_complete(struct fake *f, int rc);

/* Clear everything recorded (output, events, frames, counts of calls, link calls and
 * sends; not the state of the links). */
void fake_clear(struct fake *f);

/* ---- the network ---- */

/* Link calls as text, in order. */
const char *fake_op(const struct fake *f, unsigned i);
int fake_find_op(const struct fake *f, const char *text);
unsigned fake_count_ops(const struct fake *f, const char *prefix);
void fake_ops_clear(struct fake *f);
/* The board's reports, at the current instant. up: the peer is the request's. */
void fake_link_up(struct fake *f, unsigned id);
void fake_link_down(struct fake *f, unsigned id, int reason);
/* A client arrives at listener listen_id; returns what the device answered. */
int fake_link_accept(struct fake *f, unsigned listen_id, const char *host, uint16_t port);
void fake_link_rx(struct fake *f, unsigned id, const void *data, size_t len);
void fake_link_rx_str(struct fake *f, unsigned id, const char *s);
/* A datagram from host:port. */
void fake_link_datagram(struct fake *f, unsigned id, const char *s, const char *host,
                        uint16_t port);
/* The board's write queue of id emptied: backlog 0, m0_dev_on_link_drained. */
void fake_link_drain(struct fake *f, unsigned id);
/* Everything sent on id since it opened, as a NUL-terminated string (binary-safe length
 * in f->links[id].stream_len). */
const char *fake_link_sent(struct fake *f, unsigned id);
void fake_link_clear(struct fake *f, unsigned id);

/* Longest a test waits for output to drain at line rate (AT+H at 600 baud: ~40 s). */
#define FAKE_DRAIN_NS (600 * M0_NS_PER_S)

/* One AT exchange in command mode: clear output, send line + "\r" in one read, let the
 * device drain at line rate (the clock moves) until its side toward the host is done
 * (reply written, restart and boot over, flash write answered; the network's own
 * deadlines, such as an unanswered dial's, do not hold it), return everything written
 * meanwhile. */
const char *fake_at(struct fake *f, const char *line);

/* Enter command mode by the handshake (idle guard respected) and clear the output. */
void fake_enter_command(struct fake *f);

/* ---- steps the tests share ---- */

/* The virtual clock's units as the tests write them. */
#define MS M0_NS_PER_MS
#define S M0_NS_PER_S

/* fake_init at `start` and m0_dev_start: the device is booting (options->boot_ns), no
 * host attached, nothing cleared; the test watches the boot itself. */
void fake_start(struct fake *f, struct m0_dev *dev, const struct m0_dev_options *options,
                const struct m0_config *saved, uint64_t start);

/* fake_boot, then link 0 reported up (TCPC connected, TCPS listening, UDP bound) and
 * everything recorded cleared: the starting point of the network tests. */
void fake_boot_link_up(struct fake *f, struct m0_dev *dev,
                       const struct m0_dev_options *options, const struct m0_config *saved);

/* SOCK=UDPC,10.0.0.7,7000: the peer of the UDP client tests. */
void fake_config_udpc(struct m0_config *cfg);

/* One serial frame from the host: the bytes in one read, then 1 ms, past the idle gap
 * that ends a frame at 115200 baud (4 characters, 0.35 ms). */
void fake_rx_frame(struct fake *f, const char *s);

/* The spec's packing interval, also the +++ idle guard: 4 characters of `bits` bits
 * (start + data + parity + stop) at `baud`, rounded up to the ns. */
uint64_t fake_packing_ns(unsigned bits, uint32_t baud);

/* What the host received, once the device wrote what it had queued (at most 1 s of
 * the clock at line rate). */
const char *fake_out_drained(struct fake *f);

/* Frame i seen at the frame tap is exactly `text`. */
void fake_assert_frame(const struct fake *f, unsigned i, const char *text);

/* Send i went on link `id` and carried exactly `text`. */
void fake_assert_send(const struct fake *f, unsigned i, unsigned id, const char *text);

#endif
