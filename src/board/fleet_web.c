/* fleet_web.c: the fleet's overview page, on a port of its own (--fleet-web).
 *
 * Read-only and cheap with thousands of modules: the page is one small embedded file
 * that asks GET /api/fleet for one page of modules at a time (offset, limit up to 500,
 * an optional substring filter q on name or address) plus the fleet's totals, and shows
 * each module's name, address, MAC, mode, work mode, socket state, counters and a link
 * to its own admin page. A request costs one pass over the modules (the totals and the
 * filter), no allocation per module. Requests are read by the admin page's own reader
 * (web_req.c: llhttp, 8 KiB head and 100 header lines) and pass its Host rule against
 * DNS rebinding (web_auth.c: an IP literal, localhost or a --web-host name); there is
 * nothing to sign in to, as nothing here changes anything. One request per connection
 * (Connection: close), at most 64 connections, 10 s to send a request.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "web_buf.h"
#include "web_req.h"

#define FW_CONNS_MAX 64
#define FW_REQUEST_MS 10000
#define FW_LIMIT_DEFAULT 50
#define FW_LIMIT_MAX 500
#define FW_READ_MAX 4096

struct fw_conn {
  struct m0__fleet_web *w;
  struct fw_conn *prev, *next;
  uv_tcp_t tcp;
  uv_timer_t timer;
  unsigned refs; /* open handles */
  bool closing;
  bool answered;
  struct m0__web_req req;
  uv_write_t write;
  struct m0__web_buf out;
  char rbuf[FW_READ_MAX];
};

struct m0__fleet_web {
  struct m0__proc *proc;
  uv_tcp_t listener;
  bool listener_open;
  uint16_t port;
  struct fw_conn *conns;
  unsigned nconns;
  const char *const *hosts; /* --web-host, lower case as given (the CLI checked them) */
  size_t nhosts;
  char host_names[M0__WEB_HOSTS_MAX][M0__WEB_HOST_NAME_MAX + 1];
  const char *host_ptrs[M0__WEB_HOSTS_MAX];
};

