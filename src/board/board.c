/* board.c: one emulated module on the process's loop: the HAL the core acts through.
 *
 * Everything per device is here (its core, pty, links, web page, flash folder, timer and
 * its handle on the event sink, which names it); everything per loop is the process's
 * (proc.c), reached through b->proc, so any number of boards can share one loop.
 * Each HAL output becomes one system action (pty write, timer, flash file, event line);
 * the flash file is written on the thread pool and its outcome is one more input.
 * each libuv callback becomes one m0_dev_on_*() input with uv_hrtime() as the clock.
 * The device has a single timer, one entry of the process's heap of deadlines
 * (timers.c: one uv_timer for all, never firing before a deadline). No policy here: what
 * to do and when is the core's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <arpa/inet.h>

#include "board.h"
#include "control.h"

static struct m0__board *board_of(void *ctx) {
  return ctx;
}

/* The UART's outputs go to the line, which knows whose host (pty or network) has it;
 * once a control client used the UART, through uart_ctl.c, which copies them to its
 * subscribers (and may hold the device back for one). */
static size_t hal_uart_write(void *ctx, const uint8_t *data, size_t len) {
  struct m0__board *b = board_of(ctx);
  if (b->uart_ctl != NULL)
    return m0__uart_ctl_to_host(b, data, len);
  return m0__uart_line_write(&b->line, data, len);
}

static void hal_uart_rx_enable(void *ctx, bool enable) {
  struct m0__board *b = board_of(ctx);
  m0__uart_line_rx_enable(&b->line, enable);
  if (b->uart_ctl != NULL)
    m0__uart_ctl_rx_enable(b, enable);
}

static size_t hal_uart_rx_pending(void *ctx) {
  struct m0__board *b = board_of(ctx);
  /* --no-tty: no pty to ask (its zeroed master would be fd 0, the process's stdin). */
  return b->uart_open ? m0__uart_rx_pending(&b->uart) : 0;
}

/* The device's one deadline, on the process's heap of deadlines (timers.c): fired at
 * or after it, never before. */
static void hal_timer_arm(void *ctx, uint64_t when_ns) {
  struct m0__board *b = board_of(ctx);
  if (m0__timers_arm(&b->proc->timers, &b->dev_timer, when_ns) != 0)
    m0__log_at(&b->events, M0__LOG_ERROR, "out of memory for the device's timer");
}

static void on_dev_timer(struct m0__timer *t, uint64_t now) {
  struct m0__board *b = t->data;
  m0_dev_on_timer(&b->dev, now);
  /* What a deadline sent (a heartbeat, a frame its timeout cut) leaves now, not at the
   * end of the turn: a fleet's modules fall due together, a thousand in one wake-up, and
   * every beat's write would wait for all 1,000 modules' core work and event lines
   * (4-5 ms, docs/performance.md). Still one write per link for all this call sent. */
  if (b->net.flush_job.armed)
    m0__net_flush_all(&b->net);
}

static void on_flash_saved(void *arg, int rc) {
  struct m0__board *b = arg;
  b->flash_busy = false;
  m0_dev_on_flash_saved(&b->dev, uv_hrtime(), rc);
  if (b->close_deferred && !b->flash_busy) {
    b->close_deferred = false;
    m0__board_close(b);
  }
}

/* Off the loop: the fsyncs run on the thread pool and the device hears the outcome
 * later (it holds its AT reply and command-mode input until then). */
static void hal_flash_save(void *ctx, const char *text, size_t len) {
  struct m0__board *b = board_of(ctx);
  int rc = m0__flash_save_async(&b->flash, b->loop, text, len, on_flash_saved, b);
  if (rc != 0) {
    m0_dev_on_flash_saved(&b->dev, uv_hrtime(), rc); /* within the call: allowed */
    return;
  }
  b->flash_busy = true;
}

