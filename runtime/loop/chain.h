/* chain.h — can one model's output feed another model's input?
 *
 * The loop runs painter -> sketcher -> painter; between them mnemo converts explicitly
 * (RGB <-> gray, resize, value range). This says which conversions a pair needs, or why
 * the pair cannot chain at all (an output that is not an image). Load-time only. */
#ifndef MNEMO_CHAIN_H
#define MNEMO_CHAIN_H

#include "error.h"
#include "graph.h"

#include <stddef.h>

/* 0 when `from`'s output can feed `to`'s input; `plan` then lists the conversions
 * ("as is" when none). -1 with err naming both files and shapes otherwise. */
int chain_check(const struct graph *from, const char *from_path, const struct graph *to,
                const char *to_path, char *plan, size_t plan_size, struct error *err);

#endif
