/* web_req.c: llhttp with the web server's callbacks and limits, and the JSON reader.
 *
 * Everything here is a function of the bytes received, whatever way they were split
 * into reads: a header value or the URL may arrive in any number of pieces and is
 * appended; limits are counted on what arrived (8 KiB of head: the URL, each header
 * name + 4 bytes for ": " and CRLF, each value; 100 header lines; 16 KiB of body), so a
 * request split anywhere is refused or accepted exactly as the whole. The body buffer
 * is allocated once at its full 16 KiB when the first body byte comes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "web_req.h"

static const llhttp_settings_t parser_settings;

void m0__web_req_init(struct m0__web_req *r, const struct m0__web_req_hooks *hooks,
                      void *owner) {
  memset(r, 0, sizeof *r);
  r->hooks = hooks;
  r->owner = owner;
  r->keep_alive = true;
  r->which = M0__WEB_H_NONE;
  llhttp_init(&r->parser, HTTP_REQUEST, &parser_settings);
  r->parser.data = r;
}

void m0__web_req_free(struct m0__web_req *r) {
  free(r->body);
  r->body = NULL;
}

llhttp_errno_t m0__web_req_feed(struct m0__web_req *r, const char *data, size_t len,
                                size_t *used, const char **message) {
  llhttp_errno_t err = llhttp_execute(&r->parser, data, len);
  *used = len;
  *message = "";
  if (err == HPE_OK)
    return err;
  const char *pos = llhttp_get_error_pos(&r->parser);
  if (pos != NULL && pos >= data && pos <= data + len)
    *used = (size_t)(pos - data);
  if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE)
    return err;
  if (r->error_status == 0) {
    const char *why = llhttp_get_error_reason(&r->parser);
    snprintf(r->error_buf, sizeof r->error_buf, "malformed request: %s",
             why ? why : llhttp_errno_name(err));
    r->error_status = 400;
    r->error_text = r->error_buf;
    r->url[0] = '\0'; /* the target may be what was malformed: answer in text */
    r->url_len = 0;
  }
  *message = r->error_text;
  return err;
}

void m0__web_req_resume(struct m0__web_req *r) {
  llhttp_resume(&r->parser);
}

void m0__web_req_head(const struct m0__web_req *r, struct m0__web_head *head) {
  uint8_t method = llhttp_get_method((llhttp_t *)&r->parser);
  head->method = method == HTTP_GET    ? M0__WEB_M_GET
                 : method == HTTP_HEAD ? M0__WEB_M_HEAD
                 : method == HTTP_POST ? M0__WEB_M_POST
                                       : M0__WEB_M_OTHER;
  head->major = llhttp_get_http_major((llhttp_t *)&r->parser);
  head->minor = llhttp_get_http_minor((llhttp_t *)&r->parser);
  head->target = r->url;
  head->h = r->h;
}

/* ---- llhttp callbacks ---- */

static struct m0__web_req *req_of(llhttp_t *p) {
  return p->data;
}

static int refuse(struct m0__web_req *r, int status, const char *text) {
  r->error_status = status;
  r->error_text = text;
  return -1;
}

static int count_head(struct m0__web_req *r, size_t len) {
  r->head_bytes += len;
  if (r->head_bytes > M0__WEB_HEAD_MAX)
    return refuse(r, 431, "request line and headers exceed 8 KiB");
  return 0;
}

static int on_message_begin(llhttp_t *p) {
  struct m0__web_req *r = req_of(p);
  r->in_request = true;
  r->head_done = false;
  r->expect_continue = false;
  r->error_status = 0;
  r->error_text = NULL;
  r->head_bytes = 0;
  r->nheaders = 0;
  r->url_len = 0;
  r->url[0] = '\0';
  r->field_len = 0;
  r->field_long = false;
  r->which = M0__WEB_H_NONE;
  for (int i = 0; i < M0__WEB_H_COUNT; i++) {
    r->h[i].len = 0;
    r->h[i].v[0] = '\0';
    r->h[i].seen = r->h[i].over = false;
  }
  r->body_len = 0;
  if (r->hooks->on_begin)
    r->hooks->on_begin(r);
  return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len) {
  struct m0__web_req *r = req_of(p);
  if (count_head(r, len) != 0)
    return -1;
  memcpy(r->url + r->url_len, at, len); /* fits: url holds M0__WEB_HEAD_MAX bytes */
  r->url_len += len;
  r->url[r->url_len] = '\0';
  return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len) {
  struct m0__web_req *r = req_of(p);
  if (count_head(r, len) != 0)
    return -1;
  if (r->field_len + len >= sizeof r->field) {
    r->field_long = true;
    return 0;
  }
  memcpy(r->field + r->field_len, at, len);
  r->field_len += len;
  return 0;
}

