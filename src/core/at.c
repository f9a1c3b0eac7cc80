/* at.c: command mode: the line editor and the AT command interpreter (spec §3.2-§4).
 *
 * Bytes are echoed as they arrive (AT+E, on by default), terminator included; CR, LF and
 * CR LF end a line (the LF of a CR LF is not a second, empty command); 0x08 and 0x7F
 * erase. A line holds at most 256 bytes (M0_LINE_MAX, terminator excluded); a longer one
 * is discarded up to its terminator and answered -1. Commands run to completion as soon
 * as their terminator arrives, so replies never interleave. Every name, form and value
 * comes from the parameter table (params.h); the commands that are not stored
 * configuration (VER, MAC, PDTIME, SOCKLK, H, Z, ENTM, RELD) are handlers defined here
 * that their table entry points at, so nothing dispatches on a command's id.
 * A set goes through m0__dev_set(): validated on a copy, saved to flash, then committed.
 * The flash write may finish later (the board writes off its loop): the reply then waits
 * for its outcome (m0__at_set_saved, m0__at_reld_saved), and so does every byte typed
 * meanwhile (dev.c holds them), so replies still come in command order.
 */
#include <stdio.h>
#include <string.h>

#include "core.h"

void m0__at_reset(struct m0_dev *dev) {
  dev->at.len = 0;
  dev->at.overflow = false;
  dev->at.after_cr = false;
}

static void put(struct m0_dev *dev, uint64_t now, const char *s, size_t n) {
  m0__host_send(dev, now, s, n);
}

static void put_str(struct m0_dev *dev, uint64_t now, const char *s) {
  put(dev, now, s, strlen(s));
}

static const char *ok_word(const struct m0_dev *dev) {
  return dev->options.dialect == M0_DIALECT_FIELD ? "+OK" : "+ok";
}

static void reply_ok(struct m0_dev *dev, uint64_t now) {
  put_str(dev, now, "\r\n");
  put_str(dev, now, ok_word(dev));
  put_str(dev, now, "\r\n");
}

static void reply_value(struct m0_dev *dev, uint64_t now, const char *value, size_t n) {
  put_str(dev, now, "\r\n");
  put_str(dev, now, ok_word(dev));
  put_str(dev, now, "=");
  put(dev, now, value, n);
  put_str(dev, now, "\r\n");
}

/* code is the wire's (enum m0_at_err): the parser's own verdicts are those already, and
 * an outcome of the core goes through m0_err_at() first. */
static void reply_err(struct m0_dev *dev, uint64_t now, enum m0_at_err code) {
  char buf[24];
  int n = snprintf(buf, sizeof buf, "\r\n+ERR=%d\r\n", code);
  put(dev, now, buf, (size_t)n);
}

/* The handlers of the commands that are not stored configuration (m0_params[].exec). */

void m0__at_ver(struct m0_dev *dev, uint64_t now) {
  const struct m0_factory *f = &dev->options.factory;
  reply_value(dev, now, f->ver, strnlen(f->ver, sizeof f->ver));
}

void m0__at_mac(struct m0_dev *dev, uint64_t now) {
  const struct m0_factory *f = &dev->options.factory;
  reply_value(dev, now, f->mac, strnlen(f->mac, sizeof f->mac));
}

void m0__at_pdtime(struct m0_dev *dev, uint64_t now) {
  const struct m0_factory *f = &dev->options.factory;
  reply_value(dev, now, f->pdtime, strnlen(f->pdtime, sizeof f->pdtime));
}

void m0__at_socklk(struct m0_dev *dev, uint64_t now) {
  if (m0__dev_socket_connected(dev))
    reply_value(dev, now, "connect", 7);
  else
    reply_value(dev, now, "disconnect", 10);
}

/* AT+H: the first line carries the OK prefix, every line ends in CR LF. */
void m0__at_help(struct m0_dev *dev, uint64_t now) {
  unsigned i;
  put_str(dev, now, "\r\n");
  put_str(dev, now, ok_word(dev));
  put_str(dev, now, "=");
  for (i = 0; i < M0_ID_COUNT; i++) {
    put_str(dev, now, "AT+");
    put_str(dev, now, m0_params[i].name);
    put_str(dev, now, "-");
    put_str(dev, now, m0_params[i].help);
    put_str(dev, now, "\r\n");
  }
}

/* The reply is queued before the restart, which waits for the queue to drain. */
void m0__at_z(struct m0_dev *dev, uint64_t now) {
  reply_ok(dev, now);
  m0__dev_restart_after_drain(dev, now, "at");
}

void m0__at_entm(struct m0_dev *dev, uint64_t now) {
  reply_ok(dev, now);
  m0__dev_enter_transparent(dev, now, "entm");
}

/* The reply waits for the write (m0__at_reld_saved), and the restart for the reply. */
void m0__at_reld(struct m0_dev *dev, uint64_t now) {
  int rc = m0__dev_save_defaults(dev, M0__SAVE_AT_RELD);
  if (rc != M0_PENDING)
    m0__at_reld_saved(dev, now, rc);
}

