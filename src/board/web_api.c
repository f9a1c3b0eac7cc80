/* web_api.c: the JSON bodies of the admin page's API (docs/web.md).
 *
 * Reads go straight to the core (m0_dev_status, m0_dev_saved, m0_dev_running) and the
 * parameter table; the page builds its forms from the table's field metadata, so adding
 * a command to the table adds it to the page. Writes go through the core's edit
 * (m0_dev_edit_*), one parameter at a time: the AT table is the only validator (spec §7,
 * "one validation path"). The request body is a flat JSON object of string values, read
 * strictly and completely (web_req.c) before anything is applied, so a syntax error
 * never leaves half a form saved; after that, every valid field is saved, in one flash write,
 * even when others are refused. The write runs off the loop: the answer waits for it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"
#include "web_req.h"

/* ---- the byte string ---- */

void m0__web_buf_add(struct m0__web_buf *b, const void *data, size_t len) {
  if (b->failed || len == 0)
    return;
  if (b->len + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + len + 1)
      cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL) {
      b->failed = true;
      return;
    }
    b->data = p;
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
}

void m0__web_buf_str(struct m0__web_buf *b, const char *s) {
  m0__web_buf_add(b, s, strlen(s));
}

void m0__web_buf_printf(struct m0__web_buf *b, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->failed = true;
    return;
  }
  if ((size_t)n < sizeof small) {
    m0__web_buf_add(b, small, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (big == NULL) {
    b->failed = true;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  m0__web_buf_add(b, big, (size_t)n);
  free(big);
}

void m0__web_buf_json(struct m0__web_buf *b, const char *s, size_t len) {
  m0__web_buf_add(b, "\"", 1);
  size_t run = 0; /* copy plain runs in one go: values are mostly plain */
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *esc = NULL;
    char u[8];
    if (c == '"')
      esc = "\\\"";
    else if (c == '\\')
      esc = "\\\\";
    else if (c == '\n')
      esc = "\\n";
    else if (c == '\r')
      esc = "\\r";
    else if (c == '\t')
      esc = "\\t";
    else if (c < 0x20 || c >= 0x7f) {
      /* By hand, not snprintf: traffic records are mostly such bytes for binary data,
       * and this runs for every record the live view keeps. */
      static const char hex[] = "0123456789abcdef";
      memcpy(u, "\\u00", 4);
      u[4] = hex[c >> 4];
      u[5] = hex[c & 15];
      u[6] = '\0';
      esc = u;
    }
    if (esc == NULL)
      continue;
    m0__web_buf_add(b, s + run, i - run);
    m0__web_buf_str(b, esc);
    run = i + 1;
  }
  m0__web_buf_add(b, s + run, len - run);
  m0__web_buf_add(b, "\"", 1);
}

void m0__web_buf_free(struct m0__web_buf *b) {
  free(b->data);
  *b = (struct m0__web_buf){0};
}

static void json_str(struct m0__web_buf *b, const char *s) {
  m0__web_buf_json(b, s, strlen(s));
}

/* ---- reads ---- */

bool m0__web_restart_needed(const struct m0_dev *dev) {
  char saved[M0_VALUE_MAX], running[M0_VALUE_MAX];
  for (unsigned i = 0; i < M0_ID_COUNT; i++) {
    const struct m0_param *p = &m0_params[i];
    if (!m0_param_is_config(p) || p->applies != M0_APPLIES_RESTART)
      continue;
    m0_param_format(p, m0_dev_saved(dev), M0_DIALECT_DOC, saved, sizeof saved);
    m0_param_format(p, m0_dev_running(dev), M0_DIALECT_DOC, running, sizeof running);
    if (strcmp(saved, running) != 0)
      return true;
  }
  return false;
}

static void param_value(struct m0__web_buf *b, enum m0_param_id id,
                        const struct m0_config *cfg) {
  char v[M0_VALUE_MAX];
  m0_param_format(&m0_params[id], cfg, M0_DIALECT_DOC, v, sizeof v);
  json_str(b, v);
}

static const char *mode_name(enum m0_mode mode) {
  switch (mode) {
  case M0_MODE_BOOTING:
    return "booting";
  case M0_MODE_TRANSPARENT:
    return "transparent";
  case M0_MODE_COMMAND:
    return "command";
  }
  return "unknown";
}

static const char *link_kind_name(enum m0_link_kind kind) {
  switch (kind) {
  case M0_LINK_TCP_CONNECT:
    return "tcp_connect";
  case M0_LINK_TCP_LISTEN:
    return "tcp_listen";
  case M0_LINK_TCP_ACCEPTED:
    return "tcp_accepted";
  case M0_LINK_UDP:
    return "udp";
  }
  return "unknown";
}

void m0__web_api_status(struct m0__web *w, struct m0__web_buf *b) {
  const struct m0_config *run = m0_dev_running(w->dev);
  struct m0_status st;
  m0_dev_status(w->dev, &st);
  const char *const *protos = m0_params[M0_ID_SOCK].fields[0].choices;

  m0__web_buf_str(b, "{\"module\":");
  json_str(b, run->mid);
  m0__web_buf_str(b, ",\"mac\":");
  json_str(b, w->factory.mac);
  m0__web_buf_str(b, ",\"firmware\":");
  json_str(b, w->factory.ver);
  m0__web_buf_str(b, ",\"pdtime\":");
  json_str(b, w->factory.pdtime);
  m0__web_buf_printf(b, ",\"state\":\"%s\",\"work_mode\":", mode_name(st.mode));
  json_str(b, protos[run->proto]);
  m0__web_buf_str(b, ",\"uart\":");
  param_value(b, M0_ID_UART, run);
  m0__web_buf_str(b, ",\"sock\":");
  param_value(b, M0_ID_SOCK, run);
  m0__web_buf_printf(b, ",\"sockport\":%u,\"wann\":", (unsigned)run->sockport);
  param_value(b, M0_ID_WANN, run);
  m0__web_buf_str(b, ",\"dns\":");
  param_value(b, M0_ID_DNS, run);
  m0__web_buf_printf(b,
                     ",\"socklk\":\"%s\",\"socket_connected\":%s,\"link_pin\":%s,"
                     "\"scslink\":%s,\"links\":[",
                     st.socket_connected ? "connect" : "disconnect",
                     st.socket_connected ? "true" : "false", st.link_pin ? "true" : "false",
                     run->scslink ? "true" : "false");
  for (unsigned i = 0; i < st.nlinks && i < M0_LINKS_MAX; i++) {
    const struct m0_link_status *l = &st.links[i];
    char peer[M0_SOCK_ADDR_MAX + 16];
    if (l->peer.host[0] != '\0')
      snprintf(peer, sizeof peer, "%s:%u", l->peer.host, (unsigned)l->peer.port);
    else
      peer[0] = '\0'; /* a listener, or a UDP socket with no peer yet */
    m0__web_buf_printf(b, "%s{\"id\":%u,\"kind\":\"%s\",\"connected\":%s,\"peer\":",
                       i ? "," : "", l->id, link_kind_name(l->kind),
                       l->connected ? "true" : "false");
    json_str(b, peer);
    m0__web_buf_printf(b, ",\"tx\":%llu,\"rx\":%llu}", (unsigned long long)l->tx_bytes,
                       (unsigned long long)l->rx_bytes);
  }
  /* Totals come from the core's counters, not from the links listed: a link's own
   * counts go with it when it closes, and a total must never go down. */
  const struct m0_counters *c = &st.counters;
  m0__web_buf_printf(b,
                     "],\"totals\":{\"net_tx\":%llu,\"net_rx\":%llu,\"uart_rx\":%llu,"
                     "\"uart_tx\":%llu},\"counters\":{\"uart_rx\":%llu,\"uart_tx\":%llu,"
                     "\"uart_tx_dropped\":%llu,\"uart_rx_dropped\":%llu,"
                     "\"net_tx_dropped\":%llu,\"net_rx_dropped\":%llu,\"restarts\":%llu},",
                     (unsigned long long)c->net_tx, (unsigned long long)c->net_rx,
                     (unsigned long long)c->uart_rx, (unsigned long long)c->uart_tx,
                     (unsigned long long)c->uart_rx, (unsigned long long)c->uart_tx,
                     (unsigned long long)c->uart_tx_dropped,
                     (unsigned long long)c->uart_rx_dropped,
                     (unsigned long long)c->net_tx_dropped,
                     (unsigned long long)c->net_rx_dropped, (unsigned long long)c->restarts);
  /* The host's line as read from the pty, and whether it differs from AT+UART (the
   * running speed or stop bits): the one thing a user's program cannot see by itself. */
  if (st.host_line_known)
    m0__web_buf_printf(b, "\"uart_mismatch\":%s,\"host_line\":{\"baud\":%lu,\"stop\":%u},",
                       st.uart_mismatch ? "true" : "false", (unsigned long)st.host_baud,
                       (unsigned)st.host_stop);
  else
    m0__web_buf_str(b, "\"uart_mismatch\":false,\"host_line\":null,");
  m0__web_buf_printf(b, "\"restart_needed\":%s,\"web\":{\"port\":%u,\"webport\":%u}}",
                     m0__web_restart_needed(w->dev) ? "true" : "false", (unsigned)w->port,
                     (unsigned)run->webport);
}

static const char *field_type_name(enum m0_field_type t) {
  switch (t) {
  case M0_FIELD_ONOFF:
    return "onoff";
  case M0_FIELD_UINT:
    return "uint";
  case M0_FIELD_ENUM:
    return "enum";
  case M0_FIELD_IPV4:
    return "ipv4";
  case M0_FIELD_TEXT:
    return "text";
  case M0_FIELD_HOST:
    return "host";
  case M0_FIELD_HEX:
    return "hex";
  }
  return "text";
}

static void string_list(struct m0__web_buf *b, const char *const *list) {
  m0__web_buf_add(b, "[", 1);
  for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
    if (i)
      m0__web_buf_add(b, ",", 1);
    json_str(b, list[i]);
  }
  m0__web_buf_add(b, "]", 1);
}