static int on_header_field_complete(llhttp_t *p) {
  struct m0__web_req *r = req_of(p);
  /* ": " and CRLF count once per line, not once per piece of the name: a name split
   * across reads would otherwise count more than the same name in one read. */
  if (count_head(r, 4) != 0)
    return -1;
  if (++r->nheaders > M0__WEB_HEADERS_MAX)
    return refuse(r, 431, "more than 100 header lines");
  r->which = M0__WEB_H_NONE;
  for (int i = 0; i < M0__WEB_H_COUNT && !r->field_long; i++) {
    if (strlen(m0__web_hdr_names[i]) == r->field_len &&
        strncasecmp(m0__web_hdr_names[i], r->field, r->field_len) == 0)
      r->which = (enum m0__web_hdr)i;
  }
  if (r->which != M0__WEB_H_NONE && r->h[r->which].seen)
    return refuse(r, 400, "a header this server reads appears twice");
  if (r->which != M0__WEB_H_NONE)
    r->h[r->which].seen = true;
  return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len) {
  struct m0__web_req *r = req_of(p);
  if (count_head(r, len) != 0)
    return -1;
  if (r->which == M0__WEB_H_NONE)
    return 0;
  struct m0__web_hval *h = &r->h[r->which];
  if (h->over || h->len + len > M0__WEB_HVAL_MAX) {
    h->over = true;
    return 0;
  }
  memcpy(h->v + h->len, at, len);
  h->len += len;
  h->v[h->len] = '\0';
  return 0;
}

static int on_header_value_complete(llhttp_t *p) {
  struct m0__web_req *r = req_of(p);
  r->field_len = 0;
  r->field_long = false;
  r->which = M0__WEB_H_NONE;
  return 0;
}

static int on_headers_complete(llhttp_t *p) {
  struct m0__web_req *r = req_of(p);
  r->keep_alive = llhttp_should_keep_alive(p) != 0;
  if ((p->flags & F_CONTENT_LENGTH) && p->content_length > M0__WEB_BODY_MAX)
    return refuse(r, 413, "the body exceeds 16 KiB");
  r->head_done = true;
  const struct m0__web_hval *e = &r->h[M0__WEB_H_EXPECT];
  r->expect_continue = e->seen && !e->over && strcasecmp(e->v, "100-continue") == 0;
  if (r->hooks->on_head)
    r->hooks->on_head(r);
  return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len) {
  struct m0__web_req *r = req_of(p);
  if (r->body_len + len > M0__WEB_BODY_MAX)
    return refuse(r, 413, "the body exceeds 16 KiB");
  if (r->body == NULL) {
    r->body = malloc(M0__WEB_BODY_MAX + 1);
    if (r->body == NULL)
      return refuse(r, 500, "out of memory");
  }
  memcpy(r->body + r->body_len, at, len);
  r->body_len += len;
  r->body[r->body_len] = '\0';
  return 0;
}

static int on_message_complete(llhttp_t *p) {
  struct m0__web_req *r = req_of(p);
  r->in_request = false;
  return r->hooks->on_complete ? r->hooks->on_complete(r) : 0;
}

static const llhttp_settings_t parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- the strict JSON reader ---- */

struct reader {
  const char *s;
  size_t len, pos;
  char *error;
  size_t error_cap;
};

static bool fail_at(struct reader *r, const char *what) {
  snprintf(r->error, r->error_cap, "at byte %zu: %s", r->pos, what);
  return false;
}

static void skip_ws(struct reader *r) {
  while (r->pos < r->len && (r->s[r->pos] == ' ' || r->s[r->pos] == '\t' ||
                             r->s[r->pos] == '\n' || r->s[r->pos] == '\r'))
    r->pos++;
}

static int hex4(const char *s) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

/* Reads a JSON string into out (cap bytes with the NUL). *cut is set when it did not
 * fit or held a NUL character; the reader still consumes it whole. */
