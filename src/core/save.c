/* save.c: the one set path and the flash write in flight (spec §3.4, §5): AT sets,
 * AT+RELD and Factory Reset, the web page's and UDP 1500's edits, all through
 * save_start(), and the write's outcome, m0_dev_on_flash_saved().
 *
 * A set is validated on a copy of saved and formatted as a whole flash file; saved
 * changes only when the write succeeded, and `E` values then run at once. A flash write
 * may outlast the input that started it (the board writes off its loop): while it is in
 * flight (struct m0__save) the asker waits for its reply, command-mode host bytes wait in
 * order (reading stops; dev.c keeps them, up to 4 KiB), a restart waits, and a second
 * write is never started; m0_dev_on_flash_saved() commits on success, answers, restarts
 * if one waited, then lets the bytes go on. Everything else (the network, the timer)
 * goes on meanwhile.
 */
#include <string.h>

#include "core.h"

/* ---- the one set path, and the flash write in flight ---- */

_Static_assert(M0_ID_COUNT <= 64, "a parameter id is a bit of a uint64_t");

/* Values that apply at once (E) run as soon as they are saved: carried from saved to
 * running through the table's own text, so every such parameter is handled alike. */
static void run_now_values(struct m0_dev *dev, uint64_t ids) {
  char value[M0_VALUE_MAX + 1];
  unsigned i;
  for (i = 0; i < M0_ID_COUNT; i++) {
    const struct m0_param *p = &m0_params[i];
    int n;
    if (!((ids >> i) & 1) || p->applies != M0_APPLIES_NOW)
      continue;
    n = m0_param_format(p, &dev->saved, M0_DIALECT_DOC, value, sizeof value);
    if (n > 0 && (size_t)n < sizeof value)
      (void)m0_param_set(p, &dev->running, value, (size_t)n);
  }
}

/* The write is over: commit on success. M0_E_FLASH: the values were fine but could not
 * be persisted; nothing changed, flash included. */
static int save_outcome(struct m0_dev *dev, int rc) {
  dev->save.busy = false;
  dev->save.answered = false;
  if (rc != 0)
    return M0_E_FLASH;
  dev->saved = dev->save.next;
  run_now_values(dev, dev->save.now_ids);
  return 0;
}

/* Hand `next` to flash for `what`. The outcome is returned when the HAL gave it within
 * its call (0 committed, M0_E_BUSY or M0_E_FLASH nothing changed), and acted on by the
 * caller; else M0_PENDING, and m0_dev_on_flash_saved() acts on it later. */
static int save_start(struct m0_dev *dev, const struct m0_config *next,
                      enum m0__save_for what, uint64_t now_ids) {
  struct m0__save *s = &dev->save;
  size_t len;
  if (s->busy)
    return M0_E_BUSY; /* one write at a time: callers check first */
  if (m0__fault_flash_refuses(dev))
    return M0_E_FLASH; /* flash that fails (fault.c): as if written and refused */
  len = m0_flash_format(next, dev->bufs.flash_text, sizeof dev->bufs.flash_text);
  if (len == 0)
    return M0_E_FLASH;
  s->next = *next;
  s->what = (uint8_t)what;
  s->now_ids = now_ids;
  s->busy = true;
  s->in_call = true;
  s->answered = false;
  dev->hal->flash_save(dev->ctx, dev->bufs.flash_text, len);
  s->in_call = false;
  if (!s->answered)
    return M0_PENDING;
  return save_outcome(dev, s->result);
}

int m0__dev_set(struct m0_dev *dev, const struct m0_param *p, const char *value, size_t len) {
  struct m0_config next = dev->saved;
  int rc;
  if (!m0_param_is_config(p))
    return M0_E_NOTCONFIG;
  rc = m0_param_set(p, &next, value, len);
  if (rc != 0)
    return rc;
  return save_start(dev, &next, M0__SAVE_AT_SET, 1ull << p->id);
}

int m0__dev_save_defaults(struct m0_dev *dev, enum m0__save_for what) {
  return save_start(dev, &dev->factory_settings, what, 0);
}

/* Command-mode input waits while flash is being written, as on the module, whose
 * firmware does nothing else meanwhile; transparent mode (network data) goes on. */
bool m0__dev_flash_holds(const struct m0_dev *dev) {
  return dev->save.busy && dev->mode == M0_MODE_COMMAND;
}

static void factory_reset_outcome(struct m0_dev *dev, uint64_t now, int rc) {
  if (rc == 0)
    m0__dev_restart_now(dev, now, "reld");
  else
    m0__dev_log(dev, "factory reset: flash could not be written; nothing changed");
}

void m0_dev_factory_reset(struct m0_dev *dev, uint64_t now) {
  int rc;
  m0__dev_catch_up(dev, now);
  if (dev->fault.off) {
    m0__dev_log(dev, "factory reset: the power is off; nothing changed");
  } else if (dev->save.busy) {
    m0__dev_log(dev, "factory reset: another flash write is in progress; nothing changed");
  } else {
    rc = m0__dev_save_defaults(dev, M0__SAVE_FACTORY_RESET);
    if (rc != M0_PENDING)
      factory_reset_outcome(dev, now, rc);
  }
  m0__dev_settle(dev, now);
}

