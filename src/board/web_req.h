/* web_req.h: one connection's requests as the web server reads them, without sockets.
 *
 * llhttp with the server's callbacks: the request line and headers are counted against
 * 8 KiB and 100 lines (431), the body against 16 KiB (413), the headers the gate reads
 * (web_auth.h) are kept, the rest only counted. The owner (web_conn.c, or the fuzz target)
 * feeds bytes with m0__web_req_feed() and is called back at the start of a request,
 * after its head and when it is complete. No libuv here.
 */
#ifndef M0_BOARD_WEB_REQ_H
#define M0_BOARD_WEB_REQ_H

#include <stdbool.h>
#include <stddef.h>

#include <llhttp.h>

#include "web_auth.h"

struct m0__web_req;

struct m0__web_req_hooks {
  /* The first byte of a request arrived. */
  void (*on_begin)(struct m0__web_req *r);
  /* The head is complete and within the limits (r->expect_continue says whether the
   * client waits for "100 Continue"). */
  void (*on_head)(struct m0__web_req *r);
  /* The request is complete: return 0 to parse on, or HPE_PAUSED to stop (the answer
   * is not ready, or the connection closes); m0__web_req_feed() then says where. */
  int (*on_complete)(struct m0__web_req *r);
};

struct m0__web_req {
  llhttp_t parser;
  const struct m0__web_req_hooks *hooks;
  void *owner;
  /* The request being parsed. */
  bool in_request;     /* bytes of a request have arrived, it is not complete */
  bool head_done;      /* its head is complete */
  bool keep_alive;
  bool expect_continue;
  int error_status;    /* why the request was refused: 400, 413, 431 (500: no memory) */
  const char *error_text;
  char error_buf[160]; /* error_text when llhttp itself refused: "malformed request: ..." */
  size_t head_bytes;   /* counted against M0__WEB_HEAD_MAX */
  unsigned nheaders;
  char url[M0__WEB_HEAD_MAX + 1];
  size_t url_len;
  char field[32];
  size_t field_len;
  bool field_long;
  enum m0__web_hdr which;
  struct m0__web_hval h[M0__WEB_H_COUNT];
  char *body;          /* M0__WEB_BODY_MAX + 1, allocated at the first body byte */
  size_t body_len;
};

void m0__web_req_init(struct m0__web_req *r, const struct m0__web_req_hooks *hooks,
                      void *owner);
void m0__web_req_free(struct m0__web_req *r);

/* Parse len bytes. Returns HPE_OK, HPE_PAUSED (a hook paused: *used bytes were taken,
 * call m0__web_req_resume() before feeding the rest) or an error: then r->error_status
 * is the status to answer (400 when llhttp itself refused) and *message the text. */
llhttp_errno_t m0__web_req_feed(struct m0__web_req *r, const char *data, size_t len,
                                size_t *used, const char **message);
void m0__web_req_resume(struct m0__web_req *r);

/* The head as the gate reads it. */
void m0__web_req_head(const struct m0__web_req *r, struct m0__web_head *head);

#endif