void m0__web_api_config(struct m0__web *w, struct m0__web_buf *b) {
  m0__web_buf_printf(b, "{\"restart_needed\":%s,\"params\":[",
                     m0__web_restart_needed(w->dev) ? "true" : "false");
  bool first = true;
  for (unsigned i = 0; i < M0_ID_COUNT; i++) {
    const struct m0_param *p = &m0_params[i];
    if (!m0_param_is_config(p))
      continue;
    m0__web_buf_str(b, first ? "{\"name\":" : ",{\"name\":");
    first = false;
    json_str(b, p->name);
    m0__web_buf_str(b, ",\"value\":");
    param_value(b, p->id, m0_dev_saved(w->dev));
    m0__web_buf_str(b, ",\"running\":");
    param_value(b, p->id, m0_dev_running(w->dev));
    m0__web_buf_str(b, ",\"default\":");
    json_str(b, p->defval ? p->defval : "");
    m0__web_buf_str(b, ",\"syntax\":");
    json_str(b, p->syntax);
    m0__web_buf_str(b, ",\"range\":");
    json_str(b, p->range);
    m0__web_buf_str(b, ",\"help\":");
    json_str(b, p->help);
    m0__web_buf_printf(b,
                       ",\"applies\":\"%s\",\"rest_of_line\":%s,\"min_fields\":%u,"
                       "\"fields\":[",
                       p->applies == M0_APPLIES_NOW ? "now" : "restart",
                       p->rest_of_line ? "true" : "false", p->min_fields);
    for (unsigned f = 0; f < p->nfields; f++) {
      const struct m0_field *fd = &p->fields[f];
      m0__web_buf_str(b, f ? ",{\"name\":" : "{\"name\":");
      json_str(b, fd->name);
      m0__web_buf_printf(b, ",\"type\":\"%s\"", field_type_name(fd->type));
      if (fd->type == M0_FIELD_UINT || fd->type == M0_FIELD_TEXT ||
          fd->type == M0_FIELD_HOST || fd->type == M0_FIELD_HEX)
        m0__web_buf_printf(b, ",\"min\":%lu,\"max\":%lu", (unsigned long)fd->min,
                           (unsigned long)fd->max);
      if (fd->type == M0_FIELD_ENUM) {
        m0__web_buf_str(b, ",\"choices\":");
        string_list(b, fd->choices);
        m0__web_buf_str(b, ",\"aliases\":");
        string_list(b, fd->aliases);
      }
      if (fd->type == M0_FIELD_ONOFF)
        m0__web_buf_str(b, ",\"choices\":[\"on\",\"off\"]");
      m0__web_buf_add(b, "}", 1);
    }
    m0__web_buf_str(b, "]}");
  }
  m0__web_buf_str(b, "]}");
}