void m0_dev_on_flash_saved(struct m0_dev *dev, uint64_t now, int rc) {
  struct m0__save *s = &dev->save;
  m0_dev_saved_fn done = NULL;
  void *done_arg = NULL;
  uint64_t restarts;
  int result;
  if (!s->busy || s->answered) {
    m0__dev_log(dev, "flash: an outcome with no save in flight; ignored");
    return;
  }
  if (s->in_call) { /* the HAL answered within flash_save: save_start() acts on it */
    s->answered = true;
    s->result = rc;
    return;
  }
  m0__dev_catch_up(dev, now);
  restarts = dev->counters.restarts;
  result = save_outcome(dev, rc);
  switch ((enum m0__save_for)s->what) {
  case M0__SAVE_AT_SET:
    m0__at_set_saved(dev, now, result);
    break;
  case M0__SAVE_AT_RELD:
    m0__at_reld_saved(dev, now, result);
    break;
  case M0__SAVE_FACTORY_RESET:
    factory_reset_outcome(dev, now, result);
    break;
  case M0__SAVE_UDP1500:
    m0__udp1500_saved(dev, now, result);
    break;
  case M0__SAVE_EDIT:
    done = s->done;
    done_arg = s->done_arg;
    break;
  }
  s->done = NULL;
  s->done_arg = NULL;
  if (s->restart_wanted) {
    s->restart_wanted = false;
    if (dev->counters.restarts == restarts) /* unless the outcome itself restarted */
      m0__dev_restart_now(dev, now, s->restart_cause);
  }
  m0__dev_release_held(dev, now);
  m0__dev_settle(dev, now);
  /* Last: the caller may act on the device again from its callback. */
  if (done != NULL)
    done(done_arg, result);
}

void m0_dev_edit_begin(struct m0_dev *dev) {
  dev->save.edit = dev->saved;
  dev->save.edit_ids = 0;
}

int m0_dev_edit_set(struct m0_dev *dev, const char *name, const char *value) {
  const struct m0_param *p;
  int rc;
  if (name == NULL || value == NULL)
    return M0_E_SYNTAX;
  p = m0_param_find(name, strlen(name));
  if (p == NULL)
    return M0_E_NOTFOUND;
  if (!m0_param_is_config(p))
    return M0_E_NOTCONFIG;
  rc = m0_param_set(p, &dev->save.edit, value, strlen(value));
  if (rc == 0)
    dev->save.edit_ids |= 1ull << p->id;
  return rc;
}

int m0_dev_edit_save(struct m0_dev *dev, uint64_t now, m0_dev_saved_fn done, void *arg) {
  int rc = 0;
  /* An input like any other: what was due by now runs first, even with nothing to write. */
  m0__dev_catch_up(dev, now);
  if (dev->save.edit_ids != 0) /* else nothing was taken: nothing to write */
    rc = save_start(dev, &dev->save.edit, M0__SAVE_EDIT, dev->save.edit_ids);
  dev->save.edit_ids = 0;
  if (rc == M0_PENDING) {
    dev->save.done = done;
    dev->save.done_arg = arg;
  }
  m0__dev_settle(dev, now);
  return rc;
}

int m0__dev_edit_save_as(struct m0_dev *dev, enum m0__save_for what) {
  int rc;
  if (dev->save.edit_ids == 0)
    return 0;
  rc = save_start(dev, &dev->save.edit, what, dev->save.edit_ids);
  dev->save.edit_ids = 0;
  return rc;
}

int m0_dev_set_param(struct m0_dev *dev, uint64_t now, const char *name, const char *value) {
  int rc;
  m0_dev_edit_begin(dev);
  rc = m0_dev_edit_set(dev, name, value);
  /* A refused value took nothing: the save then only catches up, like any input. */
  int saved = m0_dev_edit_save(dev, now, NULL, NULL);
  return rc != 0 ? rc : saved;
}

bool m0_dev_saving(const struct m0_dev *dev) { return dev->save.busy; }

const struct m0_config *m0_dev_saved(const struct m0_dev *dev) { return &dev->saved; }

const struct m0_config *m0_dev_factory_settings(const struct m0_dev *dev) {
  return &dev->factory_settings;
}

/* Against the boot's configuration, not the running one: between boots the running UART
 * also follows similar-RFC2217 packets, which are never saved and never wait. */
bool m0_dev_restart_needed(const struct m0_dev *dev) {
  char saved[M0_VALUE_MAX], booted[M0_VALUE_MAX];
  for (unsigned i = 0; i < M0_ID_COUNT; i++) {
    const struct m0_param *p = &m0_params[i];
    if (!m0_param_is_config(p) || p->applies != M0_APPLIES_RESTART)
      continue;
    m0_param_format(p, &dev->saved, M0_DIALECT_DOC, saved, sizeof saved);
    m0_param_format(p, &dev->booted, M0_DIALECT_DOC, booted, sizeof booted);
    if (strcmp(saved, booted) != 0)
      return true;
  }
  return false;
}

