/* uart_ctl.c: the UART without a pty, over the control channel (docs/control.md). */
#include "board.h"
#include "control.h"

void m0__uart_ctl_forget(struct m0__board *b, struct m0__ctl_client *client) {
  (void)b;
  (void)client;
}

void m0__uart_ctl_status(struct m0__board *b, struct m0__jbuf *out) {
  (void)b;
  m0__jb_add(out, "null", 4);
}
