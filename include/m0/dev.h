/* dev.h: one emulated USR-M0, the firmware core's public face.
 *
 * The core is a pure state machine: the board feeds it inputs through m0_dev_on_*()
 * with the current monotonic time in nanoseconds (the core never reads a clock), and
 * the core acts only through the output table struct m0_hal. No globals, no malloc:
 * one struct m0_dev is one device, and a process may run many.
 */
#ifndef M0_DEV_H
#define M0_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m0/net.h"
#include "m0/params.h"

#define M0_NS_PER_MS 1000000ull
#define M0_NS_PER_S 1000000000ull
#define M0_TIME_NEVER UINT64_MAX

/* The outcome of a save asked for from outside the serial port: 0 (saved; what applies
 * at once already runs) or M0_E_FLASH (flash refused it: nothing changed). */
typedef void (*m0_dev_saved_fn)(void *arg, int rc);

/* Outputs of the core. Every callback gets the ctx given to m0_dev_init(). */
struct m0_hal {
  /* Write bytes toward the host (the pty). Returns how many were accepted (0..len).
   * The core keeps the rest queued and tries again after m0_dev_on_uart_writable().
   * Only called while a host is attached. */
  size_t (*uart_write)(void *ctx, const uint8_t *data, size_t len);
  /* Stop (false) or resume (true) reading host bytes: the core's receive pacing.
   * While stopped, the pty's own buffer back-pressures the host like a real line. */
  void (*uart_rx_enable)(void *ctx, bool enable);
  /* How many bytes the host has written that the board has not read yet (0 when none or
   * unknown). Bytes waiting mean the line is not idle, however late the board gets to
   * them on a busy machine: a frame does not end then. May be NULL (never waiting). */
  size_t (*uart_rx_pending)(void *ctx);
  /* Arm the device's single timer for absolute time when_ns, replacing any earlier
   * arming; M0_TIME_NEVER disarms. The board calls m0_dev_on_timer() at or after it. */
  void (*timer_arm)(void *ctx, uint64_t when_ns);
  /* Persist the saved configuration: text is a complete flash file (flash_text.h),
   * valid only during the call (the board copies it). The outcome comes back through
   * m0_dev_on_flash_saved(): 0, or a negative value if the file could not be written
   * (then nothing changed). The board may report it within this call (a board that
   * writes synchronously, or one that cannot even start the write) or later, from its
   * loop, once the write is done; the core has at most one save in flight and never
   * calls this again before the outcome. */
  void (*flash_save)(void *ctx, const char *text, size_t len);
  /* The device finished booting with this running configuration (first start and
   * every restart): the board re-reads what it owns, such as the web port. */
  void (*booted)(void *ctx, const struct m0_config *running);
  /* A state change for the event stream. name is one of the names in docs/events.md;
   * fields is either "" or a JSON object body without braces, e.g. "\"baud\":9600". */
  void (*event)(void *ctx, const char *name, const char *fields);
  /* A human-readable log line (no newline), for the board's stderr at -v. May be NULL. */
  void (*log)(void *ctx, const char *message);
  /* A line the user must see without -v (no newline): what the host program does wrong
   * and would otherwise only see as garbage, such as a line speed that differs from
   * AT+UART. Said once per change. May be NULL: then it goes to log. */
  void (*warn)(void *ctx, const char *message);

  /* Network (net.h). Open link id as described; the outcome comes back later through
   * m0_dev_on_link_up() or m0_dev_on_link_down(). Returns 0, or a negative value when
   * it cannot even start (the core treats it as an immediate M0_DOWN_REFUSED). */
  int (*link_open)(void *ctx, unsigned id, const struct m0_link_open *request);
  /* Send on an open link. TCP: the board queues every byte (never drops) and returns
   * how many bytes are now waiting in its write queue, so the core can stop reading the
   * UART while a peer is slow; it calls m0_dev_on_link_drained() when the queue empties.
   * UDP: one datagram to `to` (NULL: the link's peer); returns 0. Negative on error. */
  long (*link_send)(void *ctx, unsigned id, const uint8_t *data, size_t len,
                    const struct m0_net_addr *to);
  /* Close a link (any kind). No m0_dev_on_link_down() follows for it. */
  void (*link_close)(void *ctx, unsigned id);
  /* Stop (true) or resume (false) reading a link: back-pressure when the UART queue is
   * full, so TCP peers are slowed down instead of data being dropped. */
  void (*link_pause)(void *ctx, unsigned id, bool paused);
  /* Close a TCP link with a reset (RST), bytes still queued for it lost: what the peer of
   * a stack that forgot the connection meets (power back after a cut, a watchdog restart,
   * a cable back after a long pull, a reset fault; fault.h). No m0_dev_on_link_down()
   * follows; an id the board no longer holds is ignored. May be NULL (then link_close). */
  void (*link_abort)(void *ctx, unsigned id);

