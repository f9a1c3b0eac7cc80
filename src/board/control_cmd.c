/* control_cmd.c: the control channel's commands (docs/control.md): one table entry per
 * command, tmux-style, with its parameters, and a handler per entry.
 *
 * An entry says whether the command is about a device (the request's "dev", or the only
 * device when there is one) and lists its parameters with a type and range: seconds
 * (exact to the nanosecond, at most a day), probabilities (parts per billion), counts,
 * choices, booleans, strings. m0__ctl_dispatch() checks every member of a request against
 * the entry before the handler runs, so a handler only ever sees valid values and a bad
 * request changes nothing; the error names the member and what it should be. Handlers
 * turn requests into the core's inputs (m0_dev_*, faults in m0/fault.h) with the loop's
 * clock, and answer from m0_dev_status(). A command that cannot apply in the device's
 * state (restart while the power is off) is refused with the code "state".
 * The fault commands and the faults' part of status are control_fault.c's, a piece of
 * the table of their own (control_cmd.h); this file keeps the checks, the status, the
 * UART and event commands and the process's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "control_cmd.h"

/* ---- what the answers say ---- */

static const char *choice_of(enum m0_param_id id, unsigned field, unsigned value) {
  const char *const *c = m0_params[id].fields[field].choices;
  for (unsigned i = 0; c != NULL && c[i] != NULL; i++)
    if (i == value)
      return c[i];
  return "?";
}

static void addr(struct m0__jbuf *b, const struct m0_net_addr *a) {
  char text[64];
  snprintf(text, sizeof text, strchr(a->host, ':') ? "[%s]:%u" : "%s:%u", a->host,
           (unsigned)a->port);
  m0__jb_str(b, text);
}

static void config(struct m0__jbuf *b, const struct m0_config *cfg) {
  bool first = true;
  M0__JB_LIT(b, "{");
  for (unsigned i = 0; i < M0_ID_COUNT; i++) {
    const struct m0_param *p = &m0_params[i];
    char v[M0_VALUE_MAX];
    if (!m0_param_is_config(p) || m0_param_format(p, cfg, M0_DIALECT_DOC, v, sizeof v) < 0)
      continue;
    if (!first)
      M0__JB_LIT(b, ",");
    first = false;
    m0__jb_str(b, p->name);
    M0__JB_LIT(b, ":");
    m0__jb_str(b, v);
  }
  M0__JB_LIT(b, "}");
}

/* The parameters whose saved value differs from the running one: what a restart
 * changes (E applies at once and never differs for long). */
static void differs(struct m0__jbuf *b, const struct m0_config *saved,
                    const struct m0_config *running) {
  bool first = true;
  M0__JB_LIT(b, "[");
  for (unsigned i = 0; i < M0_ID_COUNT; i++) {
    const struct m0_param *p = &m0_params[i];
    char s[M0_VALUE_MAX], r[M0_VALUE_MAX];
    if (!m0_param_is_config(p) || m0_param_format(p, saved, M0_DIALECT_DOC, s, sizeof s) < 0 ||
        m0_param_format(p, running, M0_DIALECT_DOC, r, sizeof r) < 0 || strcmp(s, r) == 0)
      continue;
    if (!first)
      M0__JB_LIT(b, ",");
    first = false;
    m0__jb_str(b, p->name);
  }
  M0__JB_LIT(b, "]");
}

