/* board.h: the board's private header (libuv side): CLI, events, flash file, pty UART.
 *
 * One struct m0__board is one emulated module on one libuv loop: the device core plus
 * everything of the OS that it talks to through struct m0_hal. The board holds no
 * policy; it turns libuv callbacks into m0_dev_on_*() inputs and HAL calls into system
 * calls. Functions return 0 or a negative errno (libuv's UV_E* are the same values).
 */
#ifndef M0_BOARD_H
#define M0_BOARD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <uv.h>

#include "m0/dev.h"
#include "m0/flash_text.h"
#include "net.h"
#include "web.h"

#ifndef M0EMU_VERSION
#define M0EMU_VERSION "0.0.0"
#endif

/* Factory block the board gives the device (spec §4): not settable by AT. */
#define M0__FACTORY_VER "V4017"
#define M0__FACTORY_PDTIME "2026-11-23"
/* OUI of the derived MAC: the vendor's own, so the address looks like a USR module. */
#define M0__MAC_OUI "D8B04C"

/* ---- cli.c: the command line, a pure function of argv ---- */

enum m0__cli_result {
  M0__CLI_RUN = 0,  /* options are valid: run */
  M0__CLI_HELP,     /* --help: print m0__cli_help() and exit 0 */
  M0__CLI_VERSION,  /* --version: print the version and exit 0 */
  M0__CLI_USAGE,    /* bad option or value: print the error line and exit 2 */
};

struct m0__cli {
  const char *tty;     /* symlink to publish the pty slave at */
  const char *state;   /* state directory (flash.conf) */
  const char *bind;    /* IPv4 or IPv6 literal for listening sockets */
  bool net_host;       /* --net host: dial real addresses; false = loopback */
  uint16_t web_port;   /* 0 = from the saved WEBPORT */
  const char *web_root; /* NULL = the embedded page */
  enum m0_timing timing;
  enum m0_dialect dialect;
  const char *events;  /* NULL = no event stream; "-" = stdout */
  char mac[13];        /* "" = derive from the state dir */
  bool line_faults;
  uint32_t boot_ms;
  int verbosity;       /* -1 quiet, 0 normal, 1 verbose */
};

/* Parse argv into cli (defaults first). On M0__CLI_USAGE, err holds one line without
 * the "m0emu: " prefix and without a newline. Uses getopt_long (resets its state). */
enum m0__cli_result m0__cli_parse(struct m0__cli *cli, int argc, char **argv, char *err,
                                  size_t cap);
void m0__cli_help(FILE *out);
/* The factory MAC for a state directory: OUI D8B04C + 3 bytes of FNV-1a over its real
 * path, so the same directory always gives the same module. */
void m0__mac_derive(const char *real_state_dir, char mac[13]);

/* ---- events.c: the JSON-lines event stream and the log ---- */

/* Observer of every event line (the web page's live view): the complete JSON object,
 * without the newline. Set after m0__events_open(); works without --events too. */
typedef void (*m0__events_tap_fn)(void *tap_ctx, const char *json_line);

struct m0__events {
  FILE *out;      /* NULL: no stream */
  bool own;       /* fclose at the end (not stdout) */
  uint64_t start_ns;
  int verbosity;
  m0__events_tap_fn tap;
  void *tap_ctx;
};

int m0__events_open(struct m0__events *ev, const char *path, uint64_t start_ns,
                    int verbosity);