static const char PAGE[] =
    "<!doctype html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>m0emu fleet</title>\n"
    "<style>\n"
    "body{font:14px system-ui,sans-serif;margin:1em 2em;color:#222}\n"
    "h1{font-size:1.3em;margin:.2em 0}\n"
    "#bar{display:flex;gap:.8em;align-items:center;margin:.6em 0;flex-wrap:wrap}\n"
    "table{border-collapse:collapse;width:100%}\n"
    "th,td{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:left;"
    "font-variant-numeric:tabular-nums}\n"
    "th{background:#f3f3f3;position:sticky;top:0}\n"
    "td.n{text-align:right}\n"
    ".up{color:#087f23}.down{color:#b00020}\n"
    "</style></head><body>\n"
    "<h1>m0emu fleet</h1>\n"
    "<div id=\"summary\">loading...</div>\n"
    "<div id=\"bar\">\n"
    "<label>Filter <input id=\"q\" placeholder=\"name or address\" size=\"18\"></label>\n"
    "<label>Per page <select id=\"limit\"><option>20</option><option selected>50</option>"
    "<option>100</option><option>500</option></select></label>\n"
    "<button id=\"prev\">&larr; Previous</button>\n"
    "<span id=\"range\"></span>\n"
    "<button id=\"next\">Next &rarr;</button>\n"
    "</div>\n"
    "<table><thead><tr><th>Name</th><th>Address</th><th>MAC</th><th>Mode</th>"
    "<th>Work mode</th><th>Socket</th><th>Links</th><th>UART in</th><th>UART out</th>"
    "<th>Net in</th><th>Net out</th><th>Restarts</th><th>Page</th></tr></thead>\n"
    "<tbody id=\"rows\"></tbody></table>\n"
    "<script>\n"
    "'use strict';\n"
    "let offset = 0, busy = false;\n"
    "const $ = (id) => document.getElementById(id);\n"
    "function cell(tr, text, cls) {\n"
    "  const td = document.createElement('td');\n"
    "  td.textContent = text;\n"
    "  if (cls) td.className = cls;\n"
    "  tr.appendChild(td);\n"
    "  return td;\n"
    "}\n"
    "async function load() {\n"
    "  if (busy) return;\n"
    "  busy = true;\n"
    "  try {\n"
    "    const limit = Number($('limit').value);\n"
    "    const q = encodeURIComponent($('q').value.trim());\n"
    "    const r = await fetch(`api/fleet?offset=${offset}&limit=${limit}&q=${q}`,\n"
    "      { cache: 'no-store' });\n"
    "    const f = await r.json();\n"
    "    if (f.matched > 0 && offset >= f.matched) {\n"
    "      offset = Math.floor((f.matched - 1) / limit) * limit;\n"
    "      busy = false;\n"
    "      return load();\n"
    "    }\n"
    "    $('summary').textContent = `${f.count} modules, ${f.connected} connected; ` +\n"
    "      `${f.modes.transparent} transparent, ${f.modes.command} in command mode, ` +\n"
    "      `${f.modes.booting} booting`;\n"
    "    $('range').textContent = f.matched === 0 ? 'no module matches' :\n"
    "      `${f.offset + 1}-${f.offset + f.modules.length} of ${f.matched}`;\n"
    "    $('prev').disabled = f.offset === 0;\n"
    "    $('next').disabled = f.offset + f.modules.length >= f.matched;\n"
    "    const rows = document.createDocumentFragment();\n"
    "    for (const m of f.modules) {\n"
    "      const tr = document.createElement('tr');\n"
    "      tr.dataset.name = m.name;\n"
    "      cell(tr, m.name); cell(tr, m.addr); cell(tr, m.mac); cell(tr, m.mode);\n"
    "      cell(tr, m.proto);\n"
    "      cell(tr, m.connected ? 'connected' : 'not connected', m.connected ? 'up' : 'down');\n"
    "      for (const k of ['links', 'uart_rx', 'uart_tx', 'net_rx', 'net_tx', 'restarts'])\n"
    "        cell(tr, String(m[k]), 'n');\n"
    "      const td = cell(tr, '');\n"
    "      if (m.web) {\n"
    "        const a = document.createElement('a');\n"
    "        a.href = m.web; a.textContent = 'open'; a.target = '_blank'; a.rel = 'noopener';\n"
    "        td.appendChild(a);\n"
    "      }\n"
    "      rows.appendChild(tr);\n"
    "    }\n"
    "    $('rows').replaceChildren(rows);\n"
    "    document.body.dataset.loaded = String(Date.now());\n"
    "  } catch (e) {\n"
    "    $('summary').textContent = 'the emulator does not answer: ' + e.message;\n"
    "  }\n"
    "  busy = false;\n"
    "}\n"
    "$('prev').onclick = () => { offset = Math.max(0, offset - Number($('limit').value)); "
    "load(); };\n"
    "$('next').onclick = () => { offset += Number($('limit').value); load(); };\n"
    "$('limit').onchange = () => { offset = 0; load(); };\n"
    "$('q').oninput = () => { offset = 0; load(); };\n"
    "load();\n"
    "setInterval(load, 2000);\n"
    "</script></body></html>\n";

/* ---- connections ---- */

static void conn_free(struct fw_conn *c) {
  struct m0__fleet_web *w = c->w;
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    w->conns = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  m0__web_req_free(&c->req);
  m0__web_buf_free(&c->out);
  free(c);
}

static void on_closed(uv_handle_t *h) {
  struct fw_conn *c = h->data;
  if (--c->refs == 0)
    conn_free(c);
}

static void conn_close(struct fw_conn *c) {
  if (c->closing)
    return;
  c->closing = true;
  c->w->nconns--;
  uv_close((uv_handle_t *)&c->tcp, on_closed);
  uv_close((uv_handle_t *)&c->timer, on_closed);
}

static void on_written(uv_write_t *req, int status) {
  (void)status;
  conn_close(req->data);
}

static const char *reason(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 400:
    return "Bad Request";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 408:
    return "Request Timeout";
  case 413:
    return "Content Too Large";
  case 421:
    return "Misdirected Request";
  case 431:
    return "Request Header Fields Too Large";
  default:
    return "Internal Server Error";
  }
}

