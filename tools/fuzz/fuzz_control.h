/* fuzz_control.h — the check the targets that drive a live control (fuzz_osc.c,
 * fuzz_web.c) run after every input. */
#ifndef MNEMO_FUZZ_CONTROL_H
#define MNEMO_FUZZ_CONTROL_H

#include "fuzz.h"

#include "control.h"

/* Takes what the control posted, as the loop would (clearing the pending flags), then
 * checks that every parameter it now wants formats back to text the registry accepts: no
 * input can leave the piece with a value the registry would refuse. */
static inline void fuzz_control_wanted_check(struct control *ctl)
{
    static struct params want, q, defaults;
    static char text[PARAM_TEXT_MAX];
    if (!defaults.loop.size)
        params_defaults(&defaults);
    control_take(ctl, &want);
    (void)control_take_reseed(ctl);
    for (size_t i = 0; i < params_count(); i++) {
        const struct param_def *def = params_at(i);
        struct error err = {{0}};
        FUZZ_CHECK(control_get(ctl, def->name, text, sizeof text, &err) == 0, "get %s: %s",
                   def->name, err.msg);
        q = defaults;
        FUZZ_CHECK(param_set(&q, def, text, &err) == 0, "the control wants %s = '%s': %s",
                   def->name, text, err.msg);
    }
}

#endif
