/* board.h: the board's private header (libuv side): CLI, events and log, flash file, pty
 * UART, the board, the process.
 *
 * One struct m0__proc is the process: one libuv loop, its signals, one event sink and
 * an array of boards. One struct m0__board is one emulated module on that loop: the
 * device core plus everything of the OS that it talks to through struct m0_hal. What is
 * per device is reached through its board, what is per loop through the process; nothing
 * assumes there is one device. The board holds no policy; it turns libuv callbacks into
 * m0_dev_on_*() inputs and HAL calls into system calls. Functions return 0 or a negative
 * errno (libuv's UV_E* are the same values).
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
#include "m0/json.h"
#include "fleet.h"
#include "links.h"
#include "timers.h"
#include "turn.h"
#include "uart.h"
#include "udp1500.h"
#include "web.h"

struct m0__control;
struct m0__uart_ctl;

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

/* What belongs to the process, whatever the number of devices: the log, the event
 * stream, the fleet, the peer map (and, later, the control channel). */
struct m0__proc_opts {
  const char *events;  /* NULL = no event stream; "-" = stdout */
  int verbosity;       /* -1 quiet, 0 normal, 1 verbose */
  const char *control; /* NULL = no control channel; else its Unix socket (control.h) */
  uint16_t control_port; /* 0 = none; else the control channel on 127.0.0.1:port too */
  const char *fleet;   /* --fleet DIR; NULL = one device (the device's cfg as given) */
  unsigned count;      /* --count N; 0 = the modules DIR already holds */
  const char *prefix;  /* --name in a fleet: the modules' names are <prefix><k> */
  char fleet_web_addr[INET6_ADDRSTRLEN]; /* --fleet-web [ADDR:]PORT (127.0.0.1) */
  uint16_t fleet_web_port;              /* 0 = no overview page */
  struct m0__peer_map peers;            /* --peer, every device's */
};

/* Most --set options one device takes (its stored parameters, each given a few times). */
#define M0__SETS_MAX 64

/* One device's configuration. Strings point into argv (or literals): they outlive the
 * process's boards. */
struct m0__dev_cfg {
  const char *name;    /* "" = the single unnamed device: its lines carry no name */
  const char *tty;     /* symlink to publish the pty slave at */
  bool no_tty;         /* --no-tty: no pty at all (tty unused); nobody is ever attached */
  const char *state;   /* state directory (flash.conf) */
  const char *bind;    /* the device's address (IPv4 or IPv6 literal): its listening
                        * sockets, and the source of its loopback connections */
  bool net_host;       /* --net host: dial real addresses; false = loopback */
  uint16_t web_port;   /* 0 = from the saved WEBPORT */
  const char *web_root; /* NULL = the embedded page */
  const char *web_hosts[M0__WEB_HOSTS_MAX]; /* --web-host names, as given */
  size_t nweb_hosts;
  enum m0_timing timing;
  enum m0_dialect dialect;
  char mac[13];        /* "" = derive from the state dir */
  bool line_faults;
  uint32_t boot_ms;
  struct m0__uart_net_cfg uart_net[M0__UART_NET_MAX]; /* --uart tcp:/rfc2217: servers */
  size_t nuart_net;
  uint16_t udp1500_port; /* the setup protocols' port: 1500; 0 = none */
  bool udp1500_broadcast; /* --udp1500-reply broadcast (--net host) */
  const char *profile; /* --profile FILE, NULL = none */
  const char *sets[M0__SETS_MAX]; /* --set NAME=VALUE, in order */
  size_t nsets;
  bool has_factory;    /* a profile or a --set was given: factory holds the result */
  struct m0_config factory; /* the factory settings (AT+RELD) when has_factory */
};

/* Parse argv into the process options and the one device's configuration (defaults
 * first). On M0__CLI_USAGE, err holds one line without the "m0emu: " prefix and without
 * a newline. Uses getopt_long (resets its state). */
enum m0__cli_result m0__cli_parse(struct m0__proc_opts *opts, struct m0__dev_cfg *dev,
                                  int argc, char **argv, char *err, size_t cap);
void m0__cli_help(FILE *out);
/* The factory MAC for a state directory: OUI D8B04C + 3 bytes of FNV-1a over its real
 * path, so the same directory always gives the same module. */
void m0__mac_derive(const char *real_state_dir, char mac[13]);

/* ---- events.c: the JSON-lines event stream and the log ---- */