/* The whole answer, then close: one request per connection. */
static void answer(struct fw_conn *c, int status, const char *ctype, const char *body,
                   size_t len, bool head_only) {
  if (c->answered || c->closing)
    return;
  c->answered = true;
  uv_timer_stop(&c->timer);
  uv_read_stop((uv_stream_t *)&c->tcp);
  struct m0__web_buf *o = &c->out;
  m0__web_buf_printf(o,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                     "%sConnection: close\r\n\r\n",
                     status, reason(status), ctype, len,
                     status == 405 ? "Allow: GET, HEAD\r\n" : "");
  if (!head_only)
    m0__web_buf_add(o, body, len);
  if (o->failed) {
    conn_close(c);
    return;
  }
  uv_buf_t buf = uv_buf_init(o->data, (unsigned)o->len);
  c->write.data = c;
  if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &buf, 1, on_written) != 0)
    conn_close(c);
}

static void answer_error(struct fw_conn *c, int status, const char *message) {
  char body[256];
  struct m0__web_buf msg = {0};
  m0__web_buf_json(&msg, message, strlen(message));
  int n = snprintf(body, sizeof body, "{\"error\":%s}\n", msg.failed ? "\"\"" : msg.data);
  m0__web_buf_free(&msg);
  answer(c, status, "application/json", body, n > 0 ? (size_t)n : 0, false);
}

/* ---- the API ---- */

static const char *mode_name(enum m0_mode m) {
  return m == M0_MODE_TRANSPARENT ? "transparent" : m == M0_MODE_COMMAND ? "command" : "booting";
}

static const char *proto_name(const struct m0_config *c) {
  const char *const *protos = m0_params[M0_ID_SOCK].fields[0].choices;
  return protos != NULL ? protos[c->proto] : "?";
}

/* The value of key in a query string ("a=1&b=2"), percent-decoded into out. */
static bool query_get(const char *query, const char *key, char *out, size_t cap) {
  size_t klen = strlen(key);
  for (const char *p = query; p != NULL && *p != '\0';) {
    const char *end = strchr(p, '&');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
      size_t o = 0;
      for (size_t i = klen + 1; i < len && o + 1 < cap; i++) {
        char ch = p[i];
        unsigned v;
        if (ch == '+') {
          ch = ' ';
        } else if (ch == '%' && i + 2 < len && sscanf(p + i + 1, "%2x", &v) == 1) {
          ch = (char)v;
          i += 2;
        }
        out[o++] = ch;
      }
      out[o] = '\0';
      return true;
    }
    p = end ? end + 1 : NULL;
  }
  return false;
}

static unsigned long query_number(const char *query, const char *key, unsigned long dflt,
                                  unsigned long max) {
  char v[16];
  if (!query_get(query, key, v, sizeof v) || v[0] == '\0')
    return dflt;
  char *end;
  unsigned long n = strtoul(v, &end, 10);
  if (*end != '\0')
    return dflt;
  return n > max ? max : n;
}

static bool matches(const struct m0__board *b, const char *q) {
  return q[0] == '\0' || strstr(b->cfg.name, q) != NULL || strstr(b->cfg.bind, q) != NULL;
}

static void module_json(struct m0__web_buf *o, struct m0__board *b) {
  struct m0_status st;
  m0_dev_status(&b->dev, &st);
  uint16_t port = b->web_open ? m0__web_port(&b->web) : 0;
  m0__web_buf_str(o, "{\"name\":");
  m0__web_buf_json(o, b->cfg.name, strlen(b->cfg.name));
  m0__web_buf_printf(o, ",\"addr\":\"%s\",\"mac\":\"%s\",\"tty\":", b->cfg.bind,
                     b->options.factory.mac);
  if (b->cfg.no_tty)
    m0__web_buf_str(o, "null");
  else
    m0__web_buf_json(o, b->cfg.tty, strlen(b->cfg.tty));
  if (port != 0)
    m0__web_buf_printf(o, ",\"web\":\"http://%s:%u/\"", b->cfg.bind, (unsigned)port);
  else
    m0__web_buf_str(o, ",\"web\":null");
  const struct m0_counters *n = &st.counters;
  m0__web_buf_printf(o,
                     ",\"mode\":\"%s\",\"proto\":\"%s\",\"connected\":%s,\"link_pin\":%s,"
                     "\"links\":%u,\"uart_rx\":%llu,\"uart_tx\":%llu,\"net_rx\":%llu,"
                     "\"net_tx\":%llu,\"restarts\":%llu}",
                     mode_name(st.mode), proto_name(m0_dev_running(&b->dev)),
                     st.socket_connected ? "true" : "false", st.link_pin ? "true" : "false",
                     st.nlinks, (unsigned long long)n->uart_rx, (unsigned long long)n->uart_tx,
                     (unsigned long long)n->net_rx, (unsigned long long)n->net_tx,
                     (unsigned long long)n->restarts);
}