static void hal_booted(void *ctx, const struct m0_config *running) {
  struct m0__board *b = board_of(ctx);
  m0__log(&b->events, "booted (WEBPORT %u)", (unsigned)running->webport);
  if (b->web_open) /* follows WEBPORT; a no-op when the port did not change */
    m0__web_listen(&b->web, b->cfg.web_port ? b->cfg.web_port : running->webport);
}

static void hal_event(void *ctx, const char *name, const char *fields) {
  struct m0__board *b = board_of(ctx);
  if (strcmp(name, "ready") == 0) {
    /* The device's address: a fleet's scripts learn each module's from its ready. */
    char with_addr[512];
    snprintf(with_addr, sizeof with_addr, "%s%s\"addr\":\"%s\"", fields,
             fields[0] ? "," : "", b->cfg.bind);
    m0__events_emit(&b->events, name, with_addr);
    return;
  }
  m0__events_emit(&b->events, name, fields);
}

static void hal_log(void *ctx, const char *message) {
  m0__log(&board_of(ctx)->events, "%s", message);
}

static void hal_warn(void *ctx, const char *message) {
  m0__log_at(&board_of(ctx)->events, M0__LOG_WARNING, "%s", message);
}

static int hal_link_open(void *ctx, unsigned id, const struct m0_link_open *request) {
  return m0__net_link_open(&board_of(ctx)->net, id, request);
}

static long hal_link_send(void *ctx, unsigned id, const uint8_t *data, size_t len,
                          const struct m0_net_addr *to) {
  return m0__net_link_send(&board_of(ctx)->net, id, data, len, to);
}

static void hal_link_close(void *ctx, unsigned id) {
  m0__net_link_close(&board_of(ctx)->net, id);
}

static void hal_link_pause(void *ctx, unsigned id, bool paused) {
  m0__net_link_pause(&board_of(ctx)->net, id, paused);
}

static void hal_link_abort(void *ctx, unsigned id) {
  m0__net_link_abort(&board_of(ctx)->net, id);
}

static void hal_udp1500_send(void *ctx, const uint8_t *data, size_t len,
                             const struct m0_net_addr *to) {
  m0__udp1500_send(&board_of(ctx)->udp1500, data, len, to);
}

static uint64_t board_ms(const struct m0__board *b) {
  return m0__sink_ms(b->events.sink);
}

/* An event that never changes what status.json says, and comes often: a heartbeat, a
 * thousand a second in a fleet, each of which otherwise started a timer and formatted
 * the file's text again to find it unchanged. The line is {"t_ms":N,"ev":"<name>"... */
static bool status_unchanged_by(const char *line) {
  static const char heart[] = ",\"ev\":\"heart.sent\"";
  const char *ev = strchr(line, ',');
  return ev != NULL && strncmp(ev, heart, sizeof heart - 1) == 0;
}

/* Every event line of the device: its web page's live view, and status.json. */
static void web_event_tap(void *ctx, const char *line) {
  m0__web_event(&board_of(ctx)->web, line);
  if (!status_unchanged_by(line))
    m0__status_changed(board_of(ctx));
}

static void web_uart_tap(void *ctx, bool to_host, const uint8_t *data, size_t len) {
  struct m0__board *b = board_of(ctx);
  m0__web_traffic(&b->web, to_host ? "uart_out" : "uart_in", 0, data, len, board_ms(b));
}

static void web_net_tap(void *ctx, unsigned id, bool to_network, const uint8_t *data,
                        size_t len) {
  struct m0__board *b = board_of(ctx);
  m0__web_traffic(&b->web, to_network ? "net_out" : "net_in", id, data, len, board_ms(b));
}

static int fail(char *err, size_t cap, int rc, const char *fmt, const char *arg) {
  int n = snprintf(err, cap, fmt, arg);
  if (n >= 0 && (size_t)n < cap)
    snprintf(err + n, cap - (size_t)n, ": %s", strerror(-rc));
  return rc;
}