void m0__events_emit(struct m0__events *ev, const char *name, const char *fields);
void m0__events_close(struct m0__events *ev);
/* Write s as a JSON string (with quotes) into buf; truncates safely. Returns length. */
size_t m0__json_string(char *buf, size_t cap, const char *s);
/* "m0emu: ..." to stderr when verbose (-v). */
void m0__log(const struct m0__events *ev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- flash.c: the flash file (spec §5) ---- */

enum m0__flash_origin {
  M0__FLASH_FROM_FILE,     /* flash.conf was read */
  M0__FLASH_FROM_MISSING,  /* no flash.conf: factory defaults, nothing written */
  M0__FLASH_FROM_BAD,      /* flash.conf unparseable: moved to .bad, defaults written */
};

struct m0__flash {
  char dir[PATH_MAX];
  char path[PATH_MAX];
  char tmp[PATH_MAX];
  char bad[PATH_MAX];
  struct m0__events *events;
};

/* mkdir -p with mode for the missing parts. */
int m0__mkdir_p(const char *dir, unsigned mode);
int m0__flash_init(struct m0__flash *fl, const char *dir, struct m0__events *events);
/* Read flash.conf into cfg (spec §5). Only fails (negative errno) when the file exists
 * but cannot be read or, being unparseable, cannot be set aside. */
int m0__flash_load(struct m0__flash *fl, struct m0_config *cfg,
                   enum m0__flash_origin *origin);
/* Atomic write: tmp, fsync, rename, fsync dir. Emits flash.saved / flash.error. */
int m0__flash_save(struct m0__flash *fl, const char *text, size_t len);

/* ---- uart_pty.c: the UART as a pty (spec §2) ---- */

/* Observer of the bytes the UART moves: to_host = written toward the host (only what the
 * pty accepted), else read from the host. Called before the core sees host bytes. */
typedef void (*m0__uart_tap_fn)(void *tap_ctx, bool to_host, const uint8_t *data,
                                size_t len);

struct m0__uart {
  uv_loop_t *loop;
  struct m0_dev *dev;
  struct m0__events *events;
  int master;               /* non-blocking, read through master_poll */
  int slave;                /* our own, held for the process's life */
  int inotify;              /* watches slave_path for host open/close */
  char slave_path[64];
  char link_path[PATH_MAX]; /* --tty as given */
  bool link_made;
  uv_poll_t master_poll;
  uv_poll_t inotify_poll;
  uv_timer_t termios_timer; /* 100 ms poll of the host's termios while attached */
  uv_timer_t retry_timer;   /* resumes reading after an unexpected read error */
  bool handles_open;
  int master_events;        /* UV_READABLE / UV_WRITABLE currently polled */
  bool rx_enabled;          /* the core's receive pacing */
  bool want_writable;       /* a uart_write was short */
  bool rx_paused;           /* read error backoff */
  uv_timer_t tail_timer;    /* feeds the tail once the core reads again */
  uv_work_t scan_req;       /* the /proc check after a close, on the thread pool */
  bool scan_busy, scan_again;
  int scan_result;          /* others_hold_slave(), written by the worker */
  unsigned event_gen, scan_gen; /* inotify events seen; seen when the scan started */
  unsigned opens;           /* host opens minus closes seen by inotify */
  bool attached;            /* what the core was last told (m0_dev_on_host_attach) */
  /* What the departed hosts wrote and the device had not read when the last one closed:
   * taken from the master at that close and fed to the core, detached, before the next
   * host is attached (uart_pty.c). A Linux pty holds about 20 KiB. */
  size_t tail_len, tail_off;
  uint8_t tail[68 * 1024];
  bool termios_known;
  uint32_t host_baud;
  uint8_t host_stop_bits;
  m0__uart_tap_fn tap; /* NULL = none */
  void *tap_ctx;
};

/* Create the pty, hold the slave, publish the symlink. Does not touch the device. */
int m0__uart_open(struct m0__uart *u, uv_loop_t *loop, const char *link_path,
                  struct m0__events *events, char *err, size_t cap);
/* Start polling (after m0_dev_init: callbacks reach dev). */
int m0__uart_start(struct m0__uart *u, struct m0_dev *dev);
void m0__uart_rx_enable(struct m0__uart *u, bool enable);
size_t m0__uart_write(struct m0__uart *u, const uint8_t *data, size_t len);
/* Close the libuv handles (uv_run afterwards to finish), then m0__uart_free(). */
void m0__uart_close(struct m0__uart *u);
/* Remove our symlink (only if it still points at our pty) and close the fds. */
void m0__uart_free(struct m0__uart *u);

/* ---- board.c: one device on a loop, the HAL ---- */

struct m0__board {
  uv_loop_t *loop;
  struct m0__cli cli;
  char state_real[PATH_MAX];
  struct m0__events events;
  struct m0__flash flash;
  enum m0__flash_origin flash_origin;
  struct m0__uart uart;
  struct m0__net net;
  struct m0__web web;
  bool web_open;
  bool net_open;
  uv_timer_t dev_timer;
  bool dev_timer_open;
  uint64_t dev_timer_when;
  struct m0_hal hal;
  struct m0_dev_options options;
  struct m0_config saved;
  struct m0_dev dev;
};

/* Everything up to a running device: state dir, events, flash, pty, m0_dev_init and
 * m0_dev_start. On failure err holds a one-line message (exit 1). */
int m0__board_init(struct m0__board *b, uv_loop_t *loop, const struct m0__cli *cli,
                   char *err, size_t cap);
void m0__board_banner(struct m0__board *b, FILE *out);
void m0__board_start(struct m0__board *b);
void m0__board_restart(struct m0__board *b, const char *cause);
/* Close handles (then uv_run), then m0__board_free(). */
void m0__board_close(struct m0__board *b);
void m0__board_free(struct m0__board *b);

#endif
