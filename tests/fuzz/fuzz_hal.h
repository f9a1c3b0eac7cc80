/* fuzz_hal.h: a small board for the device fuzz targets (fuzz_at, fuzz_link).
 *
 * tests/unit/fake_hal.c is not reused: it reports through cmocka's fail_msg and carries
 * about 12 MiB of recording buffers that it clears with memset on every init, which
 * alone would cap a fuzzer at a few hundred executions a second. This one records only
 * what the checks need, plays a board that keeps the HAL's contract (the timer fires at
 * or after the armed instant, reads stop while the core says so, a paused link delivers
 * at most the one read it was in, only open links report), and checks after every input
 * that the core and the board agree (the armed timer, the reading switch, the link
 * table, byte counts) on top of the core's own invariants (src/core/invariants.c). A
 * broken rule aborts with its name, which libFuzzer reports as a crash with the input.
 */
#ifndef FUZZ_HAL_H
#define FUZZ_HAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m0/dev.h"

/* The fuzzer's input, read front to back; once it is used up every read gives 0. */
struct fz_in {
  const uint8_t *p;
  size_t len, pos;
};

uint8_t fz_u8(struct fz_in *in);
uint16_t fz_u16(struct fz_in *in);
bool fz_more(const struct fz_in *in);
/* Up to n bytes of the input (fewer at its end); *out points at them. */
size_t fz_take(struct fz_in *in, size_t n, const uint8_t **out);

struct fz_link {
  bool open; /* the board has it (opened by the core, or accepted) */
  bool up;   /* connected, listening or bound */
  enum m0_link_kind kind;
  struct m0_net_addr peer;
  uint64_t backlog;  /* TCP: bytes the board still has to write */
  bool paused;       /* the core's last link_pause */
  bool read_in_flight; /* a paused link may still deliver the read it was in: once */
};

struct fz {
  struct m0_hal hal;
  struct m0_dev *dev;
  uint64_t now;
  uint64_t timer;      /* what the core armed */
  uint64_t timer_late; /* the board's timer fires this late (a millisecond tick) */
  unsigned fires;      /* timer firings during one fz_advance_to (bounded) */
  /* the pty */
  size_t room; /* bytes it can take; SIZE_MAX: the host reads as fast as we write */
  uint64_t written;
  bool rx_enabled;
  /* flash */
  int flash_result;
  bool flash_pending;  /* a save waits for its outcome (flash_done) */
  /* the network */
  int open_result;     /* what link_open returns */
  unsigned send_scale; /* a TCP send adds len * this to the board's queue (a slow peer) */
  uint64_t sent;       /* bytes the board accepted */
  struct fz_link links[M0_LINKS_MAX];
  unsigned events;
  int reporting_down; /* the link whose down report is being made, or -1 */
};

void fz_options(struct m0_dev_options *o, bool fast);
void fz_init(struct fz *f, struct m0_dev *dev, const struct m0_dev_options *o,
             const struct m0_config *saved, uint64_t start);

/* FUZZ_TRACE is set in the environment: print what happens (events, operations). */
bool fz_tracing(void);

/* Abort naming the broken rule (libFuzzer keeps the input). */
void fz_fail(const char *rule, const char *detail) __attribute__((noreturn));
/* Every check: the core's invariants and the board's view of the core. */
void fz_check(struct fz *f);

/* Move the clock to `when`, firing the timer at each armed instant on the way. */
void fz_advance_to(struct fz *f, uint64_t when);
void fz_advance(struct fz *f, uint64_t ns);

/* Host bytes, as the board reads them: nothing while the core stopped reading, at most
 * the budget it grants (obey); or regardless, as unit tests do (!obey). */
void fz_uart_rx(struct fz *f, const uint8_t *data, size_t len, bool obey);
/* The host reads (room grows, or becomes unlimited) and the pty is writable again. */
void fz_host_reads(struct fz *f, size_t n, bool unlimited);
void fz_attach(struct fz *f, bool attached);

/* Network inputs as the board makes them; each does nothing when the board could not
 * make it now (no such open link, link paused with its read already delivered, ...). */
void fz_link_up(struct fz *f, unsigned id);
void fz_link_down(struct fz *f, unsigned id, int reason);
void fz_link_rx(struct fz *f, unsigned id, const uint8_t *data, size_t len,
                const struct m0_net_addr *from);
void fz_link_accept(struct fz *f, const struct m0_net_addr *peer);
void fz_link_drain(struct fz *f, unsigned id);

/* The end of an input sequence: the host reads everything and time goes on; whatever
 * was queued for the host must reach it (nothing stays stuck without a deadline). */
void fz_finish(struct fz *f);

/* A link id chosen by sel among the open ones that match (kind mask bit 1 << kind; up:
 * 0 not up, 1 up, 2 either), or -1. */
int fz_pick_link(const struct fz *f, uint8_t sel, unsigned kinds, int up);

#endif
