/* web_api.c: the admin page's JSON API (docs/web.md): the handlers of its routes.
 *
 * Reads go straight to the core (m0_dev_status, m0_dev_saved, m0_dev_running) and the
 * parameter table; the page builds its forms from the table's field metadata, so adding
 * a command to the table adds it to the page. Writes go through the core's edit
 * (m0_dev_edit_*), one parameter at a time: the AT table is the only validator (spec §7,
 * "one validation path"). The request body is a flat JSON object of string values, read
 * strictly and completely (the core's reader, m0/json.h) before anything is applied, so a
 * syntax error never leaves half a form saved; after that, every valid field is saved, in
 * one flash write, even when others are refused. The write runs off the loop: the answer waits for it,
 * and the connection's later requests wait behind it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m0/json.h"
#include "board.h"
#include "control.h" /* struct m0__jbuf, for the shared status members */
#include "web_conn.h"
#include "web_routes.h"

static void json_str(struct m0__web_buf *b, const char *s) {
  m0__web_buf_json(b, s, strlen(s));
}

/* ---- reads ---- */

static void param_value(struct m0__web_buf *b, enum m0_param_id id,
                        const struct m0_config *cfg) {
  char v[M0_VALUE_MAX];
  m0_param_format(&m0_params[id], cfg, M0_DIALECT_DOC, v, sizeof v);
  json_str(b, v);
}

/* The page's members around the module's shared ones (status.c): the vendor page's names
 * (state, work_mode, socklk), its settings as AT texts, links and totals. */