static void api_fleet(struct fw_conn *c, const char *query, bool head_only) {
  struct m0__proc *p = c->w->proc;
  char q[64] = "";
  query_get(query, "q", q, sizeof q);
  unsigned long offset = query_number(query, "offset", 0, p->board_count);
  unsigned long limit = query_number(query, "limit", FW_LIMIT_DEFAULT, FW_LIMIT_MAX);
  size_t connected = 0, matched = 0, modes[3] = {0, 0, 0};
  struct m0__web_buf list = {0};
  for (size_t i = 0; i < p->board_count; i++) {
    struct m0__board *b = p->boards[i];
    struct m0_status st;
    m0_dev_status(&b->dev, &st);
    modes[st.mode == M0_MODE_TRANSPARENT ? 1 : st.mode == M0_MODE_COMMAND ? 2 : 0]++;
    if (st.socket_connected)
      connected++;
    if (!matches(b, q))
      continue;
    if (matched >= offset && matched < offset + limit) {
      if (list.len > 0)
        m0__web_buf_str(&list, ",");
      module_json(&list, b);
    }
    matched++;
  }
  struct m0__web_buf o = {0};
  m0__web_buf_printf(&o,
                     "{\"count\":%zu,\"connected\":%zu,\"modes\":{\"booting\":%zu,"
                     "\"transparent\":%zu,\"command\":%zu},\"matched\":%zu,\"offset\":%lu,"
                     "\"limit\":%lu,\"modules\":[",
                     p->board_count, connected, modes[0], modes[1], modes[2], matched, offset,
                     limit);
  if (list.len > 0)
    m0__web_buf_add(&o, list.data, list.len);
  m0__web_buf_str(&o, "]}\n");
  if (o.failed || list.failed)
    answer_error(c, 500, "out of memory");
  else
    answer(c, 200, "application/json", o.data, o.len, head_only);
  m0__web_buf_free(&list);
  m0__web_buf_free(&o);
}

static int on_complete(struct m0__web_req *r) {
  struct fw_conn *c = r->owner;
  struct m0__web_head head;
  m0__web_req_head(r, &head);
  const struct m0__web_hval *host = &head.h[M0__WEB_H_HOST];
  struct m0__web_policy policy = {.hosts = c->w->hosts, .nhosts = c->w->nhosts};
  if (head.method != M0__WEB_M_GET && head.method != M0__WEB_M_HEAD) {
    answer_error(c, 405, "the overview is read-only: GET or HEAD");
  } else if (head.target[0] != '/') {
    answer_error(c, 400, "the target must be a path");
  } else if (host->seen && (host->over || !m0__web_host_allowed(host->v, host->len, &policy))) {
    answer_error(c, 421, "this server answers to IP addresses, localhost and --web-host names");
  } else if (!host->seen && head.minor >= 1) {
    answer_error(c, 400, "HTTP/1.1 needs a Host header");
  } else {
    bool head_only = head.method == M0__WEB_M_HEAD;
    const char *qm = strchr(head.target, '?');
    size_t plen = qm ? (size_t)(qm - head.target) : strlen(head.target);
    const char *query = qm ? qm + 1 : "";
    if ((plen == 1) || (plen == 11 && strncmp(head.target, "/index.html", 11) == 0))
      answer(c, 200, "text/html; charset=utf-8", PAGE, sizeof PAGE - 1, head_only);
    else if (plen == 10 && strncmp(head.target, "/api/fleet", 10) == 0)
      api_fleet(c, query, head_only);
    else
      answer_error(c, 404, "no such page: / and /api/fleet");
  }
  return HPE_PAUSED; /* one request per connection */
}