  /* UDP 1500 (udp1500.h): send one reply datagram to `to` from the device's UDP 1500
   * socket. May be NULL: the device then answers nothing. */
  void (*udp1500_send)(void *ctx, const uint8_t *data, size_t len,
                       const struct m0_net_addr *to);
};

enum m0_timing { M0_TIMING_REAL, M0_TIMING_FAST };

/* The factory block (spec §4): not settable by AT. */
struct m0_factory {
  char mac[13];    /* 12 upper-case hex digits */
  char ver[16];    /* e.g. "V4017" */
  char pdtime[32]; /* e.g. "2026-11-23" */
};

struct m0_dev_options {
  struct m0_factory factory;
  enum m0_dialect dialect;
  enum m0_timing timing;
  uint64_t boot_ns;  /* restart duration, default 200 ms */
  bool line_faults;  /* corrupt bytes while the host's termios mismatches AT+UART */
  /* The module's factory settings, what AT+RELD and the web page's factory reset restore
   * (a profile: flash_text.h). NULL: the built-in defaults, m0_config_defaults(). Copied
   * by m0_dev_init. */
  const struct m0_config *factory_settings;
};

enum m0_mode { M0_MODE_BOOTING, M0_MODE_TRANSPARENT, M0_MODE_COMMAND };

/* Counters for status pages and tests. */
struct m0_counters {
  uint64_t uart_rx;       /* bytes taken from the host */
  uint64_t uart_tx;       /* bytes written to the host */
  uint64_t uart_tx_dropped; /* bytes for the host dropped (no host attached, queue full) */
  uint64_t uart_rx_dropped; /* host bytes dropped (while booting) */
  uint64_t net_tx_dropped;  /* serial data that had nowhere to go */
  uint64_t net_rx_dropped;  /* network data the device ignored (UDPC: not from its peer) */
  uint64_t net_tx;          /* bytes sent on every link since start (links come and go) */
  uint64_t net_rx;          /* bytes received on every link since start */
  uint64_t restarts;
};

/* Size of the queue of bytes waiting for the host (replies, network data). */
#define M0_UART_TXQ_SIZE 65536
#define M0_LINE_MAX 256
#define M0_FRAME_MAX 400

#include "m0/fault.h"        /* faults on demand: power, cable, hang, noise, impairment */
#include "m0/dev_internal.h" /* struct m0_dev's members; read through the functions below */

/* Prepare a device. saved is the configuration loaded from flash (or defaults). Does not
 * start it: call m0_dev_start(). Writes the device's state and never its buffers
 * (dev_internal.h), so a device in zeroed, untouched memory (calloc) costs only the
 * pages it uses. */
void m0_dev_init(struct m0_dev *dev, const struct m0_hal *hal, void *ctx,
                 const struct m0_dev_options *options, const struct m0_config *saved);

/* Power on: begins a boot of options.boot_ns, then transparent mode. */
void m0_dev_start(struct m0_dev *dev, uint64_t now);

/* Restart like AT+Z from outside (SIGHUP, web page). cause goes into the event. While
 * a save is in flight the restart waits for its outcome, then happens at once. */
void m0_dev_restart(struct m0_dev *dev, uint64_t now, const char *cause);

/* Restore factory settings (options.factory_settings), save them and restart, like AT+RELD
 * without the reply (the
 * web page's Factory Reset); the restart follows a successful write. Refused (logged,
 * nothing changed) while another save is in flight. */
void m0_dev_factory_reset(struct m0_dev *dev, uint64_t now);

/* How many host bytes the board may read now (receive pacing; SIZE_MAX in fast timing).
 * When it is 0 the core has already called uart_rx_enable(false) and will re-enable. */
size_t m0_dev_uart_rx_budget(struct m0_dev *dev, uint64_t now);

/* Bytes read from the host. */
void m0_dev_on_uart_rx(struct m0_dev *dev, uint64_t now, const uint8_t *data, size_t len);

/* The pty can take more bytes after a short uart_write. */
void m0_dev_on_uart_writable(struct m0_dev *dev, uint64_t now);

/* A host opened (true) or last host closed (false) the UART (the tty, or a network
 * client of the board's UART server). An attach forgets the line settings of any host
 * before: until its front end reports the new host's, there is no mismatch. */
void m0_dev_on_host_attach(struct m0_dev *dev, uint64_t now, bool attached);

/* The host's line settings read from the pty (speed and stop bits only: Linux forces
 * 8 data bits and no parity on a pty). */
void m0_dev_on_host_termios(struct m0_dev *dev, uint64_t now, uint32_t baud,
                            uint8_t stop_bits);

/* The host's whole line, from a front end that knows it (an RFC 2217 client's requests):
 * like m0_dev_on_host_termios(), and data bits (5-8) and parity (enum m0_parity) must
 * match AT+UART too. */
void m0_dev_on_host_line(struct m0_dev *dev, uint64_t now, uint32_t baud, uint8_t data_bits,
                         uint8_t stop_bits, uint8_t parity);

/* Network inputs (net.h). A dialled TCP link connected. */
void m0_dev_on_link_up(struct m0_dev *dev, uint64_t now, unsigned id,
                       const struct m0_net_addr *peer);
