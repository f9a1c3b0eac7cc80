/* web_req.c: llhttp with the web server's callbacks and limits.
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
