/* fault.h: faults on demand, the inputs a test harness gives a device (docs/faults.md).
 *
 * A real module fails in ways a host program must survive: its power is cut, its cable
 * pulled, its firmware hangs until the watchdog restarts it, its serial line is noisy,
 * its network slow or lossy, its flash full. Each is an input of the core like any other
 * (a function with the current time), so what the device does about it is the core's
 * policy, tested on the virtual clock; the board only carries the request (the control
 * channel, docs/control.md) and the few OS actions a fault needs (link_abort). Every
 * fault may last a given time (for_ns, 0 = until told otherwise), is reported by an
 * event when it starts and ends, and shows in m0_dev_fault_status(). Random faults
 * (noise, loss) draw from the device's own generator, seeded (m0_dev_fault_seed), so a
 * test that sets a seed sees the same bytes hit every run.
 */
#ifndef M0_FAULT_H
#define M0_FAULT_H

#include <stdbool.h>
#include <stdint.h>

struct m0_dev;

/* Probabilities are in parts per billion: 1e-6 is 1000, certainty is M0_PPB. */
#define M0_PPB 1000000000u

/* ---- power ---- */

/* Cut the power (on = false) or give it back (on = true). Off: the links vanish as on a
 * power cut (TCP connections fall silent, their peers see neither FIN nor reset until
 * power comes back and the new boot's stack resets them; listening and UDP sockets
 * close), bytes in flight in the device are lost, the UART is silent and host bytes are
 * dropped, flash keeps what was saved. On: a boot, as at start. for_ns (power off only):
 * power comes back by itself after that long (a power cycle); 0 = until told.
 * Returns 0, or M0_ERR_STATE when the power already is as asked (nothing happens). */
int m0_dev_power(struct m0_dev *dev, uint64_t now, bool on, uint64_t for_ns);
bool m0_dev_powered(const struct m0_dev *dev);

/* ---- the random generator of noise and loss ---- */

/* Reseed the device's generator (the default seed is 1): the same seed and the same
 * inputs hit the same bytes. */
void m0_dev_fault_seed(struct m0_dev *dev, uint64_t seed);

/* ---- what is active, for status pages ---- */

struct m0_fault_status {
  bool off;
  uint64_t off_since, on_at; /* on_at: M0_TIME_NEVER = until told */
};
void m0_dev_fault_status(const struct m0_dev *dev, struct m0_fault_status *out);

#endif