/* A query or an action: stored configuration answers its saved value, which a restart
 * will apply (spec §4); any other command runs its handler. */
static void answer(struct m0_dev *dev, uint64_t now, const struct m0_param *p) {
  char value[M0_VALUE_MAX + 1];
  int n;
  if (p->exec != NULL) {
    p->exec(dev, now);
    return;
  }
  n = m0_param_format(p, &dev->saved, dev->options.dialect, value, sizeof value);
  if (n < 0) {
    reply_err(dev, now, m0_err_at(n));
    return;
  }
  if ((size_t)n >= sizeof value)
    n = (int)sizeof value - 1;
  reply_value(dev, now, value, (size_t)n);
}

void m0__at_set_saved(struct m0_dev *dev, uint64_t now, int rc) {
  if (rc != 0)
    reply_err(dev, now, m0_err_at(rc));
  else
    reply_ok(dev, now);
}

void m0__at_reld_saved(struct m0_dev *dev, uint64_t now, int rc) {
  /* -5 (M0_E_BUSY, M0_E_FLASH): the factory settings could not be written to flash;
   * nothing changed. */
  if (rc != 0) {
    reply_err(dev, now, m0_err_at(rc));
    return;
  }
  reply_value(dev, now, "rebooting...", 12);
  m0__dev_restart_after_drain(dev, now, "reld");
}

static bool is_alnum(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int upper(char c) { return (c >= 'a' && c <= 'z') ? c - ('a' - 'A') : c; }

static void execute(struct m0_dev *dev, uint64_t now, const char *line, size_t len) {
  const struct m0_param *p;
  const char *rest;
  size_t name_len = 0, rest_len;
  int rc;

  if (len < 2 || upper(line[0]) != 'A' || upper(line[1]) != 'T') {
    reply_err(dev, now, M0_AT_ERR_FORMAT);
    return;
  }
  if (len == 2) { /* plain AT: the modem convention, answered OK */
    reply_ok(dev, now);
    return;
  }
  if (line[2] != '+') {
    reply_err(dev, now, M0_AT_ERR_FORMAT);
    return;
  }
  while (3 + name_len < len && is_alnum(line[3 + name_len]))
    name_len++;
  if (name_len == 0) {
    reply_err(dev, now, M0_AT_ERR_FORMAT);
    return;
  }
  p = m0_param_find(line + 3, name_len);
  if (p == NULL) {
    reply_err(dev, now, M0_AT_ERR_COMMAND);
    return;
  }
  rest = line + 3 + name_len;
  rest_len = len - 3 - name_len;

  if (rest_len == 0) { /* bare: actions run, everything else is a query */
    if (p->forms & (M0_FORM_ACTION | M0_FORM_QUERY))
      answer(dev, now, p);
    else
      reply_err(dev, now, M0_AT_ERR_OPERATOR);
    return;
  }
  if (rest[0] == '?') {
    if (rest_len > 1)
      reply_err(dev, now, M0_AT_ERR_FORMAT);
    else if (p->forms & M0_FORM_QUERY)
      answer(dev, now, p);
    else
      reply_err(dev, now, M0_AT_ERR_OPERATOR);
    return;
  }
  if (rest[0] == '=') {
    if (!(p->forms & M0_FORM_SET)) {
      reply_err(dev, now, M0_AT_ERR_OPERATOR);
      return;
    }
    rc = m0__dev_set(dev, p, rest + 1, rest_len - 1);
    if (rc != M0_PENDING)
      m0__at_set_saved(dev, now, rc);
    return;
  }
  reply_err(dev, now, M0_AT_ERR_FORMAT);
}

void m0__at_input(struct m0_dev *dev, uint64_t now, uint8_t c) {
  struct m0__at *at = &dev->at;
  /* Echo follows the running E at the moment each byte arrives. */
  bool echo = dev->running.echo;

  if (c == '\n' && at->after_cr) { /* the LF of CR LF */
    at->after_cr = false;
    if (echo)
      put(dev, now, "\n", 1);
    return;
  }
  at->after_cr = false;

  if (c == '\r' || c == '\n') {
    if (echo)
      put(dev, now, (const char *)&c, 1);
    if (c == '\r') {
      at->after_cr = true;
      at->cr_ns = now;
    }
    if (at->overflow)
      reply_err(dev, now, M0_AT_ERR_FORMAT);
    else if (at->len > 0) /* an empty line is ignored silently */
      execute(dev, now, at->line, at->len);
    at->len = 0;
    at->overflow = false;
    return;
  }

  if (c == 0x08 || c == 0x7F) {
    /* A discarded line has nothing left to edit. */
    if (!at->overflow && at->len > 0) {
      at->len--;
      if (echo)
        put(dev, now, "\b \b", 3);
    }
    return;
  }

  if (echo)
    put(dev, now, (const char *)&c, 1);
  if (at->overflow)
    return;
  if (at->len == M0_LINE_MAX) {
    at->overflow = true;
    return;
  }
  at->line[at->len++] = (char)c;
}