static void status(struct m0__jbuf *b, struct m0__board *bd) {
  struct m0_status st;
  const struct m0_config *run = m0_dev_running(&bd->dev), *saved = m0_dev_saved(&bd->dev);
  m0_dev_status(&bd->dev, &st);
  M0__JB_LIT(b, "{");
  m0__status_members(bd, b);
  m0__jb_printf(b, ",\"powered\":%s,\"links\":[", m0_dev_powered(&bd->dev) ? "true" : "false");
  for (unsigned i = 0; i < st.nlinks; i++) {
    const struct m0_link_status *l = &st.links[i];
    m0__jb_printf(b, "%s{\"id\":%u,\"kind\":\"%s\",\"connected\":%s,\"peer\":", i ? "," : "",
                  l->id, m0_link_kind_name(l->kind), l->connected ? "true" : "false");
    addr(b, &l->peer);
    m0__jb_printf(b, ",\"tx_bytes\":%llu,\"rx_bytes\":%llu}", (unsigned long long)l->tx_bytes,
                  (unsigned long long)l->rx_bytes);
  }
  M0__JB_LIT(b, "],");
  m0__status_counters(bd, b);
  m0__jb_printf(b, ",\"uart\":{\"baud\":%lu,\"data\":%u,\"stop\":%u,\"parity\":\"%s\"}",
                (unsigned long)run->baud, run->data_bits, run->stop_bits,
                choice_of(M0_ID_UART, 3, run->parity));
  m0__jb_printf(b, ",\"host\":{\"attached\":%s,\"termios\":", st.host_attached ? "true" : "false");
  if (st.host_line_known)
    m0__jb_printf(b, "{\"baud\":%lu,\"stop\":%u}", (unsigned long)st.host_baud, st.host_stop);
  else
    M0__JB_LIT(b, "null");
  m0__jb_printf(b, ",\"mismatch\":%s}", st.uart_mismatch ? "true" : "false");
  M0__JB_LIT(b, ",\"state\":");
  m0__jb_str(b, bd->state_real);
  m0__jb_printf(b, ",\"saving\":%s,\"restart_pending\":%s", st.saving ? "true" : "false",
                st.restart_pending ? "true" : "false");
  M0__JB_LIT(b, ",\"config\":{\"saved\":");
  config(b, saved);
  M0__JB_LIT(b, ",\"running\":");
  config(b, run);
  M0__JB_LIT(b, ",\"restart_changes\":");
  differs(b, saved, run);
  M0__JB_LIT(b, "},\"faults\":");
  m0__ctl_faults(b, bd);
  M0__JB_LIT(b, ",\"uart_ctl\":");
  m0__uart_ctl_status(bd, b);
  M0__JB_LIT(b, "}");
}

/* ---- handlers ---- */

static int answer_buf(struct m0__ctl_req *r, struct m0__jbuf *b) {
  if (b->failed)
    m0__ctl_error(r, "internal", "out of memory");
  else
    m0__ctl_ok(r, b->s);
  m0__jb_free(b);
  return 0;
}

static int cmd_status(struct m0__ctl_req *r, const struct arg *a) {
  struct m0__jbuf b = {0};
  (void)a;
  status(&b, r->board);
  return answer_buf(r, &b);
}

static int cmd_list(struct m0__ctl_req *r, const struct arg *a) {
  struct m0__proc *p = r->ctl->proc;
  struct m0__jbuf b = {0};
  (void)a;
  M0__JB_LIT(&b, "{\"devices\":[");
  for (size_t i = 0; i < p->board_count; i++) {
    struct m0__board *bd = p->boards[i];
    if (i > 0)
      M0__JB_LIT(&b, ",");
    M0__JB_LIT(&b, "{");
    m0__status_members(bd, &b);
    M0__JB_LIT(&b, "}");
  }
  M0__JB_LIT(&b, "]}");
  return answer_buf(r, &b);
}

/* The error code of the answer for an error of the core (enum m0_err): its one mapping. */
const char *m0__ctl_core_error_code(int err) {
  switch (err) {
  case M0_E_INVAL:
    return "bad-param";
  case M0_E_STATE:
  case M0_E_BUSY:
  case M0_E_FLASH:
    return "state";
  }
  return "internal";
}

bool m0__ctl_need_power(struct m0__ctl_req *r) {
  if (m0_dev_powered(&r->board->dev))
    return true;
  m0__ctl_error(r, "state", "the power is off (power on first)");
  return false;
}

static int cmd_restart(struct m0__ctl_req *r, const struct arg *a) {
  (void)a;
  if (!m0__ctl_need_power(r))
    return -1;
  m0__board_restart(r->board, "control");
  m0__ctl_ok(r, NULL);
  return 0;
}