static bool read_string(struct reader *r, char *out, size_t cap, bool *cut) {
  size_t n = 0;
  *cut = false;
  if (r->pos >= r->len || r->s[r->pos] != '"')
    return fail_at(r, "expected a string");
  r->pos++;
  for (;;) {
    if (r->pos >= r->len)
      return fail_at(r, "unterminated string");
    unsigned char c = (unsigned char)r->s[r->pos];
    char utf8[4];
    size_t k = 0;
    if (c == '"') {
      r->pos++;
      break;
    }
    if (c < 0x20)
      return fail_at(r, "control character in a string (escape it)");
    if (c != '\\') {
      utf8[k++] = (char)c;
      r->pos++;
    } else {
      if (r->pos + 1 >= r->len)
        return fail_at(r, "unterminated string");
      char e = r->s[r->pos + 1];
      const char *simple = strchr("\"\\/bfnrt", e);
      if (e != '\0' && simple != NULL) {
        static const char map[] = "\"\\/\b\f\n\r\t";
        utf8[k++] = map[simple - "\"\\/bfnrt"];
        r->pos += 2;
      } else if (e == 'u') {
        if (r->pos + 6 > r->len)
          return fail_at(r, "truncated \\u escape");
        int cp = hex4(r->s + r->pos + 2);
        if (cp < 0)
          return fail_at(r, "bad \\u escape");
        r->pos += 6;
        if (cp >= 0xd800 && cp <= 0xdbff) {
          int lo = (r->pos + 6 <= r->len && r->s[r->pos] == '\\' && r->s[r->pos + 1] == 'u')
                       ? hex4(r->s + r->pos + 2)
                       : -1;
          if (lo < 0xdc00 || lo > 0xdfff)
            return fail_at(r, "unpaired surrogate in a \\u escape");
          r->pos += 6;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
          return fail_at(r, "unpaired surrogate in a \\u escape");
        }
        if (cp == 0)
          *cut = true; /* a C string cannot carry it: the value is refused */
        if (cp < 0x80) {
          utf8[k++] = (char)cp;
        } else if (cp < 0x800) {
          utf8[k++] = (char)(0xc0 | cp >> 6);
          utf8[k++] = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
          utf8[k++] = (char)(0xe0 | cp >> 12);
          utf8[k++] = (char)(0x80 | (cp >> 6 & 0x3f));
          utf8[k++] = (char)(0x80 | (cp & 0x3f));
        } else {
          utf8[k++] = (char)(0xf0 | cp >> 18);
          utf8[k++] = (char)(0x80 | (cp >> 12 & 0x3f));
          utf8[k++] = (char)(0x80 | (cp >> 6 & 0x3f));
          utf8[k++] = (char)(0x80 | (cp & 0x3f));
        }
      } else {
        return fail_at(r, "bad escape in a string");
      }
    }
    for (size_t i = 0; i < k; i++) {
      if (n + 1 < cap)
        out[n++] = utf8[i];
      else
        *cut = true;
    }
  }
  out[n] = '\0';
  return true;
}

/* A JSON value that is not a string: name its kind for the message. */
static const char *value_kind(char c) {
  if (c == '{')
    return "an object";
  if (c == '[')
    return "an array";
  if (c == 't' || c == 'f')
    return "a boolean";
  if (c == 'n')
    return "null";
  if (c == '-' || (c >= '0' && c <= '9'))
    return "a number";
  return "not a JSON value";
}

bool m0__web_json_object(const char *s, size_t len, struct m0__web_pair *pairs,
                         unsigned *npairs, char *error, size_t error_cap) {
  struct reader rd = {.s = s, .len = len, .error = error, .error_cap = error_cap};
  struct reader *r = &rd;
  *npairs = 0;
  skip_ws(r);
  if (r->pos >= r->len || r->s[r->pos] != '{')
    return fail_at(r, "expected a JSON object {\"NAME\":\"value\",...}");
  r->pos++;
  skip_ws(r);
  if (r->pos < r->len && r->s[r->pos] == '}') {
    r->pos++;
  } else {
    for (;;) {
      if (*npairs == M0__WEB_SET_MAX_PAIRS)
        return fail_at(r, "too many members (at most 64)");
      struct m0__web_pair *p = &pairs[*npairs];
      skip_ws(r);
      if (r->pos < r->len && r->s[r->pos] != '"')
        return fail_at(r, "expected a member name in double quotes");
      if (!read_string(r, p->key, sizeof p->key, &p->key_long))
        return false;
      for (unsigned i = 0; i < *npairs; i++) {
        if (!p->key_long && !pairs[i].key_long && strcmp(pairs[i].key, p->key) == 0) {
          char msg[96];
          snprintf(msg, sizeof msg, "duplicate member \"%s\"", p->key);
          return fail_at(r, msg);
        }
      }
      skip_ws(r);
      if (r->pos >= r->len || r->s[r->pos] != ':')
        return fail_at(r, "expected ':' after a member name");
      r->pos++;
      skip_ws(r);
      if (r->pos < r->len && r->s[r->pos] != '"') {
        char msg[128];
        snprintf(msg, sizeof msg, "the value of \"%.32s\" must be a string, not %s", p->key,
                 value_kind(r->s[r->pos]));
        return fail_at(r, msg);
      }
      if (!read_string(r, p->value, sizeof p->value, &p->value_bad))
        return false;
      (*npairs)++;
      skip_ws(r);
      if (r->pos < r->len && r->s[r->pos] == ',') {
        r->pos++;
        continue;
      }
      if (r->pos < r->len && r->s[r->pos] == '}') {
        r->pos++;
        break;
      }
      return fail_at(r, "expected ',' or '}'");
    }
  }
  skip_ws(r);
  if (r->pos != r->len)
    return fail_at(r, "unexpected data after the object");
  return true;
}
