/* web_static.c: the page's files: embedded at build time, or under --web-root.
 *
 * By default the page (web/) is compiled in (web_assets.c, made by web/embed.py) with a
 * strong ETag that is a hash of each file, so a browser revalidates with one 304. With
 * --web-root (development) files are read from that directory on libuv's thread pool,
 * never on the loop, up to 4 MiB each, with an ETag of size and modification time. The
 * gate (web_auth.c) has already refused any path with a dot segment or a character
 * outside [A-Za-z0-9._/-], so root + path never leaves the root.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web_assets.h"
#include "web_conn.h"
#include "web_routes.h"

#define FILE_MAX (4 * 1024 * 1024) /* --web-root files: the page is a few KiB */

struct file_work {
  uv_work_t req;
  struct m0__web_conn *c;
  bool head;
  char path[4096 + 64];
  char etag[64];
  char *data;
  size_t len;
  int err;
};

static const char *content_type_of(const char *path) {
  static const struct {
    const char *ext, *type;
  } types[] = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
      {".png", "image/png"},                 {".json", "application/json; charset=utf-8"},
      {".ico", "image/x-icon"},              {".txt", "text/plain; charset=utf-8"},
  };
  const char *dot = strrchr(path, '.');
  for (size_t i = 0; dot != NULL && i < sizeof types / sizeof types[0]; i++)
    if (strcmp(dot, types[i].ext) == 0)
      return types[i].type;
  return "application/octet-stream";
}

static bool etag_match(const struct m0__web_hval *inm, const char *etag) {
  if (!inm->seen || inm->over)
    return false;
  if (strcmp(inm->v, "*") == 0)
    return true;
  /* A list of tags, possibly weak: any that names ours matches (GET uses weak compare). */
  return strstr(inm->v, etag) != NULL;
}

static void answer_file(struct m0__web_conn *c, const char *path, const void *data,
                        size_t len, char *owned, const char *etag, bool head) {
  struct m0__web_answer a = {
      .status = etag_match(&c->req.h[M0__WEB_H_INM], etag) ? 304 : 200,
      .content_type = content_type_of(path),
      .body = data,
      .len = len,
      .owned = owned,
      .cache = "no-cache", /* revalidate every time: the ETag makes it cheap */
      .etag = etag,
      .head = head,
  };
  m0__web_answer(c, &a);
}

/* On the thread pool: nothing here touches the loop or the connection. */
static void file_work(uv_work_t *req) {
  struct file_work *fw = req->data;
  int fd = open(fw->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fw->err = -errno;
    return;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > FILE_MAX) {
    fw->err = -ENOENT;
    close(fd);
    return;
  }
  fw->data = malloc((size_t)st.st_size + 1);
  size_t got = 0;
  while (fw->data != NULL && got < (size_t)st.st_size) {
    ssize_t n = read(fd, fw->data + got, (size_t)st.st_size - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  close(fd);
  fw->len = got;
  fw->err = fw->data == NULL ? -ENOMEM : 0;
  snprintf(fw->etag, sizeof fw->etag, "\"%llx-%llx-%llx\"", (unsigned long long)got,
           (unsigned long long)st.st_mtim.tv_sec, (unsigned long long)st.st_mtim.tv_nsec);
}

static void file_done(uv_work_t *req, int status) {
  struct file_work *fw = req->data;
  struct m0__web_conn *c = fw->c;
  if (!m0__web_conn_work_done(c)) {
    free(fw->data);
    free(fw);
    return;
  }
  if (status != 0 || fw->err == -ENOMEM) {
    m0__web_answer_error(c, 500, "cannot read the file", NULL);
  } else if (fw->err != 0) {
    m0__web_answer_error(c, 404, "no such page", NULL);
  } else {
    const char *rel = fw->path + strlen(c->w->web_root);
    answer_file(c, rel, fw->data, fw->len, fw->data, fw->etag, fw->head);
    fw->data = NULL;
  }
  free(fw->data);
  free(fw);
  m0__web_conn_resume(c);
}

bool m0__web_static_serve(struct m0__web_conn *c, const struct m0__web_decision *d) {
  struct m0__web *w = c->w;
  if (w->web_root[0] == '\0') {
    for (size_t i = 0; i < m0__web_asset_count; i++) {
      const struct m0__web_asset *a = &m0__web_assets[i];
      if (strcmp(a->path, d->path) == 0) {
        answer_file(c, d->path, a->data, a->len, NULL, a->etag, d->head);
        return false;
      }
    }
    m0__web_answer_error(c, 404, "no such page", NULL);
    return false;
  }
  struct file_work *fw = calloc(1, sizeof *fw);
  if (fw == NULL) {
    m0__web_answer_error(c, 500, "out of memory", NULL);
    return false;
  }
  fw->req.data = fw;
  fw->c = c;
  fw->head = d->head;
  int n = snprintf(fw->path, sizeof fw->path, "%s%s", w->web_root, d->path);
  if (n < 0 || (size_t)n >= sizeof fw->path) {
    free(fw);
    m0__web_answer_error(c, 404, "no such page", NULL); /* longer than any file name */
    return false;
  }
  if (uv_queue_work(w->loop, &fw->req, file_work, file_done) != 0) {
    free(fw);
    m0__web_answer_error(c, 500, "cannot queue the file read", NULL);
    return false;
  }
  c->work_pending = true;
  return true;
}