static int cmd_factory_reset(struct m0__ctl_req *r, const struct arg *a) {
  (void)a;
  if (!m0__ctl_need_power(r))
    return -1;
  if (m0_dev_saving(&r->board->dev))
    return m0__ctl_error(r, "state", "a flash write is in progress; try again");
  m0_dev_factory_reset(&r->board->dev, m0__ctl_now_ns());
  m0__ctl_ok(r, NULL);
  return 0;
}

/* ---- the UART without a pty ---- */

#define UART_WRITE_MAX 65536

static const char *const uart_formats[] = {"data", "hex", NULL};

static int cmd_uart_subscribe(struct m0__ctl_req *r, const struct arg *a) {
  if (m0__uart_ctl_subscribe(r->board, r->client, a[0].u == 1, a[1].u != 0) != 0)
    return m0__ctl_error(r, "internal", "out of memory");
  m0__ctl_ok(r, NULL);
  return 0;
}

static int cmd_uart_unsubscribe(struct m0__ctl_req *r, const struct arg *a) {
  (void)a;
  m0__uart_ctl_unsubscribe(r->board, r->client);
  m0__ctl_ok(r, NULL);
  return 0;
}

/* "data": one byte per character U+0000..U+00FF (how uart.data lines write bytes), from
 * the decoded string's UTF-8. Returns the length, or -1 at a character above U+00FF. */
static long latin1(const char *s, size_t len, uint8_t *out) {
  size_t i = 0;
  long n = 0;
  while (i < len) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) {
      out[n++] = c;
      i++;
    } else if ((c == 0xc2 || c == 0xc3) && i + 1 < len) {
      out[n++] = (uint8_t)(((c & 0x1f) << 6) | ((unsigned char)s[i + 1] & 0x3f));
      i += 2;
    } else {
      return -1;
    }
  }
  return n;
}

static int cmd_uart_write(struct m0__ctl_req *r, const struct arg *a) {
  const struct arg *data = &a[0], *hex = &a[1];
  uint8_t *bytes;
  long n = 0;
  if (data->given == hex->given)
    return m0__ctl_error(r, "bad-param", "give the bytes as \"data\" or as \"hex\" (one of them)");
  bytes = malloc(data->given ? data->len + 1 : hex->len / 2 + 1);
  if (bytes == NULL)
    return m0__ctl_error(r, "internal", "out of memory");
  if (data->given) {
    n = latin1(data->s, data->len, bytes);
    if (n < 0) {
      free(bytes);
      return m0__ctl_error(r, "bad-param", "\"data\" holds a character above U+00FF: one "
                           "character is one byte (use \"hex\" for binary)");
    }
  } else {
    if (hex->len % 2 != 0) {
      free(bytes);
      return m0__ctl_error(r, "bad-param", "\"hex\" needs an even number of hex digits");
    }
    for (size_t i = 0; i < hex->len; i += 2) {
      int hi = m0_hex_digit(hex->s[i]), lo = m0_hex_digit(hex->s[i + 1]);
      if (hi < 0 || lo < 0) {
        free(bytes);
        return m0__ctl_error(r, "bad-param", "\"hex\": '%c%c' at %zu is not a hex byte",
                             hex->s[i], hex->s[i + 1], i);
      }
      bytes[n++] = (uint8_t)(hi << 4 | lo);
    }
  }
  if (n > UART_WRITE_MAX) {
    free(bytes);
    return m0__ctl_error(r, "bad-param", "at most %d bytes per write, got %ld", UART_WRITE_MAX, n);
  }
  int rc = m0__uart_ctl_write(r->board, r->client, r->id, bytes, (size_t)n);
  free(bytes);
  if (rc == -EBUSY)
    return m0__ctl_error(r, "busy", "%d KiB already wait for the device: try again once "
                         "they are taken", M0__UART_CTL_QUEUE_MAX / 1024);
  if (rc != 0)
    return m0__ctl_error(r, "internal", "out of memory");
  r->answered = true; /* uart_ctl.c answers once the last byte was taken */
  return 0;
}