/* Observer of every event line (the web page's live view): the complete JSON object,
 * without the newline. Works without --events too. */
typedef void (*m0__events_tap_fn)(void *tap_ctx, const char *json_line);
/* The sink's clock, in nanoseconds (uv_hrtime; a test gives a virtual one). */
typedef uint64_t (*m0__clock_fn)(void);

/* The -v trace's memory of recent lines (events.c): a line that comes again and again (a
 * reconnect refused every second) is written M0__LOG_BURST times per M0__LOG_WINDOW_NS,
 * then counted, and said once more with its count when the window is over. */
#define M0__LOG_REPEATS 16
#define M0__LOG_BURST 3
#define M0__LOG_WINDOW_NS (60 * M0_NS_PER_S)

struct m0__log_repeat {
  uint64_t hash;      /* of the whole line; 0 = unused slot */
  uint64_t window_ns; /* when its window began (its first line in it) */
  uint64_t used_ns;   /* last seen: the slot of the line seen longest ago is reused */
  unsigned written;   /* lines written in this window */
  unsigned long skipped; /* lines not written in this window */
  char text[160];     /* its beginning, for the summary at exit */
};

/* The process's one sink: the --events stream, the log stream and the log level. Every
 * device writes through it, so lines of a fleet interleave whole, on one clock. */
struct m0__sink {
  FILE *out;      /* NULL: no stream */
  bool own;       /* fclose at the end (not stdout) */
  FILE *err;      /* the log: stderr (a test gives a file) */
  m0__clock_fn clock;
  uint64_t start_ns; /* t_ms counts from here */
  int verbosity;  /* -1 quiet, 0 normal, 1 verbose */
  m0__events_tap_fn tap; /* every device's lines (the control channel, later); NULL = none */
  void *tap_ctx;
  struct m0__log_repeat repeats[M0__LOG_REPEATS]; /* -v only */
};

/* Longest device name a line can carry (bytes, before JSON escaping). */
#define M0__DEV_NAME_MAX 63

/* One device's handle on the sink: what uart, net, web and flash receive. With a name,
 * its event lines carry "dev":"<name>" right after "ev" and its log lines read
 * "m0emu[<name>]: "; without one (a single unnamed device), they are as they always were.
 * The process has one of its own, never named, for its own lines. */
struct m0__events {
  struct m0__sink *sink;
  char name[M0__DEV_NAME_MAX + 1]; /* "" = unnamed */
  m0__events_tap_fn tap;           /* this device's observer (its web page); NULL = none */
  void *tap_ctx;
};

/* The log's levels: errors and warnings are always written, info unless -q, debug only
 * with -v. */
enum m0__log_level {
  M0__LOG_ERROR,
  M0__LOG_WARNING,
  M0__LOG_INFO,
  M0__LOG_DEBUG,
};

/* Open the --events stream (path NULL: none; "-": stdout). On failure the sink is still
 * usable for the log. */
int m0__sink_open(struct m0__sink *s, const char *path, uint64_t start_ns, int verbosity);
void m0__sink_close(struct m0__sink *s);
/* Whole milliseconds since the sink's start (the t_ms of a line written now). */
uint64_t m0__sink_ms(const struct m0__sink *s);
/* A handle on sink for the device called name ("" = unnamed). -ENAMETOOLONG past
 * M0__DEV_NAME_MAX bytes. */
