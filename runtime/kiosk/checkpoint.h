/* checkpoint.h — the loop's state on disk, so a restart continues the piece.
 *
 * A gallery's machine restarts (power cut, supervisor, a lost GPU); the piece should go
 * on from where it was, not start over from its seed. Every kiosk.checkpoint_s seconds
 * the loop's state goes to kiosk.state_dir/mnemo.state, and at start that file is read
 * back right after loop_open.
 *
 * What is saved: the current sketch, portrait and seed sketch (the seed matters while a
 * reseed blends it in), both generators, the guard (hash ring, counters, what the next
 * iteration does), the metrics of the last iteration, the iteration count, and the live
 * parameters (not control/setup ones) that differ from those the process started with,
 * as name=value text (params.c formatting), with the value each started from. On restore
 * a saved value is applied on top of the config unless the config itself changed that
 * parameter since (then the config wins, logged). prev_portrait is not saved: the next
 * iteration overwrites it before anything reads it.
 *
 * The file (little-endian): a header (magic "MNEMOCKP", format version, total length,
 * loop.size, a 64-bit digest of the two model files' contents, the iteration count, the
 * time saved), the payload, and a CRC-32 of everything before it. It is written
 * atomically: a temp file in the same folder (one per process), write, fsync, rename
 * over the old one, fsync of the folder, so a power cut leaves the old checkpoint or the
 * new, never a mix. One process at a time has the folder (checkpoint_lock). A file that
 * is corrupt, truncated, of another format version, another loop.size or other models is
 * ignored with one log line naming it and why; the piece starts fresh. So is one with a
 * good checksum that holds a value no loop leaves behind (a forged file): a generator
 * that cannot run, a counter beyond its range, a pixel outside [-1, 1], a live value its
 * registry row refuses (ckpt_values_check).
 * A folder that cannot be made or written, or a full disk, is one log line naming the
 * path and what to do (repeated only after a save worked again); the piece goes on.
 *
 * Threads: checkpoint_offer runs on the loop's thread between iterations and only copies
 * the state into a snapshot allocated at open, when a checkpoint is due and the writer
 * is idle (an atomic flag, never a wait); a writer thread serialises and writes it.
 * checkpoint_save_now is for the exit paths, after the loop's thread has stopped.
 *
 *   L: loop_open(&L, &p, ...);
 *   struct checkpoint *ck = checkpoint_open(&L, &p);   NULL when kiosk.state_dir is ""
 *   checkpoint_restore(ck, &p);                         p: the live values restored
 *   ... loop thread: loop_step(&L, ...); checkpoint_offer(L.checkpoint); ...
 *   stop the loop thread; checkpoint_save_now(ck); checkpoint_close(ck); loop_close(&L);
 *
 * Fault injection (fault.h): MNEMO_FAULT=checkpoint:kill_before_rename kills the process
 * (SIGKILL, as a power cut) after the temp file is written and synced, before the
 * rename: the old checkpoint must survive it. */
#ifndef MNEMO_CHECKPOINT_H
#define MNEMO_CHECKPOINT_H

#include "loop.h"

#include <stdbool.h>

struct checkpoint;

/* The file's name inside kiosk.state_dir (the temp file adds ".<pid>.tmp"), and the lock
 * file's. */
#define CHECKPOINT_FILE      "mnemo.state"
#define CHECKPOINT_LOCK_FILE "mnemo.lock"

/* Takes kiosk.state_dir `dir` for this process, for the rest of its life: flock on
 * dir/mnemo.lock (the folder made when missing), this process's pid written into it, and
 * the temp files of writers killed before their rename removed. -1 with err when another
 * process holds it: err names the folder, that process's pid and what to do. A folder or
 * lock file that cannot be made is not a refusal (logged where it matters: the piece goes
 * on, as checkpoint_open's own warning says). Call before the loop opens, before threads.
 *
 * `keep` false only looks: the lock is let go at once. `mnemo run --supervise` looks
 * before its first child, so a second supervisor on a folder stops at once; each child
 * takes the lock itself (the supervisor holds none, or it would refuse its own restarted
 * child), and a child that is killed lets it go with its death, before the supervisor,
 * which reaps it first, starts the next. */
int checkpoint_lock(const char *dir, bool keep, struct error *err);

/* Checkpointing for the open loop L into L->p.kiosk.state_dir: NULL when that is "" (off),
 * or when it cannot start (logged: the piece goes on without). `start` is what the
 * process started with (defaults, config, -o): "changed live" is measured from it. Reads
 * both model files once for their digest (the files loop_open found, L->painter.path and
 * L->sketcher.path, not the settings as given), allocates the snapshot, starts the writer
 * thread and creates the folder when missing. The driver of the loop holds it and offers the
 * state between iterations (piece/step.h). */
struct checkpoint *checkpoint_open(struct loop *L, const struct params *start);

/* Reads kiosk.state_dir/mnemo.state into the loop, if it is there and fits this piece;
 * true when the loop now continues from it. The restored live parameters are also set in
 * *p (give it the set the rest of the piece starts with, so the control and the
 * presenter start from them too). Logs what it did. Before the loop runs. ck may be
 * NULL (returns false). */
bool checkpoint_restore(struct checkpoint *ck, struct params *p);

/* On the loop's thread, between two iterations (after a good one): when
 * kiosk.checkpoint_s (live) has passed since the last and the writer is idle, copies
 * the state into the snapshot and wakes the writer. No allocation, no I/O, no wait.
 * ck may be NULL. */
void checkpoint_offer(struct checkpoint *ck);

/* The exit paths (SIGTERM, a lost device, the end of a run): waits for a write in
 * progress, then writes the loop's state now, on the calling thread. Only after the
 * loop's thread has stopped. Returns 0, or -1 (logged). ck may be NULL (returns 0). */
int checkpoint_save_now(struct checkpoint *ck);

/* Lets a write in progress finish, stops the writer, detaches from the loop and frees.
 * Saves nothing: call checkpoint_save_now first for that. NULL is fine. */
void checkpoint_close(struct checkpoint *ck);

/* For tests and tools: the checkpoint file's path. */
const char *checkpoint_path(const struct checkpoint *ck);

#endif