static int cmd_subscribe(struct m0__ctl_req *r, const struct arg *a) {
  const char *dev = r->board != NULL ? r->board->events.name : NULL;
  m0__ctl_subscribe(r, dev, a[0].given ? (unsigned)a[0].u : 0, a[1].u);
  return 0;
}

static int cmd_unsubscribe(struct m0__ctl_req *r, const struct arg *a) {
  (void)a;
  m0__ctl_unsubscribe(r);
  return 0;
}

static int cmd_commands(struct m0__ctl_req *r, const struct arg *a);

static int cmd_clients(struct m0__ctl_req *r, const struct arg *a) {
  struct m0__jbuf b = {0};
  (void)a;
  m0__ctl_clients(r, &b);
  return answer_buf(r, &b);
}

/* ---- the table ---- */

static const struct m0__ctl_cmd head[] = {
  {"list", DEV_NONE, {{0}}, 0, cmd_list, "the devices of this process"},
  {"status", DEV_ONE, {{0}}, 0, cmd_status,
   "mode, links, counters, the host's line, configuration, faults"},
  {"restart", DEV_ONE, {{0}}, 0, cmd_restart, "restart as AT+Z does (cause \"control\")"},
  {"factory-reset", DEV_ONE, {{0}}, 0, cmd_factory_reset,
   "factory settings saved, then a restart (as the web page's Factory Reset)"},
};
/* ... then the fault commands (control_fault.c), then these. */
static const struct m0__ctl_cmd tail[] = {
  {"uart.subscribe", DEV_ONE,
   {{"format", P_CHOICE, 0, uart_formats}, {"hold", P_BOOL, 0, NULL}}, 0, cmd_uart_subscribe,
   "the bytes the device sends its host, as uart.data lines with \"data\" (one character "
   "per byte) or \"hex\" (format); hold: the device waits for this reader as for a tty "
   "host (nothing lost); the host is attached meanwhile"},
  {"uart.unsubscribe", DEV_ONE, {{0}}, 0, cmd_uart_unsubscribe, "no more uart.data lines"},
  {"uart.write", DEV_ONE,
   {{"data", P_BYTES, 2 * UART_WRITE_MAX, NULL}, {"hex", P_STRING, 2 * UART_WRITE_MAX, NULL}},
   0, cmd_uart_write,
   "bytes as if the host sent them (data: one character per byte; hex); answered once "
   "the device took the last one"},
  {"subscribe", DEV_FILTER,
   {{"replay", P_UINT, M0__CTL_HISTORY, NULL}, {"since_ms", P_UINT, UINT64_MAX, NULL}}, 0,
   cmd_subscribe, "events (as --events) on this connection; replay recent ones first"},
  {"unsubscribe", DEV_NONE, {{0}}, 0, cmd_unsubscribe, "no more events"},
  {"commands", DEV_NONE, {{0}}, 0, cmd_commands, "this table"},
  {"clients", DEV_NONE, {{0}}, 0, cmd_clients,
   "the channel's connections: what each owes (bytes queued to it) and lost"},
};
#define NHEAD (sizeof head / sizeof head[0])
#define NTAIL (sizeof tail / sizeof tail[0])

/* The i-th command of the whole table, or NULL past its end. */
static const struct m0__ctl_cmd *cmd_at(size_t i) {
  if (i < NHEAD)
    return &head[i];
  i -= NHEAD;
  if (i < m0__ctl_fault_ncmds)
    return &m0__ctl_fault_cmds[i];
  i -= m0__ctl_fault_ncmds;
  return i < NTAIL ? &tail[i] : NULL;
}