/* A lock file beside what it protects (m0__lock_use: refused naming a live holder, a
 * dead one's taken over). A module of a fleet has none of its own: the fleet holds one
 * for all (proc.c). A single device also makes sure that neither its folder nor its tty
 * is a module of a live fleet. */
static int take_locks(struct m0__board *b, char *err, size_t cap) {
  char path[PATH_MAX + 16], what[PATH_MAX + 32];
  if (b->proc->fleet.count > 0)
    return 0;
  snprintf(path, sizeof path, "%s/lock", b->state_real);
  snprintf(what, sizeof what, "the state folder %s", b->state_real);
  int rc = m0__lock_use(&b->events, &b->state_lock, path, what, NULL, err, cap);
  if (rc == 0)
    rc = m0__fleet_probe(b->state_real, what, err, cap);
  if (rc != 0 || b->cfg.no_tty)
    return rc;
  if (strlen(b->cfg.tty) >= PATH_MAX)
    return fail(err, cap, -ENAMETOOLONG, "--tty %s", b->cfg.tty);
  snprintf(path, sizeof path, "%s.lock", b->cfg.tty);
  snprintf(what, sizeof what, "the tty link %s", b->cfg.tty);
  rc = m0__lock_use(&b->events, &b->tty_lock, path, what, NULL, err, cap);
  /* A fleet module's link is <module folder>/tty. */
  const char *slash = strrchr(b->cfg.tty, '/');
  if (rc == 0 && strcmp(slash ? slash + 1 : b->cfg.tty, "tty") == 0) {
    snprintf(path, sizeof path, "%.*s", slash ? (int)(slash - b->cfg.tty) : 1,
             slash ? b->cfg.tty : ".");
    char *folder = realpath(path[0] ? path : "/", NULL);
    if (folder != NULL)
      rc = m0__fleet_probe(folder, what, err, cap);
    free(folder);
  }
  return rc;
}

/* Loopback connections leave from the device's own address when it has one of its own
 * (a fleet's module, --bind 127.x.y.z), so a server sees each module as its own peer;
 * 127.0.0.1, a wildcard or a real address keep the kernel's choice, as before. */
