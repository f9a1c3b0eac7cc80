/* uart_line.c: the module's UART line on the board: which front end's host is the
 * device's host (uart.h has the rule).
 *
 * The owner is the first front end with a host; the core is attached exactly while
 * there is one. While nobody owns the line every front end reads for the core, so a
 * pty alone behaves as it always did (bytes a host left unread when it closed still
 * reach the device). While one owns it, another front end's host (only a pty can have
 * one then: network clients are refused) is read at full speed and its bytes dropped,
 * as if its cable were not plugged in; when the owner's host leaves, a waiting one takes
 * the line, its line settings replayed to the core. Every time is uv_hrtime(), like the
 * rest of the board.
 */
#include <stdio.h>
#include <string.h>

#include "board.h"

void m0__uart_line_init(struct m0__uart_line *line, struct m0__events *events) {
  memset(line, 0, sizeof *line);
  line->events = events;
  line->core_rx = true; /* the core assumes the board starts reading */
}

void m0__uart_line_add(struct m0__uart_line *line, struct m0__uart_port *port,
                       const char *kind, const struct m0__uart_port_ops *ops) {
  if (line->nports == M0__UART_PORTS_MAX)
    return; /* the CLI allows no more */
  port->kind = kind;
  port->ops = ops;
  port->line = line;
  port->rx_on = true; /* front ends start reading */
  line->ports[line->nports++] = port;
}

/* The core's pacing for the owner (or for everyone while nobody owns the line); full
 * speed for a waiting host, whose bytes are dropped anyway. */
static void apply_rx(struct m0__uart_line *line) {
  for (size_t i = 0; i < line->nports; i++) {
    struct m0__uart_port *p = line->ports[i];
    bool on = line->owner == NULL || line->owner == p ? line->core_rx : true;
    if (on != p->rx_on) {
      p->rx_on = on;
      p->ops->rx_enable(p, on);
    }
  }
}

static void replay_settings(struct m0__uart_line *line, struct m0__uart_port *p) {
  uint64_t now = uv_hrtime();
  if (!p->settings_known)
    return;
  if (p->format_known)
    m0_dev_on_host_line(line->dev, now, p->baud, p->data_bits, p->stop_bits, p->parity);
  else
    m0_dev_on_host_termios(line->dev, now, p->baud, p->stop_bits);
}

static void take(struct m0__uart_line *line, struct m0__uart_port *p) {
  line->owner = p;
  line->dropped = 0; /* the next waiting host is logged again */
  if (p->ops->owner != NULL)
    p->ops->owner(p, true);
  m0_dev_on_host_attach(line->dev, uv_hrtime(), true);
  replay_settings(line, p);
  apply_rx(line);
}

void m0__uart_line_start(struct m0__uart_line *line, struct m0_dev *dev) {
  line->dev = dev;
}

bool m0__uart_line_busy(const struct m0__uart_line *line, const struct m0__uart_port *port) {
  for (size_t i = 0; i < line->nports; i++)
    if (line->ports[i] != port && line->ports[i]->host)
      return true;
  return false;
}

void m0__uart_line_host(struct m0__uart_port *port, bool present) {
  struct m0__uart_line *line = port->line;
  if (present == port->host)
    return;
  port->host = present;
  if (!present)
    port->settings_known = false; /* the next host on this front end brings its own */
  if (present) {
    if (line->owner == NULL) {
      take(line, port);
    } else {
      char fields[64];
      snprintf(fields, sizeof fields, "\"uart\":\"%s\",\"reason\":\"busy\"", port->kind);
      m0__events_emit(line->events, "uart.refused", fields);
      m0__log_at(line->events, M0__LOG_WARNING,
                 "a host opened the %s while a %s client has the UART: it is not connected "
                 "until that client leaves (what it writes is dropped)",
                 port->kind, line->owner->kind);
      apply_rx(line);
    }
    return;
  }
  if (line->owner != port) {
    apply_rx(line);
    return;
  }
  if (port->ops->owner != NULL)
    port->ops->owner(port, false);
  line->owner = NULL;
  m0_dev_on_host_attach(line->dev, uv_hrtime(), false);
  for (size_t i = 0; i < line->nports; i++)
    if (line->ports[i]->host) {
      take(line, line->ports[i]);
      return;
    }
  apply_rx(line);
}

void m0__uart_line_settings(struct m0__uart_port *port, uint32_t baud, uint8_t data_bits,
                            uint8_t stop_bits, uint8_t parity) {
  port->settings_known = true;
  port->format_known = data_bits != 0;
  port->baud = baud;
  port->data_bits = data_bits;
  port->stop_bits = stop_bits;
  port->parity = parity;
  if (port->line->owner == port)
    replay_settings(port->line, port);
}

static bool speaks_for_core(const struct m0__uart_port *port) {
  return port->line->owner == NULL || port->line->owner == port;
}

size_t m0__uart_line_budget(struct m0__uart_port *port) {
  if (!speaks_for_core(port))
    return SIZE_MAX;
  return m0_dev_uart_rx_budget(port->line->dev, uv_hrtime());
}

void m0__uart_line_rx(struct m0__uart_port *port, const uint8_t *data, size_t len) {
  struct m0__uart_line *line = port->line;
  if (!speaks_for_core(port)) {
    if (line->dropped == 0)
      m0__log(line->events, "dropping what the waiting %s host writes", port->kind);
    line->dropped += len;
    return;
  }
  if (line->tap != NULL)
    line->tap(line->tap_ctx, false, data, len);
  m0_dev_on_uart_rx(line->dev, uv_hrtime(), data, len);
}

void m0__uart_line_writable(struct m0__uart_port *port) {
  if (port->line->owner == port)
    m0_dev_on_uart_writable(port->line->dev, uv_hrtime());
}

size_t m0__uart_line_write(struct m0__uart_line *line, const uint8_t *data, size_t len) {
  /* The core writes only while attached, that is while there is an owner. */
  if (line->owner == NULL)
    return 0;
  size_t n = line->owner->ops->write(line->owner, data, len);
  if (n > 0 && line->tap != NULL)
    line->tap(line->tap_ctx, true, data, n);
  return n;
}

void m0__uart_line_rx_enable(struct m0__uart_line *line, bool enable) {
  line->core_rx = enable;
  apply_rx(line);
}