static int cmd_commands(struct m0__ctl_req *r, const struct arg *a) {
  struct m0__jbuf b = {0};
  (void)a;
  M0__JB_LIT(&b, "{\"commands\":[");
  const struct m0__ctl_cmd *c;
  for (size_t i = 0; (c = cmd_at(i)) != NULL; i++) {
    if (i > 0)
      M0__JB_LIT(&b, ",");
    M0__JB_LIT(&b, "{\"cmd\":");
    m0__jb_str(&b, c->name);
    m0__jb_printf(&b, ",\"dev\":\"%s\",\"params\":[",
                  c->dev == DEV_NONE ? "none" : c->dev == DEV_ONE ? "one" : "optional");
    for (unsigned k = 0; k < PARAMS_MAX && c->params[k].name != NULL; k++) {
      if (k > 0)
        M0__JB_LIT(&b, ",");
      m0__jb_str(&b, c->params[k].name);
    }
    M0__JB_LIT(&b, "],\"summary\":");
    m0__jb_str(&b, c->summary);
    M0__JB_LIT(&b, "}");
  }
  M0__JB_LIT(&b, "]}");
  return answer_buf(r, &b);
}

/* ---- checking a request ---- */

static const char *type_words(const struct param *p, char *buf, size_t cap) {
  switch (p->type) {
  case P_STRING:
  case P_BYTES:
    snprintf(buf, cap, "a string of at most %llu bytes", (unsigned long long)p->max);
    break;
  case P_CHOICE: {
    size_t n = (size_t)snprintf(buf, cap, "one of");
    for (unsigned i = 0; p->choices[i] != NULL && n < cap; i++)
      n += (size_t)snprintf(buf + n, cap - n, "%s \"%s\"", i ? "," : "", p->choices[i]);
    break;
  }
  case P_UINT:
    snprintf(buf, cap, "an integer 0-%llu", (unsigned long long)p->max);
    break;
  case P_SECONDS:
    snprintf(buf, cap, "a number of seconds 0-%llu", (unsigned long long)p->max);
    break;
  case P_PROB:
    snprintf(buf, cap, "a probability 0-1 (e.g. 0.001 or 1e-6)");
    break;
  case P_BOOL:
    snprintf(buf, cap, "true or false");
    break;
  }
  return buf;
}

static bool check_arg(const struct param *p, const struct m0_json_member *m, struct arg *a) {
  a->given = true;
  switch (p->type) {
  case P_STRING:
  case P_BYTES:
    if (m->type != M0_JSON_STRING || m->str_len > p->max ||
        (p->type == P_STRING && memchr(m->str, 0, m->str_len) != NULL))
      return false;
    a->s = m->str;
    a->len = m->str_len;
    return true;
  case P_CHOICE:
    if (m->type != M0_JSON_STRING)
      return false;
    for (unsigned i = 0; p->choices[i] != NULL; i++)
      if (strcmp(m->str, p->choices[i]) == 0) {
        a->u = i;
        return true;
      }
    return false;
  case P_UINT:
    return m0_json_fixed(m, 0, &a->u) == 0 && memchr(m->raw, '.', m->raw_len) == NULL &&
           a->u <= p->max;
  case P_SECONDS:
    return m0_json_fixed(m, 9, &a->u) == 0 && a->u <= p->max * M0_NS_PER_S;
  case P_PROB:
    return m0_json_fixed(m, 9, &a->u) == 0 && a->u <= M0_PPB;
  case P_BOOL:
    if (m->type != M0_JSON_TRUE && m->type != M0_JSON_FALSE)
      return false;
    a->u = m->type == M0_JSON_TRUE;
    return true;
  }
  return false;
}

static struct m0__board *find_board(struct m0__proc *p, const char *name) {
  for (size_t i = 0; i < p->board_count; i++)
    if (strcmp(p->boards[i]->events.name, name) == 0)
      return p->boards[i];
  return NULL;
}

static void names(struct m0__proc *p, char *buf, size_t cap) {
  size_t n = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < p->board_count && n < cap; i++)
    n += (size_t)snprintf(buf + n, cap - n, "%s\"%s\"", i ? ", " : "", p->boards[i]->events.name);
}