static const char *error_text(int code) {
  switch (code) {
  case M0_ERR_FORMAT:
    return "invalid format";
  case M0_ERR_COMMAND:
    return "unknown parameter";
  case M0_ERR_OPERATOR:
    return "not settable (read-only or an action)";
  case M0_ERR_PARAM:
    return "invalid value";
  case M0_ERR_STATE:
    return "not permitted now";
  }
  return "refused";
}

/* A POST /api/config from its parse to its answer, which may wait for the flash write. */
struct set_job {
  struct m0__web *w;
  unsigned n;
  struct m0__web_pair pairs[M0__WEB_SET_MAX_PAIRS];
  int codes[M0__WEB_SET_MAX_PAIRS];
  const struct m0_param *params[M0__WEB_SET_MAX_PAIRS];
  m0__web_answer_fn later;
  void *later_ctx;
};

/* The answer, once every field has its outcome. Returns the HTTP status. */
static int set_answer(struct set_job *j, struct m0__web_buf *out) {
  unsigned nerrors = 0;
  for (unsigned i = 0; i < j->n; i++)
    nerrors += j->codes[i] != 0;
  m0__web_buf_printf(out, "{\"ok\":%s,\"saved\":[", nerrors ? "false" : "true");
  bool first = true;
  for (unsigned i = 0; i < j->n; i++) {
    if (j->codes[i] != 0)
      continue;
    if (!first)
      m0__web_buf_add(out, ",", 1);
    first = false;
    json_str(out, j->params[i]->name);
  }
  m0__web_buf_str(out, "],\"errors\":{");
  first = true;
  for (unsigned i = 0; i < j->n; i++) {
    if (j->codes[i] == 0)
      continue;
    if (!first)
      m0__web_buf_add(out, ",", 1);
    first = false;
    /* Keyed by the name as sent, so the page finds the field it came from. */
    m0__web_buf_json(out, j->pairs[i].key, strlen(j->pairs[i].key));
    m0__web_buf_printf(out, ":{\"code\":%d,\"message\":", j->codes[i]);
    char msg[512];
    if (j->codes[i] == M0_ERR_PARAM && j->params[i] != NULL)
      snprintf(msg, sizeof msg, "%s: expected %s (%s)", error_text(j->codes[i]),
               j->params[i]->syntax, j->params[i]->range);
    else
      snprintf(msg, sizeof msg, "%s", error_text(j->codes[i]));
    json_str(out, msg);
    m0__web_buf_add(out, "}", 1);
  }
  m0__web_buf_printf(out, "},\"restart_needed\":%s}",
                     m0__web_restart_needed(j->w->dev) ? "true" : "false");
  return nerrors ? 422 : 200;
}