static void status_body(struct m0__web *w, struct m0__web_buf *b) {
  const struct m0_config *run = m0_dev_running(w->dev);
  struct m0_status st;
  m0_dev_status(w->dev, &st);
  const char *const *protos = m0_params[M0_ID_SOCK].fields[0].choices;
  /* Every m0__web is a board's (board.c). */
  struct m0__board *bd = (struct m0__board *)((char *)w - offsetof(struct m0__board, web));
  struct m0__jbuf common = {0};
  m0__status_members(bd, &common);
  M0__JB_LIT(&common, ",");
  m0__status_counters(bd, &common);
  m0__web_buf_str(b, "{");
  if (!common.failed) { /* out of memory: the page's own members still make an answer */
    m0__web_buf_add(b, common.s, common.len);
    m0__web_buf_str(b, ",");
  }
  m0__jb_free(&common);
  m0__web_buf_str(b, "\"module\":");
  json_str(b, run->mid);
  m0__web_buf_str(b, ",\"mac\":");
  json_str(b, w->factory.mac);
  m0__web_buf_str(b, ",\"firmware\":");
  json_str(b, w->factory.ver);
  m0__web_buf_str(b, ",\"pdtime\":");
  json_str(b, w->factory.pdtime);
  m0__web_buf_printf(b, ",\"state\":\"%s\",\"work_mode\":", m0_mode_name(st.mode));
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
                     ",\"socklk\":\"%s\",\"scslink\":%s,\"links\":[",
                     st.socket_connected ? "connect" : "disconnect",
                     run->scslink ? "true" : "false");
  for (unsigned i = 0; i < st.nlinks && i < M0_LINKS_MAX; i++) {
    const struct m0_link_status *l = &st.links[i];
    char peer[M0_SOCK_ADDR_MAX + 16];
    if (l->peer.host[0] != '\0')
      snprintf(peer, sizeof peer, "%s:%u", l->peer.host, (unsigned)l->peer.port);
    else
      peer[0] = '\0'; /* a listener, or a UDP socket with no peer yet */
    m0__web_buf_printf(b, "%s{\"id\":%u,\"kind\":\"%s\",\"connected\":%s,\"peer\":",
                       i ? "," : "", l->id, m0_link_kind_name(l->kind),
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
                     "\"uart_tx\":%llu},",
                     (unsigned long long)c->net_tx, (unsigned long long)c->net_rx,
                     (unsigned long long)c->uart_rx, (unsigned long long)c->uart_tx);
  m0__web_buf_printf(b, "\"restart_needed\":%s,\"web\":{\"port\":%u,\"webport\":%u}}",
                     m0_dev_restart_needed(w->dev) ? "true" : "false", (unsigned)w->port,
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

static void config_body(struct m0__web *w, struct m0__web_buf *b) {
  m0__web_buf_printf(b, "{\"restart_needed\":%s,\"params\":[",
                     m0_dev_restart_needed(w->dev) ? "true" : "false");
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
    m0__web_buf_str(b, ",\"default\":"); /* this module's: a profile's, if it has one */
    param_value(b, p->id, m0_dev_factory_settings(w->dev));
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

/* A refused field's message, from the core's error (its "code" is the AT code the same
 * mistake gets: m0_err_at()). */
static const char *error_text(int err) {
  switch (err) {
  case M0_E_SYNTAX:
    return "invalid format";
  case M0_E_NOTFOUND:
    return "unknown parameter";
  case M0_E_NOTCONFIG:
    return "not settable (read-only or an action)";
  case M0_E_INVAL:
    return "invalid value";
  case M0_E_STATE:
  case M0_E_BUSY:
  case M0_E_FLASH:
    return "not permitted now";
  }
  return "refused";
}

bool m0__web_api_status(struct m0__web_conn *c, const struct m0__web_decision *d) {
  struct m0__web_buf b = {0};
  status_body(c->w, &b);
  m0__web_answer_json(c, 200, &b, d->head);
  return false;
}

bool m0__web_api_config(struct m0__web_conn *c, const struct m0__web_decision *d) {
  struct m0__web_buf b = {0};
  config_body(c->w, &b);
  m0__web_answer_json(c, 200, &b, d->head);
  return false;
}

/* ---- writes ---- */

#define FORM_FIELDS_MAX 64 /* more than the table has: a form never needs more */

/* A POST /api/config from its parse to its answer, which may wait for the flash write.
 * The members' decoded keys and values live in scratch, allocated with the job. */
struct set_job {
  struct m0__web_conn *c;
  unsigned n;
  struct m0_json_member fields[FORM_FIELDS_MAX];
  int codes[FORM_FIELDS_MAX]; /* each field's enum m0_err; 0: taken */
  const struct m0_param *params[FORM_FIELDS_MAX];
  char scratch[];
};

/* The answer, once every field has its outcome. Returns the HTTP status: 200 (every
 * field saved) or 422 (some refused; the others are saved). */
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
    json_str(out, j->fields[i].key);
    m0__web_buf_printf(out, ":{\"code\":%d,\"message\":", m0_err_at(j->codes[i]));
    char msg[512];
    if (j->codes[i] == M0_E_INVAL && j->params[i] != NULL)
      snprintf(msg, sizeof msg, "%s: expected %s (%s)", error_text(j->codes[i]),
               j->params[i]->syntax, j->params[i]->range);
    else
      snprintf(msg, sizeof msg, "%s", error_text(j->codes[i]));
    json_str(out, msg);
    m0__web_buf_add(out, "}", 1);
  }
  m0__web_buf_printf(out, "},\"restart_needed\":%s}",
                     m0_dev_restart_needed(j->c->w->dev) ? "true" : "false");
  return nerrors ? 422 : 200;
}

/* The fields the table took share one flash write: its outcome is theirs. */
static void set_outcome(struct set_job *j, int rc) {
  for (unsigned i = 0; i < j->n; i++)
    if (j->codes[i] == 0)
      j->codes[i] = rc;
}

/* The flash write's outcome came (m0_dev_edit_save's callback): answer now. */
static void set_saved(void *arg, int rc) {
  struct set_job *j = arg;
  struct m0__web_conn *c = j->c;
  if (m0__web_conn_work_done(c)) {
    struct m0__web_buf out = {0};
    set_outcome(j, rc);
    int status = set_answer(j, &out);
    m0__web_answer_json(c, status, &out, false);
    m0__web_conn_resume(c);
  }
  free(j);
}

bool m0__web_api_set_config(struct m0__web_conn *c, const struct m0__web_decision *d) {
  struct m0__web *w = c->w;
  struct m0__web_buf out = {0};
  (void)d;
  const char *body = c->req.body ? c->req.body : "";
  size_t scratch_cap = c->req.body_len + 2 * FORM_FIELDS_MAX + 1; /* m0_json_object's need */
  struct set_job *j = calloc(1, sizeof *j + scratch_cap);
  if (j == NULL) {
    m0__web_answer_error(c, 500, "out of memory", NULL);
    return false;
  }
  j->c = c;
  char error[256];
  int n = m0_json_object(body, c->req.body_len, j->fields, FORM_FIELDS_MAX, j->scratch,
                         scratch_cap, error, sizeof error);
  if (n < 0 || m0_json_all_strings(body, j->fields, (unsigned)n, error, sizeof error) != 0) {
    m0__web_buf_str(&out, "{\"ok\":false,\"error\":");
    json_str(&out, error);
    m0__web_buf_str(&out, "}");
    free(j);
    m0__web_answer_json(c, 400, &out, false);
    return false;
  }
  j->n = (unsigned)n;

  m0_dev_edit_begin(w->dev);
  for (unsigned i = 0; i < j->n; i++) {
    const struct m0_json_member *f = &j->fields[i];
    const struct m0_param *p = m0_param_find(f->key, f->key_len);
    j->params[i] = p;
    if (p == NULL)
      j->codes[i] = M0_E_NOTFOUND;
    else if (!m0_param_is_config(p))
      j->codes[i] = M0_E_NOTCONFIG;
    else if (f->str_len >= M0_VALUE_MAX || strlen(f->str) != f->str_len) /* too long, a NUL */
      j->codes[i] = M0_E_INVAL;
    else
      j->codes[i] = m0_dev_edit_set(w->dev, f->key, f->str);
  }
  int rc = m0_dev_edit_save(w->dev, uv_hrtime(), set_saved, j);
  if (rc == M0_PENDING) {
    c->work_pending = true; /* set_saved answers */
    return true;
  }
  set_outcome(j, rc);
  int status = set_answer(j, &out);
  free(j);
  m0__web_answer_json(c, status, &out, false);
  return false;
}

/* ---- actions ---- */

bool m0__web_api_restart(struct m0__web_conn *c, const struct m0__web_decision *d) {
  struct m0__web_buf b = {0};
  (void)d;
  m0__web_buf_str(&b, "{\"ok\":true,\"restarting\":true}");
  m0__web_answer_json(c, 200, &b, false);
  /* After the answer is queued: the restart re-binds the server (WEBPORT). */
  m0_dev_restart(c->w->dev, uv_hrtime(), "web");
  return false;
}

bool m0__web_api_factory_reset(struct m0__web_conn *c, const struct m0__web_decision *d) {
  struct m0__web_buf b = {0};
  (void)d;
  m0__web_buf_str(&b, "{\"ok\":true,\"restarting\":true}");
  m0__web_answer_json(c, 200, &b, false);
  m0_dev_factory_reset(c->w->dev, uv_hrtime());
  return false;
}
