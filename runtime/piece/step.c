/* step.c — see step.h. */
#include "step.h"

#include "checkpoint.h"
#include "clock.h"
#include "kiosk.h"

static void web_line(void *ctl, const char *json)
{
    control_post_status(ctl, json);
}

static void web_frame(void *ctl, const float *portrait, int32_t size)
{
    control_post_frame(ctl, portrait, size);
}

void step_init(struct step *s, struct loop *L, struct stats *stats, struct control *ctl,
               struct checkpoint *checkpoint, struct swap *swap)
{
    if (stats && control_serves_web(ctl)) /* the web page watches what --stats reports */
        stats->monitor = (struct stats_monitor){.line = web_line, .frame = web_frame, .ctx = ctl};
    s->L = L;
    s->stats = stats;
    s->ctl = ctl;
    s->checkpoint = checkpoint;
    s->swap = swap;
    glide_init(&s->follow, &L->p);
}

bool step_follow_control(struct step *s)
{
    bool changed = false;
    if (s->ctl) {
        changed = control_follow(s->ctl, &s->follow, clock_now());
        if (changed) {
            loop_set_params(s->L, &s->follow.cur);
            swap_want(s->swap, &s->follow.cur);
        }
        if (control_take_reseed(s->ctl))
            guard_request_reseed(&s->L->guard);
        if (s->stats)
            s->stats->params_version = s->follow.version;
    }
    swap_between(s->swap);
    return changed;
}

int step_retrying(struct loop *L, volatile sig_atomic_t *stop, struct error *err)
{
    int failures = 0;
    for (;;) {
        switch (loop_after_step(L, loop_step(L, err), &failures, err)) {
        case LOOP_NEXT:
            return 0;
        case LOOP_GIVE_UP:
            return -1;
        case LOOP_RETRY:
            break;
        }
        clock_sleep_until(clock_now() + LOOP_RETRY_S);
        if (stop && *stop)
            return -1; /* err: the failure that was being retried */
    }
}

int piece_step(struct step *s, volatile sig_atomic_t *stop, struct error *err)
{
    step_follow_control(s);
    if (step_retrying(s->L, stop, err))
        return -1;
    kiosk_count(KIOSK_LOOP, s->L->iterations);
    kiosk_ready(); /* headless: the first iteration is the piece running */
    kiosk_freeze_point(KIOSK_LOOP, s->L->iterations);
    checkpoint_offer(s->checkpoint);
    return 0;
}