static void on_begin(struct m0__web_req *r) { (void)r; }
static void on_head(struct m0__web_req *r) { (void)r; }

static const struct m0__web_req_hooks hooks = {on_begin, on_head, on_complete};

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct fw_conn *c = h->data;
  (void)suggested;
  *buf = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  struct fw_conn *c = s->data;
  if (c->closing || c->answered)
    return;
  if (nread < 0) {
    conn_close(c);
    return;
  }
  size_t used = 0;
  const char *message = NULL;
  llhttp_errno_t rc = m0__web_req_feed(&c->req, buf->base, (size_t)nread, &used, &message);
  if (rc != HPE_OK && rc != HPE_PAUSED && !c->answered)
    answer_error(c, c->req.error_status ? c->req.error_status : 400,
                 message ? message : "malformed request");
}

static void on_timeout(uv_timer_t *t) {
  struct fw_conn *c = t->data;
  if (c->req.in_request)
    answer_error(c, 408, "the request took longer than 10 s");
  else
    conn_close(c);
}

static void on_connection(uv_stream_t *server, int status) {
  struct m0__fleet_web *w = server->data;
  if (status < 0)
    return;
  struct fw_conn *c = calloc(1, sizeof *c);
  if (c == NULL)
    return;
  c->w = w;
  uv_tcp_init(server->loop, &c->tcp);
  uv_timer_init(server->loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  c->refs = 2;
  c->next = w->conns;
  if (w->conns != NULL)
    w->conns->prev = c;
  w->conns = c;
  w->nconns++;
  m0__web_req_init(&c->req, &hooks, c);
  if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 || w->nconns > FW_CONNS_MAX) {
    conn_close(c);
    return;
  }
  uv_timer_start(&c->timer, on_timeout, FW_REQUEST_MS, 0);
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/* ---- the server ---- */

int m0__fleet_web_open(struct m0__proc *p, const char *addr, uint16_t port,
                       const char *const *hosts, size_t nhosts, char *err, size_t cap) {
  struct m0__fleet_web *w = calloc(1, sizeof *w);
  if (w == NULL) {
    snprintf(err, cap, "--fleet-web: out of memory");
    return -ENOMEM;
  }
  w->proc = p;
  p->overview = w;
  for (size_t i = 0; i < nhosts && i < M0__WEB_HOSTS_MAX; i++) {
    size_t k = 0;
    for (; hosts[i][k] != '\0' && k < M0__WEB_HOST_NAME_MAX; k++) {
      char ch = hosts[i][k];
      w->host_names[i][k] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    w->host_names[i][k] = '\0';
    w->host_ptrs[i] = w->host_names[i];
    w->nhosts = i + 1;
  }
  w->hosts = w->host_ptrs;
  struct sockaddr_storage sa;
  int rc = uv_ip4_addr(addr, port, (struct sockaddr_in *)&sa);
  if (rc != 0)
    rc = uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&sa);
  if (rc == 0)
    rc = uv_tcp_init(&p->loop, &w->listener);
  if (rc == 0) {
    w->listener_open = true;
    w->listener.data = w;
    rc = uv_tcp_bind(&w->listener, (struct sockaddr *)&sa, 0);
  }
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)&w->listener, 64, on_connection);
  if (rc != 0) {
    snprintf(err, cap, strchr(addr, ':') ? "--fleet-web: cannot listen on [%s]:%u: %s"
                                         : "--fleet-web: cannot listen on %s:%u: %s",
             addr, (unsigned)port, uv_strerror(rc));
    return rc;
  }
  w->port = port;
  return 0;
}

uint16_t m0__fleet_web_port(const struct m0__proc *p) {
  return p->overview != NULL ? p->overview->port : 0;
}

void m0__fleet_web_close(struct m0__proc *p) {
  struct m0__fleet_web *w = p->overview;
  if (w == NULL)
    return;
  if (w->listener_open) {
    w->listener_open = false;
    uv_close((uv_handle_t *)&w->listener, NULL);
  }
  for (struct fw_conn *c = w->conns; c != NULL; c = c->next)
    conn_close(c);
}

void m0__fleet_web_free(struct m0__proc *p) {
  free(p->overview); /* its connections freed themselves as their handles closed */
  p->overview = NULL;
}