static bool own_loopback_address(const char *bind) {
  struct in_addr a;
  return inet_pton(AF_INET, bind, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127 &&
         ntohl(a.s_addr) != 0x7F000001u;
}

int m0__board_init(struct m0__board *b, struct m0__proc *proc, const struct m0__dev_cfg *cfg,
                   char *err, size_t cap) {
  /* No memset: b comes zero-filled (m0__proc_add callocs it) and stays untouched where
   * an idle device does not need it. */
  b->proc = proc;
  b->loop = &proc->loop;
  b->cfg = *cfg;
  uv_loop_t *loop = b->loop;
  int rc = m0__events_attach(&b->events, &proc->sink, cfg->name);
  if (rc != 0)
    return fail(err, cap, rc, "device name %s", cfg->name);

  rc = m0__mkdir_p(cfg->state, 0755);
  if (rc != 0)
    return fail(err, cap, rc, "cannot create the state directory %s", cfg->state);
  b->state_real = realpath(cfg->state, NULL);
  if (b->state_real == NULL)
    return fail(err, cap, -errno, "cannot resolve the state directory %s", cfg->state);
  rc = take_locks(b, err, cap);
  if (rc != 0)
    return rc;

  if (!b->cfg.has_factory) /* no profile: the module as the vendor ships it */
    m0_config_defaults(&b->cfg.factory);
  rc = m0__flash_init(&b->flash, b->state_real, &b->events);
  if (rc == 0)
    rc = m0__flash_load(&b->flash, &b->cfg.factory, &b->saved, &b->flash_origin);
  if (rc != 0)
    return fail(err, cap, rc, "cannot load the flash file in %s", b->state_real);

  m0__uart_line_init(&b->line, &b->events);
  if (!cfg->no_tty) {
    b->uart_open = true;
    rc = m0__uart_open(&b->uart, loop, cfg->tty, &b->events, &proc->uart_watch, err, cap);
    if (rc != 0)
      return rc;
  }

  b->dev_timer.fire = on_dev_timer;
  b->dev_timer.data = b;

  b->hal = (struct m0_hal){
      .uart_write = hal_uart_write,
      .uart_rx_enable = hal_uart_rx_enable,
      .uart_rx_pending = hal_uart_rx_pending,
      .timer_arm = hal_timer_arm,
      .flash_save = hal_flash_save,
      .booted = hal_booted,
      .event = hal_event,
      .log = hal_log,
      .warn = hal_warn,
      .link_open = hal_link_open,
      .link_send = hal_link_send,
      .link_close = hal_link_close,
      .link_pause = hal_link_pause,
      .link_abort = hal_link_abort,
      .udp1500_send = hal_udp1500_send,
  };
  struct m0_dev_options *o = &b->options;
  if (cfg->mac[0] != '\0')
    memcpy(o->factory.mac, cfg->mac, sizeof o->factory.mac);
  else
    m0__mac_derive(b->state_real, o->factory.mac);
  snprintf(o->factory.ver, sizeof o->factory.ver, "%s", M0__FACTORY_VER);
  snprintf(o->factory.pdtime, sizeof o->factory.pdtime, "%s", M0__FACTORY_PDTIME);
  o->dialect = cfg->dialect;
  o->timing = cfg->timing;
  o->boot_ns = (uint64_t)cfg->boot_ms * M0_NS_PER_MS;
  o->line_faults = cfg->line_faults;
  o->factory_settings = &b->cfg.factory;

  rc = m0__net_init(&b->net, loop, &b->dev, &b->events, cfg->net_host, cfg->bind,
                    proc->net_rbuf, &proc->turn);
  if (rc != 0)
    return fail(err, cap, rc, "--bind %s", cfg->bind);
  b->net_open = true;
  b->net.bind_source = !cfg->net_host && own_loopback_address(cfg->bind);
  b->net.peers = proc->opts.peers.n > 0 ? &proc->opts.peers : NULL;

  m0_dev_init(&b->dev, &b->hal, b, o, &b->saved);
  m0__uart_line_start(&b->line, &b->dev);
  m0__udp1500_open(&b->udp1500, loop, &b->dev, &b->events, cfg->bind, cfg->net_host,
                   cfg->udp1500_port, cfg->udp1500_broadcast, proc->fleet.count > 0);
  rc = m0__web_init(&b->web, loop, &b->proc->turn, &b->dev, &b->events, cfg->bind,
                    cfg->web_root, &o->factory);
  if (rc != 0)
    return fail(err, cap, rc, "--web-root %s", cfg->web_root ? cfg->web_root : "");
  b->web_open = true;
  rc = m0__web_allow_hosts(&b->web, cfg->web_hosts, cfg->nweb_hosts);
  if (rc != 0) /* the CLI checked them already */
    return fail(err, cap, rc, "%s", "--web-host");
  b->events.tap = web_event_tap;
  b->events.tap_ctx = b;
  b->line.tap = web_uart_tap;
  b->line.tap_ctx = b;
  b->net.tap = web_net_tap;
  b->net.tap_ctx = b;
  /* Listen now, not only at the first boot, so the banner can give the real URL; the
   * call at boot is then a no-op unless WEBPORT changed. A port that cannot be bound is
   * reported (web.error) and the device runs on without its page. */
  m0__web_listen(&b->web, cfg->web_port ? cfg->web_port : b->saved.webport);
  if (b->uart_open) {
    rc = m0__uart_start(&b->uart, &b->line);
    if (rc != 0)
      return fail(err, cap, rc, "cannot poll the pty %s", b->uart.slave_path);
  }
  /* Network front ends of the UART (--uart): bound now, so the banner gives the port; one
   * that cannot be bound was asked for explicitly, so it is an error (exit 1). */
  for (size_t i = 0; i < cfg->nuart_net; i++) {
    b->nuart_tcp++;
    rc = m0__uart_tcp_open(&b->uart_tcp[i], loop, &b->line, &cfg->uart_net[i], &b->events,
                           err, cap);
    if (rc != 0)
      return rc;
  }
  rc = m0__status_init(b);
  if (rc != 0)
    return fail(err, cap, rc, "status.json in %s", b->state_real);
  return 0;
}

void m0__board_start(struct m0__board *b) {
  m0_dev_start(&b->dev, uv_hrtime());
  m0__status_write_now(b); /* booting: a script sees the module from its first moment */
}

void m0__board_restart(struct m0__board *b, const char *cause) {
  m0_dev_restart(&b->dev, uv_hrtime(), cause);
}

/* "host:port" with brackets for IPv6 literals. */
static void host_port(char *out, size_t cap, const char *host, unsigned port) {
  snprintf(out, cap, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
}

static void banner_mode(struct m0__board *b, FILE *out) {
  const struct m0_config *c = &b->saved;
  const char *const *protos = m0_params[M0_ID_SOCK].fields[0].choices;
  const char *proto = protos ? protos[c->proto] : "?";
  char peer[96], dialled[96], local[96];
  host_port(peer, sizeof peer, c->sock_addr, c->sock_port);
  if (b->cfg.net_host)
    snprintf(dialled, sizeof dialled, "--net host");
  else
    snprintf(dialled, sizeof dialled, "dialled as 127.0.0.1:%u, --net loopback",
             (unsigned)c->sock_port);
  unsigned listen_port = c->sockport ? c->sockport : c->sock_port;
  host_port(local, sizeof local, b->cfg.bind, listen_port);
  switch (c->proto) {
  case M0_PROTO_TCPC:
    fprintf(out, "  mode:    %s %s (%s)\n", proto, peer, dialled);
    break;
  case M0_PROTO_HTPC:
    fprintf(out, "  mode:    %s http://%s%s (%s)\n", proto, peer, c->htpurl, dialled);
    break;
  case M0_PROTO_UDPC:
    fprintf(out, "  mode:    %s to %s (%s), local port %u\n", proto, peer, dialled,
            (unsigned)c->sockport);
    break;
  case M0_PROTO_TCPS:
    fprintf(out, "  mode:    %s listening on %s\n", proto, local);
    break;
  case M0_PROTO_UDPS:
    fprintf(out, "  mode:    %s on %s, first peer %s (%s)\n", proto, local, peer, dialled);
    break;
  default:
    fprintf(out, "  mode:    %s %s\n", proto, peer);
    break;
  }
}

void m0__board_banner(struct m0__board *b, FILE *out) {
  static const char *const origin[] = {
      [M0__FLASH_FROM_FILE] = "flash.conf loaded",
      [M0__FLASH_FROM_MISSING] = "no flash.conf yet: factory defaults",
      [M0__FLASH_FROM_BAD] = ("flash.conf was unparseable: moved to flash.conf.bad, "
                              "factory defaults saved"),
  };
  /* With a profile, the factory settings are the user's: say which ones run, since a
   * flash.conf left by an earlier run wins over the profile until AT+RELD. */
  static const char *const origin_profile[] = {
      [M0__FLASH_FROM_FILE] = "flash.conf loaded; the profile is what AT+RELD restores",
      [M0__FLASH_FROM_MISSING] = "no flash.conf yet: the profile's factory settings",
      [M0__FLASH_FROM_BAD] = ("flash.conf was unparseable: moved to flash.conf.bad, "
                              "the profile's factory settings saved"),
  };
  char web[96];
  uint16_t wanted = b->cfg.web_port ? b->cfg.web_port : b->saved.webport;
  uint16_t bound = b->web_open ? m0__web_port(&b->web) : 0;
  host_port(web, sizeof web, b->cfg.bind, bound ? bound : wanted);
  fprintf(out, "m0emu %s: USR-M0 emulator\n", M0EMU_VERSION);
  if (b->uart_open)
    fprintf(out, "  tty:     %s -> %s\n", b->uart.link_path, b->uart.slave_path);
  else
    fprintf(out, "  tty:     none (--no-tty): the device runs without a UART host\n");
  for (size_t i = 0; i < b->nuart_tcp; i++) {
    char url[128];
    m0__uart_tcp_url(&b->uart_tcp[i], url, sizeof url);
    fprintf(out, "  uart:    %s (%s, one host at a time)\n", url,
            b->uart_tcp[i].cfg.rfc2217 ? "RFC 2217" : "raw TCP");
  }
  if (bound == 0)
    fprintf(out, "  web:     http://%s/ could not be bound: running without the web page\n",
            web);
  else if (bound != wanted)
    fprintf(out, "  web:     http://%s/ (WEBPORT %u needs privileges: 8000+port)\n", web,
            (unsigned)wanted);
  else
    fprintf(out, "  web:     http://%s/ (user and password: AT+WEBU)\n", web);
  banner_mode(b, out);
  if (m0__udp1500_port(&b->udp1500) != 0)
    fprintf(out, "  setup:   UDP %s:%u (the vendor's search and setting protocols)\n",
            b->cfg.net_host ? "0.0.0.0" : b->cfg.bind, (unsigned)m0__udp1500_port(&b->udp1500));
  fprintf(out, "  state:   %s (%s)\n", b->state_real,
          (b->cfg.has_factory ? origin_profile : origin)[b->flash_origin]);
  if (b->cfg.has_factory)
    fprintf(out, "  profile: %s%s%zu --set\n", b->cfg.profile ? b->cfg.profile : "",
            b->cfg.profile ? " + " : "", b->cfg.nsets);
  fprintf(out, "  factory: MAC %s, %s, %s\n", b->options.factory.mac, b->options.factory.ver,
          b->options.factory.pdtime);
  fprintf(out, "  timing:  %s, dialect %s, boot %u ms%s\n",
          b->cfg.timing == M0_TIMING_FAST ? "fast" : "real",
          b->cfg.dialect == M0_DIALECT_FIELD ? "field" : "doc", (unsigned)b->cfg.boot_ms,
          b->cfg.line_faults ? ", line faults on" : "");
  fflush(out);
}

void m0__board_close(struct m0__board *b) {
  if (b->flash_busy) {
    /* The write in flight finishes and its outcome reaches the device (the host's
     * reply, the page's answer) before the board closes; the loop runs until then. */
    b->close_deferred = true;
    return;
  }
  if (b->web_open) {
    b->web_open = false;
    m0__web_close(&b->web);
  }
  if (b->net_open) {
    b->net_open = false;
    m0__net_close_all(&b->net);
  }
  m0__udp1500_close(&b->udp1500);
  if (b->uart_open)
    m0__uart_close(&b->uart);
  if (b->uart_ctl != NULL)
    m0__uart_ctl_close(b);
  for (size_t i = 0; i < b->nuart_tcp; i++)
    m0__uart_tcp_close(&b->uart_tcp[i]);
  m0__status_close(b);
  m0__timers_arm(&b->proc->timers, &b->dev_timer, M0_TIME_NEVER);
}

void m0__board_free(struct m0__board *b) {
  if (b->uart_open)
    m0__uart_free(&b->uart);
  m0__uart_ctl_free(b);
  m0__status_free(b);
  m0__flash_free(&b->flash);
  m0__lock_release(&b->tty_lock);
  m0__lock_release(&b->state_lock);
  free(b->state_real);
  b->state_real = NULL;
}