int m0__events_attach(struct m0__events *ev, struct m0__sink *sink, const char *name);
void m0__events_emit(struct m0__events *ev, const char *name, const char *fields);
/* m0__events_emit with the fields (a JSON object's body) made by printf. */
void m0__events_emitf(struct m0__events *ev, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The program's one way to stderr: one line "m0emu: ..." (or "m0emu[<name>]: ...") if
 * level passes the sink's verbosity. ev NULL (before any sink exists): unnamed, at the
 * normal verbosity. */
void m0__log_at(const struct m0__events *ev, enum m0__log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* m0__log_at at M0__LOG_DEBUG: the -v trace. */
void m0__log(const struct m0__events *ev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- flash.c: the flash file (spec §5) ---- */

enum m0__flash_origin {
  M0__FLASH_FROM_FILE,     /* flash.conf was read */
  M0__FLASH_FROM_MISSING,  /* no flash.conf: factory defaults, nothing written */
  M0__FLASH_FROM_BAD,      /* flash.conf unparseable: moved to .bad, defaults written */
};

/* The four paths are one allocation (m0__flash_free), not four PATH_MAX arrays: a
 * fleet's idle module should cost the bytes of its paths, not four pages. */
struct m0__flash {
  char *dir;
  char *path;
  char *tmp;
  char *bad;
  struct m0__events *events;
  unsigned test_delay_ms; /* M0EMU_TEST_FLASH_DELAY_MS: test only */
};

/* The outcome of an asynchronous save: 0 or a negative errno. */
typedef void (*m0__flash_done_fn)(void *arg, int rc);

/* mkdir -p with mode for the missing parts. */
int m0__mkdir_p(const char *dir, unsigned mode);
/* A module's factory settings: the built-in defaults, then the profile file at path (NULL:
 * none), then each NAME=VALUE of sets in order, all through the parameter table
 * (m0_profile_parse, m0_profile_set). On failure returns a negative errno and err holds
 * one line naming the option, the line and the reason (no "m0emu: ", no newline). */
int m0__profile_build(struct m0_config *out, const char *path, const char *const *sets,
                      size_t nsets, char *err, size_t cap);
int m0__flash_init(struct m0__flash *fl, const char *dir, struct m0__events *events);
void m0__flash_free(struct m0__flash *fl);
/* Read flash.conf into cfg (spec §5), over factory (the module's factory settings; a
 * missing line keeps its value): no file, or an unparseable one, gives factory itself.
 * Only fails (negative errno) when the file exists but cannot be read or, being
 * unparseable, cannot be set aside. */
int m0__flash_load(struct m0__flash *fl, const struct m0_config *factory,
                   struct m0_config *cfg, enum m0__flash_origin *origin);
/* Atomic write: tmp, fsync, rename, fsync dir. Emits flash.saved / flash.error. */
int m0__flash_save(struct m0__flash *fl, const char *text, size_t len);
/* The same on loop's thread pool, text copied: returns 0 and done(arg, rc) follows on
 * the loop once the file is written or not (events emitted just before), or returns the
 * negative errno at once (the write could not be queued; flash.error emitted, done is
 * not called). */
int m0__flash_save_async(struct m0__flash *fl, uv_loop_t *loop, const char *text, size_t len,
                         m0__flash_done_fn done, void *arg);

/* ---- uart_pty.c: the UART as a pty (spec §2) ---- */

struct m0__uart_watch;
struct m0__uart {
  /* What the departed hosts wrote and the device had not read when the last one closed:
   * taken from the master at that close and fed to the core, detached, before the next
   * host is attached (uart_pty.c). A Linux pty holds about 20 KiB. First, and never
   * cleared by m0__uart_open: an idle fleet module leaves these 68 KiB untouched, and
   * the fields after them share a page with the board's next members. */
  uint8_t tail[68 * 1024];
  uv_loop_t *loop;
  struct m0__uart_port port; /* its seat on the board's UART line (uart.h) */
  struct m0__events *events;
  int master;               /* non-blocking, read through master_poll */
  int slave;                /* our own, held for the process's life */
  struct m0__uart_watch *watch; /* the process's inotify: slave_path's opens and closes */
  int wd;                   /* our watch in it; -1 none */
  bool settle_due;          /* on watch->settle: a close to check against /proc */
  struct m0__uart *settle_next;
  char slave_path[64];
  bool link_made;
  uv_poll_t master_poll;
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
  size_t tail_len, tail_off; /* the tail's bytes, and how many the core has taken */
  bool termios_known;
  uint32_t host_baud;
  uint8_t host_stop_bits;
  char *link_path; /* --tty as given (malloc'd: a path's bytes, not PATH_MAX of them) */
};

/* Create the pty, hold the slave, watch it (in the process's watch), publish the
 * symlink. Does not touch the device. */
int m0__uart_open(struct m0__uart *u, uv_loop_t *loop, const char *link_path,
                  struct m0__events *events, struct m0__uart_watch *watch, char *err,
                  size_t cap);
/* For uart_watch.c: one inotify event of this pty's slave; a close seen earlier, to be
 * checked against /proc now that the queue is empty. */
void m0__uart_on_watch(struct m0__uart *u, uint32_t mask);
void m0__uart_settle(struct m0__uart *u);

/* ---- uart_watch.c: one inotify instance for every pty of the process ---- */

struct m0__uart_watch {
  uv_loop_t *loop;
  struct m0__events *events; /* the process's log */
  int fd;                    /* -1 until the first pty */
  uv_poll_t poll;
  bool poll_open;
  struct m0__uart **by_wd;   /* watch descriptor -> pty */
  size_t cap, count;
  struct m0__uart *settle;   /* ptys that saw a close since the queue was last empty */
};

void m0__uart_watch_init(struct m0__uart_watch *w, uv_loop_t *loop, struct m0__events *ev);
/* Watch path's opens and closes for u: the watch descriptor, or a negative errno. */
int m0__uart_watch_add(struct m0__uart_watch *w, struct m0__uart *u, const char *path);
void m0__uart_watch_remove(struct m0__uart_watch *w, struct m0__uart *u, int wd);
/* One read of the queue, each event handed to its pty; returns how many (0: empty). */
unsigned m0__uart_watch_read(struct m0__uart_watch *w);
/* Read until the queue is empty, then settle the ptys that saw a close. */
void m0__uart_watch_drain(struct m0__uart_watch *w);
void m0__uart_watch_settle_later(struct m0__uart_watch *w, struct m0__uart *u);
/* Close the poll handle (uv_run afterwards), then free after every pty was freed. */
void m0__uart_watch_close(struct m0__uart_watch *w);
void m0__uart_watch_free(struct m0__uart_watch *w);
/* Take a seat on line and start polling (once the line reaches the device). */
int m0__uart_start(struct m0__uart *u, struct m0__uart_line *line);
void m0__uart_rx_enable(struct m0__uart *u, bool enable);
/* Bytes the host wrote that are not read yet (FIONREAD on the master; 0 if unknown). */
size_t m0__uart_rx_pending(const struct m0__uart *u);
size_t m0__uart_write(struct m0__uart *u, const uint8_t *data, size_t len);
/* Close the libuv handles (uv_run afterwards to finish), then m0__uart_free(). */
void m0__uart_close(struct m0__uart *u);
/* Remove our symlink (only if it still points at our pty) and close the fds. */
void m0__uart_free(struct m0__uart *u);

/* ---- status.c: <state>/status.json, the module's state for scripts ---- */


struct m0__status_file {
  char *path;       /* <state>/status.json and its .tmp, malloc'd to their length (one */
  char *tmp;        /* block): a fleet's idle module touches no page for them */
  uv_timer_t timer; /* 0 ms: the write happens on the next loop turn */
  bool open;
  bool pending;
  bool warned;      /* a write failed and was reported (once) */
  char *last;       /* what the file holds (malloc'd, grown to fit) */
  size_t last_len;  /* 0: nothing written yet */
  size_t last_cap;
};

/* ---- board.c: one device on the process's loop, the HAL ---- */

struct m0__proc;

/* Laid out for a fleet's memory: the small state first, then the parts with large
 * buffers that stay untouched while idle (the web server's, the pty's path, the network
 * read buffer, the device's queues), so an idle board touches a handful of pages. */
struct m0__board {
  struct m0__proc *proc; /* the loop and the shared services */
  uv_loop_t *loop;
  struct m0__dev_cfg cfg;
  char *state_real;    /* the state folder's real path (malloc'd) */
  struct m0__lock state_lock; /* <state>/lock (a single device; a fleet has one lock) */
  struct m0__lock tty_lock;   /* <tty>.lock (the same) */
  struct m0__events events; /* this device's handle on the process's sink */
  struct m0__flash flash;
  enum m0__flash_origin flash_origin;
  bool flash_busy;     /* a save is on the thread pool */
  bool close_deferred; /* m0__board_close came meanwhile: it runs after the outcome */
  struct m0__uart_line line; /* the UART: the pty and the network servers on it */
  size_t nuart_tcp;          /* opened (each needs m0__uart_tcp_close) */
  bool web_open;
  bool net_open;
  bool uart_open;      /* a pty (not --no-tty) */
  struct m0__timer dev_timer; /* on proc->timers */
  struct m0_hal hal;
  struct m0_dev_options options;
  struct m0_config saved;
  struct m0__udp1500_sock udp1500;
  struct m0__uart_tcp uart_tcp[M0__UART_NET_MAX];
  struct m0__uart_ctl *uart_ctl; /* the UART over the control channel (uart_ctl.c); NULL
                                  * until a client uses it */
  struct m0__status_file status;
  struct m0__web web;   /* 3 KiB used, then 8 KiB untouched unless given */
  struct m0__uart uart; /* untouched with --no-tty */
  struct m0__net net;
  struct m0_dev dev;    /* its 210 KiB of buffers last */
};

/* Everything up to a running device on proc's loop: locks, state dir, flash, pty, web,
 * m0_dev_init. b must be zero-filled (calloc): only what it uses is written, so an idle
 * board's untouched pages cost nothing. On failure err holds a one-line message (exit
 * 1); m0__board_close and m0__board_free are still due. */
int m0__board_init(struct m0__board *b, struct m0__proc *proc, const struct m0__dev_cfg *cfg,
                   char *err, size_t cap);
void m0__board_banner(struct m0__board *b, FILE *out);
void m0__board_start(struct m0__board *b);
void m0__board_restart(struct m0__board *b, const char *cause);
/* Close handles (then uv_run), then m0__board_free(). */
void m0__board_close(struct m0__board *b);
void m0__board_free(struct m0__board *b);

/* status.json in the board's state directory (status.c). Init after the state directory
 * is known; changed() after anything it shows may have changed (every event of the
 * device): it is rewritten on the next loop turn if its text changed; write_now() at
 * once; close() removes the file (a clean exit) and closes the timer. */
int m0__status_init(struct m0__board *b);
void m0__status_changed(struct m0__board *b);
void m0__status_write_now(struct m0__board *b);
void m0__status_close(struct m0__board *b);
void m0__status_free(struct m0__board *b);
/* The module's status as JSON members without the braces, the one builder behind every
 * reader of it (status.json, the control channel's status and list, the web page's
 * /api/status): "dev","addr","mode" ("off" while powered off),"proto",
 * "socket_connected","link_pin","host_line","uart_mismatch","tty","web_port","restarts".
 * Each reader adds its own members around them; a field added here reaches all. */
struct m0__jbuf;
void m0__status_members(struct m0__board *b, struct m0__jbuf *out);
/* The member "counters":{...} (every counter of the core's), for the readers that show
 * traffic (not status.json: it would be rewritten with every byte). */
void m0__status_counters(struct m0__board *b, struct m0__jbuf *out);

/* ---- proc.c: the process: one loop, its signals, the sink, the boards ---- */

struct m0__proc {
  uv_loop_t loop;
  bool loop_open;
  struct m0__turn turn;  /* end-of-turn work: gathered TCP writes, web traffic records */
  struct m0__proc_opts opts;
  struct m0__fleet fleet; /* count 0: one device, not a fleet */
  struct m0__lock fleet_lock; /* DIR/fleet.lock: every module's folder and tty */
  struct m0__uart_watch uart_watch; /* every pty's host open/close */
  struct m0__timers timers; /* every device's deadline: one heap, one uv_timer */
  struct m0__fleet_web *overview; /* --fleet-web; NULL = none */
  struct m0__sink sink;
  struct m0__events log; /* the process's own lines: never named */
  uv_signal_t signals[3]; /* SIGINT, SIGTERM, SIGHUP */
  bool signals_open;
  bool stopping;
  /* The network's read buffer, shared by every board's links (links.h): one read at a
   * time per loop. */
  uint8_t net_rbuf[M0__NET_READ_MAX];
  /* Each board is allocated alone, so growing the array never moves a libuv handle. */
  struct m0__board **boards;
  size_t board_count;
  struct m0__control *control; /* the control channel (control.h); NULL = none */
  size_t board_cap;
};

/* The loop and the sink. A failure is logged (the log works even then); m0__proc_finish
 * is due either way. */
int m0__proc_init(struct m0__proc *p, const struct m0__proc_opts *opts);
/* One more device (m0__board_init on the process's loop). A failure is logged, tagged
 * with the device's name. */
int m0__proc_add(struct m0__proc *p, const struct m0__dev_cfg *cfg);
/* --fleet: plan the modules (fleet.c) and add one board per module, each from cfg with
 * its own name, folder, tty, address and MAC. A failure is logged. */
int m0__proc_add_fleet(struct m0__proc *p, const struct m0__dev_cfg *cfg);
/* Signals, banners, start every device, run until SIGINT/SIGTERM. Returns the exit code
 * (0 clean, 1 failure), its line already logged. */
int m0__proc_run(struct m0__proc *p);
/* Close every board and handle, let the loop finish, free everything. Returns code, or 1
 * if a handle was left open. */
int m0__proc_finish(struct m0__proc *p, int code);

#endif