void m0__ctl_dispatch(struct m0__ctl_req *r) {
  const struct m0_json_member *id = m0_json_find(r->m, r->n, "id");
  const struct m0_json_member *cmdm = m0_json_find(r->m, r->n, "cmd");
  const struct m0_json_member *devm = m0_json_find(r->m, r->n, "dev");
  struct m0__proc *p = r->ctl->proc;
  struct arg args[PARAMS_MAX];
  const struct m0__ctl_cmd *c = NULL;
  char words[160];

  if (id != NULL) {
    if (id->type == M0_JSON_OBJECT || id->type == M0_JSON_ARRAY || id->type == M0_JSON_TRUE ||
        id->type == M0_JSON_FALSE || id->raw_len >= sizeof r->id) {
      m0__ctl_error(r, "bad-request", "\"id\" must be a number, a string (at most %zu bytes) "
                    "or null", sizeof r->id - 3);
      return;
    }
    memcpy(r->id, id->raw, id->raw_len);
    r->id[id->raw_len] = '\0';
  }
  if (cmdm == NULL || cmdm->type != M0_JSON_STRING) {
    m0__ctl_error(r, "bad-request", "a request needs \"cmd\", a string (see \"commands\")");
    return;
  }
  r->cmd = cmdm->str;
  for (size_t i = 0; c == NULL && cmd_at(i) != NULL; i++)
    if (strcmp(cmd_at(i)->name, r->cmd) == 0)
      c = cmd_at(i);
  if (c == NULL) {
    struct m0__jbuf b = {0};
    for (size_t i = 0; cmd_at(i) != NULL; i++)
      m0__jb_printf(&b, "%s%s", i ? ", " : "", cmd_at(i)->name);
    m0__ctl_error(r, "unknown-command", "unknown command \"%.64s\"; commands: %s", r->cmd,
                  b.s != NULL ? b.s : "");
    m0__jb_free(&b);
    return;
  }
  memset(args, 0, sizeof args);
  for (unsigned i = 0; i < r->n; i++) {
    const struct m0_json_member *m = &r->m[i];
    unsigned k;
    if (m == id || m == cmdm || m == devm)
      continue;
    for (k = 0; k < PARAMS_MAX && c->params[k].name != NULL; k++)
      if (strcmp(c->params[k].name, m->key) == 0)
        break;
    if (k == PARAMS_MAX || c->params[k].name == NULL) {
      struct m0__jbuf b = {0};
      for (unsigned j = 0; j < PARAMS_MAX && c->params[j].name != NULL; j++)
        m0__jb_printf(&b, "%s%s", j ? ", " : "", c->params[j].name);
      m0__ctl_error(r, "bad-param", "\"%s\" takes no member \"%.64s\" (%s%s)", c->name, m->key,
                    b.s != NULL ? "it takes " : "it takes none", b.s != NULL ? b.s : "");
      m0__jb_free(&b);
      return;
    }
    if (!check_arg(&c->params[k], m, &args[k])) {
      m0__ctl_error(r, "bad-param", "\"%s\" must be %s", c->params[k].name,
                    type_words(&c->params[k], words, sizeof words));
      return;
    }
  }
  for (unsigned k = 0; k < PARAMS_MAX && c->params[k].name != NULL; k++) {
    if ((c->required & (1u << k)) && !args[k].given) {
      m0__ctl_error(r, "bad-param", "\"%s\" needs \"%s\": %s", c->name, c->params[k].name,
                    type_words(&c->params[k], words, sizeof words));
      return;
    }
  }
  if (devm != NULL && devm->type != M0_JSON_STRING) {
    m0__ctl_error(r, "bad-request", "\"dev\" must be a string (a device's name)");
    return;
  }
  if (c->dev == DEV_NONE && devm != NULL) {
    m0__ctl_error(r, "bad-param", "\"%s\" is about the process and takes no \"dev\"", c->name);
    return;
  }
  if (c->dev != DEV_NONE && devm != NULL) {
    r->board = find_board(p, devm->str);
    if (r->board == NULL) {
      names(p, words, sizeof words);
      m0__ctl_error(r, "unknown-device", "no device named \"%.64s\"; devices: %s", devm->str,
                    words);
      return;
    }
  } else if (c->dev == DEV_ONE) {
    if (p->board_count != 1) {
      names(p, words, sizeof words);
      m0__ctl_error(r, "device-required", "%zu devices here: name one with \"dev\" (%s)",
                    p->board_count, words);
      return;
    }
    r->board = p->boards[0];
  }
  c->run(r, args);
}