/* The fields the table took share one flash write: its outcome is theirs. */
static void set_outcome(struct set_job *j, int rc) {
  for (unsigned i = 0; i < j->n; i++)
    if (j->codes[i] == 0)
      j->codes[i] = rc;
}

static void set_saved(void *arg, int rc) {
  struct set_job *j = arg;
  struct m0__web_buf out = {0};
  set_outcome(j, rc);
  int status = set_answer(j, &out);
  j->later(j->later_ctx, status, &out);
  free(j);
}

int m0__web_api_set_config(struct m0__web *w, const char *body, size_t len,
                           struct m0__web_buf *out, m0__web_answer_fn later, void *later_ctx) {
  struct set_job *j = calloc(1, sizeof *j);
  if (j == NULL) {
    out->failed = true;
    return 500;
  }
  j->w = w;
  j->later = later;
  j->later_ctx = later_ctx;
  char error[256];
  if (!m0__web_json_object(body, len, j->pairs, &j->n, error, sizeof error)) {
    m0__web_buf_str(out, "{\"ok\":false,\"error\":");
    json_str(out, error);
    m0__web_buf_str(out, "}");
    free(j);
    return 400;
  }

  m0_dev_edit_begin(w->dev);
  for (unsigned i = 0; i < j->n; i++) {
    struct m0__web_pair *pr = &j->pairs[i];
    const struct m0_param *p = pr->key_long ? NULL : m0_param_find(pr->key, strlen(pr->key));
    j->params[i] = p;
    if (p == NULL)
      j->codes[i] = M0_ERR_COMMAND;
    else if (!m0_param_is_config(p))
      j->codes[i] = M0_ERR_OPERATOR;
    else if (pr->value_bad)
      j->codes[i] = M0_ERR_PARAM;
    else
      j->codes[i] = m0_dev_edit_set(w->dev, pr->key, pr->value);
  }
  int rc = m0_dev_edit_save(w->dev, uv_hrtime(), set_saved, j);
  if (rc == M0_PENDING)
    return 0; /* set_saved answers */
  set_outcome(j, rc);
  int status = set_answer(j, out);
  free(j);
  return status;
}