/* A client connected to listening link listen_id. Returns the id the core gives the new
 * link, or -1 when the device refuses it (the board then closes the connection). */
int m0_dev_on_link_accept(struct m0_dev *dev, uint64_t now, unsigned listen_id,
                          const struct m0_net_addr *peer);
/* Bytes (TCP) or one datagram (UDP, from = its source) arrived on a link. */
void m0_dev_on_link_rx(struct m0_dev *dev, uint64_t now, unsigned id, const uint8_t *data,
                       size_t len, const struct m0_net_addr *from);
/* A link failed to open, or went down; reason is an enum m0_link_down. */
void m0_dev_on_link_down(struct m0_dev *dev, uint64_t now, unsigned id, int reason);
/* The board's write queue of a TCP link is empty again. */
void m0_dev_on_link_drained(struct m0_dev *dev, uint64_t now, unsigned id);

/* The device timer fired. */
void m0_dev_on_timer(struct m0_dev *dev, uint64_t now);

/* The outcome of the save in flight (hal->flash_save): rc 0 (written) or negative (not
 * written). On success the saved configuration becomes what was written; either way the
 * one who asked is answered now: AT's +ok / +ERR=-5 (or AT+RELD's rebooting...), the
 * web page's callback, and the host bytes that waited meanwhile are read on. Ignored
 * (logged) when no save is in flight. */
void m0_dev_on_flash_saved(struct m0_dev *dev, uint64_t now, int rc);

/* An edit of the stored parameters from outside the serial port (the web page's form),
 * through the same table and flash path as AT, written to flash once for all its
 * parameters. Begin it (a copy of the saved configuration), set parameters one by one
 * (each validated on the copy as changed by the ones before; a refused one leaves the
 * copy as it was), then save. */
void m0_dev_edit_begin(struct m0_dev *dev);
/* Returns 0 (taken into the edit) or an M0_E_* code (left out). */
int m0_dev_edit_set(struct m0_dev *dev, const char *name, const char *value);
/* Save the edit: 0 when nothing was taken (nothing written) or it is saved, M0_E_FLASH
 * when flash refused it or M0_E_BUSY when another save is in flight (nothing changed), or
 * M0_PENDING: the write is under way and done(arg, rc) gives the outcome later, from
 * m0_dev_on_flash_saved() (done may be NULL: nobody is told). done is called only after
 * M0_PENDING. */
int m0_dev_edit_save(struct m0_dev *dev, uint64_t now, m0_dev_saved_fn done, void *arg);

/* One parameter as an edit of its own, outcome untold if it is M0_PENDING. Returns 0,
 * an M0_E_* code or M0_PENDING. */
int m0_dev_set_param(struct m0_dev *dev, uint64_t now, const char *name, const char *value);

/* True while a save is in flight (its outcome not reported yet). */
bool m0_dev_saving(const struct m0_dev *dev);

const struct m0_config *m0_dev_saved(const struct m0_dev *dev);
const struct m0_config *m0_dev_running(const struct m0_dev *dev);
/* The module's factory settings: what AT+RELD and a factory reset restore (the built-in
 * defaults, or the profile of options.factory_settings). */
const struct m0_config *m0_dev_factory_settings(const struct m0_dev *dev);

/* True when some setting that applies at restart was saved with a value other than the
 * one the device booted with: a restart would apply it. What changed only the running
 * configuration (a similar-RFC2217 packet's UART) is not one: a restart would undo it,
 * not apply anything saved. */
bool m0_dev_restart_needed(const struct m0_dev *dev);
enum m0_mode m0_dev_mode(const struct m0_dev *dev);
/* The mode as every JSON answer spells it: "booting", "transparent", "command". */
const char *m0_mode_name(enum m0_mode mode);
const struct m0_counters *m0_dev_counters(const struct m0_dev *dev);

/* Everything a status page shows that is not configuration. */
struct m0_status {
  enum m0_mode mode;     /* BOOTING also while the power is off (m0_dev_powered) */
  bool socket_connected; /* what AT+SOCKLK answers */
  bool link_pin;         /* the link pin: socket state with SCSLINK=on, else Ethernet (up) */
  unsigned nlinks;
  struct m0_link_status links[M0_LINKS_MAX];
  struct m0_counters counters;
  /* The host's side of the UART as the device sees it: the host's line as read from the
   * pty or set by an RFC 2217 client (speed 0: it set none), and whether it differs from
   * the running AT+UART (what uart.mismatch reports). */
  bool host_attached;
  bool host_line_known;    /* a host's line settings were read at least once */
  uint32_t host_baud;      /* 0: the host set no speed (B0) */
  uint8_t host_stop;
  bool uart_mismatch;      /* those differ from the running AT+UART */
  bool saving;             /* a flash write is in flight */
  bool restart_pending;    /* AT+Z / AT+RELD answered, the restart is due */
};
void m0_dev_status(const struct m0_dev *dev, struct m0_status *out);

#endif
