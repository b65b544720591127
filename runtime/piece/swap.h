/* swap.h — live model swap: loop.painter and loop.sketcher changed while the piece runs.
 *
 * A change of either (config save, OSC, a preset, a checkpoint's restored value) reaches
 * the thread that drives the loop like any live parameter; that thread hands the request
 * to a loading thread of its own and never waits for it. The loading thread imports the
 * file, builds the graph, creates the backend, runs it once and checks that it chains with
 * the other model (loop_model_load); the driver takes the ready model in between two
 * iterations (loop_swap_model: a struct copy), and the loading thread frees the old one
 * afterwards, then gives the freed heap back to the system (malloc_trim), so that memory
 * stays flat over any number of swaps.
 *
 * A model that does not load or chain changes nothing: one log line names the file and
 * why, and the control's value goes back to the model that runs (so /mnemo/get, the HUD
 * and presets say what is on screen). --stats names the models that run ("painter",
 * "sketcher") and counts "swaps". Changes that come faster than models load are not
 * queued: the loader takes the newest request when it is free.
 *
 * Threads: swap_want and swap_between on the driver's thread only, between iterations;
 * both never block (an atomic flag, a trylock, a semaphore post). */
#ifndef MNEMO_SWAP_H
#define MNEMO_SWAP_H

#include "control.h"
#include "loop.h"

#include <stdbool.h>

struct swap;

/* Starts the loading thread for the open loop L (which must outlive it). ctl (may be NULL)
 * is where a refused value is put back to the running one. NULL with err when the thread
 * cannot start. */
struct swap *swap_open(struct loop *L, struct control *ctl, struct error *err);
/* After the loop's driver has stopped, before loop_close and control_close: stops the
 * loading thread and frees a model loaded but not taken. A load in progress finishes
 * first; one stuck in a read (a FIFO, a hung network file system) is waited for 2 s, then
 * logged and left behind with what it holds, for a process about to exit. NULL is fine. */
void swap_close(struct swap *sw);

/* The models p asks for (its loop.painter, loop.sketcher): remembered, handed to the
 * loader by the next swap_between. NULL sw is fine. */
void swap_want(struct swap *sw, const struct params *p);
/* Between two iterations: posts what swap_want asked for (when the mailbox is free this
 * instant, else next time), and swaps in a model the loader has ready. True when a model
 * was swapped in. No allocation, no I/O, no wait. NULL sw is fine (false). */
bool swap_between(struct swap *sw);

/* Models swapped in (and their predecessors freed) and models refused (did not load or
 * chain) so far, for tests and monitoring. Any thread. */
unsigned long swap_swapped(const struct swap *sw);
unsigned long swap_refused(const struct swap *sw);
/* True while the loader has work: a request not yet loaded, or a model not yet taken or
 * freed. For tests that wait for a swap to settle. */
bool swap_busy(const struct swap *sw);

#endif
